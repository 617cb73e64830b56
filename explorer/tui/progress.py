"""The core's :class:`explorer.progress.Progress`, posting messages to the app from a worker thread."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.message import Message
from textual.worker import Worker


class TaskProgress(Message):
    """Progress of the running task: a new step (``title``/``total``), units done, or a note."""

    def __init__(
        self, *, title: str | None = None, total: int | None = None, advance: int = 0, note: str | None = None
    ) -> None:
        super().__init__()
        self.title = title
        self.total = total
        self.advance = advance
        self.note = note


class PostingProgress:
    """Implements the Progress protocol for a worker: every call becomes a :class:`TaskProgress` message."""

    def __init__(self, app: App[Any], worker: Worker[object]) -> None:
        self._app = app
        self._worker = worker

    def start(self, task: str, total: int | None = None) -> None:
        self._app.post_message(TaskProgress(title=task, total=total))

    def advance(self, amount: int = 1) -> None:
        self._app.post_message(TaskProgress(advance=amount))

    def note(self, message: str) -> None:
        self._app.post_message(TaskProgress(note=message))

    def cancelled(self) -> bool:
        return self._worker.is_cancelled
