"""The explorer app: screens, global keys, the one place worker failures and long tasks are reported."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import WorkerCancelled, get_current_worker

from explorer.config import Settings
from explorer.lineage import NodeKind
from explorer.store import LineageStore
from explorer.tui import tasks
from explorer.tui.commands import ActionProvider, NodeProvider
from explorer.tui.data import capabilities
from explorer.tui.data.models import previous_version
from explorer.tui.keys import bindings_of, keymap
from explorer.tui.progress import TaskProgress
from explorer.tui.screens.diff import DiffScreen, SectionTable
from explorer.tui.screens.help import HelpScreen
from explorer.tui.screens.models import ModelsScreen
from explorer.tui.screens.node import NodeScreen
from explorer.tui.screens.save import SavePathScreen
from explorer.tui.screens.trace import TraceScreen
from explorer.tui.screens.value import ValueScreen
from explorer.tui.theme import THEMES
from explorer.tui.widgets.key_values import KeyValueTable
from explorer.tui.widgets.lineage_tree import LineageTree
from explorer.tui.widgets.models_table import ModelsTable
from explorer.tui.widgets.task_bar import TaskState
from explorer.tui.workers import ForwardsWorkerFailures, WorkerFailed


class ExplorerApp(ForwardsWorkerFailures, App[None]):
    """Browse the lineage store: models home, node view, trace, diff; actions on model versions."""

    TITLE = "mlprov"
    CSS_PATH = ["global.tcss", "app.tcss"]
    COMMANDS = App.COMMANDS | {NodeProvider, ActionProvider}
    BINDINGS = [
        Binding("question_mark", "help", "Keys", id="help", tooltip="Show every key and its id"),
        Binding(
            "ctrl+p",
            "command_palette",
            "Palette",
            id="command-palette",
            show=False,  # the footer shows the palette key on its right already
            tooltip="Jump to any node by name, id or prefix; run any action",
        ),
        Binding("h", "go_home", "Home", id="go-home", tooltip="Back to the models home"),
        Binding("t", "open_trace", "Trace", id="open-trace", tooltip="Trace a prediction by request id or log line"),
        Binding("D", "open_diff", "Diff", id="open-diff", show=False, tooltip="Diff any two model versions"),
        Binding("s", "scan", "Scan", id="scan", tooltip="Scan the sources in mlprov.toml, then refresh"),
        Binding("x", "cancel_task", "Cancel", id="cancel-task", tooltip="Cancel the running task"),
        Binding("T", "toggle_theme", "Theme", id="toggle-theme", show=False, tooltip="Switch light and dark themes"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit the explorer"),
    ]

    task_state: reactive[TaskState | None] = reactive(None)
    """The long task running now (shown by every screen's task bar), or None."""

    def __init__(
        self,
        store: LineageStore,
        settings: Settings | None = None,
        *,
        theme: str | None = None,
        precompose: bool = True,
    ) -> None:
        super().__init__()
        self.precompose = precompose
        """Compose the node view while the models home is idle (off for pixel-stable snapshots)."""
        self.store = store
        self.settings = settings
        self._theme_choice = theme
        self.keymap_in_use: dict[str, str] = {}
        self._reported: set[int] = set()
        self._task_name = "task"  # the long task running or last run (scan, verify …, ML-BOM …)
        self._node_screen: NodeScreen | None = None
        self._froze_heap = False

    # --- start-up --------------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return ModelsScreen()

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        configured = self.settings.section("explorer").get("theme") if self.settings else None
        choice = self._theme_choice or (str(configured) if configured else "dark")
        self.theme = f"mlprov-{choice}" if choice in ("dark", "light") else choice
        mapping, warnings = keymap(self.settings, (b.id for _, group in self.binding_groups() for b in group if b.id))
        self.keymap_in_use = mapping
        self.set_keymap(mapping)
        for warning in warnings:
            self.notify(warning, severity="warning", timeout=8)

    def binding_groups(self) -> list[tuple[str, list[Binding]]]:
        """Every binding of the explorer by where it applies: the help screen and the keymap check read it."""
        return [
            ("everywhere", bindings_of(self.BINDINGS)),
            ("models", [*bindings_of(ModelsScreen.BINDINGS), *bindings_of(ModelsTable.BINDINGS)]),
            ("node view", [*bindings_of(NodeScreen.BINDINGS), *bindings_of(LineageTree.BINDINGS)]),
            ("tables", bindings_of(KeyValueTable.BINDINGS)),
            ("trace", bindings_of(TraceScreen.BINDINGS)),
            ("diff", [*bindings_of(DiffScreen.BINDINGS), *bindings_of(SectionTable.BINDINGS)]),
            ("dialogs", bindings_of([*HelpScreen.BINDINGS, *SavePathScreen.BINDINGS, *ValueScreen.BINDINGS])),
        ]

    # --- navigation ----------------------------------------------------------------------------------

    def open_node(self, node_id: str) -> None:
        """Show ``node_id`` in the node view (a new history entry when one is open).

        One node view is installed and reused: opening it again switches its content, composing
        nothing. Only when it is already open under another screen (a trace, a diff) does a second
        one go on top, so that Escape still returns to that screen.
        """
        if isinstance(self.screen, NodeScreen):
            self.screen.go(node_id)
        elif self._node_screen is None:
            self._node_screen = NodeScreen(node_id)
            self.install_screen(self._node_screen, name="node")
            self.push_screen("node")
        elif self._node_screen in self.screen_stack:
            self.push_screen(NodeScreen(node_id))
        else:
            self._node_screen.start(node_id)
            self.push_screen("node")

    def prepare_node_view(self) -> None:
        """Compose and lay out the node view off-screen (while the models home is idle).

        The first Enter then only switches its content, like every later one. The screen is
        started without being pushed: nothing is drawn, it renders when it first becomes current.
        """
        if self._node_screen is not None or self._exit or not self.precompose:
            return
        if not isinstance(self.screen, ModelsScreen):
            return  # the user moved on before the home was idle; the first Enter composes it then
        screen = NodeScreen()
        self._node_screen = screen
        self.install_screen(screen, name="node")
        self._load_screen_css(screen)
        self._register(self, screen)  # runs compose and mount; its on_mount lays it out while hidden
        self._freeze_heap()

    def _freeze_heap(self) -> None:
        """Keep the objects alive now (imports, the home's rows, the screens) out of the collector's way.

        They live as long as the app; a full collection scanning them took 80-115 ms, on whichever
        keypress happened to trigger it. Frozen, a collection scans only what came after (unfrozen on
        exit). The few cyclic leftovers of start-up (~2,000 objects) are not collected first: that
        costs a full collection (~80 ms) of its own.
        """
        if not self._froze_heap:
            self._froze_heap = True
            gc.freeze()

    def on_unmount(self) -> None:
        if self._froze_heap:
            gc.unfreeze()

    def preview_node(self, node_id: str, *, show: bool = True) -> None:
        """Get the hidden node view ready to open ``node_id`` (the models home's highlighted row):
        fetch it, and with ``show`` put it in the view's widgets off-screen."""
        screen = self._node_screen
        if screen is not None and screen not in self.screen_stack and not self._exit:
            screen.preview(node_id, show=show)

    def focused_model_version(self, screen: Screen[object] | None = None) -> str | None:
        """The model version the user is looking at on ``screen`` (the current one by default), for
        context actions. The palette passes the screen it was opened on: while it is open, the
        current screen is the palette itself."""
        screen = self.screen if screen is None else screen
        if isinstance(screen, NodeScreen) and screen.detail and screen.detail.node.kind == NodeKind.MODEL_VERSION:
            return screen.node_id
        if isinstance(screen, ModelsScreen):
            row = screen.query_one(ModelsTable).current
            return row.id if row else None
        return None

    def action_go_home(self) -> None:
        while len(self.screen_stack) > 1 and not isinstance(self.screen, ModelsScreen):
            self.pop_screen()

    def action_open_trace(self) -> None:
        self.push_screen(TraceScreen())

    def action_open_diff(self) -> None:
        self.push_screen(DiffScreen())

    def open_diff_previous(self, version_id: str) -> None:
        self._diff_previous(version_id)

    @work(thread=True, group="lookup", exit_on_error=False)
    def _diff_previous(self, version_id: str) -> None:
        """Find the version before ``version_id`` (a store query), then open the diff."""
        before = previous_version(self.store, version_id)
        if before is None:
            self.call_from_thread(
                self.notify, f"{version_id} has no earlier version to diff against", severity="warning"
            )
            return
        self.call_from_thread(self.push_screen, DiffScreen(before, version_id))

    async def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            await self.push_screen(HelpScreen(self.binding_groups(), self.keymap_in_use))

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notice as plain text: they carry paths, ids and reasons, whose brackets Rich read as
        markup ("list sources under [scan] in mlprov.toml" showed "under  in")."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, without its key panel and theme picker: `?` lists mlprov's keys with
        their ids, and the explorer has its two themes (Textual's picker offered a dozen others)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Theme"):
                yield command

    def action_toggle_theme(self) -> None:
        self.theme = "mlprov-light" if self.theme == "mlprov-dark" else "mlprov-dark"

    # --- long tasks ---------------------------------------------------------------------------------------

    def action_scan(self) -> None:
        if self.settings is None:
            self.notify("no workspace: scanning needs mlprov.toml", severity="warning")
            return
        settings = self.settings
        self._run_task("scan", lambda: tasks.scan(self, self.store, settings))

    def generate_bom(self, version_id: str) -> None:
        def chosen(path: Path | None) -> None:
            if path is not None:
                self._run_task(f"ML-BOM {version_id}", lambda: tasks.bom(self.store, version_id, path))

        default = capabilities.default_bom_path(self.settings, version_id)
        self.push_screen(SavePathScreen(f"Save the ML-BOM of {version_id} to", default), chosen)

    def verify_signatures(self, version_id: str) -> None:
        self._run_task(f"verify {version_id}", lambda: tasks.verify(self.store, self.settings, version_id))

    def _run_task(self, title: str, job: Callable[[], tasks.TaskOutcome]) -> None:
        if self.task_state is not None:
            self.notify("a task is already running (x cancels it)", severity="warning")
            return
        self.task_state = TaskState(title)
        worker = self._task_worker(job)
        worker.name = title  # a failure is reported as the task's ("scan: …"), not the method's
        self._task_name = title  # the progress bar's title changes with each step

    @work(thread=True, exclusive=True, group=tasks.TASK_GROUP, exit_on_error=False)
    def _task_worker(self, job: Callable[[], tasks.TaskOutcome]) -> None:
        """Run one long task; capability problems are outcomes to show, anything else a worker failure."""
        worker = get_current_worker()
        try:
            outcome = job()
        except (capabilities.Unavailable, capabilities.CapabilityError) as exc:
            outcome = tasks.TaskOutcome(str(exc), failed=True)
        finally:
            if not worker.is_cancelled:
                self.call_from_thread(setattr, self, "task_state", None)
        if not worker.is_cancelled:
            self.post_message(tasks.TaskDone(outcome))

    @on(TaskProgress)
    def _task_progress(self, event: TaskProgress) -> None:
        state = self.task_state
        if state is None:
            return
        if event.title is not None:
            state = TaskState(event.title, event.total, 0, "")
        state = TaskState(state.title, state.total, state.done + event.advance, event.note or state.note)
        self.task_state = state

    @on(tasks.TaskDone)
    def _task_done(self, event: tasks.TaskDone) -> None:
        outcome = event.outcome
        self.notify(outcome.summary, severity="error" if outcome.failed else "information", timeout=10)
        if outcome.store_changed:
            for screen in self.screen_stack:
                refresh = getattr(screen, "refresh_data", None)
                if callable(refresh):
                    refresh()
            if self._node_screen is not None and self._node_screen not in self.screen_stack:
                self._node_screen.forget()  # what it kept is stale; it queries again when next opened

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_task":
            return self.task_state is not None
        return True

    def watch_task_state(self) -> None:
        self.refresh_bindings()

    def action_cancel_task(self) -> None:
        title = self._task_name
        self.workers.cancel_group(self, tasks.TASK_GROUP)
        self.task_state = None
        # a scan writes each source batch in one transaction: the batches before the cancel stay
        kept = "; what it wrote before is kept" if title == "scan" else ""
        self.notify(f"{title} cancelled{kept}", severity="warning")

    # --- failures -----------------------------------------------------------------------------------------

    @on(WorkerFailed)
    def _worker_failed(self, event: WorkerFailed) -> None:
        """The one place a failed worker is reported: once, with its reason."""
        if id(event.worker) in self._reported or isinstance(event.error, WorkerCancelled):
            return
        self._reported.add(id(event.worker))
        self.notify(
            f"{event.worker.name or event.worker.group}: {event.error}", title="failed", severity="error", timeout=10
        )
