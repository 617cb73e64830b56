"""The models home: one row per registered model version, joined from a handful of batch queries.

Each column follows edges the way :mod:`explorer.lineage` documents them, never guessing:
run and data through ``version_of``/``registers`` → ``generated_by`` → ``used``; signatures through
``signs`` (and ``signature_invalid`` gaps, since a failed signature gets no edge); BOMs through
``describes``; deployments through ``serves`` (directly, or via an image that ``contains`` it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from explorer.lineage import EdgeKind, Node, NodeKind
from explorer.store import LineageStore

HEADLINE_METRICS = 2
_PRODUCER_KINDS = (NodeKind.RUN, NodeKind.STAGE)


class Signed(StrEnum):
    """What the store knows about a version's signatures."""

    VERIFIED = "verified"
    FAILED = "failed"
    UNVERIFIED = "unverified"  # a signature exists but nobody verified it yet
    UNSIGNED = "unsigned"


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One registered model version as the models home shows it."""

    id: str
    name: str
    version: str
    labels: tuple[str, ...] = ()
    created: str = ""
    metrics: tuple[tuple[str, float], ...] = ()
    data: tuple[str, ...] = ()
    signed: Signed = Signed.UNSIGNED
    bom: bool = False
    deployed: tuple[str, ...] = ()
    gaps: int = 0

    def sort_key(self, column: str) -> Any:
        """The value a column sorts by (versions naturally, metrics by their first value)."""
        if column == "version":
            return (self.name, natural_key(self.version))
        if column == "metrics":
            return self.metrics[0][1] if self.metrics else float("-inf")
        value = getattr(self, column, "")
        return value if not isinstance(value, tuple) else ", ".join(map(str, value))

    def matches(self, needle: str) -> bool:
        """Case-insensitive substring match over every column: the filter-as-you-type test."""
        if not needle:
            return True
        hay = " ".join(
            [
                self.id,
                self.name,
                self.version,
                *self.labels,
                self.created,
                *self.data,
                str(self.signed),
                "bom" if self.bom else "",
                *self.deployed,
                *(f"{k}={v}" for k, v in self.metrics),
            ]
        )
        return needle.lower() in hay.lower()


def natural_key(text: str) -> tuple[Any, ...]:
    """``v1.10`` after ``v1.9``: digits compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


@dataclass(slots=True)
class _Walk:
    """For each model version: the nodes reached on the way to its run or stage."""

    models: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    producers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def model_versions(store: LineageStore, *, limit: int | None = None, offset: int = 0) -> list[Node]:
    """Registered model versions in id order (a page of them with ``limit``)."""
    return store.nodes(NodeKind.MODEL_VERSION, limit=limit, offset=offset)


def model_rows(store: LineageStore, versions: Sequence[Node]) -> list[ModelRow]:
    """Rows for ``versions``: a fixed number of batch queries, whatever the number of versions."""
    ids = [v.id for v in versions]
    walk = _walk_to_producers(store, versions)
    producers = store.nodes_by_id({p for ps in walk.producers.values() for p in ps})
    data = _used_data(store, producers)
    signed = _signatures(store, ids, walk.models)
    described = {e.target for e in store.edges_to([*ids, *_all(walk.models)], [EdgeKind.DESCRIBES])}
    deployed = _deployments(store, ids, walk.models)
    # the version's own gaps and those on its way to the run or stage that made it (a run with no commit
    # tag, a dataset no data version matches): "Gaps 0" hid them all behind a clean-looking version
    gap_counts: dict[str, int] = defaultdict(int)
    for gap in store.gaps([*ids, *_all(walk.models), *_all(walk.producers)]):
        gap_counts[gap.subject] += 1
    rows = []
    for v in versions:
        props = v.properties
        runs = [producers[p] for p in sorted(walk.producers[v.id]) if p in producers]
        rows.append(
            ModelRow(
                id=v.id,
                name=str(props.get("name") or v.id.removeprefix("model_version:").rpartition("/")[0]),
                version=str(props.get("version") or v.id.rpartition("/")[2]),
                labels=tuple(
                    dict.fromkeys([*_strings(props.get("aliases")), *_strings(props.get("stages")), *_standing(props)])
                ),
                created=str(props.get("created") or ""),
                metrics=_headline(runs),
                data=tuple(sorted({d for r in runs for d in data.get(r.id, ())})),
                signed=signed.get(v.id, Signed.UNSIGNED),
                bom=v.id in described or any(m in described for m in walk.models[v.id]),
                deployed=tuple(sorted(deployed.get(v.id, ()))),
                gaps=sum(gap_counts[n] for n in {v.id, *walk.models[v.id], *walk.producers[v.id]}),
            )
        )
    return rows


def _standing(props: dict[str, object]) -> list[str]:
    """What a registry says against a version: a GTO artifact deprecated, a version deregistered."""
    out = ["deprecated"] if props.get("deprecated") is True else []
    if props.get("status") == "deregistered":
        out.append("deregistered")
    return out


def previous_version(store: LineageStore, version_id: str) -> str | None:
    """The version of the same registered model just before ``version_id`` (natural order)."""
    node = store.node(version_id)
    if node is None:
        return None
    name = str(node.properties.get("name") or version_id.removeprefix("model_version:").rpartition("/")[0])
    siblings = [
        n
        for n in store.search(f"model_version:{name}/", limit=10_000, kinds=[NodeKind.MODEL_VERSION])
        if n.id.startswith(f"model_version:{name}/")
    ]
    ordered = sorted(siblings, key=lambda n: natural_key(str(n.properties.get("version") or n.id.rpartition("/")[2])))
    ids = [n.id for n in ordered]
    at = ids.index(version_id) if version_id in ids else -1
    return ids[at - 1] if at > 0 else None


