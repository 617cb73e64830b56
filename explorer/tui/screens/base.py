"""What every full screen shares: the task bar and footer, worker failures forwarded, refresh after a scan."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen

from explorer.store import LineageStore
from explorer.tui.widgets.footer import ExplorerFooter
from explorer.tui.widgets.task_bar import TaskBar
from explorer.tui.workers import ForwardsWorkerFailures

if TYPE_CHECKING:
    from explorer.tui.app import ExplorerApp


class ExplorerScreen(ForwardsWorkerFailures, Screen[None]):
    """A full screen: ``compose_body`` plus the task bar and the footer."""

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        yield TaskBar()
        yield ExplorerFooter()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    @property
    def explorer(self) -> ExplorerApp:
        return cast("ExplorerApp", self.app)

    @property
    def store(self) -> LineageStore:
        return self.explorer.store

    def refresh_data(self) -> None:
        """Reload what the screen shows (after a scan changed the store)."""
