"""Readable text for nodes, lineage and gaps (rich), shared by show, lineage and trace."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from explorer.lineage import Edge, Gap, Node, Subgraph

TABLE_KEYS = ("params", "metrics", "tags", "labels")


def scalar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return "" if value is None else str(value)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys: DVC params files and nested sections read alike."""
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(inner, dict) and inner:
            out.update(flatten(inner, name))
        else:
            out[name] = inner
    return out


def node_panel(node: Node) -> RenderableType:
    head = Text.assemble((node.label or node.id, "bold"), "  ", (f"[{node.kind}]", "cyan"), "\n", (node.id, "dim"))
    props = Table(show_header=False, box=None, pad_edge=False)
    props.add_column("key", style="bold", no_wrap=True)
    props.add_column("value", overflow="fold")
    tables: list[RenderableType] = []
    for key, value in node.properties.items():
        if key in TABLE_KEYS and isinstance(value, dict):
            if value:
                tables.append(kv_table(key, flatten(value)))
            continue
        if key == "params" and isinstance(value, dict):
            tables.append(kv_table("params", flatten(value)))
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            tables.append(records_table(key, value))
            continue
        props.add_row(key, scalar(value))
    return Group(head, props, *tables)


def records_table(title: str, records: list[dict[str, Any]]) -> Table:
    """A list of records (stage history, deps, inputs) as a table with one column per key."""
    columns = list(dict.fromkeys(k for r in records for k in r))
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for record in records:
        table.add_row(*(scalar(record.get(c)) for c in columns))
    return table


def kv_table(title: str, values: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    table.add_column("name", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key in sorted(values):
        table.add_row(key, scalar(values[key]))
    return table


def edge_line(edge: Edge, other: Node | None, other_id: str, arrow: str = "→") -> Text:
    label = other.label if other and other.label else other_id
    return Text.assemble(
        (f"{edge.kind} ", "magenta"), f"{arrow} ", (label, "bold"), " ", (f"({other_id})", "dim"),
    )


def evidence_text(edge: Edge) -> Text:
    ev = edge.evidence
    return Text(f"evidence: {ev.source} · {ev.locator} · {ev.rule}", style="dim")


def gap_lines(gaps: list[Gap]) -> list[Text]:
    return [Text.assemble(("gap ", "bold yellow"), gap.reason, (f"  [{gap.kind}]", "dim")) for gap in gaps]


def _run_summary(node: Node | None, limit: int = 12) -> list[Text]:
    """A run's hyperparameters and metrics under it in a lineage tree: what `lineage --up` is asked for."""
    if node is None or node.kind != "run":
        return []
    out: list[Text] = []
    for key in ("params", "metrics"):
        values = flatten(node.properties.get(key) or {})
        if values:
            shown = ", ".join(f"{k}={scalar(values[k])}" for k in sorted(values)[:limit])
            more = f", … {len(values) - limit} more" if len(values) > limit else ""
            out.append(Text(f"{key}: {shown}{more}", style="green"))
    return out


def lineage_tree(sub: Subgraph, *, upstream: bool = True, evidence: bool = True) -> Tree:
    root = sub.nodes[sub.root]
    tree = Tree(Text.assemble((root.label or root.id, "bold"), " ", (f"[{root.kind}]", "cyan")))
    children: dict[str, list[tuple[Edge, str]]] = {}
    for edge in sub.edges:
        if upstream:
            children.setdefault(edge.source, []).append((edge, edge.target))
        else:
            children.setdefault(edge.target, []).append((edge, edge.source))
    gaps_by_subject: dict[str, list[Gap]] = {}
    for gap in sub.gaps:
        gaps_by_subject.setdefault(gap.subject, []).append(gap)

    expanded: set[str] = set()

    def grow(branch: Tree, node_id: str, path: frozenset[str]) -> None:
        expanded.add(node_id)
        for gap in gaps_by_subject.get(node_id, []):
            branch.add(Text.assemble(("gap ", "bold yellow"), gap.reason))
        for edge, other in children.get(node_id, []):
            node = sub.nodes.get(other)
            text = edge_line(edge, node, other)
            lines: list[RenderableType] = [text, *_run_summary(node)]
            if evidence:
                lines.append(evidence_text(edge))
            child = branch.add(Group(*lines) if len(lines) > 1 else text)
            if other in path:
                child.add(Text("(cycle)", style="dim"))
                continue
            if other in expanded:
                if children.get(other):
                    child.add(Text("(shown above)", style="dim"))
                continue
            grow(child, other, path | {other})

    grow(tree, sub.root, frozenset({sub.root}))
    return tree


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)
