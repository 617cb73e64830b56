"""The lineage of a node as a tree, upstream or downstream, loaded one level at a time on expand."""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from explorer.graph import Direction
from explorer.lineage import Edge, Gap, Node
from explorer.store import LineageStore
from explorer.tui.data.nodes import NeighbourPage, neighbours
from explorer.tui.data.text import clip
from explorer.tui.workers import ForwardsWorkerFailures

LABEL_WIDTH = 64


@dataclass(slots=True)
class Entry:
    """What a tree line stands for: a node reached over ``edge``, a gap, or a "more…" line."""

    node_id: str
    edge: Edge | None = None
    gap: Gap | None = None
    loaded: bool = False
    more_offset: int | None = None
    label: str = ""


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

    def __init__(self, store: LineageStore, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.store = store
        self.direction = Direction.UP
        self.auto_expand = False
        self.show_root = True
        self._generation = 0

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

    def show(self, node: Node, direction: Direction) -> None:
        """Start over at ``node``, following edges ``direction``; loads its first level."""
        self.direction = direction
        self._generation += 1
        self.clear()
        self.root.data = Entry(node.id, label=node.label)
        self.root.set_label(self._node_label(node, None))
        self.root.allow_expand = True
        self.root.expand()
        self.move_cursor(self.root)

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
            self.load(event.node, entry.node_id, 0)

    @work(thread=True, group="lineage", exit_on_error=False)
    def load(self, line: TreeNode[Entry], node_id: str, offset: int) -> None:
        """Fetch one page of edges of ``node_id`` (and its gaps) and post them back."""
        generation = self._generation
        page = neighbours(self.store, node_id, self.direction, offset=offset)
        gaps = self.store.gaps([node_id]) if offset == 0 else []
        self.post_message(self.Loaded(line, generation, page, gaps))

    @on(Loaded)
    def _add_page(self, event: Loaded) -> None:
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
                Entry(item.node_id, item.edge, label=item.node.label),
                allow_expand=True,
            )
        if event.page.remaining:
            more = Entry(event.page.parent, more_offset=event.page.offset + len(event.page.items))
            parent.add_leaf(Text(f"… {event.page.remaining} more (Enter to load)", style="dim"), more)
        if not parent.children:
            parent.allow_expand = False
            parent.add_leaf(
                Text("(nothing " + ("upstream" if self.direction == Direction.UP else "downstream") + ")", style="dim"),
                Entry(parent.data.node_id, loaded=True),
            )
        if self.cursor_node is not None and self.cursor_node.data is not None:
            self.post_message(self.EntryHighlighted(self.cursor_node.data))

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted[Entry]) -> None:
        if event.node.data is not None:
            self.post_message(self.EntryHighlighted(event.node.data))

    @on(Tree.NodeSelected)
    def _selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None or entry.gap is not None:
            return
        if entry.more_offset is not None and event.node.parent is not None:
            self.load(event.node.parent, entry.node_id, entry.more_offset)
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