def _walk_to_producers(store: LineageStore, versions: Sequence[Node]) -> _Walk:
    """Two levels up: version → model/data/run, then model/data → run/stage."""
    walk = _Walk()
    owner: dict[str, set[str]] = defaultdict(set)
    for v in versions:
        run = v.properties.get("run_id")
        if run:
            walk.producers[v.id].add(f"run:{run}")
    first = store.edges_from([v.id for v in versions], [EdgeKind.VERSION_OF, EdgeKind.REGISTERS, EdgeKind.GENERATED_BY])
    for edge in first:
        if edge.target.partition(":")[0] in _PRODUCER_KINDS:
            walk.producers[edge.source].add(edge.target)
        else:
            owner[edge.target].add(edge.source)
            if edge.kind == EdgeKind.VERSION_OF:
                walk.models[edge.source].add(edge.target)
    for edge in store.edges_from(list(owner), [EdgeKind.GENERATED_BY]):
        for version in owner[edge.source]:
            walk.producers[version].add(edge.target)
    return walk


def _used_data(store: LineageStore, producers: dict[str, Node]) -> dict[str, list[str]]:
    """Per run/stage: the data versions it used, as ``path@digest8`` (code files left out)."""
    edges = store.edges_from(list(producers), [EdgeKind.USED])
    nodes = store.nodes_by_id({e.target for e in edges})
    out: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        node = nodes.get(edge.target)
        if node is None:
            continue
        label = _data_label(node)
        if label:
            out[edge.source].append(label)
    return out


def _data_label(node: Node) -> str | None:
    props = node.properties
    if node.kind == NodeKind.DATASET:
        return f"{props.get('name') or node.label}@{str(props.get('digest', ''))[:8]}"
    path = str(props.get("path") or node.label)
    if path.endswith((".py", ".yaml", ".yml", ".toml", ".sh")):
        return None  # code, not data: the commit already names it
    digest = str(props.get("digest") or node.id.rpartition(":")[2])
    return f"{path}@{digest[:8]}"


def _signatures(store: LineageStore, ids: Sequence[str], models: dict[str, set[str]]) -> dict[str, Signed]:
    """Per version: the state of the signatures on it or on the model it is a version of.

    A scan links a bundle found in the MLflow artifacts to the logged model; ``verify`` links it
    to the version it verified. Either way it is the version's signature.
    """
    owner: dict[str, set[str]] = defaultdict(set)  # signed subject -> versions
    for v in ids:
        owner[v].add(v)
        for m in models.get(v, ()):
            owner[m].add(v)
    edges = store.edges_to(list(owner), [EdgeKind.SIGNS])
    nodes = store.nodes_by_id({e.source for e in edges})
    out: dict[str, Signed] = {}
    rank = {Signed.UNSIGNED: 0, Signed.UNVERIFIED: 1, Signed.VERIFIED: 2, Signed.FAILED: 3}
    for edge in edges:
        node = nodes.get(edge.source)
        verified = None if node is None else node.properties.get("verified")
        state = Signed.VERIFIED if verified is True else Signed.FAILED if verified is False else Signed.UNVERIFIED
        for version in owner[edge.target]:
            if rank[state] > rank[out.get(version, Signed.UNSIGNED)]:
                out[version] = state
    for gap in store.gaps(list(owner)):
        if gap.kind == "signature_invalid":
            for version in owner[gap.subject]:
                out[version] = Signed.FAILED
    return out


def _deployments(store: LineageStore, ids: Sequence[str], models: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per version: ``environment/endpoint`` of deployments live now (no ``until``)."""
    owner: dict[str, set[str]] = defaultdict(set)
    for v in ids:
        owner[v].add(v)
        for m in models.get(v, ()):
            owner[m].add(v)
    served: dict[str, set[str]] = defaultdict(set)  # image or version -> versions
    for edge in store.edges_to(list(owner), [EdgeKind.CONTAINS]):
        served[edge.source] |= owner[edge.target]
    for v in ids:
        served[v].add(v)
    serving = store.edges_to(list(served), [EdgeKind.SERVES])
    nodes = store.nodes_by_id({e.source for e in serving})
    out: dict[str, set[str]] = defaultdict(set)
    for edge in serving:
        node = nodes.get(edge.source)
        if node is None or node.properties.get("until"):
            continue
        where = f"{node.properties.get('environment', '?')}/{node.properties.get('endpoint', '?')}"
        for version in served[edge.target]:
            out[version].add(where)
    return out


def _headline(runs: Iterable[Node]) -> tuple[tuple[str, float], ...]:
    """The first metrics of the first run that logged any, by name."""
    for run in runs:
        metrics = run.properties.get("metrics")
        if isinstance(metrics, dict) and metrics:
            items = sorted((str(k), v) for k, v in metrics.items() if isinstance(v, int | float))
            return tuple(items[:HEADLINE_METRICS])
    return ()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _all(groups: dict[str, set[str]]) -> set[str]:
    return {item for items in groups.values() for item in items}
