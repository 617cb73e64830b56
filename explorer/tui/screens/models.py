"""The models home: every registered model version, its provenance status at a glance."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Input, Label

from explorer.tui.data.models import ModelRow, model_rows, model_versions
from explorer.tui.data.text import plural
from explorer.tui.screens.base import ExplorerScreen
from explorer.tui.screens.value import ValueScreen
from explorer.tui.widgets.models_table import ModelsTable

FIRST_PAGE = 60  # a screenful first, so rows appear at once on a large store
PAGE = 1000
PREPARE_AFTER = 0.2  # seconds after the last rows: then the node view is composed off-screen
PREVIEW_AFTER = 0.3  # seconds the cursor rests on a row before the hidden node view shows that version


class ModelsScreen(ExplorerScreen):
    """The home screen. Rows arrive page by page from a worker; typing in the filter narrows them."""

    BINDINGS = [
        Binding("slash", "focus_filter", "Filter", id="models-filter", tooltip="Filter the table as you type"),
        Binding(
            "escape",
            "clear_filter",
            "Clear",
            id="models-clear",
            show=False,
            tooltip="Clear the filter and return to the table",
        ),
        Binding(
            "d",
            "diff_previous",
            "Diff prev",
            id="diff-previous",
            tooltip="Diff the highlighted version against the version before it",
        ),
        Binding("b", "bom", "ML-BOM", id="bom", tooltip="Generate the ML-BOM of the highlighted version and save it"),
        Binding("v", "verify", "Verify", id="verify", tooltip="Verify the signatures of the highlighted version"),
        Binding("e", "show_row", "Whole row", id="models-row", tooltip="Show every cell of the highlighted row whole"),
    ]

    class RowsLoaded(Message):
        """A page of model rows; ``done`` on the last one."""

        def __init__(self, rows: list[ModelRow], done: bool) -> None:
            super().__init__()
            self.rows = rows
            self.done = done

    def __init__(self) -> None:
        super().__init__(id="models")
        self._rows: list[ModelRow] = []
        self._preview_timer: Timer | None = None
        self._done = False  # every page of rows has arrived

    def compose_body(self) -> ComposeResult:
        yield Label(Text("Models", style="bold"), id="models-title")
        yield Input(placeholder="/ filter: name, version, stage, data, signed…", id="models-filter")
        yield ModelsTable(id="models-table")
        yield Label("", id="models-status")

    def on_mount(self) -> None:
        self.query_one(ModelsTable).focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        self._rows = []
        self.query_one("#models-status", Label).update(Text("loading…", style="dim"))
        self.load_rows()

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def load_rows(self) -> None:
        """Page through the model versions, posting rows as each page is joined."""
        offset, size = 0, FIRST_PAGE
        while True:
            versions = model_versions(self.store, limit=size, offset=offset)
            self.post_message(self.RowsLoaded(model_rows(self.store, versions), done=len(versions) < size))
            if len(versions) < size:
                return
            offset, size = offset + size, PAGE

    @on(RowsLoaded)
    def _rows_loaded(self, event: RowsLoaded) -> None:
        self._rows.extend(event.rows)
        table = self.query_one(ModelsTable)
        table.show(self._rows)
        self._update_status(done=event.done)
        if event.done:
            self.set_timer(PREPARE_AFTER, self._prepare_node_view)

    def _prepare_node_view(self) -> None:
        self.explorer.prepare_node_view()
        self._preview()

    @on(DataTable.RowHighlighted, "#models-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted version is fetched for the node view at once (in a worker); once the cursor
        rests on it, the hidden node view shows it too: Enter then only brings the view up."""
        if event.row_key.value:
            self.explorer.preview_node(str(event.row_key.value), show=False)
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_AFTER, self._preview)

    def _preview(self) -> None:
        try:
            current = self._current() if self.is_current else None
        except NoMatches:  # a timer that fired while the app closes
            return
        if current is not None:
            self.explorer.preview_node(current)

    def _update_status(self, *, done: bool = True) -> None:
        self._done = done
        table = self.query_one(ModelsTable)
        status = self.query_one("#models-status", Label)
        if done and not self._rows:
            status.update(
                Text(
                    "No registered model versions in the store. s scans the sources in mlprov.toml; "
                    "Ctrl+P finds any node.",
                    style="dim",
                )
            )
            return
        shown = len(table.shown)
        text = plural(len(self._rows), "model version") + ("" if done else " (loading…)")
        if table.filter_text:
            text += f" · {shown:,} match “{table.filter_text}”"
        text += f" · sorted by {table.sort_title}"
        status.update(Text(text, style="dim"))

    @on(Input.Changed, "#models-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one(ModelsTable).filter_text = event.value.strip()
        self._update_status(done=self._done)

    @on(Input.Submitted, "#models-filter")
    def _filter_done(self) -> None:
        self.query_one(ModelsTable).focus()

    @on(DataTable.RowSelected, "#models-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.explorer.open_node(str(event.row_key.value))

    def action_focus_filter(self) -> None:
        self.query_one("#models-filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#models-filter", Input).value = ""
        self.query_one(ModelsTable).focus()

    def _current(self) -> str | None:
        row = self.query_one(ModelsTable).current
        return row.id if row else None

    def _acted_on(self) -> ModelRow | None:
        """The highlighted version a key acts on; when there is none (a filter matching nothing), a
        notice says so rather than the key doing nothing."""
        row = self.query_one(ModelsTable).current
        if row is None:
            self.notify("No model version is highlighted: the filter matches none.", severity="warning")
        return row

    def action_show_row(self) -> None:
        if (row := self._acted_on()) is not None:
            self.app.push_screen(ValueScreen(f"{row.name} {row.version}", ModelsTable.whole(row)))

    def action_diff_previous(self) -> None:
        if (row := self._acted_on()) is not None:
            self.explorer.open_diff_previous(row.id)

    def action_bom(self) -> None:
        if (row := self._acted_on()) is not None:
            self.explorer.generate_bom(row.id)

    def action_verify(self) -> None:
        if (row := self._acted_on()) is not None:
            self.explorer.verify_signatures(row.id)

    @on(ModelsTable.Sorted)
    def _sorted(self) -> None:
        self._update_status(done=self._done)
