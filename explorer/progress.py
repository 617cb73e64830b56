"""How long work reports progress: a small observer the CLI draws with rich, the TUI with a widget."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """Receives progress from a scan, a hash or a BOM; never touches the terminal itself."""

    def start(self, task: str, total: int | None = None) -> None:
        """A new task begins; ``total`` units of work when known."""

    def advance(self, amount: int = 1) -> None:
        """``amount`` more units of the current task are done."""

    def note(self, message: str) -> None:
        """A one-line remark for the user (a gap, a skipped file)."""

    def cancelled(self) -> bool:
        """True when the user asked to stop: long loops check it between units."""
        return False


class NullProgress:
    """Progress that goes nowhere: the default for library calls."""

    def start(self, task: str, total: int | None = None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def cancelled(self) -> bool:
        return False
