"""Trace a logged prediction and diff versions from the explorer, over the sample's planted incident."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Label

from explorer.config import Settings
from explorer.store import LineageStore
from explorer.tui.screens.diff import DiffScreen
from explorer.tui.screens.node import NodeScreen
from explorer.tui.screens.trace import TraceScreen
from explorer.tui.widgets.evidence import EvidencePanel
from explorer.tui.widgets.models_table import ModelsTable
from tests.tui.factory import SIZE, make_app, pilot_test, screen_text, settle

INCIDENT = "req-7f3a9c2e"  # sample_data.serving: served by the v4 canary


@pilot_test
async def test_trace_a_request_id(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        assert isinstance(app.screen, TraceScreen) and isinstance(app.focused, Input)
        await pilot.press(*INCIDENT, "enter")
        await settle(pilot)
        screen = app.screen
        assert screen.state == "done" and screen.view is not None
        kinds = [h.kind for h in screen.view.hops]
        for kind in ("prediction", "deployment", "image", "model_version", "run", "commit"):
            assert kind in kinds, kinds
        assert screen.view.model_version == "model_version:churn-model/4"
        table = screen.query_one("#trace-hops", DataTable)
        assert table.row_count == len(screen.view.hops)
        table.move_cursor(row=kinds.index("deployment"))
        await pilot.pause()
        assert "said by" in str(screen.query_one(EvidencePanel).render())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen) and app.screen.node_id.startswith("deployment:")
        await pilot.press("escape")
        await pilot.press("d")  # diff the traced version against the one before
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        assert app.screen.query_one("#diff-a", Input).value == "model_version:churn-model/3"
        assert app.screen.query_one("#diff-b", Input).value == "model_version:churn-model/4"


@pilot_test
async def test_trace_a_pasted_log_line(store: LineageStore, workspace_settings: Settings) -> None:
    logs = sorted((workspace_settings.workspace / "logs" / "kserve").rglob("*.jsonl"))
    line = next(x for f in logs for x in f.read_text().splitlines() if INCIDENT in x and "request" in x)
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen(line))  # the whole KServe CloudEvent, as copied from a log
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TraceScreen) and screen.state == "done" and screen.view is not None
        assert screen.view.root == f"prediction:{INCIDENT}"
        assert screen.view.model_version == "model_version:churn-model/4"


@pilot_test
async def test_a_line_of_no_known_format(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen(json.dumps({"id": INCIDENT, "unknown": True})))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TraceScreen)
        assert screen.state == "failed"  # refused with the reason, never traced by guess
        assert "no known log format" in str(screen.query_one("#trace-status", Label).render())


@pilot_test
async def test_unknown_request_id(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen("req-does-not-exist"))
        await settle(pilot)
        assert app.screen.state == "failed"  # type: ignore[attr-defined]
        assert "in no prediction log" in str(app.screen.query_one("#trace-status", Label).render())


@pilot_test
async def test_a_long_reason_wraps_at_80_columns(store: LineageStore, workspace_settings: Settings) -> None:
    """The status line wraps: "(searched: …)" was cut at the screen's edge, without an ellipsis."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen("req-does-not-exist-" + "0" * 30))
        await settle(pilot)
        status = app.screen.query_one("#trace-status", Label)
        reason = str(status.render())
        assert len(reason) > 80 and reason.endswith(")")
        assert status.size.height >= 2  # wrapped
        shown = " ".join(line.strip() for line in screen_text(app).splitlines())
        assert reason[-20:] in shown


@pilot_test
async def test_trace_not_available(
    store: LineageStore, workspace_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "explorer.trace", None)  # as if the module were not installed
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen(INCIDENT))
        await settle(pilot)
        screen = app.screen
        assert screen.state == "unavailable" and screen.has_class("-unavailable")  # type: ignore[attr-defined]
        assert "Trace is not available" in str(screen.query_one("#trace-status", Label).render())
        assert not screen.query_one("#trace-hops", DataTable).display


@pilot_test
async def test_diff_previous_from_models(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        table.move_cursor(row=[r.id for r in table.shown].index("model_version:churn-model/v1.1.0"))
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen) and screen.state == "done"
        titles = [s.title for s in screen.sections]
        assert {"params", "metrics", "data", "commits"} <= set(titles)
        data = next(s for s in screen.sections if s.title == "data")
        assert data.rows, "v1.0.0 → v1.1.0 changed the prepared data"
        tables = list(screen.query(DataTable))
        assert len(tables) == len(screen.sections)
        await pilot.press("enter")  # a cut cell: Enter shows the whole row
        assert type(app.screen).__name__ == "ValueScreen"


