"""What changed between two model versions (or runs): params, metrics, data, commits, images, dependencies.

Reads the store, and git for the commits between the two training commits (through the commit
node's ``repo_path``). No presentation here: the CLI and the explorer render :class:`ModelDiff`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.dvcformat import HashedPath, LockedStage
from explorer.gitio import GitError, GitRepo
from explorer.lineage import EdgeKind, Node, NodeKind, data_id, run_id
from explorer.sources.git import locked_stages_at
from explorer.store import LineageStore
from explorer.times import iso_seconds


class DiffError(Exception):
    """A reference is not something diff compares: names it."""


@dataclass(slots=True)
class Side:
    """One side of the comparison, as the store knows it."""

    ref: str
    node: Node
    model: Node | None = None
    run: Node | None = None
    commit: Node | None = None
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # path or dataset name -> data/dataset id
    images: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    dvc_params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    name: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "old": self.old, "new": self.new}


@dataclass(slots=True)
class CommitChange:
    sha: str
    message: str
    author: str
    committed_at: int
    files: list[tuple[str, str]]  # (status, path)

    def to_dict(self) -> dict[str, Any]:
        # RFC 3339 like a commit node's own `committed_at` (the diff table showed epoch seconds)
        return {"sha": self.sha, "message": self.message, "author": self.author,
                "committed_at": iso_seconds(self.committed_at),
                "files": [{"status": s, "path": p} for s, p in self.files]}


@dataclass(slots=True)
class ModelDiff:
    a: Side
    b: Side
    params: list[Change] = field(default_factory=list)
    metrics: list[Change] = field(default_factory=list)
    data: list[Change] = field(default_factory=list)
    commits: list[CommitChange] = field(default_factory=list)
    images: list[Change] = field(default_factory=list)
    dependencies: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def side(s: Side) -> dict[str, Any]:
            return {"ref": s.ref, "id": s.node.id, "model": s.model.id if s.model else None,
                    "run": s.run.id if s.run else None, "commit": s.commit.id if s.commit else None,
                    "images": s.images}

        return {
            "a": side(self.a), "b": side(self.b),
            "params": [c.to_dict() for c in self.params], "metrics": [c.to_dict() for c in self.metrics],
            "data": [c.to_dict() for c in self.data], "commits": [c.to_dict() for c in self.commits],
            "images": [c.to_dict() for c in self.images], "dependencies": [c.to_dict() for c in self.dependencies],
            "notes": self.notes,
        }


def diff_models(store: LineageStore, a: str, b: str) -> ModelDiff:
    """Compare two references (canonical ids, ``models:/NAME/VERSION``, run id prefixes…)."""
    from explorer.resolve import RefError, resolve

    try:
        ids = [resolve(store, ref) for ref in (a, b)]
    except RefError as exc:
        # not the resolver's hint, which points at any id (commit:<sha>) and the diff then refuses
        kinds = "model versions (NAME/VERSION, models:/NAME@ALIAS), models or runs"
        raise DiffError(f"{exc.reason} (the diff takes {kinds})") from exc
    return _diff(describe(store, ids[0]), describe(store, ids[1]))


def _diff(a: Side, b: Side) -> ModelDiff:
    result = ModelDiff(a, b)
    result.params = changes(a.params, b.params)
    result.metrics = changes(a.metrics, b.metrics)
    result.data = changes(a.data, b.data)
    if a.images != b.images:
        result.images = [Change("serving images", ", ".join(a.images) or None, ", ".join(b.images) or None)]
    result.dependencies = changes(_pins(a.requirements), _pins(b.requirements))
    for s in (a, b):
        if s.run is None:
            result.notes.append(f"{s.ref}: no MLflow run in the store (params and metrics from DVC only)")
        if s.commit is None:
            result.notes.append(f"{s.ref}: no training commit known")
    if a.commit is not None and b.commit is not None:
        result.commits, note = commits_between(a.commit, b.commit)
        if note:
            result.notes.append(note)
    return result


def describe(store: LineageStore, node_id: str) -> Side:
    node = store.node(node_id)
    if node is None:
        raise DiffError(f"{node_id} is not in the store")
    if node.kind not in (NodeKind.MODEL_VERSION, NodeKind.RUN, NodeKind.MODEL):
        raise DiffError(
            f"{node_id} is a {node.kind} node: diff compares model versions, models or runs "
            "(`mlprov lineage REF --down` shows what a data version or commit went into)"
        )
    side = Side(node_id, node)
    if node.kind == NodeKind.MODEL_VERSION:
        side.model = _first(store, node.id, EdgeKind.VERSION_OF)
        side.commit = _first(store, node.id, EdgeKind.REGISTERED_AT)
        for edge in store.edges_from([node.id], [EdgeKind.REGISTERS]):
            target = store.node(edge.target)
            side.data[str((target.properties if target else {}).get("path", "model artifact"))] = edge.target
    elif node.kind == NodeKind.MODEL:
        side.model = node
    if node.kind == NodeKind.RUN:
        side.run = node
    elif side.model is not None:
        side.run = _first(store, side.model.id, EdgeKind.GENERATED_BY, "run:")
    if side.run is None and node.properties.get("run_id"):
        side.run = store.node(run_id(str(node.properties["run_id"])))
    if side.run is not None:
        side.commit = _first(store, side.run.id, EdgeKind.RAN_AT) or side.commit
        side.params = dict(side.run.properties.get("params") or {})
        side.metrics = dict(side.run.properties.get("metrics") or {})
        for edge in store.edges_from([side.run.id], [EdgeKind.USED]):
            target = store.node(edge.target)
            props = target.properties if target else {}
            source = props.get("source")
            if isinstance(source, dict):  # MLflow dataset sources are JSON: {"uri": ...} or {"path": ...}
                source = source.get("uri") or source.get("path") or source.get("url")
            key = props.get("path") or source or props.get("name") or edge.target
            side.data[str(key)] = edge.target
    if side.commit is not None:
        _dvc_at(store, side)
    if side.model is not None:
        side.requirements = list(side.model.properties.get("requirements") or [])
    holders = [node.id] + ([side.model.id] if side.model else [])
    holders_of = store.nodes_by_id({e.source for e in store.edges_to(holders, [EdgeKind.CONTAINS])})
    side.images = sorted(f"{n.label} ({n.properties.get('digest', n.id)[:19]})" for n in holders_of.values())
    return side


def _dvc_at(store: LineageStore, side: Side) -> None:
    """Params (when MLflow gave none) and data versions of the DVC pipeline as locked at the commit.

    Read from git at that commit: the store records a stage only where its lock entry changed, so
    the stages at one commit alone would miss the inputs that stayed the same.
    """
    assert side.commit is not None
    stages = _locked_at(side.commit)
    if stages is None:  # no repository on this machine: what the store recorded at that commit
        ids = [e.source for e in store.edges_to([side.commit.id], [EdgeKind.RAN_AT]) if e.source.startswith("stage:")]
        stages = [_stage_from_node(n) for n in store.nodes_by_id(ids).values()]
    for stage in upstream_stages(stages, set(side.data)):
        for file, values in (stage.params or {}).items():
            for key, value in _flatten(values).items():
                # params.yaml is DVC's default file: its keys read bare, like MLflow's
                side.dvc_params[key if file == "params.yaml" else f"{file}:{key}"] = value
        for hashed in [*stage.deps, *stage.outs]:
            side.data.setdefault(hashed.path, data_id(hashed.algorithm, hashed.digest))
    if not side.params:
        side.params = dict(side.dvc_params)


def upstream_stages(stages: list[LockedStage], paths: set[str]) -> list[LockedStage]:
    """The stages that made ``paths`` (what the version registers, the data its run used), and the
    stages that made their inputs, and so on: not the evaluation and reports downstream of the model,
    whose outputs read as changed data. All of them when none of ``paths`` is a pipeline output."""

    def makes(stage: LockedStage, path: str) -> bool:  # an out may be a directory holding the path
        return any(path == out.path or path.startswith(out.path.rstrip("/") + "/") for out in stage.outs)

    wanted: list[LockedStage] = []
    todo = list(paths)
    seen: set[str] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for stage in stages:
            if stage not in wanted and makes(stage, path):
                wanted.append(stage)
                todo.extend(dep.path for dep in stage.deps)
    return [stage for stage in stages if stage in wanted] if wanted else stages


def _locked_at(commit: Node) -> list[LockedStage] | None:
    path, sha = commit.properties.get("repo_path"), commit.properties.get("sha")
    if not path or not sha:
        return None
    try:
        return locked_stages_at(GitRepo(Path(str(path))), str(sha))[0]  # unreadable DVC files: left out
    except GitError:
        return None


def _stage_from_node(node: Node) -> LockedStage:
    def hashed(items: Any) -> list[HashedPath]:
        out = []
        for item in items or []:
            algorithm, _, digest = str(item.get("data", "")).removeprefix("data:").partition(":")
            out.append(HashedPath(str(item.get("path")), algorithm, digest))
        return out

    props = node.properties
    return LockedStage(str(props.get("name")), str(props.get("dvcfile")), props.get("cmd"),
                       dict(props.get("params") or {}), hashed(props.get("deps")), hashed(props.get("outs")))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(value, dict):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, inner in value.items():
        out.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _first(store: LineageStore, node_id: str, kind: EdgeKind, prefix: str = "") -> Node | None:
    # one target, however many systems said so (a workspace scanned again from another path records
    # the same edge with new evidence: two edges, one fact)
    targets = list(dict.fromkeys(e.target for e in store.edges_from([node_id], [kind]) if e.target.startswith(prefix)))
    if len(targets) != 1:
        return None
    return store.node(targets[0])


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Keys whose value differs (added or removed keys have ``None`` on the other side)."""
    out: list[Change] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if str(a) != str(b):
            out.append(Change(key, a, b))
    return out


