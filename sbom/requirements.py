"""The model's declared environment: requirements.txt and conda.yaml lines as :class:`Requirement`.

Only the declaration is read (never resolved or installed): a line pinned with ``==`` gives a
version, any other constraint is kept as written, and options (``-r``, ``--index-url``), editable
installs and direct URLs are skipped because they name no package a purl can point at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import yaml
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement

from sbom.facts import Requirement

# conda match specs: "name", "name=1.2", "name==1.2", "name>=1.2", "name 1.2 build", "channel::name=1.2"
_CONDA_SPEC = re.compile(r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<rest>.*)$")


def parse_requirements(lines: Iterable[str]) -> list[Requirement]:
    """PyPI requirements from requirements.txt lines, in file order, first mention of a name wins."""
    out: dict[str, Requirement] = {}
    for raw in lines:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = PepRequirement(line)
        except InvalidRequirement:
            continue
        if req.url:
            continue
        version = _pinned(str(req.specifier))
        out.setdefault(pypi_name(req.name), Requirement(req.name, "pypi", version, line))
    return list(out.values())


def parse_conda(text: str) -> tuple[list[Requirement], list[str]]:
    """Conda packages and the nested ``pip:`` lines of a conda.yaml (``safe_load``: nothing executes)."""
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError:
        return [], []
    if not isinstance(doc, dict):
        return [], []
    conda: list[Requirement] = []
    pip_lines: list[str] = []
    for dep in doc.get("dependencies") or []:
        if isinstance(dep, dict):
            pip_lines.extend(str(x) for x in dep.get("pip") or [])
        elif isinstance(dep, str):
            req = _conda_requirement(dep)
            if req is not None:
                conda.append(req)
    return conda, pip_lines


def pypi_name(name: str) -> str:
    """The purl spelling of a PyPI name: lowercased, underscores as dashes (purl-spec pypi type)."""
    return name.lower().replace("_", "-")


def _pinned(specifier: str) -> str | None:
    if specifier.startswith("===") and "," not in specifier:
        return specifier[3:].strip()
    if specifier.startswith("==") and "," not in specifier and "*" not in specifier:
        return specifier[2:].strip()
    return None


def _conda_requirement(spec: str) -> Requirement | None:
    match = _CONDA_SPEC.match(spec.strip())
    if match is None:
        return None
    name, rest = match["name"], match["rest"].strip()
    # Only "==1.2" and "name 1.2 build" are exact in conda; "=1.2" matches 1.2.* so it names no version.
    pinned = re.fullmatch(r"(?:==\s*|(?=[0-9]))([A-Za-z0-9_.+!]+)(?:\s+\S+)?", rest) if rest else None
    version = pinned.group(1) if pinned and "*" not in rest else None
    return Requirement(name, "conda", version, spec.strip())


def declared_environment(requirements_txt: Iterable[str] | None, conda_yaml: str | None) -> list[Requirement]:
    """PyPI packages (requirements.txt first, then conda.yaml's ``pip:`` list) and conda packages.

    ``python`` and ``pip`` as conda packages describe the interpreter MLflow would create, not the
    model's dependencies, so they stay out (the Python version is recorded on its own).
    """
    conda, pip_lines = parse_conda(conda_yaml) if conda_yaml else ([], [])
    pypi: dict[str, Requirement] = {}
    for req in parse_requirements([*(requirements_txt or []), *pip_lines]):
        pypi.setdefault(pypi_name(req.name), req)
    others = [r for r in conda if r.name not in ("python", "pip")]
    return [*pypi.values(), *others]
