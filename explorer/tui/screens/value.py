"""A dialog showing one value in full: the way to read what a table cut with an ellipsis."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from explorer.tui.data.text import full_text


class ValueScreen(ModalScreen[None]):
    """Scrollable full text of a value; Escape closes."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close", id="dialog-close", tooltip="Close this dialog")]

    def __init__(self, title: str, value: Any) -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll():
                yield Static(Text(full_text(self.value)), id="value-text")
            yield Label(Text("Esc close", style="dim"), classes="dialog-hint")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