@pilot_test
async def test_diff_tables_fit_80_columns(store: LineageStore, workspace_settings: Settings) -> None:
    """Every column of a section shows, cut with an ellipsis (three 30-cell columns ran past the edge of
    80 columns: the new data version read 'data:md5-dos2' and stopped); paths keep their file names."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(DiffScreen("model_version:churn-model/v1.0.0", "model_version:churn-model/v1.1.0"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen) and screen.state == "done"
        for table in screen.query(DataTable):
            assert table.virtual_size.width <= table.scrollable_content_region.width + 1, table.id
        data = next(i for i, s in enumerate(screen.sections) if s.title == "data")
        table = screen.query_one(f"#diff-section-{data}", DataTable)
        for index, row in enumerate(screen.sections[data].rows):
            shown = [str(c) for c in table.get_row_at(index)]
            assert shown[0].endswith(row[0][-4:])
            assert all(s == w or s.endswith("…") for s, w in zip(shown, row, strict=True))


@pilot_test
async def test_first_version_has_nothing_before(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_diff_previous("model_version:churn-model/1")
        await settle(pilot)
        assert not isinstance(app.screen, DiffScreen)
        assert any("no earlier version" in n.message for n in app._notifications)


@pilot_test
async def test_diff_not_available(
    store: LineageStore, workspace_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "explorer.diff", None)
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(DiffScreen("model_version:churn-model/1", "model_version:churn-model/2"))
        await settle(pilot)
        assert app.screen.state == "unavailable"  # type: ignore[attr-defined]
        assert "Diff is not available" in str(app.screen.query_one("#diff-status", Label).render())


@pilot_test
async def test_a_failed_trace_or_diff_leaves_nothing_of_the_last_result(
    store: LineageStore, workspace_settings: Settings
) -> None:
    """An error under the previous result read as if it explained that result: the diff kept its tables,
    the trace its evidence panel. A version named as the models home shows it (NAME/VERSION) resolves."""
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(DiffScreen("churn-model/v1.0.0", "models:/churn-model/4"))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DiffScreen) and screen.state == "done" and screen.sections
        screen.query_one("#diff-a", Input).value = "no-such-model/9"
        screen.start()
        await settle(pilot)
        assert screen.state == "failed" and screen.sections == []
        assert not screen.query("#diff-sections DataTable")
        status = str(screen.query_one("#diff-status", Label).render())
        assert "no-such-model/9" in status and "the diff takes model versions" in status
        assert "commit:<sha>" not in status  # the resolver's hint named ids the diff refuses
        await pilot.press("escape")
        app.push_screen(TraceScreen("req-7f3a9c2e"))
        await settle(pilot)
        trace = app.screen
        assert isinstance(trace, TraceScreen) and trace.view is not None
        assert str(trace.query_one("#trace-evidence", EvidencePanel).render()).strip()
        trace.start("req-doesnotexist")
        await settle(pilot)
        assert trace.view is None and not str(trace.query_one("#trace-evidence", EvidencePanel).render()).strip()


def test_hop_columns_take_a_wide_terminal() -> None:
    from explorer.tui.screens.trace import HOP_WIDTHS, hop_widths

    assert hop_widths(73) == HOP_WIDTHS == (14, 34, 40)  # 80 columns: the evidence scrolls
    assert hop_widths(113) == (24, 49, 40)  # 120 columns: "built_f…" and "versi…" were cut with room to spare
    assert hop_widths(200) == (24, 64, 112)


def test_a_diff_row_keeps_its_lists_for_the_whole_view() -> None:
    """The commits section's files showed as JSON text inside JSON (``"[{\\"path\\": …``) when shown whole."""
    from explorer.tui.data.documents import diff_sections

    doc = {"a": "x", "b": "y", "commits": [{"sha": "38320143", "files": [{"path": "dvc.lock", "status": "M"}]}]}
    [section] = diff_sections(doc)[1]
    assert section.rows == [["38320143", '[{"path": "dvc.lock", "status": "M"}]']]
    assert section.values == [["38320143", [{"path": "dvc.lock", "status": "M"}]]]


@pilot_test
async def test_the_traced_record_is_shown_whole(store: LineageStore, workspace_settings: Settings) -> None:
    """The status line cuts the record's fields to 24 characters, the log file's path among them."""
    from explorer.tui.screens.value import ValueScreen

    app = make_app(store, workspace_settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen(INCIDENT))
        await settle(pilot)
        trace = app.screen
        assert isinstance(trace, TraceScreen) and trace.view is not None
        record = trace.view.record
        assert "…" in str(trace.query_one("#trace-status", Label).render())
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ValueScreen) and app.screen.value == record
        assert any(str(v).endswith((".jsonl", ".json", ".log", ".parquet")) for v in record.values()), record


def test_a_commits_files_read_as_name_status_lines() -> None:
    from explorer.tui.screens.diff import _readable

    files = [{"path": "dvc.lock", "status": "M"}, {"path": "src/train.py", "status": "A"}]
    assert _readable(files) == ["M dvc.lock", "A src/train.py"]
    assert _readable([{"path": "x"}]) == [{"path": "x"}] and _readable("38320143") == "38320143"


@pilot_test
async def test_the_trace_says_at_once_when_no_logs_are_configured(store: LineageStore, tmp_path: Path) -> None:
    """It opened blank; the missing configuration was said only after a request id was searched for."""
    from explorer.config import settings_for

    app = make_app(store, settings_for(tmp_path))  # no mlprov.toml
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TraceScreen())
        await settle(pilot)
        assert "No prediction logs configured" in str(app.screen.query_one("#trace-status", Label).render())
