"""From one logged prediction to what produced it: deployment -> image -> model version -> model -> run
-> commit, with the data versions, hyperparameters and metrics on the way.

Every hop is an edge the store holds (with its evidence) or a rule stated here (the deployment live
at the record's time on its endpoint and role; an image known under another name by the same
digest). A hop that cannot be resolved stops the chain with a named gap and the candidates; the
walk never picks one of several answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from explorer.lineage import Edge, EdgeKind, Evidence, Gap, Node, NodeKind, model_version_id
from explorer.log_formats import PredictionRecord, parse_time
from explorer.store import LineageStore
from explorer.times import iso

if TYPE_CHECKING:
    from explorer.config import Settings
    from explorer.predictions import SearchResult

PREDICTION = "prediction"
MODEL_KINDS = (NodeKind.MODEL_VERSION, NodeKind.MODEL, NodeKind.RUN)


def prediction_id(record: PredictionRecord) -> str:
    return f"{PREDICTION}:{record.request_id}"


@dataclass(slots=True)
class Trace:
    """The chain of one prediction: ordered hops, the nodes they reach, side facts and gaps."""

    record: PredictionRecord
    hops: list[Edge] = field(default_factory=list)
    side: list[Edge] = field(default_factory=list)  # facts beside the chain (image built from, data used)
    nodes: dict[str, Node] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    stopped: Gap | None = None
    search: SearchResult | None = None
    training: dict[str, Any] | None = None  # params, metrics, data of the model reached (see diff.describe)

    @property
    def root(self) -> str:
        return prediction_id(self.record)

    def reached(self, kind: NodeKind) -> list[Node]:
        """Nodes of ``kind`` the chain reached, then those beside it, in walk order."""
        out: list[Node] = []
        for edge in self.hops + self.side:
            for end in (edge.target, edge.source):
                node = self.nodes.get(end)
                if node is not None and node.kind == kind and node not in out:
                    out.append(node)
        return out

    def commit(self) -> Node | None:
        """The training commit (from the run) or, failing that, the commit the image was built from."""
        found = self.reached(NodeKind.COMMIT)
        return found[0] if found else None

    def to_dict(self) -> dict[str, Any]:
        record_node = {"id": self.root, "kind": PREDICTION, "label": f"prediction {self.record.request_id}",
                       "properties": self.record.to_dict()}
        return {
            "root": self.root,
            "nodes": [record_node, *(n.to_dict() for n in self.nodes.values())],
            "edges": [e.to_dict() for e in self.hops + self.side],
            "gaps": [g.to_dict() for g in self.gaps],
            "chain": [e.target for e in self.hops],
            "stopped": self.stopped.to_dict() if self.stopped else None,
            "record": self.record.to_dict(),
            "training": self.training,
            "logs": None if self.search is None else {
                "searched": self.search.searched, "files": self.search.files,
                "invalid_lines": self.search.invalid_lines,
            },
        }


class TraceError(Exception):
    """The request cannot be traced: not in any log searched, or logged more than once."""

    def __init__(self, message: str, search: SearchResult) -> None:
        super().__init__(message)
        self.search = search


class RequestNotFound(TraceError):
    pass


class DuplicateRequest(TraceError):
    pass


def trace_request(store: LineageStore, settings: Settings, request_id: str, logs: tuple[str, ...] = ()) -> Trace:
    """Find ``request_id`` in the workspace's prediction logs (or ``logs``) and trace it.

    Raises :class:`RequestNotFound` / :class:`DuplicateRequest`; ``LogConfigError`` for a bad config.
    """
    from explorer.predictions import find_request, log_sets

    search = find_request(request_id, log_sets(settings.config, settings.workspace, logs))
    if not search.records:
        raise RequestNotFound(f"request {request_id} not found in {search.files} file(s) of: "
                              f"{', '.join(search.searched) or 'no logs configured'}", search)
    if len(search.records) > 1:
        raise DuplicateRequest(f"request {request_id} is logged {len(search.records)} times; trace needs one",
                               search)
    found = trace_record(store, search.records[0])
    found.search = search
    return found


class _Walk:
    def __init__(self, store: LineageStore, trace: Trace) -> None:
        self.store = store
        self.trace = trace

    def node(self, node_id: str) -> Node | None:
        if node_id not in self.trace.nodes:
            found = self.store.node(node_id)
            if found is None:
                return None
            self.trace.nodes[node_id] = found
        return self.trace.nodes[node_id]

    def hop(self, edge: Edge) -> None:
        self.trace.hops.append(edge)
        self.node(edge.target)

    def stop(self, gap: Gap) -> None:
        self.trace.stopped = gap
        self.trace.gaps.append(gap)


def trace_record(store: LineageStore, record: PredictionRecord) -> Trace:
    trace = Trace(record)
    walk = _Walk(store, trace)
    start = _deployment(walk) if record.model_version is None else _logged_version(walk)
    if start is not None:
        _down_the_chain(walk, start)
    commit = trace.commit()
    if commit is not None:
        _stages_at(walk, commit)
    trace.training = _training(store, trace)
    trace.gaps.extend(g for g in store.gaps(list(trace.nodes)) if g not in trace.gaps)
    return trace


def _training(store: LineageStore, trace: Trace) -> dict[str, Any] | None:
    """What the model reached was trained with: params, metrics, data versions, requirements."""
    from explorer.diff import DiffError, describe

    for kind in MODEL_KINDS:
        reached = [n for n in trace.reached(kind) if any(e.target == n.id for e in trace.hops)]
        if reached:
            try:
                side = describe(store, reached[0].id)
            except DiffError:
                return None
            return {"subject": reached[0].id, "run": side.run.id if side.run else None,
                    "commit": side.commit.id if side.commit else None, "params": side.params,
                    "metrics": side.metrics, "data": side.data, "requirements": side.requirements,
                    "images": side.images}
    return None


def _logged_version(walk: _Walk) -> str | None:
    """MLServer / Databricks logs name the model version: that is the first hop, the deployment beside it."""
    record = walk.trace.record
    target = model_version_id(str(record.model_name), str(record.model_version))
    evidence = Evidence("prediction log", record.file, f"record names model {record.model_name} "
                                                     f"version {record.model_version}")
    deployment = _deployment(walk, quiet=True)
    if deployment is not None:
        walk.trace.side.append(walk.trace.hops.pop())
    walk.hop(Edge(walk.trace.root, target, EdgeKind.SERVES, evidence))
    return target


def _deployment(walk: _Walk, *, quiet: bool = False) -> str | None:
    """The deployment live at the record's time on its endpoint and role (default when the log is silent)."""
    record = walk.trace.record
    root = walk.trace.root
    if record.endpoint is None or record.time is None:
        if not quiet:
            missing = "endpoint" if record.endpoint is None else "time"
            walk.stop(Gap(root, "record_incomplete", f"the log record has no {missing}: cannot tell which "
                                                     "deployment served it", record.file))
        return None
    role = record.role or "default"
    on_endpoint = [n for n in _deployments(walk.store, record.endpoint, record.environment)]
    with_role = [n for n in on_endpoint if str(n.properties.get("role", "default")) == role]
    live = [n for n in with_role if _live_at(n, record.time)]
    if len(live) == 1:
        dep = live[0]
        walk.trace.nodes[dep.id] = dep
        until = dep.properties.get("until") or "now"
        since = dep.properties.get("since")
        rule = f"endpoint {record.endpoint} role {role} at {iso(record.time)}: live {since} .. {until}"
        walk.hop(Edge(root, dep.id, EdgeKind.SERVES, Evidence("prediction log", record.file, rule)))
        return dep.id
    if quiet:
        return None
    where = f"{record.environment + '/' if record.environment else ''}{record.endpoint} ({role})"
    if not on_endpoint:
        walk.stop(Gap(root, "unknown_endpoint", f"no deployment of endpoint {where} in the store (scan the GitOps "
                                                "repository or deploy-event log)", record.file))
    elif not live:
        spans = [f"{n.id} [{n.properties.get('since')} .. {n.properties.get('until') or 'now'}]" for n in with_role]
        walk.stop(Gap(root, "no_deployment_at_time", f"no deployment of {where} was live at {iso(record.time)}",
                      record.file, tuple(spans or [n.id for n in on_endpoint])))
    else:
        walk.stop(Gap(root, "ambiguous_deployment", f"{len(live)} deployments of {where} were live at "
                                                    f"{iso(record.time)}", record.file, tuple(n.id for n in live)))
    return None


