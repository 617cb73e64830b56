"""Every key of the explorer, where it applies, and the id to remap it with in ``mlprov.toml``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from explorer.tui.keys import effective_key


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
        table.add_columns("where", "key", "what", "id")
        for where, bindings in self.groups:
            for binding in bindings:
                key = effective_key(binding, self.keymap)
                what = binding.tooltip or binding.description
                table.add_row(
                    Text(where, style="dim"),
                    Text(_pretty(key), style="bold"),
                    Text(what),
                    Text(binding.id or "", style="dim"),
                )
        table.focus()

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
