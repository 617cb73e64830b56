"""The node view: any node's properties and its lineage, with browser-like history.

The app installs one node view and switches its content: opening a node again composes nothing.
The details of visited nodes are kept (until a scan changes the store), so back and forward
render from memory without a store query; the tree keeps the pages it loaded the same way.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input, Label, TabbedContent, TabPane, Tabs

from explorer.graph import Direction
from explorer.lineage import Gap, NodeKind
from explorer.tui.data.history import History
from explorer.tui.data.nodes import NeighbourPage, NodeDetail, neighbours, node_detail
from explorer.tui.data.text import tab_labels
from explorer.tui.screens.base import ExplorerScreen
from explorer.tui.screens.value import ValueScreen
from explorer.tui.widgets.breadcrumb import Breadcrumb
from explorer.tui.widgets.evidence import EvidencePanel
from explorer.tui.widgets.key_values import KeyValueTable
from explorer.tui.widgets.lineage_tree import Entry, LineageTree

VERSION_ACTIONS = ("diff_previous", "bom", "verify")  # keys of the node view that act on a model version
TAB_IDS = ("tab-properties", "tab-params", "tab-metrics", "tab-gaps")
HIDDEN_STEP = 0.02  # seconds between laying out the hidden view and drawing it off-screen


class NodeScreen(ExplorerScreen):
    """Left: the lineage tree and the evidence of the focused edge. Right: properties, params, metrics, gaps."""

    BINDINGS = [
        Binding(
            "u",
            "toggle_direction",
            "Up/down",
            id="node-direction",
            tooltip="Show the lineage upstream (where it came from) or downstream (what came from it)",
        ),
        Binding("left_square_bracket,alt+left", "back", "Back", id="node-back", tooltip="Back to the node before"),
        Binding(
            "right_square_bracket,alt+right",
            "forward",
            "Fwd",
            id="node-forward",
            tooltip="Forward again after going back",
        ),
        Binding(
            "slash",
            "find",
            "Find",
            id="node-find",
            tooltip="Find in this view: jumps in the tree, filters the properties",
        ),
        Binding("escape", "close", "Close", id="node-close", tooltip="Close the node view"),
        Binding(
            "e",
            "evidence",
            "Evidence",
            id="node-evidence",
            show=False,
            tooltip="Show the evidence (or gap) of the highlighted line whole, in a dialog",
        ),
        Binding(
            "d",
            "diff_previous",
            "Diff prev",
            id="diff-previous",
            tooltip="Diff this model version against the version before it",
        ),
        Binding("b", "bom", "ML-BOM", id="bom", tooltip="Generate this model version's ML-BOM and save it"),
        Binding("v", "verify", "Verify", id="verify", tooltip="Verify this model version's signatures"),
    ]

    # `var`, not `reactive`: the screen draws nothing itself, and a reactive's repaint of the whole screen
    # made the first frame after a key draw every widget before the changed ones asked for a layout
    node_id: var[str] = var("", init=False)
    """The node shown; changing it loads its details and restarts the tree."""

    direction: var[Direction] = var(Direction.UP, init=False)
    """Which way the tree follows edges; the tree's title carries the class ``-downstream`` when down."""

    class DetailLoaded(Message):
        """The details of ``node_id`` (None when no such node)."""

        def __init__(self, node_id: str, detail: NodeDetail | None, trail: list[str]) -> None:
            super().__init__()
            self.node_id = node_id
            self.detail = detail
            self.trail = trail

    def __init__(self, node_id: str | None = None) -> None:
        super().__init__()
        self.history = History()
        self._first = node_id
        self.detail: NodeDetail | None = None
        self._labels: dict[str, str] = {}
        self._details: dict[str, NodeDetail | None] = {}  # visited nodes, shown again without a query
        self._shown: tuple[str, Direction] | None = None  # what the tree shows now
        self._mounted = False
        self._prefetching: str | None = None  # the node whose details are being fetched ahead
        self._styled_with: tuple[int, int] | None = None  # the CSS state the widgets were styled with
        self._preview_pending: str | None = None  # asked to preview before it was mounted
        self._preview_target: str | None = None  # the node to show off-screen once fetched
        self._timer_started = False

    def compose_body(self) -> ComposeResult:
        yield Breadcrumb(id="breadcrumb")
        with Horizontal(id="node-body"):
            with Vertical(id="node-left"):
                yield Label("", id="tree-title")
                yield LineageTree(self.store, id="lineage", on_entry=self._show_entry)
                yield EvidencePanel("", id="evidence")
            with TabbedContent(id="node-tabs"):
                with TabPane("Properties", id="tab-properties"):
                    yield KeyValueTable(id="properties")
                with TabPane("Params", id="tab-params"):
                    yield KeyValueTable(id="params", names=("param", "value"))
                with TabPane("Metrics", id="tab-metrics"):
                    yield KeyValueTable(id="metrics", names=("metric", "value"))
                with TabPane("Gaps", id="tab-gaps"):
                    yield KeyValueTable(id="gaps", names=("gap", "reason"))
        yield Input(placeholder="find in this view (Enter: next match, Esc: close)", id="node-find")

    def on_mount(self) -> None:
        self._mounted = True
        self._styled_with = self._css_state()
        if self._first is not None:
            self.go(self._first)
        elif not self.is_current:  # composed ahead of use: lay it out now, so the first opening has not to
            self.call_after_refresh(self._layout_hidden)
            if self._preview_pending is not None:
                self.preview(self._preview_pending)
        self.query_one(LineageTree).focus()

    def _css_state(self) -> tuple[int, int]:
        """What the widgets' styles were computed from: the app's CSS generation (a theme change bumps it)
        and the sources of its stylesheet (a new screen or widget adds its own)."""
        return (self.app._css_update_count, len(self.app.stylesheet.source))

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Skip Textual's restyling of every widget on resume when the CSS did not change meanwhile.

        Pushing a screen restyles its whole tree (~15 ms here, and the tree then lays out again a frame
        later) in case the theme changed while it was not shown; with the same CSS that finds nothing to
        change (compared widget by widget). Runs before Screen's own handler, which reads the flag.
        """
        state = self._css_state()
        if state == self._styled_with:
            event.refresh_styles = False
        self._styled_with = state

    def _layout_hidden(self) -> None:
        if not self.is_current and self.app.size:
            self._refresh_layout(self.app.size)  # off-screen: nothing is drawn
            self.refresh_bindings()  # the footer makes its keys now too
            # drawn in a step of its own: a key pressed meanwhile waits for one step, not both
            self.set_timer(HIDDEN_STEP, self._render_hidden)

    def _render_hidden(self) -> None:
        if not self.is_current and self.app.size:
            self._compositor.render_update(full=True)  # the widgets render their lines now, into their caches
            if not self._timer_started:
                # a screen's update timer sleeps one frame when first resumed: let it do that now
                self._timer_started = True
                self._update_timer.resume()

    # --- shown ahead, while hidden -----------------------------------------------------------------

    class Previewed(Message):
        """What a hidden node view needs to show ``node_id``: its details and its tree's first page."""

        def __init__(
            self, node_id: str, detail: NodeDetail | None, page: NeighbourPage | None, gaps: list[Gap]
        ) -> None:
            super().__init__()
            self.node_id = node_id
            self.detail = detail
            self.page = page
            self.gaps = gaps

    def preview(self, node_id: str, *, show: bool = True) -> None:
        """While hidden (composed ahead, or closed), get ready to open ``node_id``, the version the
        models home highlights: its details and its tree's first page are fetched in a worker, and
        with ``show`` put in the widgets off-screen (Textual draws only the current screen), so that
        opening it only brings the screen up. Nothing happens while the view is open.
        """
        if not self._mounted:
            self._preview_pending = node_id
            return
        if self._in_use():
            return
        if show:
            self._preview_target = node_id
        if node_id in self._details and self.query_one(LineageTree).has_first_page(node_id, Direction.UP):
            if show:
                self._show_preview(node_id)
        else:
            self._fetch_preview(node_id)

    def _in_use(self) -> bool:
        return self.is_current or self in self.app.screen_stack

    @work(thread=True, exclusive=True, group="node-preview", exit_on_error=False)
    def _fetch_preview(self, node_id: str) -> None:
        try:
            detail = node_detail(self.store, node_id)
            page = neighbours(self.store, node_id, Direction.UP) if detail is not None else None
            gaps = self.store.gaps([node_id]) if detail is not None else []
        except Exception:  # ahead of use: opening it queries again and reports a failure
            return
        self.post_message(self.Previewed(node_id, detail, page, gaps))

    @on(Previewed)
    def _previewed(self, event: Previewed) -> None:
        try:
            tree = self.query_one(LineageTree)
        except NoMatches:  # arrived while the app closes: its widgets are gone
            return
        self._details.setdefault(event.node_id, event.detail)
        if event.detail is not None:
            self._labels.setdefault(event.node_id, event.detail.node.label)
        if event.page is not None:
            tree.keep_page(event.page, event.gaps)
        if event.node_id == self._preview_target and not self._in_use():
            self._show_preview(event.node_id)

    def _show_preview(self, node_id: str) -> None:
        self._preview_target = None
        if node_id == self.node_id and self.detail is not None and self._shown is not None:
            return  # shown already
        self.start(node_id)  # from memory: the widgets are filled now
        self.call_after_refresh(self._layout_hidden)

    def go(self, node_id: str) -> None:
        """Visit ``node_id`` (a new history entry)."""
        self.history.visit(node_id)
        self.node_id = node_id

    def start(self, node_id: str) -> None:
        """Open the view afresh at ``node_id``: a new history, upstream (what was visited stays cached)."""
        if not self._mounted:  # composed ahead of use but not mounted yet: on_mount opens it
            self._first = node_id
            return
        self.history = History()
        self.set_reactive(NodeScreen.direction, Direction.UP)
        self.query_one("#tree-title", Label).set_class(False, "-downstream")
        self._close_find()
        before = self.node_id
        self.go(node_id)
        if before == node_id:  # the same node again: no change to watch, but the trail and direction reset
            self.watch_node_id(node_id)

    def watch_node_id(self, node_id: str) -> None:
        if node_id in self._details and self._trail_known():
            self._show_detail(node_id, self._details[node_id], self._trail_labels({}))
        else:
            self.load_detail(node_id, self.history.trail)

    def watch_direction(self, direction: Direction) -> None:
        self.query_one("#tree-title", Label).set_class(direction == Direction.DOWN, "-downstream")
        self._restart_tree()

    def refresh_data(self) -> None:
        self.forget()
        self.load_detail(self.node_id, self.history.trail)

    def forget(self) -> None:
        """Drop what was cached (the store changed): the next visit of each node queries it again."""
        if not self._mounted:
            return
        self._details.clear()
        self._labels.clear()
        self._prefetching = None
        self._shown = None
        self.query_one(LineageTree).forget()

    def _trail_known(self) -> bool:
        return all(t in self._labels for t in self.history.trail[:-1])

    def _trail_labels(self, found: dict[str, str]) -> list[str]:
        return [found.get(t, self._labels.get(t, t)) for t in self.history.trail]

    @work(thread=True, exclusive=True, group="node-detail", exit_on_error=False)
    def load_detail(self, node_id: str, trail: list[str]) -> None:
        """Fetch the node's details and the labels of the breadcrumb trail."""
        detail = node_detail(self.store, node_id)
        missing = [t for t in trail if t not in self._labels and t != node_id]
        labels = {n.id: n.label for n in self.store.nodes_by_id(missing).values()}
        self.post_message(self.DetailLoaded(node_id, detail, [labels.get(t, self._labels.get(t, t)) for t in trail]))

    @on(DetailLoaded)
    def _detail_loaded(self, event: DetailLoaded) -> None:
        self._details[event.node_id] = event.detail
        if event.node_id == self.node_id:
            self._show_detail(event.node_id, event.detail, event.trail)

    def _show_detail(self, node_id: str, detail: NodeDetail | None, trail: list[str]) -> None:
        """Put a node's details in the widgets there are (each one changed only where it differs)."""
        self.detail = detail
        if detail is None:
            self._shown = None
            self.query_one(Breadcrumb).show([*trail[:-1], f"{node_id} (not in the store)"])
            self.query_one(EvidencePanel).show_text(f"No node {node_id} in the store.")
            return
        node = detail.node
        self._labels[node.id] = node.label
        self.query_one(Breadcrumb).show([*trail[:-1], f"{node.label} [{node.kind}]"])
        self.query_one("#properties", KeyValueTable).show(self._found(detail.properties))
        self.query_one("#params", KeyValueTable).show(detail.params)
        self.query_one("#metrics", KeyValueTable).show(detail.metrics)
        self.query_one("#gaps", KeyValueTable).show([(g.kind, g.reason) for g in detail.gaps])
        self._label_tabs()
        self.query_one(TabbedContent).get_tab("tab-gaps").set_class(bool(detail.gaps), "-has-gaps")
        self.refresh_bindings()
        self._restart_tree()

    def _label_tabs(self) -> None:
        """The tab labels with their counts, as long as the tab row fits (80 columns cut "Gaps 1" to "Gaps")."""
        if self.detail is None:
            return
        tabs = self.query_one(TabbedContent)
        counts = (len(self.detail.params), len(self.detail.metrics), len(self.detail.gaps))
        room = tabs.size.width or self.size.width // 2
        for pane, label in zip(TAB_IDS, tab_labels(room, *counts), strict=True):
            tab = tabs.get_tab(pane)
            if str(tab.label) != label:
                tab.label = label

    def on_key(self, event: events.Key) -> None:
        """Down or Enter on the tab bar goes into the tab's table (they did nothing there). The model
        version keys on another kind of node: a notice, where they did nothing at all (the footer hides
        them there, but the docs list them for the node view)."""
        if event.key in ("down", "enter") and isinstance(self.focused, Tabs):
            pane = self.query_one(TabbedContent).active_pane
            if pane is not None:
                pane.query_one(KeyValueTable).focus()
                event.stop()
                return
        node = self.detail.node if self.detail is not None else None
        if node is None or node.kind == NodeKind.MODEL_VERSION:
            return
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            if binding.action in VERSION_ACTIONS:
                self.notify(f"{binding.description} works on model versions; this is a {node.kind}", severity="warning")
                event.stop()
                return

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._label_tabs)  # once the tab row has its new width

    def _restart_tree(self) -> None:
        if self.detail is None:
            return
        shown = (self.detail.node.id, self.direction)
        if shown == self._shown:
            return
        self._shown = shown
        title = "▲ Upstream: came from" if self.direction == Direction.UP else "▼ Downstream: made from it"
        label = self.query_one("#tree-title", Label)
        if label.content != Text(title, style="bold"):
            label.update(Text(title, style="bold"), layout=False)  # one line, full width: no re-layout
        tree = self.query_one(LineageTree)
        tree.show(self.detail.node, self.direction)
        if tree.cursor_node is not None and tree.cursor_node.data is not None:
            self._show_entry(tree.cursor_node.data)  # now, in this frame (its message comes a few hops later)

    def _found(self, properties: list[tuple[str, object]]) -> list[tuple[str, object]]:
        """The properties the find box lets through (all when it is closed or empty)."""
        needle = self.query_one("#node-find", Input).value.strip().lower()
        return [(k, v) for k, v in properties if not needle or needle in f"{k} {v}".lower()]

    @on(LineageTree.EntryHighlighted)
    def _entry_highlighted(self, event: LineageTree.EntryHighlighted) -> None:
        self._show_entry(event.entry)

    def _show_entry(self, entry: Entry) -> None:
        """The evidence of the highlighted line; its node's details are fetched ahead of a follow."""
        panel = self.query_one(EvidencePanel)
        if entry.gap is not None:
            panel.show_gap(entry.gap)
        elif entry.more_offset is not None:
            panel.show_text("More edges: Enter loads the next page.")
        elif entry.nothing:
            where = "upstream" if self.direction == Direction.UP else "downstream"
            panel.show_text(f"No edge {where} of {entry.node_id} in the store (u shows the other direction).")
        else:
            panel.show_edge(entry.edge, entry.also)
            if entry.edge is not None and entry.node_id not in self._details and entry.node_id != self._prefetching:
                self._prefetching = entry.node_id
                self.prefetch_detail(entry.node_id)  # Enter follows it: its details are then in memory

    @work(thread=True, exclusive=True, group="node-prefetch", exit_on_error=False)
    def prefetch_detail(self, node_id: str) -> None:
        """A highlighted node's details, fetched while the user reads the evidence."""
        try:
            detail = node_detail(self.store, node_id)
        except Exception:  # ahead of use: following it queries again and reports a failure
            return
        self.post_message(self.DetailPrefetched(node_id, detail))

    class DetailPrefetched(Message):
        def __init__(self, node_id: str, detail: NodeDetail | None) -> None:
            super().__init__()
            self.node_id = node_id
            self.detail = detail

    @on(DetailPrefetched)
    def _detail_prefetched(self, event: DetailPrefetched) -> None:
        if self._prefetching == event.node_id:
            self._prefetching = None
        self._details.setdefault(event.node_id, event.detail)
        if event.detail is not None:
            self._labels.setdefault(event.node_id, event.detail.node.label)

    @on(LineageTree.Follow)
    def _follow(self, event: LineageTree.Follow) -> None:
        self.go(event.node_id)

    def action_evidence(self) -> None:
        text = self.query_one(EvidencePanel).shown_text
        if text:
            self.app.push_screen(ValueScreen("Evidence", text))

    @on(KeyValueTable.ShowValue)
    def _show_value(self, event: KeyValueTable.ShowValue) -> None:
        self.app.push_screen(ValueScreen(event.name, event.value))

    # --- find ---------------------------------------------------------------------------------------

    def action_find(self) -> None:
        find = self.query_one("#node-find", Input)
        find.add_class("-open")
        find.focus()

    @on(Input.Changed, "#node-find")
    def _find_changed(self, event: Input.Changed) -> None:
        if self.detail is None:
            return
        needle = event.value.strip().lower()
        self.query_one("#properties", KeyValueTable).show(self._found(self.detail.properties))
        if needle:
            self.query_one(LineageTree).find_next(needle)

    @on(Input.Submitted, "#node-find")
    def _find_next(self, event: Input.Submitted) -> None:
        needle = event.value.strip()
        if needle and not self.query_one(LineageTree).find_next(needle):
            self.notify(f"no line of the tree loaded so far holds “{needle}” (Space loads a line's edges)")

    def _close_find(self) -> None:
        find = self.query_one("#node-find", Input)
        if not find.has_class("-open") and not find.value:
            return
        find.value = ""
        find.remove_class("-open")
        self.query_one(LineageTree).focus()

    # --- navigation -----------------------------------------------------------------------------------

    def action_toggle_direction(self) -> None:
        self.direction = Direction.DOWN if self.direction == Direction.UP else Direction.UP

    def action_back(self) -> None:
        if (node_id := self.history.back()) is not None:
            self.node_id = node_id

    def action_forward(self) -> None:
        if (node_id := self.history.forward()) is not None:
            self.node_id = node_id

    def action_close(self) -> None:
        if self.query_one("#node-find", Input).has_class("-open"):
            self._close_find()
        else:
            self.dismiss()

    # --- actions on a model version ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in VERSION_ACTIONS:
            if self.detail is None and not self.is_current:
                return None  # composed ahead: the footer makes these keys too (shown when on a version)
            return self.detail is not None and self.detail.node.kind == NodeKind.MODEL_VERSION
        if action == "back":
            return bool(self.history.back_stack) or None
        if action == "forward":
            return bool(self.history.forward_stack) or None
        return True

    def action_diff_previous(self) -> None:
        self.explorer.open_diff_previous(self.node_id)

    def action_bom(self) -> None:
        self.explorer.generate_bom(self.node_id)

    def action_verify(self) -> None:
        self.explorer.verify_signatures(self.node_id)
