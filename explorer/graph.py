"""Views over the stored graph: upstream and downstream lineage, paths, networkx export.

The store holds the graph; these functions walk it breadth-first, one query per level, so a
lineage of a few hundred nodes out of millions costs a few indexed lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # networkx costs ~0.1 s to import: the explorer's start-up does not pay it
    import networkx as nx

from explorer.lineage import Edge, EdgeKind, Node, NodeKind, Subgraph
from explorer.store import LineageStore

# Commit ancestry is history, not provenance: walking it from a model would pull in every
# earlier commit. Lineage skips it unless asked (``include_history``).
HISTORY_EDGES = frozenset({EdgeKind.PARENT})


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"


class NodeNotFound(LookupError):
    """The id names no node in the store."""


def lineage(
    store: LineageStore,
    root: str,
    direction: Direction = Direction.UP,
    depth: int | None = None,
    *,
    include_history: bool = False,
    edge_kinds: Sequence[EdgeKind] | None = None,
) -> Subgraph:
    """The part of the graph reachable from ``root`` following edges upstream and/or downstream."""
    root_node = store.node(root)
    if root_node is None:
        raise NodeNotFound(root)
    sub = Subgraph(root=root, nodes={root: root_node})
    seen_edges: set[tuple[str, str, str, str, str]] = set()
    frontier = [root]
    level = 0
    while frontier and (depth is None or level < depth):
        found: list[tuple[Edge, str]] = []
        if direction in (Direction.UP, Direction.BOTH):
            found.extend((e, e.target) for e in store.edges_from(frontier, edge_kinds))
        if direction in (Direction.DOWN, Direction.BOTH):
            found.extend((e, e.source) for e in store.edges_to(frontier, edge_kinds))
        next_ids: list[str] = []
        queued: set[str] = set()
        for edge, other in found:
            if not include_history and edge.kind in HISTORY_EDGES:
                continue
            key = (edge.source, edge.target, str(edge.kind), edge.evidence.source, edge.evidence.locator)
            if key in seen_edges:
                continue
            seen_edges.add(key)
            sub.edges.append(edge)
            if other not in sub.nodes and other not in queued:
                queued.add(other)
                next_ids.append(other)
        fetched = store.nodes_by_id(next_ids)
        for node_id in next_ids:
            sub.nodes[node_id] = fetched.get(node_id) or _placeholder(node_id)
        frontier = next_ids
        level += 1
    sub.gaps = store.gaps(sub.nodes)
    return sub


def _placeholder(node_id: str) -> Node:
    """A node an edge names but no source described (yet): shown, never invented further."""
    prefix = node_id.partition(":")[0]
    try:
        kind = NodeKind(prefix)
    except ValueError:
        kind = NodeKind.DATA
    return Node(node_id, kind, node_id, {"unresolved": True})


def to_networkx(sub: Subgraph) -> nx.MultiDiGraph:
    import networkx as nx

    graph: nx.MultiDiGraph = nx.MultiDiGraph()
    for node in sub.nodes.values():
        graph.add_node(node.id, kind=str(node.kind), label=node.label)
    for edge in sub.edges:
        graph.add_edge(edge.source, edge.target, key=str(edge.kind), evidence=edge.evidence.to_dict())
    return graph


def upstream_of_kind(sub: Subgraph, kind: NodeKind) -> list[Node]:
    """Nodes of a kind in a lineage subgraph, nearest to the root first."""
    import networkx as nx

    graph = to_networkx(sub)
    distances = nx.single_source_shortest_path_length(graph.to_undirected(as_view=True), sub.root)
    nodes = [n for n in sub.nodes.values() if n.kind == kind and n.id in distances]
    return sorted(nodes, key=lambda n: (distances[n.id], n.id))


def neighbours(store: LineageStore, node_ids: Iterable[str], kind: EdgeKind, *, upstream: bool = True) -> list[str]:
    """Ids one ``kind`` edge away from any of ``node_ids``."""
    edges = store.edges_from(node_ids, [kind]) if upstream else store.edges_to(node_ids, [kind])
    return list(dict.fromkeys(e.target if upstream else e.source for e in edges))
