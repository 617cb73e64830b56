"""Reading the JSON documents of ``trace`` and ``diff`` (the contract in design.md) into rows to show."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from explorer.tui.data.text import one_line


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a trace: the node reached, the edge that reached it, or a gap that stopped it."""

    depth: int
    node_id: str
    kind: str
    label: str
    edge_kind: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    gap: dict[str, Any] | None = None

    @property
    def evidence_text(self) -> str:
        if self.gap is not None:
            return str(self.gap.get("reason", ""))
        if not self.evidence:
            return ""
        return " · ".join(v for v in (self.evidence.get("source"), self.evidence.get("locator")) if v)


@dataclass(slots=True)
class TraceView:
    """A trace as hops from the prediction back to training, plus the log record that started it."""

    root: str
    hops: list[Hop]
    record: dict[str, Any]
    gaps: int

    @property
    def model_version(self) -> str | None:
        """The model version the trace reached, if any: what ``diff`` compares to its predecessor."""
        return next((h.node_id for h in self.hops if h.kind == "model_version"), None)


def trace_view(doc: dict[str, Any]) -> TraceView:
    """Hops in breadth-first order from the root (edges followed either way), each gap after its subject."""
    nodes = {str(n["id"]): n for n in doc.get("nodes", [])}
    edges = list(doc.get("edges", []))
    gaps_by_subject: dict[str, list[dict[str, Any]]] = {}
    for gap in doc.get("gaps", []):
        gaps_by_subject.setdefault(str(gap.get("subject", "")), []).append(gap)
    root = str(doc.get("root") or (next(iter(nodes)) if nodes else ""))
    hops: list[Hop] = []
    seen = {root}
    queue: deque[tuple[str, int, dict[str, Any] | None]] = deque([(root, 0, None)])
    while queue:
        node_id, depth, edge = queue.popleft()
        node = nodes.get(node_id, {"id": node_id, "kind": node_id.partition(":")[0], "label": node_id})
        hops.append(
            Hop(
                depth,
                node_id,
                str(node.get("kind", "")),
                str(node.get("label") or node_id),
                str(edge.get("kind", "")) if edge else "",
                dict(edge.get("evidence", {})) if edge else {},
            )
        )
        for gap in gaps_by_subject.pop(node_id, []):
            hops.append(Hop(depth + 1, node_id, "gap", str(gap.get("kind", "gap")), gap=gap))
        for e in edges:
            other = e["target"] if e.get("source") == node_id else e["source"] if e.get("target") == node_id else None
            if other is not None and other not in seen:
                seen.add(other)
                queue.append((str(other), depth + 1, e))
    for subject, gaps in gaps_by_subject.items():
        hops.extend(Hop(1, subject, "gap", str(g.get("kind", "gap")), gap=g) for g in gaps)
    record = doc.get("record") or doc.get("log_record") or doc.get("prediction") or {}
    return TraceView(root, hops, record if isinstance(record, dict) else {"record": record}, len(doc.get("gaps", [])))


@dataclass(slots=True)
class Section:
    """One part of a diff (params, metrics, data, commits…) as a table."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    values: list[list[Any]] | None = None
    """The rows' values as the document had them (lists, mappings), for showing a row whole; ``rows``
    has them as one line each. ``None``: the cells are the values."""


_SKIP = {"a", "b", "ref_a", "ref_b", "left", "right", "old", "new"}


def diff_sections(doc: dict[str, Any]) -> tuple[str, list[Section]]:
    """A title (``A → B``) and one table per section of a diff document, whatever shape each section has."""
    a = doc.get("a") or doc.get("ref_a") or doc.get("old") or doc.get("left") or "?"
    b = doc.get("b") or doc.get("ref_b") or doc.get("new") or doc.get("right") or "?"
    title = f"{_ref(a)} → {_ref(b)}"
    sections = [_section(str(key), value) for key, value in doc.items() if key not in _SKIP]
    return title, sections


def _ref(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("id") or value.get("ref") or value.get("label") or one_line(value))
    return str(value)


def _section(title: str, value: Any) -> Section:
    if value in ([], {}, None):
        return Section(title, ["change"], [])
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(k for v in value for k in v))
        values = [[v.get(c) for c in columns] for v in value]
        return Section(title, columns, [[one_line(x) for x in row] for row in values], values)
    if isinstance(value, list):
        return Section(title, ["value"], [[one_line(v)] for v in value])
    if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        inner = list(dict.fromkeys(k for v in value.values() for k in v))
        return Section(
            title, ["name", *inner], [[str(k), *(one_line(v.get(c)) for c in inner)] for k, v in value.items()]
        )
    if isinstance(value, dict):
        return Section(title, ["name", "value"], [[str(k), one_line(v)] for k, v in value.items()])
    return Section(title, ["value"], [[one_line(value)]])
