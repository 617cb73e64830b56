"""Trace: paste a request id or a whole log line, see the chain from prediction back to training."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker

from explorer.lineage import Evidence, Gap
from explorer.tui.data import capabilities
from explorer.tui.data.documents import Hop, TraceView, trace_view
from explorer.tui.data.text import clip, one_line
from explorer.tui.screens.base import ExplorerScreen
from explorer.tui.screens.value import ValueScreen
from explorer.tui.widgets.evidence import EvidencePanel

HOP_WIDTHS = (14, 34, 40)  # hop, node, evidence: what 80 columns show (the evidence scrolls)


def hop_widths(room: int) -> tuple[int, int, int]:
    """The three columns' widths in ``room`` cells: at least :data:`HOP_WIDTHS`; a wide terminal's
    spare cells go to the hop (up to 10 more), the node (up to 30 more), then the evidence."""
    hop, node, evidence = HOP_WIDTHS
    spare = max(0, room - hop - node - evidence)
    more_hop = min(10, spare)
    more_node = min(30, spare - more_hop)
    return hop + more_hop, node + more_node, evidence + spare - more_hop - more_node


def _logs_configured(config: dict[str, Any]) -> bool:
    trace = config.get("trace")
    return bool(config.get("predictions") or (isinstance(trace, dict) and trace.get("logs")))


class TraceScreen(ExplorerScreen):
    """Hops in a table (gaps in red); the focused hop's evidence below; ``d`` diffs against the version before."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="trace-close", tooltip="Close the trace"),
        Binding(
            "d",
            "diff_previous",
            "Diff prev",
            id="trace-diff",
            tooltip="Diff the traced model version against the version before it",
        ),
        Binding("i", "focus_input", "Request", id="trace-input", tooltip="Type or paste another request id"),
        Binding("e", "show_record", "Record", id="trace-record", tooltip="Show the traced prediction's record whole"),
    ]

    state: reactive[str] = reactive("idle")
    """idle, running, done, failed or unavailable: the screen carries it as a CSS class ``-<state>``."""

    class Traced(Message):
        """The trace document arrived, read into hops."""

        def __init__(self, view: TraceView) -> None:
            super().__init__()
            self.view = view

    class Stopped(Message):
        """No trace: the capability is missing (``unavailable``) or the trace failed."""

        def __init__(self, state: str, reason: str) -> None:
            super().__init__()
            self.state = state
            self.reason = reason

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._query = query
        self.view: TraceView | None = None

    def compose_body(self) -> ComposeResult:
        yield Label(Text("Trace a prediction", style="bold"), id="trace-title")
        yield Input(self._query, placeholder="request id, or a whole log line (Enter traces)", id="trace-query")
        yield Label("", id="trace-status")
        yield DataTable(id="trace-hops", cursor_type="row", zebra_stripes=True)
        yield EvidencePanel("", id="trace-evidence")

    def on_mount(self) -> None:
        table = self.query_one("#trace-hops", DataTable)
        for key, width in zip(("hop", "node", "evidence"), HOP_WIDTHS, strict=True):
            table.add_column(key, key=key, width=width)
        self.query_one("#trace-query", Input).focus()
        if self._query:
            self.start(self._query)
        elif not _logs_configured(self.explorer.settings.config if self.explorer.settings else {}):
            # said at once, not after a request id was typed and searched for nowhere
            self.query_one("#trace-status", Label).update(
                Text(
                    "No prediction logs configured: list them as [trace] logs or [predictions.NAME] tables in "
                    "mlprov.toml. A pasted JSON log line still traces.",
                    style="dim",
                )
            )

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
        self.refresh_bindings()

    @on(Input.Submitted, "#trace-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.start(event.value)

    def start(self, query: str) -> None:
        self.state = "running"
        self.query_one("#trace-status", Label).update(Text("tracing…", style="dim"))
        self.run_trace(query)

    @work(thread=True, exclusive=True, group="trace", exit_on_error=False)
    def run_trace(self, query: str) -> None:
        """Import :mod:`explorer.trace` here, not at start-up, and trace ``query``."""
        try:
            doc = capabilities.trace(self.store, self.explorer.settings, query)
        except capabilities.Unavailable as exc:
            self.post_message(self.Stopped("unavailable", str(exc)))
            return
        except capabilities.CapabilityError as exc:
            self.post_message(self.Stopped("failed", str(exc)))
            return
        self.post_message(self.Traced(trace_view(doc)))

    def worker_failed(self, worker: Worker[object], error: BaseException) -> None:
        self.post_message(self.Stopped("failed", f"trace failed: {error}"))

    @on(Stopped)
    def _stopped(self, event: Stopped) -> None:
        self.state = event.state
        self.view = None
        self.query_one("#trace-status", Label).update(Text(event.reason, style="bold"))
        self.query_one("#trace-hops", DataTable).clear()
        self.query_one("#trace-evidence", EvidencePanel).show_text("")  # not the last trace's hop
        self.refresh_bindings()

    @on(Traced)
    def _traced(self, event: Traced) -> None:
        self.view = event.view
        self.state = "done"
        record = ", ".join(f"{k}={clip(one_line(v), 24)}" for k, v in list(event.view.record.items())[:4])
        gaps = f" · {event.view.gaps} gap(s)" if event.view.gaps else ""
        status = f"{len([h for h in event.view.hops if h.gap is None])} hops{gaps}" + (f" · {record}" if record else "")
        self.query_one("#trace-status", Label).update(Text(status, style="dim"))
        self._fill()
        self.query_one("#trace-hops", DataTable).focus()

    def on_resize(self) -> None:
        if self.view is not None:
            self._fill()

    def _fill(self) -> None:
        """The hops, their columns as wide as the screen allows (a wide terminal cut them all the same)."""
        table = self.query_one("#trace-hops", DataTable)
        widths = hop_widths(self.size.width - 2 * len(HOP_WIDTHS) - 1)
        row = table.cursor_row
        table.clear()
        for key, width in zip(("hop", "node", "evidence"), widths, strict=True):
            table.columns[ColumnKey(key)].width = width
        for index, hop in enumerate(self.view.hops if self.view else []):
            style = "bold red" if hop.gap is not None else ""
            name = "⚠ gap" if hop.gap is not None else ("  " * min(hop.depth, 4) + (hop.edge_kind or "start"))
            node = hop.label if hop.gap is not None else f"{hop.label} [{hop.kind}]"
            cells = zip((name, node, hop.evidence_text), widths, strict=True)
            table.add_row(*(Text(clip(text, width), style=style) for text, width in cells), key=str(index))
        if 0 <= row < table.row_count:
            table.move_cursor(row=row)

    @on(DataTable.RowHighlighted, "#trace-hops")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        hop = self._hop(event.cursor_row)
        panel = self.query_one("#trace-evidence", EvidencePanel)
        if hop is None:
            return
        if hop.gap is not None:
            gap = hop.gap
            panel.show_gap(
                Gap(
                    hop.node_id,
                    str(gap.get("kind", "")),
                    str(gap.get("reason", "")),
                    str(gap.get("locator", "")),
                    tuple(gap.get("candidates", [])),
                )
            )
        elif hop.evidence:
            ev = hop.evidence
            evidence = Evidence(ev.get("source", ""), ev.get("locator", ""), ev.get("rule", ""))
            panel.show_evidence(hop.edge_kind, evidence, f"{hop.edge_kind} → {hop.node_id}")
        else:
            panel.show_text(f"{hop.node_id}: where the trace starts.")

    @on(DataTable.RowSelected, "#trace-hops")
    def _selected(self, event: DataTable.RowSelected) -> None:
        hop = self._hop(event.cursor_row)
        if hop is not None and hop.gap is None:
            self.explorer.open_node(hop.node_id)

    def _hop(self, row: int) -> Hop | None:
        if self.view is None or not 0 <= row < len(self.view.hops):
            return None
        return self.view.hops[row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "diff_previous":
            return self.view is not None and self.view.model_version is not None
        return True

    def action_diff_previous(self) -> None:
        if self.view is not None and self.view.model_version is not None:
            self.explorer.open_diff_previous(self.view.model_version)

    def action_focus_input(self) -> None:
        self.query_one("#trace-query", Input).focus()

    def action_show_record(self) -> None:
        """The status line cuts the record's fields (ids, format, log file): here they are whole."""
        if self.view is None:
            self.notify("Nothing traced yet: type a request id or paste a log line", severity="warning")
            return
        self.app.push_screen(ValueScreen("Prediction record", self.view.record))

    def action_close(self) -> None:
        self.dismiss()
