"""A two-column table of names and values; long values end in an ellipsis, Enter shows them whole."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from explorer.tui.data.text import clip, one_line


class KeyValueTable(DataTable[Text]):
    """Properties, params or metrics of a node. Values are clipped to the width the table has."""

    BINDINGS = [
        Binding(
            "enter",
            "show_value",
            "Whole value",
            id="value-show",
            tooltip="Show the highlighted value in full (long values are cut with …)",
        ),
    ]

    class ShowValue(Message):
        """The user asked to see a value in full."""

        def __init__(self, name: str, value: Any) -> None:
            super().__init__()
            self.name = name
            self.value = value

    def __init__(self, *, id: str | None = None, names: tuple[str, str] = ("name", "value")) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._names = names
        self._items: list[tuple[str, Any]] = []
        self._width = 0

    def on_mount(self) -> None:
        self.add_column(self._names[0], key="name")
        self.add_column(self._names[1], key="value")

    def show(self, items: list[tuple[str, Any]]) -> None:
        """Replace the rows (keeps the cursor row when it still exists); the same rows again cost nothing."""
        items = list(items)
        if items == self._items and self.row_count == len(items):
            return
        self._items = items
        self._render_rows()

    @property
    def items(self) -> list[tuple[str, Any]]:
        return list(self._items)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            self._render_rows()

    def _render_rows(self) -> None:
        row = self.cursor_row
        self.clear()
        for column in self.columns.values():
            # clear() keeps each column as wide as its widest cell ever: after a node with a long name the
            # name column stayed wide, values cut to fit pushed past the edge (cut there without an ellipsis)
            column.content_width = column.label.cell_len
        width = self.scrollable_content_region.width or 80
        # names up to 28 cells, but values keep 12 in a narrow column (80x24: long param names left 8 and overflowed)
        name_width = min(28, max(8, width - 4 - 12), max((len(n) for n, _ in self._items), default=4))
        name_width = max(name_width, len(self._names[0]))  # the column is at least as wide as its title
        value_width = max(8, width - name_width - 4)  # cell padding
        for index, (name, value) in enumerate(self._items):
            self.add_row(Text(clip(name, name_width)), Text(clip(one_line(value), value_width)), key=str(index))
        if self._items:
            self.move_cursor(row=min(row, len(self._items) - 1))

    def action_show_value(self) -> None:
        if 0 <= self.cursor_row < len(self._items):
            name, value = self._items[self.cursor_row]
            self.post_message(self.ShowValue(name, value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_show_value()
