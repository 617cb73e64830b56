"""Worker failures reported in one place: widgets forward them, the app shows each once."""

from __future__ import annotations

from textual.message import Message
from textual.worker import Worker, WorkerState


class WorkerFailed(Message):
    """A worker ended in error; bubbles up to the app, which notifies the user once."""

    def __init__(self, worker: Worker[object], error: BaseException) -> None:
        super().__init__()
        self.worker = worker
        self.error = error


class ForwardsWorkerFailures:
    """Mixin for screens and widgets that run workers: their failures go to the app's one handler.

    ``Worker.StateChanged`` does not bubble, so each worker owner forwards it as :class:`WorkerFailed`.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Named by convention (not ``@on``): a plain mixin's decorated handlers are not collected."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.worker_failed(event.worker, event.worker.error)
            self.post_message(WorkerFailed(event.worker, event.worker.error))  # type: ignore[attr-defined]

    def worker_failed(self, worker: Worker[object], error: BaseException) -> None:
        """Hook: put the owner in a failed state (the app reports the error itself)."""
