"""Building the explorer over sample data, and waiting until it has settled (workers done, screen drawn)."""

from __future__ import annotations

import asyncio
import functools
import io
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec

from rich.console import Console
from textual.pilot import Pilot

from explorer.config import Settings
from explorer.store import LineageStore
from explorer.tui.app import ExplorerApp

SIZE = (100, 30)
P = ParamSpec("P")


def make_app(store: LineageStore, settings: Settings, *, theme: str = "dark") -> ExplorerApp:
    return ExplorerApp(store, settings, theme=theme)


async def settle(pilot: Pilot[None], rounds: int = 4) -> None:
    """Let workers finish and their messages be handled, a few times over (one load may start another)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: ExplorerApp) -> str:
    """What the terminal shows, as plain text (for assertions on the whole screen)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        record=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def pilot_test(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test with asyncio (the suite has no async pytest plugin); fixtures pass through."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run
