"""Source kinds beyond git, registered by their modules as they land (mlflow, registry, deployments, bom).

Each entry maps a ``scan`` option name to a factory ``(location, settings) -> Source``; modules
are imported only when that kind is scanned.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.config import Settings
    from explorer.sources.base import Source

# option name -> "module:factory"
EXTRA_SOURCES: dict[str, str] = {
    "mlflow": "explorer.sources.mlflow:source_for",
    "registry": "explorer.sources.oci:source_for",
    "deployments": "explorer.sources.deploy:source_for",
    "bom": "explorer.sources.bom:source_for",
}


def extra_factories() -> dict[str, Callable[[str, Settings], Source]]:
    out: dict[str, Callable[[str, Settings], Source]] = {}
    for option, target in EXTRA_SOURCES.items():
        module_name, _, attr = target.partition(":")
        if importlib.util.find_spec(module_name) is None:
            continue

        def factory(location: str, settings: Settings, _m: str = module_name, _a: str = attr) -> Source:
            return getattr(importlib.import_module(_m), _a)(location, settings)  # type: ignore[no-any-return]

        out[option] = factory
    return out
