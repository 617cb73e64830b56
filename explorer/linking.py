"""Cross-source links, drawn after the sources ran: what MLflow recorded, joined to what Git and DVC did.

- a run ``used`` the DVC data version of a dataset input whose source path is DVC-tracked at the
  run's commit (and the MLflow ``dataset`` is ``same_as`` that data);
- a GTO version and an MLflow version whose model files have the same content are ``same_as``;
- what cannot be resolved is a named gap (no commit, commit in no scanned repository, source path
  not tracked by DVC there, source not a path at all).

Each linker recomputes all its facts and gaps, but skips the work when none of the sources' cursors
moved since its last run (a no-op rescan stays fast).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from explorer.lineage import (
    EdgeKind,
    Evidence,
    Facts,
    Gap,
    Node,
    NodeKind,
    data_id,
)
from explorer.progress import Progress
from explorer.store import LineageStore, properties_json

DATASET_ORIGIN = "link:mlflow-dataset-dvc"
VERSION_ORIGIN = "link:model-version-content"
_META = "linker-inputs:"


def _unchanged(store: LineageStore, origin: str, stamp: str) -> bool:
    return bool(store.meta(_META + origin) == stamp)


def _stamp(store: LineageStore) -> str:
    """What the linkers read depends only on the sources' scans: their cursors say when that changed."""
    cursors = {o: c for o, c in store.cursors().items() if not o.startswith("link:")}
    # the MLflow cursor holds a fingerprint per run: orjson encodes 10,000 of them ~10x faster
    return hashlib.sha256(properties_json(cursors).encode()).hexdigest()


def _cached(
    linker: Callable[[LineageStore, Progress], Facts], origin: str
) -> Callable[[LineageStore, Progress], tuple[str, Facts]]:
    """Run ``linker`` only when a source moved; else hand back its stored gaps (they are replaced)."""

    def run(store: LineageStore, progress: Progress) -> tuple[str, Facts]:
        stamp = _stamp(store)
        if _unchanged(store, origin, stamp):
            return origin, Facts(gaps=store.gaps(origin=origin))
        facts = linker(store, progress)
        store.set_meta(_META + origin, stamp)
        return origin, facts

    run.__name__ = getattr(linker, "__name__", origin)
    return run


# --- dataset inputs -> DVC data versions ---------------------------------------------------------


@dataclass(slots=True)
class _RepoIndex:
    """DVC-tracked paths per (repository, commit), read once per commit however many runs share it."""

    tracked: dict[tuple[str, str], tuple[dict[str, Any], list[str]]] = field(default_factory=dict)

    def at(self, repo: str, sha: str) -> tuple[dict[str, Any], list[str]]:
        key = (repo, sha)
        if key not in self.tracked:
            from explorer.gitio import GitError, GitRepo
            from explorer.sources.git import tracked_paths_at

            try:
                paths, errors = tracked_paths_at(GitRepo(Path(repo)), sha)
                self.tracked[key] = (dict(paths), errors)
            except GitError as exc:
                self.tracked[key] = ({}, [str(exc)])
        return self.tracked[key]


def link_datasets(store: LineageStore, progress: Progress) -> Facts:
    facts = Facts()
    datasets = {n.id: n for n in store.nodes(NodeKind.DATASET)}
    if not datasets:
        return facts
    progress.start("link MLflow datasets to DVC data versions", len(datasets))
    uses = [e for e in store.edges_to(list(datasets), [EdgeKind.USED]) if e.source.startswith("run:")]
    runs = sorted({e.source for e in uses})
    commit_of = {e.source: e.target for e in store.edges_from(runs, [EdgeKind.RAN_AT])}
    commits = store.nodes_by_id(set(commit_of.values()))
    index = _RepoIndex()
    same_as: dict[str, set[str]] = {}
    for use in uses:
        dataset = datasets[use.target]
        found = _resolve(facts, index, use.source, dataset, commit_of.get(use.source), commits)
        if found is not None and found not in same_as.setdefault(dataset.id, set()):
            same_as[dataset.id].add(found)
            via = next(e for e in reversed(facts.edges) if e.source == use.source and e.target == found)
            facts.link(dataset.id, found, EdgeKind.SAME_AS, via.evidence)
        progress.advance()
    for dataset_ref, targets in same_as.items():
        if len(targets) > 1:
            facts.gap(
                Gap(
                    dataset_ref,
                    "ambiguous_dataset",
                    f"dataset {datasets[dataset_ref].label} resolves to {len(targets)} different DVC data versions "
                    "in different runs (MLflow's digest is not a content hash)",
                    "",
                    tuple(sorted(targets)),
                )
            )
    return facts


