"""A safe YAML loader that types plain scalars as YAML 1.2 does, the way DVC and GTO read their files.

DVC writes and reads ``dvc.lock``, ``.dvc`` files and ``dvc.yaml`` with ruamel.yaml, which follows
YAML 1.2; PyYAML follows YAML 1.1. The two disagree on plain scalars DVC writes unquoted because
they are strings or numbers *in 1.2*: a learning rate ``1e-05`` (a float in 1.2, a string in
1.1), ``yes``/``no``/``on``/``off`` (strings in 1.2, booleans in 1.1), ``1:30`` (a string in 1.2,
the sexagesimal int 90 in 1.1), ``010`` (ten in 1.2, eight in 1.1). Reading a lock with 1.1 rules
records params with the wrong value or type, so this loader swaps PyYAML's bool/int/float
resolvers for ruamel.yaml's 1.2 ones (ruamel.yaml 0.19 ``resolver.py``), keeping PyYAML's fast C
parser. It stays a *safe* loader: no Python objects are ever constructed.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, libyaml's C one when present (~10x faster): YAML 1.1 typing, as kubectl's
and kustomize's readers type manifests."""
_Base: Any = SAFE_LOADER

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"

# ruamel.yaml's YAML 1.2 implicit resolvers, as DVC reads with them
_BOOL_12 = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_12 = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0o?[0-7_]+
    |[-+]?[0-9_]+
    |[-+]?0x[0-9a-fA-F_]+)$""",
    re.X,
)


class Yaml12SafeLoader(_Base):  # type: ignore[misc]
    """PyYAML's safe loader with YAML 1.2 typing of plain scalars (see the module's docstring)."""


Yaml12SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
Yaml12SafeLoader.add_implicit_resolver(_BOOL, _BOOL_12, list("tTfF"))
Yaml12SafeLoader.add_implicit_resolver(_INT, _INT_12, list("-+0123456789"))
Yaml12SafeLoader.add_implicit_resolver(_FLOAT, _FLOAT_12, list("-+0123456789."))


def _construct_int(loader: Any, node: yaml.ScalarNode) -> int | str:
    # YAML 1.2: `010` is ten (1.1 read it as octal eight); octal needs `0o`
    raw = str(loader.construct_scalar(node))
    text = raw.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    base = 10
    if digits[:2] in ("0b", "0o", "0x"):
        base, digits = {"0b": 2, "0o": 8, "0x": 16}[digits[:2]], digits[2:]
    try:
        return sign * int(digits, base)
    except ValueError:  # only underscores after a prefix (`0b_`): no number at all
        return raw


def _construct_bool(loader: Any, node: yaml.ScalarNode) -> bool:
    return str(loader.construct_scalar(node)).lower() == "true"


Yaml12SafeLoader.add_constructor(_INT, _construct_int)
Yaml12SafeLoader.add_constructor(_BOOL, _construct_bool)