def _deployments(store: LineageStore, endpoint: str, environment: str | None) -> list[Node]:
    # by kind (indexed); an id-prefix LIKE would scan every node
    return [n for n in store.nodes(NodeKind.DEPLOYMENT) if n.properties.get("endpoint") == endpoint
            and (environment is None or n.properties.get("environment") == environment)]


def _live_at(node: Node, when: datetime) -> bool:
    since = parse_time(node.properties.get("since"))
    until = parse_time(node.properties.get("until"))
    return since is not None and since <= when and (until is None or when < until)


def _down_the_chain(walk: _Walk, start: str) -> None:
    current = start
    while True:
        node = walk.node(current)
        if node is None and current.startswith("image:"):
            same = resolve_missing_image(walk.store, current)
            if same is not None:
                rule = "same manifest digest (content-addressed) under another repository name"
                walk.trace.nodes[same.id] = same
                walk.hop(Edge(current, same.id, EdgeKind.SAME_AS, Evidence("trace", same.id, rule)))
                current, node = same.id, same
        if node is None:
            walk.stop(Gap(current, "not_in_store", f"{current} is referenced but was never scanned "
                                                   f"({_scan_hint(current)})"))
            return
        step = STEPS.get(node.kind)
        if step is None:
            return
        following = step(walk, node)
        if following is None:
            return
        current = following