def _resolve(
    facts: Facts, index: _RepoIndex, run: str, dataset: Node, commit: str | None, commits: dict[str, Node]
) -> str | None:
    """Draw run -> data (and dataset same_as data) for one input; a gap when it cannot be resolved."""
    label = dataset.label or dataset.id
    run_short = run.removeprefix("run:")[:12]
    if commit is None:
        facts.gap(
            Gap(
                run,
                "dataset_commit_unknown",
                f"run {run_short} used dataset {label}, but the run records no commit: its data version "
                "cannot be resolved against DVC",
                dataset.id,
            )
        )
        return None
    sha = commit.removeprefix("commit:")
    commit_node = commits.get(commit)
    repo = str(commit_node.properties.get("repo_path", "")) if commit_node else ""
    if not repo:
        facts.gap(
            Gap(
                run,
                "commit_not_scanned",
                f"run {run_short} ran at commit {sha[:12]}, which no scanned git repository holds "
                "(scan the run's repository with --git)",
                commit,
            )
        )
        return None
    source = _source_path(dataset.properties.get("source"))
    if source is None:
        facts.gap(
            Gap(
                run,
                "dataset_source_not_a_path",
                f"dataset {label} used by run {run_short} has source "
                f"{_short(dataset.properties.get('source'))}, not a path in a git repository",
                dataset.id,
            )
        )
        return None
    tracked, errors = index.at(repo, sha)
    match = _match(source, repo, tracked)
    where = f"{Path(repo).name}@{sha}"
    if match is None:
        detail = f" ({errors[0]})" if errors else ""
        facts.gap(
            Gap(
                run,
                "dataset_not_dvc_tracked",
                f"dataset {label} of run {run_short}: source {source} is not tracked by DVC at commit "
                f"{sha[:12]} in {repo}{detail}",
                f"{where}:{source}",
            )
        )
        return None
    tracked_path, hashed, rule = match
    did = data_id(hashed.algorithm, hashed.digest)
    props: dict[str, Any] = {
        "algorithm": hashed.algorithm,
        "digest": hashed.digest,
        "path": hashed.path,
        "paths": [hashed.path],
        "repo": Path(repo).name,
    }
    for key in ("size", "nfiles"):
        if getattr(hashed, key, None) is not None:
            props[key] = getattr(hashed, key)
    facts.add_node(Node(did, NodeKind.DATA, hashed.path, props))
    locator = f"{dataset.id} source {source} -> {where} DVC-tracked {tracked_path}"
    facts.link(run, did, EdgeKind.USED, Evidence("mlflow+dvc", locator, rule))
    if tracked_path == _norm(source, repo):
        return did  # the caller draws dataset same_as data once, however many runs logged it
    return None  # a file inside a tracked directory: used, but not the same thing as the directory


def _source_path(source: Any) -> str | None:
    """The local path of an MLflow dataset source ({"uri": ...}, {"path": ...} or text); None if remote."""
    raw = source
    if isinstance(source, dict):
        raw = next((source[k] for k in ("uri", "path", "url") if isinstance(source.get(k), str)), None)
    if not isinstance(raw, str) or not raw:
        return None
    if raw.startswith("file:"):
        parts = urlsplit(raw)
        return unquote(parts.path) if parts.netloc in ("", "localhost") else None
    if "://" in raw:
        return None
    return raw


def _norm(source: str, repo: str) -> str:
    """The source as a repo-relative posix path (absolute paths inside the repository made relative)."""
    path = PurePosixPath(source)
    if path.is_absolute():
        try:
            path = path.relative_to(PurePosixPath(repo))
        except ValueError:
            return str(path)
    return posixpath.normpath(str(path))


def _match(source: str, repo: str, tracked: dict[str, Any]) -> tuple[str, Any, str] | None:
    rel = _norm(source, repo)
    if rel in tracked:
        return rel, tracked[rel], "dataset source path is DVC-tracked at the run's commit"
    for path in sorted(tracked, key=len, reverse=True):
        if rel.startswith(path.rstrip("/") + "/"):
            return (
                path,
                tracked[path],
                "dataset source is a file inside a DVC-tracked directory at the run's commit",
            )
    if rel.startswith("/"):  # a checkout elsewhere (a CI workspace): match the tracked path as a suffix
        for path in sorted(tracked, key=len, reverse=True):
            if rel.endswith("/" + path):
                return (
                    path,
                    tracked[path],
                    "dataset source path ends with a path DVC tracks at the run's commit",
                )
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


# --- GTO version <-> MLflow version of the same artifact content -------------------------------


def link_versions(store: LineageStore, progress: Progress) -> Facts:
    facts = Facts()
    versions = store.nodes(NodeKind.MODEL_VERSION)
    gto = [v for v in versions if v.properties.get("registry") == "gto"]
    mlflow = [v for v in versions if v.properties.get("registry") == "mlflow"]
    if not gto or not mlflow:
        return facts
    progress.start("tie GTO and MLflow versions of the same content", len(gto))
    version_of = store.edges_from([v.id for v in mlflow], [EdgeKind.VERSION_OF])
    models = store.nodes_by_id({e.target for e in version_of})
    by_md5: dict[str, list[tuple[str, str, str]]] = {}
    for edge in version_of:
        model = models.get(edge.target)
        for entry in (model.properties.get("files") or []) if model else []:
            if isinstance(entry, dict) and entry.get("md5"):
                by_md5.setdefault(str(entry["md5"]), []).append(
                    (edge.source, edge.target, str(entry.get("path")))
                )
    registers = store.edges_from([v.id for v in gto], [EdgeKind.REGISTERS])
    for edge in registers:
        algorithm, _, digest = edge.target.removeprefix("data:").partition(":")
        if algorithm != "md5" or digest.endswith(".dir"):
            continue  # a directory hash is over a listing, not a file MLflow stores
        for mlflow_version, model_ref, path in by_md5.get(digest, []):
            # from the MLflow version: its upstream lineage then shows the GTO tag and DVC's history too
            facts.link(
                mlflow_version,
                edge.source,
                EdgeKind.SAME_AS,
                Evidence(
                    "gto+mlflow",
                    f"{edge.evidence.locator} registers {edge.target}; {model_ref} file {path} has md5 {digest}",
                    "same artifact content (md5)",
                ),
            )
        progress.advance()
    return facts


LINKERS = [_cached(link_datasets, DATASET_ORIGIN), _cached(link_versions, VERSION_ORIGIN)]