_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)$")


def _pins(requirements: list[str]) -> dict[str, str]:
    """``name -> specifier`` from requirement lines (``scikit-learn==1.5.0`` -> ``==1.5.0``)."""
    out: dict[str, str] = {}
    for line in requirements:
        match = _PIN.match(line.split("#", 1)[0])
        if match and match.group(1):
            out[match.group(1).lower()] = match.group(2).strip() or "*"
    return out


def commits_between(a: Node, b: Node) -> tuple[list[CommitChange], str | None]:
    """Commits from ``a`` (excluded) to ``b``, with files changed; a note when git cannot say."""
    path = a.properties.get("repo_path") or b.properties.get("repo_path")
    sha_a, sha_b = str(a.properties.get("sha") or a.id[7:]), str(b.properties.get("sha") or b.id[7:])
    if not path:
        return [], "commits between: the commit nodes carry no repo_path (scan the git repository)"
    try:
        repo = GitRepo(Path(str(path)))
        forward = repo.is_ancestor(sha_a, sha_b)
        old, new = (sha_a, sha_b) if forward or not repo.is_ancestor(sha_b, sha_a) else (sha_b, sha_a)
        records = list(repo.log([new], exclude=[old]))
    except GitError as exc:
        return [], f"commits between: {exc}"
    out = [CommitChange(c.sha, c.message.splitlines()[0] if c.message else "", c.author, c.committed_at,
                        [(ch.status, ch.path) for ch in c.changes]) for c in records]
    note = None if (old, new) == (sha_a, sha_b) else "the second reference is older: commits listed from it"
    return out, note
