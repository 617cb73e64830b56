"""A node as the node view shows it: properties split into tables, and one page of its neighbours."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.graph import HISTORY_EDGES, Direction
from explorer.lineage import Edge, Evidence, Gap, Node, NodeKind
from explorer.store import LineageStore

PAGE = 100
_TABLE_KEYS = ("params", "metrics")


@dataclass(frozen=True, slots=True)
class Neighbour:
    """One edge out of (upstream) or into (downstream) a node, with the node at its other end."""

    edge: Edge
    node: Node
    also: tuple[Evidence, ...] = ()
    """Evidence of the same edge said again (another source, or a scan of the same source from another
    path): one line in the tree, every evidence in its panel."""

    @property
    def node_id(self) -> str:
        return self.node.id


@dataclass(slots=True)
class NeighbourPage:
    """A page of a node's neighbours, and how many there are in all."""

    parent: str
    direction: Direction
    items: list[Neighbour] = field(default_factory=list)
    total: int = 0
    offset: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.offset - len(self.items))


@dataclass(slots=True)
class NodeDetail:
    """Everything the node view's side panel shows about one node."""

    node: Node
    properties: list[tuple[str, Any]]
    params: list[tuple[str, Any]]
    metrics: list[tuple[str, Any]]
    gaps: list[Gap]


def node_detail(store: LineageStore, node_id: str) -> NodeDetail | None:
    """The node with its properties split: params and metrics get their own tables."""
    node = store.node(node_id)
    if node is None:
        return None
    props = node.properties
    raw_params, raw_metrics = props.get("params"), props.get("metrics")
    params = _flatten(raw_params) if isinstance(raw_params, dict) else []
    metrics = _flatten(raw_metrics) if isinstance(raw_metrics, dict) else []
    rest = [(k, v) for k, v in sorted(props.items()) if not (k in _TABLE_KEYS and isinstance(v, dict))]
    rest.insert(0, ("id", node.id))
    rest.insert(1, ("kind", str(node.kind)))
    rest.insert(2, ("label", node.label))
    return NodeDetail(node, rest, params, metrics, store.gaps([node_id]))


def neighbours(
    store: LineageStore, node_id: str, direction: Direction, *, offset: int = 0, limit: int = PAGE
) -> NeighbourPage:
    """Edges one step up (out of the node) or down (into it), skipping commit history, a page at a time."""
    edges = store.edges_from([node_id]) if direction == Direction.UP else store.edges_to([node_id])
    edges = [e for e in edges if e.kind not in HISTORY_EDGES]
    edges.sort(key=lambda e: (str(e.kind), e.target if direction == Direction.UP else e.source))
    said: dict[tuple[str, str], list[Edge]] = {}  # one line per kind and node, however many evidences
    for edge in edges:
        said.setdefault((str(edge.kind), edge.target if direction == Direction.UP else edge.source), []).append(edge)
    groups = list(said.items())
    page = groups[offset : offset + limit]
    found = store.nodes_by_id(other for (_, other), _ in page)
    items = [
        Neighbour(same[0], found.get(other) or _placeholder(other), tuple(e.evidence for e in same[1:]))
        for (_, other), same in page
    ]
    return NeighbourPage(node_id, direction, items, len(groups), offset)


def _placeholder(node_id: str) -> Node:
    """A node an edge names but no source described: shown as unresolved, never invented."""
    try:
        kind = NodeKind(node_id.partition(":")[0])
    except ValueError:
        kind = NodeKind.DATA
    return Node(node_id, kind, node_id, {"unresolved": True})


def _flatten(value: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"params.yaml": {"train": {"n": 3}}}`` → ``[("params.yaml:train.n", 3)]``, sorted."""
    out: list[tuple[str, Any]] = []
    for key in sorted(value, key=str):
        item = value[key]
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item:
            sep = ":" if not prefix and str(key).endswith((".yaml", ".yml", ".json", ".toml")) else "."
            out.extend(_flatten(item, f"{name}{sep}"))
        else:
            out.append((name, item))
    return out
