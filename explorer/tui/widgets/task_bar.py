"""The long-task bar above the footer: what runs (scan, BOM, verification), its progress, how to cancel."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar


@dataclass(frozen=True, slots=True)
class TaskState:
    """A snapshot of the running task; the app holds the current one (None when idle)."""

    title: str
    total: int | None = None
    done: int = 0
    note: str = ""


class TaskBar(Horizontal):
    """Shows the app's running task on every screen; hidden when nothing runs."""

    state: reactive[TaskState | None] = reactive(None, always_update=True)
    """The task shown, mirrored from the app's ``task_state``; None hides the bar."""

    def compose(self) -> ComposeResult:
        yield Label("", id="task-title")
        yield ProgressBar(total=None, show_eta=False, id="task-progress")
        yield Label("x cancel", id="task-hint")

    def on_mount(self) -> None:
        self.watch(self.app, "task_state", self._mirror)

    def _mirror(self, state: TaskState | None) -> None:
        self.state = state

    def watch_state(self, state: TaskState | None) -> None:
        self.set_class(state is not None, "-active")
        if state is None:
            return
        title = state.title if not state.note else f"{state.title} · {state.note}"
        self.query_one("#task-title", Label).update(title)
        self.query_one("#task-progress", ProgressBar).update(total=state.total, progress=state.done)
