"""Every key of the explorer, where it applies, and the id to remap it with in ``mlprov.toml``."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from explorer.tui.data.text import clip
from explorer.tui.keys import effective_key
from explorer.tui.screens.value import ValueScreen


class HelpScreen(ModalScreen[None]):
    """A table of (where, key, what, id); Escape or ``?`` closes."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close", id="help-close", tooltip="Close the key list")]

    def __init__(self, groups: list[tuple[str, list[Binding]]], keymap: dict[str, str]) -> None:
        super().__init__()
        self.groups = groups
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Label(Text("Keys  (remap any id under [keys] in mlprov.toml)", style="bold"), classes="dialog-title")
            yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            yield Label(Text("Esc close", style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("key", key="key", width=12)
        table.add_column("id", key="id", width=16)
        table.add_column("what", key="what")
        self._rows: list[tuple[str, Binding | None]] = []
        for where, bindings in self.groups:
            self._rows.append((where, None))
            self._rows.extend((where, binding) for binding in bindings)
        self._fill()
        table.focus()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """Descriptions are cut to the dialog's width with an ellipsis; Enter shows one whole."""
        table = self.query_one(DataTable)
        width = max(12, table.scrollable_content_region.width - 12 - 16 - 6)
        row = table.cursor_row
        table.clear()
        for where, binding in getattr(self, "_rows", []):
            if binding is None:
                table.add_row(Text(where, style="bold"), Text(""), Text(""))
                continue
            what = binding.tooltip or binding.description
            table.add_row(
                Text(_pretty(effective_key(binding, self.keymap)), style="bold"),
                Text(binding.id or "", style="dim"),
                Text(clip(what, width)),
            )
        table.move_cursor(row=row)

    @on(DataTable.RowSelected)
    def _show_whole(self, event: DataTable.RowSelected) -> None:
        where, binding = self._rows[event.cursor_row]
        if binding is not None:
            self.app.push_screen(ValueScreen(f"{where}: {binding.id}", binding.tooltip or binding.description))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _pretty(keys: str) -> str:
    names = {
        "question_mark": "?",
        "slash": "/",
        "left_square_bracket": "[",
        "right_square_bracket": "]",
        "escape": "Esc",
        "enter": "Enter",
        "space": "Space",
    }
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))
