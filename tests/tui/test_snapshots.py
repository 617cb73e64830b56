"""SVG snapshots of every screen over a fixed store (tests/tui/snapshot_data.py), at 80x24 and larger.

Update after an intended change of look: ``pytest tests/tui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from explorer.config import Settings
from explorer.store import LineageStore
from explorer.tui.app import ExplorerApp
from explorer.tui.screens.diff import DiffScreen
from explorer.tui.screens.trace import TraceScreen
from tests.tui.factory import settle
from tests.tui.snapshot_data import fill

Snap = Callable[..., bool]


@pytest.fixture()
def snapshot_store(tmp_path: Path) -> Iterator[LineageStore]:
    with LineageStore.open(f"sqlite:///{tmp_path / 'snap.db'}") as store:
        fill(store)
        yield store


def _app(store: LineageStore, theme: str = "dark") -> ExplorerApp:
    # a fixed workspace path: the save dialog shows it
    # no pre-composed node view: it is built on a timer, which would make the pictures timing-dependent
    return ExplorerApp(store, Settings(Path("/workspace"), store.url, {}), theme=theme, precompose=False)


def _then(*keys: str, before: Callable[[Pilot[Any]], None] | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if before is not None:
            before(pilot)
            await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run


def test_models_home(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=_then())


def test_models_home_wide_light(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store, "light"), terminal_size=(160, 24), run_before=_then())


def test_models_filtered(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(120, 24), run_before=_then("slash", *"champ", "enter"))


def test_node_view(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(100, 30), run_before=_then("end", "enter", "down"))


def test_node_view_downstream_80x24(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    def open_run(pilot: Pilot[Any]) -> None:
        pilot.app.open_node("run:" + "c3" * 16)  # type: ignore[attr-defined]

    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=_then("u", before=open_run))


def test_node_view_metrics_tab(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    def open_run(pilot: Pilot[Any]) -> None:
        pilot.app.open_node("run:" + "c3" * 16)  # type: ignore[attr-defined]

    def show_metrics(pilot: Pilot[Any]) -> None:
        open_run(pilot)

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        show_metrics(pilot)
        await settle(pilot)
        pilot.app.screen.query_one("TabbedContent").active = "tab-metrics"  # type: ignore[attr-defined]
        await settle(pilot)

    assert snap_compare(_app(snapshot_store), terminal_size=(100, 24), run_before=run)


def test_value_dialog(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    def open_run(pilot: Pilot[Any]) -> None:
        pilot.app.open_node("run:" + "c3" * 16)  # type: ignore[attr-defined]

    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        open_run(pilot)
        await settle(pilot)
        table = pilot.app.screen.query_one("#properties")
        table.focus()
        table.move_cursor(row=[n for n, _ in table.items].index("tags"))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=run)


def test_help(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(100, 30), run_before=_then("question_mark"))


def test_save_bom_dialog(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=_then("b"))


def test_trace_not_available(snap_compare: Snap, snapshot_store: LineageStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "explorer.trace", None)

    def open_trace(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(TraceScreen("req-0001"))

    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=_then(before=open_trace))


def test_trace_empty(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    assert snap_compare(_app(snapshot_store), terminal_size=(80, 24), run_before=_then("t"))


def test_diff(snap_compare: Snap, snapshot_store: LineageStore) -> None:
    def open_diff(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(DiffScreen("model_version:churn-model/2", "model_version:churn-model/3"))

    assert snap_compare(_app(snapshot_store), terminal_size=(100, 30), run_before=_then(before=open_diff))
