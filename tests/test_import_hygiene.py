"""The core never imports Textual: each module outside explorer/tui and explorer/commands, imported alone.

Each import runs in a fresh interpreter, so one module pulling Textual in cannot hide behind another
that was imported first. ``explorer.tui.data`` (what the screens show, computed) is held to the same rule.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("explorer", "sbom", "signing")
EXEMPT = ("explorer.tui", "explorer.commands", "explorer.cli", "explorer.__main__")
ALSO = ("explorer.tui.data",)


def core_modules() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        found.append(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
            name = info.name
            if name.startswith(ALSO) or not name.startswith(EXEMPT):
                found.append(name)
    return sorted(found)


def test_the_list_covers_the_core() -> None:
    modules = core_modules()
    for name in (
        "explorer.lineage",
        "explorer.store",
        "explorer.graph",
        "explorer.scan",
        "explorer.resolve",
        "explorer.sources.git",
        "explorer.tui.data.models",
    ):
        assert name in modules
    assert not any(m.startswith("explorer.tui.") and not m.startswith("explorer.tui.data") for m in modules)


@pytest.mark.parametrize("module", core_modules())
def test_core_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print('textual' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False", f"{module} imports textual"
