"""Regenerate the explorer's screenshots in docs/images/ from the sample workspace.

Run: ``.venv/bin/python docs/screenshots.py [WORKSPACE]`` (without WORKSPACE the sample is built in a
temporary directory with the real tools and scanned first).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT))

from explorer.config import settings_for  # noqa: E402
from explorer.scan import run_scan  # noqa: E402
from explorer.store import LineageStore  # noqa: E402
from explorer.tui.app import ExplorerApp  # noqa: E402
from explorer.tui.data.capabilities import configured_sources  # noqa: E402
from explorer.tui.screens.diff import DiffScreen  # noqa: E402
from explorer.tui.screens.trace import TraceScreen  # noqa: E402
from tests.tui.factory import settle  # noqa: E402

INCIDENT = "req-7f3a9c2e"


async def shoot(store: LineageStore, workspace: Path) -> None:
    app = ExplorerApp(store, settings_for(workspace))
    async with app.run_test(size=(110, 30)) as pilot:
        await settle(pilot)
        app.save_screenshot("explorer-models.svg", str(IMAGES))
        app.open_node("model_version:churn-model/4")
        await settle(pilot)
        await pilot.press("down", "space")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        app.save_screenshot("explorer-node.svg", str(IMAGES))
        await pilot.press("escape")
        app.push_screen(TraceScreen(INCIDENT))
        await settle(pilot)
        app.save_screenshot("explorer-trace.svg", str(IMAGES))
        await pilot.press("escape")
        app.push_screen(DiffScreen("model_version:churn-model/3", "model_version:churn-model/4"))
        await settle(pilot)
        app.save_screenshot("explorer-diff.svg", str(IMAGES))
        await pilot.press("escape", "question_mark")
        await settle(pilot)
        app.save_screenshot("explorer-keys.svg", str(IMAGES))


def main() -> None:
    if len(sys.argv) > 1:
        workspace = Path(sys.argv[1]).resolve()
    else:
        from sample_data.build import build

        workspace = Path(tempfile.mkdtemp()) / "workspace"
        build(workspace, force=True)
    settings = settings_for(workspace)
    with LineageStore.open(settings.db_url) as store:
        run_scan(store, configured_sources(settings))
        asyncio.run(shoot(store, workspace))
    print(f"screenshots written to {IMAGES}")


if __name__ == "__main__":
    main()
