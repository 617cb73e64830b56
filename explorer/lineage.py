"""The lineage model: node and edge kinds, canonical ids, evidence and gaps.

Pure data, no I/O and no imports from the rest of the project: every source yields these
values, the store persists them, the graph and the TUI read them back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NodeKind(StrEnum):
    """What a node is. The id prefix of a node is its kind."""

    COMMIT = "commit"
    STAGE = "stage"
    DATA = "data"
    RUN = "run"
    EXPERIMENT = "experiment"
    MODEL = "model"
    MODEL_VERSION = "model_version"
    DATASET = "dataset"
    IMAGE = "image"
    DEPLOYMENT = "deployment"
    SIGNATURE = "signature"
    BOM = "bom"


class EdgeKind(StrEnum):
    """How one node came from another. Edges point upstream: from a thing to its origin."""

    PARENT = "parent"  # commit -> parent commit
    RAN_AT = "ran_at"  # stage/run -> commit
    USED = "used"  # stage/run -> data/dataset
    GENERATED_BY = "generated_by"  # data/model -> stage/run
    VERSION_OF = "version_of"  # model_version -> model
    REGISTERS = "registers"  # model_version -> data (the artifact content a registry version points at)
    REGISTERED_AT = "registered_at"  # model_version -> commit (GTO tag target)
    IN_EXPERIMENT = "in_experiment"  # run -> experiment
    CONTAINS = "contains"  # image -> model/model_version/commit
    BUILT_FROM = "built_from"  # image -> commit (org.opencontainers.image.revision)
    SERVES = "serves"  # deployment -> image/model_version
    SIGNS = "signs"  # signature -> subject
    DESCRIBES = "describes"  # bom -> subject
    SAME_AS = "same_as"  # dataset <-> data, model_version <-> model_version


@dataclass(frozen=True, slots=True)
class Evidence:
    """Which system said an edge exists, where, and by which rule mlprov drew it."""

    source: str
    locator: str
    rule: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "locator": self.locator, "rule": self.rule}


@dataclass(slots=True)
class Node:
    """A thing in the lineage graph, identified by its canonical id."""

    id: str
    kind: NodeKind
    label: str
    properties: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": str(self.kind), "label": self.label, "properties": self.properties}


@dataclass(frozen=True, slots=True)
class Edge:
    """``source`` came from ``target`` (upstream), as ``evidence`` says."""

    source: str
    target: str
    kind: EdgeKind
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "kind": str(self.kind),
            "evidence": self.evidence.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Gap:
    """A link that should exist but could not be resolved, or an input that could not be read.

    ``subject`` is the node the gap belongs to (it shows up in that node's lineage); ``locator``
    names the file, tag or record; ``reason`` is one line a person can act on.
    """

    subject: str
    kind: str
    reason: str
    locator: str = ""
    candidates: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable identity, so a rescan replaces a gap instead of repeating it."""
        raw = json.dumps([self.subject, self.kind, self.locator, self.reason])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "kind": self.kind,
            "reason": self.reason,
            "locator": self.locator,
            "candidates": list(self.candidates),
        }