def _scan_hint(node_id: str) -> str:
    kind = node_id.partition(":")[0]
    return {"image": "scan the registry", "model_version": "scan MLflow", "model": "scan MLflow",
            "run": "scan MLflow", "commit": "scan the git repository"}.get(kind, "scan its source")


def _one(walk: _Walk, node: Node, edges: list[Edge], what: str) -> str | None:
    targets = list(dict.fromkeys(e.target for e in edges))
    if len(targets) == 1:
        walk.hop(next(e for e in edges if e.target == targets[0]))
        return targets[0]
    if not targets:
        walk.stop(Gap(node.id, f"no_{what}", f"{node.label or node.id} has no recorded {what.replace('_', ' ')}"))
    else:
        walk.stop(Gap(node.id, f"ambiguous_{what}", f"{node.label or node.id} links to {len(targets)} "
                                                    f"{what.replace('_', ' ')}s: cannot tell which one",
                      candidates=tuple(targets)))
    return None


def _from_deployment(walk: _Walk, node: Node) -> str | None:
    served = walk.store.edges_from([node.id], [EdgeKind.SERVES])
    images = [e for e in served if e.target.startswith("image:")]
    if len(images) > 1:
        # a pod with a model server and sidecars: the model is in the one image that holds a model
        holding = {e.target for e in walk.store.edges_from([e.target for e in images], [EdgeKind.CONTAINS])}
        with_model = [e for e in images if e.target in holding]
        if len(with_model) == 1:
            served = with_model
    return _one(walk, node, served, "served_artifact")


def _from_image(walk: _Walk, node: Node) -> str | None:
    for edge in walk.store.edges_from([node.id], [EdgeKind.BUILT_FROM]):
        walk.trace.side.append(edge)
        walk.node(edge.target)
    contains = walk.store.edges_from([node.id], [EdgeKind.CONTAINS])
    children = [e for e in contains if e.target.startswith("image:")]
    if children:
        # an index: the platform manifests carry the labels; they must agree on the model
        below = walk.store.edges_from([e.target for e in children], [EdgeKind.CONTAINS, EdgeKind.BUILT_FROM])
        models = {e.target for e in below if e.kind == EdgeKind.CONTAINS}
        if len(models) == 1:
            child = next(e for e in below if e.kind == EdgeKind.CONTAINS)
            walk.hop(next(e for e in children if e.target == child.source))
            return child.source
        return _one(walk, node, children, "platform_image")
    for kind in MODEL_KINDS:
        edges = [e for e in contains if e.target.startswith(f"{kind}:")]
        if edges:
            return _one(walk, node, edges, str(kind))
    walk.stop(Gap(node.id, "image_without_model", f"{node.label}: no label or MLmodel file says which model "
                                                  "the image holds"))
    return None


def _from_model_version(walk: _Walk, node: Node) -> str | None:
    for edge in walk.store.edges_from([node.id], [EdgeKind.REGISTERED_AT, EdgeKind.REGISTERS]):
        walk.trace.side.append(edge)
        walk.node(edge.target)
    edges = walk.store.edges_from([node.id], [EdgeKind.VERSION_OF])
    if not edges and node.properties.get("registry") == "gto":
        return None  # a GTO version is registered at a commit: its side edges are the chain's end
    return _one(walk, node, edges, "model")


def _from_model(walk: _Walk, node: Node) -> str | None:
    edges = [e for e in walk.store.edges_from([node.id], [EdgeKind.GENERATED_BY]) if e.target.startswith("run:")]
    return _one(walk, node, edges, "run")


def _from_run(walk: _Walk, node: Node) -> str | None:
    for edge in walk.store.edges_from([node.id], [EdgeKind.USED]):
        walk.trace.side.append(edge)
        walk.node(edge.target)
    return _one(walk, node, walk.store.edges_from([node.id], [EdgeKind.RAN_AT]), "commit")


def _stages_at(walk: _Walk, commit: Node) -> None:
    """The DVC stages locked at the training commit: their params and data versions."""
    stages = [e for e in walk.store.edges_to([commit.id], [EdgeKind.RAN_AT]) if e.source.startswith("stage:")]
    fetched = walk.store.nodes_by_id([e.source for e in stages])
    for edge in stages:
        walk.trace.side.append(edge)
        if edge.source in fetched:
            walk.trace.nodes[edge.source] = fetched[edge.source]


STEPS: dict[NodeKind, Any] = {
    NodeKind.DEPLOYMENT: _from_deployment,
    NodeKind.IMAGE: _from_image,
    NodeKind.MODEL_VERSION: _from_model_version,
    NodeKind.MODEL: _from_model,
    NodeKind.RUN: _from_run,
}


def resolve_missing_image(store: LineageStore, image: str) -> Node | None:
    """An image a manifest names by another repository, found by its (content-addressed) digest."""
    digest = image.rpartition("@")[2]
    hits = [n for n in store.search(digest, limit=20, kinds=[NodeKind.IMAGE]) if n.properties.get("digest") == digest]
    return hits[0] if len(hits) == 1 else None
