"""The lineage of a node as a tree, upstream or downstream, loaded one level at a time on expand.

Pages of neighbours already loaded are kept (until :meth:`LineageTree.forget`), and so is the shape
of each tree shown (lines expanded, cursor line): showing a node again, as history back and forward
do, rebuilds its tree from memory, as it was left, without a store query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from explorer.graph import Direction
from explorer.lineage import Edge, Evidence, Gap, Node
from explorer.store import LineageStore
from explorer.tui.data.nodes import NeighbourPage, neighbours
from explorer.tui.data.text import clip
from explorer.tui.workers import ForwardsWorkerFailures

LABEL_WIDTH = 64
KEPT_PAGES = 2000  # pages of neighbours kept in memory; the oldest go first

Path = tuple[str, ...]


@dataclass(slots=True)
class Entry:
    """What a tree line stands for: a node reached over ``edge``, a gap, or a "more…" line."""

    node_id: str
    edge: Edge | None = None
    gap: Gap | None = None
    loaded: bool = False
    more_offset: int | None = None
    label: str = ""
    also: tuple[Evidence, ...] = ()  # the edge's other evidence, said by another source or scan
    nothing: bool = False  # the "(nothing upstream)" line of a node without edges that way


@dataclass(slots=True)
class TreeState:
    """How a tree was left: which lines were expanded and where the cursor was (as paths from the root)."""

    expanded: set[Path] = field(default_factory=set)
    cursor: Path | None = None


class LineageTree(ForwardsWorkerFailures, Tree[Entry]):
    """Expanding a line queries the store (in a worker) for that node's edges in the current direction."""

    BINDINGS = [
        Binding(
            "space",
            "toggle_node",
            "Expand",
            id="tree-expand",
            tooltip="Expand or collapse the highlighted node (loads its edges)",
        ),
    ]

    class EntryHighlighted(Message):
        """The cursor moved to a line: the screen shows its evidence."""

        def __init__(self, entry: Entry) -> None:
            super().__init__()
            self.entry = entry

    class Follow(Message):
        """Enter on a node line: open that node."""

        def __init__(self, node_id: str) -> None:
            super().__init__()
            self.node_id = node_id

    class Loaded(Message):
        """A page of neighbours arrived for the tree ``line`` (dropped if the tree restarted meanwhile)."""

        def __init__(self, line: TreeNode[Entry], generation: int, page: NeighbourPage, gaps: list[Gap]) -> None:
            super().__init__()
            self.line = line
            self.generation = generation
            self.page = page
            self.gaps = gaps

    def __init__(
        self, store: LineageStore, *, id: str | None = None, on_entry: Callable[[Entry], None] | None = None
    ) -> None:
        super().__init__("", id=id)
        self.store = store
        self.on_entry = on_entry
        """Called with the entry under the cursor when it changes, instead of posting EntryHighlighted:
        what it changes (the evidence panel) is then drawn in the same frame as the cursor, not a frame
        later (the message bubbles up through the containers, a hop each)."""
        self.direction = Direction.UP
        self.auto_expand = False
        self.show_root = True
        self._generation = 0
        self._pages: dict[tuple[str, Direction, int], tuple[NeighbourPage, list[Gap]]] = {}
        self._states: dict[tuple[str, Direction], TreeState] = {}
        self._root_key: tuple[str, Direction] | None = None
        self._restore: TreeState | None = None

    def render_label(self, node: TreeNode[Entry], base_style: Style, style: Style) -> Text:
        """The label, cut with an ellipsis to the width left after the guides (the evidence panel has it whole)."""
        text = super().render_label(node, base_style, style)
        depth, parent = 0, node.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        room = self.scrollable_content_region.width - depth * self.guide_depth - 1
        if room > 8 and text.cell_len > room:
            text.truncate(room, overflow="ellipsis")
        return text

    def on_resize(self) -> None:
        self._invalidate()

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        super().watch_cursor_line(previous_line, line)
        cursor = self.cursor_node
        if previous_line != line and cursor is not None and cursor.data is not None and self.on_entry is not None:
            self.on_entry(cursor.data)  # now, with the key: drawn in the frame that moves the cursor

    def show(self, node: Node, direction: Direction) -> None:
        """Start over at ``node``, following edges ``direction``; loads its first level.

        A tree shown before comes back as it was left, from the pages kept in memory.
        """
        if self._root_key is not None and self.root.data is not None:
            self._states[self._root_key] = self._capture()
        self._root_key = (node.id, direction)
        self._restore = self._states.get(self._root_key)
        self.direction = direction
        self._generation += 1
        self.clear()
        self.root.data = Entry(node.id, label=node.label, loaded=True)
        self.root.set_label(self._node_label(node, None))
        self.root.allow_expand = True
        self.root.expand()
        self.move_cursor(self.root)
        self._fetch(self.root, node.id, 0)  # a page kept in memory is added now, not a message later

    def forget(self) -> None:
        """Drop the kept pages and tree shapes (the store changed)."""
        self._pages.clear()
        self._states.clear()
        self._restore = None

    def _path(self, line: TreeNode[Entry]) -> Path:
        keys: list[str] = []
        node: TreeNode[Entry] | None = line
        while node is not None:
            entry = node.data
            if entry is not None:
                kind = str(entry.edge.kind) if entry.edge else ""
                if entry.gap is not None or entry.more_offset is not None:
                    kind = "gap" if entry.gap is not None else "more"
                keys.append(f"{kind}\0{entry.node_id}")
            node = node.parent
        return tuple(reversed(keys))

    def _capture(self) -> TreeState:
        state = TreeState(cursor=self._path(self.cursor_node) if self.cursor_node is not None else None)
        stack = [self.root]
        while stack:
            line = stack.pop()
            if line.is_expanded and line.children:
                state.expanded.add(self._path(line))
                stack.extend(line.children)
        return state

    def _fetch(self, line: TreeNode[Entry], node_id: str, offset: int) -> None:
        """A page from memory when it was loaded before, else from the store in a worker."""
        kept = self._pages.get((node_id, self.direction, offset))
        if kept is not None:
            self._add_page(self.Loaded(line, self._generation, *kept))
        else:
            self.load(line, node_id, offset)

    def _node_label(self, node: Node, edge: Edge | None) -> Text:
        text = Text()
        if edge is not None:
            arrow = "→" if self.direction == Direction.UP else "←"
            text.append(f"{edge.kind} {arrow} ", style="dim")
        text.append(
            clip(node.label or node.id, LABEL_WIDTH), style="italic" if node.properties.get("unresolved") else ""
        )
        text.append(f" [{node.kind}]", style="dim")
        return text

    @on(Tree.NodeExpanded)
    def _expanded(self, event: Tree.NodeExpanded[Entry]) -> None:
        entry = event.node.data
        if entry is not None and not entry.loaded and entry.gap is None and entry.more_offset is None:
            entry.loaded = True
            self._fetch(event.node, entry.node_id, 0)

    @work(thread=True, group="lineage", exit_on_error=False)
    def load(self, line: TreeNode[Entry], node_id: str, offset: int) -> None:
        """Fetch one page of edges of ``node_id`` (and its gaps) and post them back."""
        generation = self._generation
        page = neighbours(self.store, node_id, self.direction, offset=offset)
        gaps = self.store.gaps([node_id]) if offset == 0 else []
        self.post_message(self.Loaded(line, generation, page, gaps))

    @on(Loaded)
    def _add_page(self, event: Loaded) -> None:
        page = event.page
        self._keep((page.parent, page.direction, page.offset), (page, event.gaps))
        parent = event.line
        if event.generation != self._generation or parent.data is None:
            return  # the tree restarted (another node, the other direction) while the page loaded
        for child in list(parent.children):
            if child.data is not None and child.data.more_offset is not None:
                child.remove()
        for gap in event.gaps:
            label = Text(clip(f"⚠ gap: {gap.reason}", LABEL_WIDTH + 12), style="bold")
            parent.add_leaf(label, Entry(gap.subject, gap=gap, loaded=True, label=gap.reason))
        for item in event.page.items:
            parent.add(
                self._node_label(item.node, item.edge),
                Entry(item.node_id, item.edge, label=item.node.label, also=item.also),
                allow_expand=True,
            )
        if event.page.remaining:
            more = Entry(event.page.parent, more_offset=event.page.offset + len(event.page.items))
            parent.add_leaf(Text(f"… {event.page.remaining} more (Enter to load)", style="dim"), more)
        if not parent.children:
            parent.allow_expand = False
            nothing = "(nothing " + ("upstream" if self.direction == Direction.UP else "downstream") + ")"
            entry = Entry(parent.data.node_id, loaded=True, label=nothing, nothing=True)
            parent.add_leaf(Text(nothing, style="dim"), entry)
        if self._restore is not None:
            cursor = None
            for child in parent.children:
                path = self._path(child)
                if path in self._restore.expanded:
                    child.expand()
                if path == self._restore.cursor:
                    cursor = child
            if cursor is not None:
                _ = self._tree_lines  # number the new lines, so the cursor can go to one
                self.move_cursor(cursor)
        if self.cursor_node is not None and self.cursor_node.data is not None:
            self._entry_highlighted(self.cursor_node.data)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        entry = event.node.data
        if entry is not None:
            self._entry_highlighted(entry)
            if event.node is not self.root and entry.edge is not None and not entry.loaded:
                self._prefetch(entry.node_id)

    def _entry_highlighted(self, entry: Entry) -> None:
        if self.on_entry is not None:
            self.on_entry(entry)
        else:
            self.post_message(self.EntryHighlighted(entry))

    def _prefetch(self, node_id: str) -> None:
        """The first page of a highlighted node, fetched while the user reads: Space and Enter then
        find it in memory (a follow shows that node's tree from the same page)."""
        if (node_id, self.direction, 0) not in self._pages:
            self.prefetch(node_id, self.direction)

    @work(thread=True, group="lineage-prefetch", exclusive=True, exit_on_error=False)
    def prefetch(self, node_id: str, direction: Direction) -> None:
        try:
            page = neighbours(self.store, node_id, direction, offset=0)
            gaps = self.store.gaps([node_id])
        except Exception:  # ahead of use: expanding it queries again and reports a failure
            return
        self.post_message(self.Prefetched(page, gaps))

    class Prefetched(Message):
        """A page fetched ahead of use: kept, not shown."""

        def __init__(self, page: NeighbourPage, gaps: list[Gap]) -> None:
            super().__init__()
            self.page = page
            self.gaps = gaps

    @on(Prefetched)
    def _keep_prefetched(self, event: Prefetched) -> None:
        self.keep_page(event.page, event.gaps)

    def has_first_page(self, node_id: str, direction: Direction) -> bool:
        return (node_id, direction, 0) in self._pages

    def keep_page(self, page: NeighbourPage, gaps: list[Gap]) -> None:
        """Keep a page fetched elsewhere (ahead of use), as if this tree had loaded it."""
        self._keep((page.parent, page.direction, page.offset), (page, gaps))

    def _keep(self, key: tuple[str, Direction, int], value: tuple[NeighbourPage, list[Gap]]) -> None:
        self._pages[key] = value
        if len(self._pages) > KEPT_PAGES:
            del self._pages[next(iter(self._pages))]

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None or entry.gap is not None:
            return
        if entry.more_offset is not None and event.node.parent is not None:
            self._fetch(event.node.parent, entry.node_id, entry.more_offset)
        elif event.node is not self.root and entry.edge is not None:
            self.post_message(self.Follow(entry.node_id))

    def find_next(self, needle: str) -> bool:
        """Move the cursor to the next loaded line whose label or id contains ``needle``."""
        needle = needle.lower()
        lines: list[TreeNode[Entry]] = []
        stack = [self.root]
        while stack:
            node = stack.pop(0)
            lines.append(node)
            stack[0:0] = list(node.children)
        start = lines.index(self.cursor_node) + 1 if self.cursor_node in lines else 0
        for node in [*lines[start:], *lines[:start]]:
            entry = node.data
            if entry is not None and (needle in entry.label.lower() or needle in entry.node_id.lower()):
                node_parent = node.parent
                while node_parent is not None:
                    node_parent.expand()
                    node_parent = node_parent.parent
                self.move_cursor(node)
                return True
        return False