@dataclass(slots=True)
class Facts:
    """What a source found in one batch: written by the scanner in one transaction."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def add_node(self, node: Node) -> Node:
        self.nodes.append(node)
        return node

    def link(self, source: str, target: str, kind: EdgeKind, evidence: Evidence) -> None:
        self.edges.append(Edge(source, target, kind, evidence))

    def gap(self, gap: Gap) -> None:
        self.gaps.append(gap)

    def extend(self, other: Facts) -> None:
        self.nodes.extend(other.nodes)
        self.edges.extend(other.edges)
        self.gaps.extend(other.gaps)

    def __len__(self) -> int:
        return len(self.nodes) + len(self.edges) + len(self.gaps)


@dataclass(slots=True)
class Subgraph:
    """A connected piece of the lineage graph: what ``lineage`` and ``trace`` answer with."""

    root: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "gaps": [g.to_dict() for g in self.gaps],
        }


# --- canonical ids -------------------------------------------------------------------------------


def commit_id(sha: str) -> str:
    return f"commit:{sha}"


def stage_id(repo: str, name: str, sha: str) -> str:
    return f"stage:{repo}:{name}@{sha}"


def data_id(algorithm: str, digest: str) -> str:
    """``data:md5:<hex>``; a directory digest keeps its ``.dir`` suffix as DVC writes it."""
    return f"data:{algorithm}:{digest}"


def run_id(run: str) -> str:
    return f"run:{run}"


def experiment_id(experiment: str) -> str:
    return f"experiment:{experiment}"


def model_id(model: str) -> str:
    return f"model:{model}"


def mlflow_model_id(meta: Mapping[str, Any]) -> str | None:
    """The id MLflow gave the model an ``MLmodel`` file describes: ``model_id`` (MLflow 3), else
    ``model_uuid`` (MLflow 2); MLflow 1 gave none."""
    value = meta.get("model_id") or meta.get("model_uuid")
    return str(value) if value else None


def mlmodel_key(meta: Mapping[str, Any]) -> str | None:
    """The key of the model an ``MLmodel`` file describes, the same whoever read the file (tracking
    store, image layer): MLflow 3's ``model_id``, else MLflow 2's ``model_uuid``, else, for a model MLflow 1
    logged before either existed, ``<run_id>/<artifact_path>``: where it was logged. ``None`` when it
    names none of these (a model saved outside any run by MLflow 1)."""
    known = mlflow_model_id(meta)
    if known is not None:
        return known
    run, path = meta.get("run_id"), meta.get("artifact_path")
    if run and isinstance(path, str) and path.strip("/"):
        return f"{run}/{path.strip('/')}"
    return None


def model_version_id(name: str, version: str) -> str:
    return f"model_version:{name}/{version}"


def dataset_id(name: str, digest: str) -> str:
    return f"dataset:mlflow:{name}@{digest}"


def image_id(repository: str, digest: str) -> str:
    return f"image:{repository}@{digest}"


def deployment_id(environment: str, endpoint: str, since: str) -> str:
    return f"deployment:{environment}/{endpoint}@{since}"


def signature_id(bundle_sha256: str) -> str:
    return f"signature:sha256:{bundle_sha256}"


def bom_id(serial_number: str) -> str:
    return f"bom:{serial_number}"


def kind_of(node_id: str) -> NodeKind:
    """The kind a canonical id names; ``ValueError`` for an id of no known kind."""
    prefix, sep, _ = node_id.partition(":")
    if not sep:
        raise ValueError(f"not a canonical id: {node_id!r}")
    return NodeKind(prefix)


# Lists that describe a node's present state, not its history: a newer report replaces them, or an
# alias moved to another version (a stage, a ref, an image tag) would stay on the old one forever.
# Only lists: MLflow's ``tags`` are a dict, merged key by key.
CURRENT_STATE_KEYS = frozenset({"aliases", "stages", "refs", "tags"})


def merge_properties(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Merge what two sources said of one node: new scalars win, lists union (but the present-state
    lists of :data:`CURRENT_STATE_KEYS` are replaced), dicts merge."""
    merged = dict(old)
    for key, value in new.items():
        previous = merged.get(key)
        if key in CURRENT_STATE_KEYS and isinstance(value, list):
            merged[key] = value
        elif isinstance(previous, list) and isinstance(value, list):
            merged[key] = _union(previous, value)
        elif isinstance(previous, dict) and isinstance(value, dict):
            merged[key] = merge_properties(previous, value)
        else:
            merged[key] = value
    return merged


def _union(a: list[Any], b: list[Any]) -> list[Any]:
    if all(type(item) is str for item in a) and all(type(item) is str for item in b):
        return list(dict.fromkeys([*a, *b]))  # what the JSON keys below give for strings, without encoding
    out: list[Any] = []
    seen: set[str] = set()
    for item in [*a, *b]:
        key = json.dumps(item, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
