"""A dialog asking where to save a file (the ML-BOM): Enter saves, Escape cancels."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class SavePathScreen(ModalScreen[Path | None]):
    """Dismisses with the chosen path, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog-cancel", tooltip="Close without saving")]

    def __init__(self, title: str, default: Path) -> None:
        super().__init__()
        self.title_text = title
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Input(str(self.default), id="save-path")
            yield Label(Text("Enter save · Esc cancel", style="dim"), classes="dialog-hint")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        """A file path: an empty one or a directory is said so in the dialog, which stays open (an empty
        path closed it silently; a directory failed later naming the writer's temporary file)."""
        value = event.value.strip()
        hint = self.query_one(".dialog-hint", Label)
        if not value:
            hint.update(Text("Type the file to save to (Esc cancels)", style="bold"))
            return
        path = Path(value).expanduser()
        if path.is_dir():
            hint.update(Text(f"{path} is a directory: type a file name in it", style="bold"))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
