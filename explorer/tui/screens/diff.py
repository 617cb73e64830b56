"""Diff of two model versions: params, metrics, data versions, commits, dependencies, image."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Label
from textual.worker import Worker

from explorer.tui.data import capabilities
from explorer.tui.data.documents import Section, diff_sections
from explorer.tui.data.text import clip, clip_middle
from explorer.tui.screens.base import ExplorerScreen
from explorer.tui.screens.value import ValueScreen

CELL = 30


class SectionTable(DataTable[Text]):
    """One section of the diff; Enter shows the highlighted row whole (cells are cut to fit)."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Whole row",
            id="diff-row",
            tooltip="Show the highlighted row whole (long cells are cut with …)",
        ),
    ]


class DiffScreen(ExplorerScreen):
    """Two references on top (Enter diffs them), one table per section of the diff below."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="diff-close", tooltip="Close the diff"),
        Binding("i", "focus_input", "Refs", id="diff-input", tooltip="Edit the two versions compared"),
    ]

    state: reactive[str] = reactive("idle")
    """idle, running, done, failed or unavailable: carried as the CSS class ``-<state>``."""

    class Diffed(Message):
        """The diff document, read into sections."""

        def __init__(self, title: str, sections: list[Section]) -> None:
            super().__init__()
            self.title = title
            self.sections = sections

    class Stopped(Message):
        """No diff: the capability is missing or the diff failed."""

        def __init__(self, state: str, reason: str) -> None:
            super().__init__()
            self.state = state
            self.reason = reason

    def __init__(self, a: str = "", b: str = "") -> None:
        super().__init__()
        self._a = a
        self._b = b
        self.sections: list[Section] = []

    def compose_body(self) -> ComposeResult:
        yield Label(Text("Diff two model versions", style="bold"), id="diff-title")
        with Horizontal(id="diff-refs"):
            yield Input(self._a, placeholder="version A (older)", id="diff-a")
            yield Input(self._b, placeholder="version B (newer)", id="diff-b")
        yield Label("", id="diff-status")
        yield VerticalScroll(id="diff-sections")

    def on_mount(self) -> None:
        if self._a and self._b:
            self.start()
        else:
            self.query_one("#diff-a", Input).focus()

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.start()

    def start(self) -> None:
        a = self.query_one("#diff-a", Input).value.strip()
        b = self.query_one("#diff-b", Input).value.strip()
        if not a or not b:
            self.query_one("#diff-b" if a else "#diff-a", Input).focus()
            self.query_one("#diff-status", Label).update(
                Text(f"Type version {'B' if a else 'A'}: e.g. churn-model/3, models:/churn-model@champion", style="dim")
            )
            return
        self.state = "running"
        self.query_one("#diff-status", Label).update(Text(f"diffing {a} → {b}…", style="dim"))
        self.run_diff(a, b)

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def run_diff(self, a: str, b: str) -> None:
        """Import :mod:`explorer.diff` here, not at start-up, and diff ``a`` against ``b``."""
        try:
            doc: dict[str, Any] = capabilities.diff(self.store, a, b)
        except capabilities.Unavailable as exc:
            self.post_message(self.Stopped("unavailable", str(exc)))
            return
        except capabilities.CapabilityError as exc:
            self.post_message(self.Stopped("failed", str(exc)))
            return
        title, sections = diff_sections(doc)
        self.post_message(self.Diffed(title, sections))

    def worker_failed(self, worker: Worker[object], error: BaseException) -> None:
        self.post_message(self.Stopped("failed", f"diff failed: {error}"))

    @on(Stopped)
    async def _stopped(self, event: Stopped) -> None:
        self.state = event.state
        self.query_one("#diff-status", Label).update(Text(event.reason, style="bold"))
        self.sections = []
        await self.query_one("#diff-sections", VerticalScroll).remove_children()  # not the last diff's result

    @on(Diffed)
    async def _diffed(self, event: Diffed) -> None:
        self.state = "done"
        self.sections = event.sections
        self.query_one("#diff-status", Label).update(Text(event.title, style="bold"))
        box = self.query_one("#diff-sections", VerticalScroll)
        await box.remove_children()
        widgets = []
        for index, section in enumerate(event.sections):
            table = SectionTable(id=f"diff-section-{index}", cursor_type="row", zebra_stripes=True)
            widgets.extend(
                [
                    Label(
                        Text(f"{section.title} ({len(section.rows)})", style="bold"),
                        id=f"diff-title-{index}",
                        classes="section-title",
                    ),
                    table,
                ]
            )
        await box.mount_all(widgets)
        room = box.scrollable_content_region.width - box.styles.scrollbar_size_vertical
        for index, section in enumerate(event.sections):
            table = self.query_one(f"#diff-section-{index}", SectionTable)
            # the columns share the width (at most CELL each): cut at 30 each, 80 columns showed two and a
            # bit of a third, cut at the edge without an ellipsis
            width = max(8, min(CELL, room // max(1, len(section.columns)) - 2))
            for column in section.columns:
                table.add_column(column)
            for row in section.rows or [["(no change)", *[""] * (len(section.columns) - 1)]]:
                # a name is a param or a path: its end tells rows apart
                cells = zip(section.columns, row, strict=False)
                table.add_row(*(Text((clip_middle if c == "name" else clip)(cell, width)) for c, cell in cells))
        changed = [i for i, section in enumerate(event.sections) if section.rows]
        if changed:
            first = changed[0]
            # Focus alone would scroll to the table wherever the layout of the new tables has got to
            # (a different picture run to run); once they are laid out, show the section from its title.
            self.query_one(f"#diff-section-{first}", DataTable).focus(scroll_visible=False)
            title = self.query_one(f"#diff-title-{first}", Label)
            self.call_after_refresh(box.scroll_to_widget, title, animate=False, top=True)

    @on(DataTable.RowSelected)
    def _show_row(self, event: DataTable.RowSelected) -> None:
        """Cells are cut at 30 characters: Enter shows the whole row."""
        index = int(str(event.data_table.id).rpartition("-")[2])
        section = self.sections[index]
        if 0 <= event.cursor_row < len(section.rows):
            cells = (section.values or section.rows)[event.cursor_row]  # lists as lists, not as JSON text
            row = {column: _readable(cell) for column, cell in zip(section.columns, cells, strict=False)}
            self.app.push_screen(ValueScreen(section.title, row))

    def action_focus_input(self) -> None:
        self.query_one("#diff-a", Input).focus()

    def action_close(self) -> None:
        self.dismiss()


def _readable(value: object) -> object:
    """A commit's changed files as ``M dvc.lock``, one line each (as `git diff --name-status` prints
    them), not four lines of JSON per file."""
    if isinstance(value, list) and value and all(isinstance(v, dict) and set(v) == {"status", "path"} for v in value):
        return [f"{v['status']} {v['path']}" for v in value]
    return value
