"""Git with DVC: commits on every ref, every locked version of the DVC pipeline, GTO registry tags.

The whole history is read with one ``git log --raw`` and one ``git cat-file --batch``: a stage
node is recorded at each commit where its ``dvc.lock`` entry differs from the first parent's.
Incremental: the cursor holds the ref tips already scanned; the next scan reads only commits
not reachable from them, and recomputes registry tags only when tags moved.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from explorer.dvcformat import (
    DvcFormatError,
    HashedPath,
    LockedStage,
    check_dvc_yaml,
    is_dvc_path,
    parse_artifacts,
    parse_dvcfile,
    parse_lock,
    parse_lock_sections,
    split_lock,
)
from explorer.gitio import NULL_SHA, CommitRecord, GitError, GitRepo, RefRecord
from explorer.lineage import (
    EdgeKind,
    Evidence,
    Facts,
    Gap,
    Node,
    NodeKind,
    commit_id,
    data_id,
    model_version_id,
    stage_id,
)
from explorer.progress import Progress
from explorer.sources.base import Batch, SourceError

# refs/exps/<2 hex>/<38 hex of the baseline commit>/<name>; refs/exps/exec/* are DVC's scratch refs
EXPERIMENT_REF = re.compile(r"^refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/(?P<name>[^/]+)$")
# GTO tag grammar: name@v1.2.3 registers; name@v1.2.3! deregisters; name#stage#N assigns,
# name#stage!#N unassigns (N counts events); old GTO wrote name#stage without a counter.
GTO_VERSION = re.compile(r"^(?P<name>[^@#]+)@(?P<version>v\d+\.\d+\.\d+[0-9A-Za-z.+-]*)(?P<dereg>!)?$")
GTO_STAGE = re.compile(r"^(?P<name>[^@#]+)#(?P<stage>[^#!]+)(?P<unassign>!)?(?:#(?P<n>\d+))?$")


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class GitSource:
    """A git repository, scanned with its DVC pipeline history and GTO registry."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    @property
    def origin(self) -> str:
        return f"git:{self.path}"

    def _open(self) -> GitRepo:
        try:
            return GitRepo(self.path)
        except GitError as exc:
            raise SourceError(str(exc)) from exc

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        repo = self._open()
        try:
            refs = repo.refs()
            head = repo.head()
        except GitError as exc:
            raise SourceError(str(exc)) from exc
        ref_map = {r.name: r.target for r in refs}
        if head is not None:
            ref_map["HEAD"] = head
        tips = sorted(set(ref_map.values()))
        previous = cursor or {}
        old_tips: list[str] = list(previous.get("tips", []))
        old_refs: dict[str, str] = dict(previous.get("refs", {}))
        if tips == old_tips and ref_map == old_refs:
            return
        progress.start(f"git log {repo.name}")
        try:
            commits = list(repo.log(tips, exclude=old_tips))
        except GitError:
            # an old tip vanished (history rewritten, gc'd): rescan everything; ids make it idempotent
            commits = list(repo.log(tips))
        scanner = _HistoryScan(repo, progress)
        facts = scanner.commits(commits)
        scanner.refs(facts, ref_map, old_refs, {c.sha for c in commits})
        if _gto_tags(ref_map) != _gto_tags(old_refs):
            scanner.registry(facts, refs)
        cursor_out = {"tips": tips, "refs": ref_map, "path": str(self.path), "repo": repo.name}
        yield Batch(facts, cursor_out)


def _gto_tags(ref_map: dict[str, str]) -> dict[str, str]:
    return {
        name: target
        for name, target in ref_map.items()
        if name.startswith("refs/tags/") and ("@" in name or "#" in name)
    }


@dataclass(slots=True)
class _Parsed:
    stages: dict[str, LockedStage] | None
    error: str | None


class _HistoryScan:
    """One scan's worth of history: parses each DVC blob once, however many commits share it."""

    def __init__(self, repo: GitRepo, progress: Progress) -> None:
        self.repo = repo
        self.name = repo.name
        self.progress = progress
        self.remote = repo.remote_url()
        self._cache: dict[tuple[str, str], _Parsed] = {}
        self._sections: dict[str, dict[str, str] | None] = {}
        self._blobs: dict[str, bytes | None] = {}

    # --- commits and pipeline versions ---------------------------------------------------

    def commits(self, commits: list[CommitRecord]) -> Facts:
        facts = Facts()
        wanted: list[str] = []
        for commit in commits:
            for change in commit.changes:
                if not is_dvc_path(change.path):
                    continue
                if change.new_blob != NULL_SHA:
                    wanted.append(change.new_blob)
                if change.old_blob != NULL_SHA and change.path.endswith("dvc.lock"):
                    wanted.append(change.old_blob)
        self.progress.start(f"read {len(set(wanted))} DVC files", None)
        self._blobs = self.repo.read_blobs(wanted)
        self.progress.start(f"scan {len(commits)} commits of {self.name}", len(commits))
        for commit in commits:
            self._commit(facts, commit)
            for change in commit.changes:
                if is_dvc_path(change.path) and change.new_blob != NULL_SHA:
                    self._dvc_change(facts, commit, change.path, change.old_blob, change.new_blob)
            self.progress.advance()
        return facts

    def _commit(self, facts: Facts, c: CommitRecord) -> None:
        subject = c.message.splitlines()[0] if c.message else ""
        props: dict[str, Any] = {
            "sha": c.sha,
            "repo": self.name,
            "repo_path": str(self.repo.path),
            "author": c.author,
            "author_email": c.author_email,
            "authored_at": iso(c.authored_at),
            "committed_at": iso(c.committed_at),
            "message": c.message,
            "parents": c.parents,
        }
        if self.remote:
            props["remote_url"] = self.remote
        facts.add_node(Node(commit_id(c.sha), NodeKind.COMMIT, f"{c.sha[:8]} {subject}"[:120], props))
        for i, parent in enumerate(c.parents):
            facts.link(
                commit_id(c.sha),
                commit_id(parent),
                EdgeKind.PARENT,
                Evidence("git", f"{self.name}@{c.sha}^{i + 1}", "commit parent"),
            )

    def _parse(self, blob: str, path: str) -> _Parsed:
        key = (blob, path)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        text = self._blobs.get(blob)
        if text is None:
            parsed = _Parsed(None, f"{path}: blob {blob[:12]} missing from the repository")
        else:
            try:
                if path.endswith("dvc.lock"):
                    parsed = _Parsed(parse_lock(text, path), None)
                elif path.endswith("dvc.yaml"):
                    check_dvc_yaml(text, path)
                    parsed = _Parsed({}, None)
                else:
                    stage = parse_dvcfile(text, path)
                    parsed = _Parsed({stage.name: stage}, None)
            except DvcFormatError as exc:
                parsed = _Parsed(None, str(exc))
        self._cache[key] = parsed
        return parsed

    def _split(self, blob: str) -> dict[str, str] | None:
        if blob not in self._sections:
            text = self._blobs.get(blob)
            self._sections[blob] = split_lock(text) if text is not None else None
        return self._sections[blob]

    def _changed_lock_stages(self, path: str, old_blob: str, new_blob: str) -> dict[str, LockedStage] | None:
        """The stages whose lock text differs from the parent's, parsing only those; None: can't tell."""
        new = self._split(new_blob)
        old = self._split(old_blob) if old_blob != NULL_SHA else {}
        if new is None or old is None:
            return None
        changed = [name for name, text in new.items() if old.get(name) != text]
        if not changed:
            return {}
        try:
            return parse_lock_sections(new, changed, path)
        except DvcFormatError:
            return None  # parse the whole file below, which names the error precisely

    def _dvc_change(self, facts: Facts, c: CommitRecord, path: str, old_blob: str, new_blob: str) -> None:
        if path.endswith("dvc.lock"):
            quick = self._changed_lock_stages(path, old_blob, new_blob)
            if quick is not None:
                for stage in quick.values():
                    self._stage(facts, c.sha, path, stage)
                return
        new = self._parse(new_blob, path)
        if new.error is not None or new.stages is None:
            facts.gap(
                Gap(
                    subject=commit_id(c.sha),
                    kind="malformed_dvc_file",
                    reason=f"{new.error} (at commit {c.sha[:12]})",
                    locator=f"{self.name}@{c.sha}:{path}",
                )
            )
            return
        if path.endswith("dvc.yaml"):
            return
        old_stages: dict[str, LockedStage] = {}
        if path.endswith("dvc.lock") and old_blob != NULL_SHA:
            old = self._parse(old_blob, path)
            old_stages = old.stages or {}
        for name, stage in new.stages.items():
            before = old_stages.get(name)
            if before is not None and before.raw == stage.raw:
                continue
            self._stage(facts, c.sha, path, stage)

    def _stage(self, facts: Facts, sha: str, file_path: str, stage: LockedStage) -> None:
        sid = stage_id(self.name, stage.name, sha)
        where = f"{self.name}@{sha}:{file_path}"
        props: dict[str, Any] = {
            "name": stage.name,
            "repo": self.name,
            "commit": sha,
            "dvcfile": stage.dvcfile,
            "cmd": stage.cmd,
            "params": stage.params,
            "deps": [{"path": d.path, "data": _data_node_id(d)} for d in stage.deps],
            "outs": [{"path": o.path, "data": _data_node_id(o)} for o in stage.outs],
        }
        if stage.frozen:
            props["frozen"] = True
        if stage.imported:
            props["import"] = stage.imported
        label = f"{stage.name} @ {sha[:8]}"
        facts.add_node(Node(sid, NodeKind.STAGE, label, props))
        facts.link(sid, commit_id(sha), EdgeKind.RAN_AT, Evidence("dvc", where, "stage locked at this commit"))
        for dep in stage.deps:
            did = self._data(facts, dep)
            facts.link(sid, did, EdgeKind.USED, Evidence("dvc", f"{where} deps {dep.path}", "locked dependency hash"))
        for out in stage.outs:
            did = self._data(facts, out)
            rule = "tracked output of .dvc file" if file_path.endswith(".dvc") else "locked output hash"
            facts.link(did, sid, EdgeKind.GENERATED_BY, Evidence("dvc", f"{where} outs {out.path}", rule))

    def _data(self, facts: Facts, hashed: HashedPath) -> str:
        did = _data_node_id(hashed)
        props: dict[str, Any] = {
            "algorithm": hashed.algorithm,
            "digest": hashed.digest,
            "path": hashed.path,
            "paths": [hashed.path],
            "repo": self.name,
        }
        if hashed.size is not None:
            props["size"] = hashed.size
        if hashed.nfiles is not None:
            props["nfiles"] = hashed.nfiles
        facts.add_node(Node(did, NodeKind.DATA, hashed.path, props))
        return did

    # --- refs ---------------------------------------------------------------------------------

    def refs(self, facts: Facts, ref_map: dict[str, str], old_refs: dict[str, str], new_commits: set[str]) -> None:
        """Record on each commit the refs that point at it now (replacing what moved away)."""
        by_commit: dict[str, list[str]] = {}
        for name, target in ref_map.items():
            by_commit.setdefault(target, []).append(name)
        touched = {t for n, t in ref_map.items() if old_refs.get(n) != t} | {
            t for n, t in old_refs.items() if ref_map.get(n) != t
        }
        for sha in sorted(touched | (new_commits & set(by_commit))):
            names = sorted(by_commit.get(sha, []))
            props: dict[str, Any] = {"refs": names}
            exps = [m["name"] for n in names if (m := EXPERIMENT_REF.match(n))]
            if exps:
                props["experiment"] = exps[0]
            facts.add_node(Node(commit_id(sha), NodeKind.COMMIT, "", props))

    # --- GTO registry ---------------------------------------------------------------------------

    def registry(self, facts: Facts, refs: list[RefRecord]) -> None:
        versions: dict[tuple[str, str], RefRecord] = {}
        deregistered: set[tuple[str, str]] = set()
        stage_events: list[tuple[str, str, bool, int, RefRecord]] = []
        for ref in refs:
            if not ref.name.startswith("refs/tags/"):
                continue
            tag = ref.name.removeprefix("refs/tags/")
            if m := GTO_VERSION.match(tag):
                key = (m["name"], m["version"])
                if m["dereg"]:
                    deregistered.add(key)
                else:
                    versions[key] = ref
            elif m := GTO_STAGE.match(tag):
                stage_events.append((m["name"], m["stage"], bool(m["unassign"]), int(m["n"] or 0), ref))
        times = self._commit_times({r.target for r in versions.values()} | {e[4].target for e in stage_events})
        at_commit: dict[tuple[str, str], list[str]] = {}
        for (name, version), ref in versions.items():
            at_commit.setdefault((name, ref.target), []).append(version)
        nodes: dict[str, Node] = {}
        for (name, version), ref in sorted(versions.items()):
            nodes[model_version_id(name, version)] = self._version(
                facts, name, version, ref, times, deregistered=(name, version) in deregistered
            )
        history: dict[str, list[dict[str, Any]]] = {}
        current: dict[tuple[str, str], str | None] = {}
        for name, stage, unassign, n, ref in sorted(stage_events, key=lambda e: (e[0], e[3], e[4].tagger_time or 0)):
            tag = ref.name.removeprefix("refs/tags/")
            candidates = sorted(at_commit.get((name, ref.target), []), key=_semver_key)
            when = iso(ref.tagger_time or times.get(ref.target, 0))
            if not candidates:
                facts.gap(
                    Gap(
                        subject=commit_id(ref.target),
                        kind="unversioned_stage_assignment",
                        reason=(
                            f"GTO tag {tag} points at commit {ref.target[:12]}, "
                            f"where no version of {name} is registered"
                        ),
                        locator=f"{self.name}:refs/tags/{tag}",
                    )
                )
                continue
            version = candidates[-1]
            mv = model_version_id(name, version)
            event = {"stage": stage, "action": "unassign" if unassign else "assign", "tag": tag, "at": when, "n": n}
            event["commit"] = ref.target
            history.setdefault(mv, []).append(event)
            if not unassign:
                current[(name, stage)] = mv
            elif current.get((name, stage)) == mv:
                current[(name, stage)] = None
        for mv, node in nodes.items():
            node.properties["stage_history"] = history.get(mv, [])
            node.properties["stages"] = sorted(s for (n, s), holder in current.items() if holder == mv)

    def _version(
        self, facts: Facts, name: str, version: str, ref: RefRecord, times: dict[str, int], *, deregistered: bool
    ) -> Node:
        tag = f"{name}@{version}"
        mv = model_version_id(name, version)
        sha = ref.target
        props: dict[str, Any] = {
            "name": name,
            "version": version,
            "registry": "gto",
            "tag": tag,
            "commit": sha,
            "created": iso(ref.tagger_time or times.get(sha, 0)),
            "status": "deregistered" if deregistered else "registered",
        }
        node = facts.add_node(Node(mv, NodeKind.MODEL_VERSION, f"{name} {version}", props))
        locator = f"{self.name}:refs/tags/{tag}"
        facts.link(mv, commit_id(sha), EdgeKind.REGISTERED_AT, Evidence("gto", locator, "GTO version tag target"))
        files = self.repo.read_blobs([f"{sha}:dvc.yaml"])
        decl = None
        text = files.get(f"{sha}:dvc.yaml")
        if text is not None:
            try:
                decl = parse_artifacts(text, "dvc.yaml").get(name)
            except DvcFormatError as exc:
                facts.gap(Gap(mv, "malformed_dvc_file", f"{exc} (at commit {sha[:12]})", f"{self.name}@{sha}:dvc.yaml"))
                return node
        if decl is None:
            facts.gap(
                Gap(
                    mv,
                    "undeclared_artifact",
                    f"{tag}: artifact {name!r} is not declared in dvc.yaml 'artifacts' at commit {sha[:12]}",
                    f"{self.name}@{sha}:dvc.yaml",
                )
            )
            return node
        props["artifact_path"] = decl.path
        if decl.type:
            props["type"] = decl.type
        if decl.description:
            props["description"] = decl.description
        if decl.labels:
            props["labels"] = list(decl.labels)
        tracked, errors = tracked_paths_at(self.repo, sha)
        hashed = tracked.get(decl.path)
        if hashed is None:
            reason = f"{tag}: artifact path {decl.path} is not tracked by DVC at commit {sha[:12]}"
            if errors:
                reason += f" ({errors[0]})"
            facts.gap(Gap(mv, "untracked_artifact", reason, f"{self.name}@{sha}:{decl.path}"))
            return node
        did = self._data(facts, hashed)
        facts.link(
            mv,
            did,
            EdgeKind.REGISTERS,
            Evidence("gto", f"{locator} -> dvc.yaml artifacts.{name}.path {decl.path}", "artifact content at tag"),
        )
        return node

    def _commit_times(self, shas: set[str]) -> dict[str, int]:
        return self.repo.commit_times(sorted(shas))


def _semver_key(version: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", version)
    return tuple(int(n) for n in nums[:3])


def _data_node_id(hashed: HashedPath) -> str:
    return data_id(hashed.algorithm, hashed.digest)


def tracked_paths_at(repo: GitRepo, sha: str) -> tuple[dict[str, HashedPath], list[str]]:
    """Every DVC-tracked path at a commit (outs of every ``dvc.lock`` and ``.dvc`` file).

    Returns the paths and the one-line reasons for DVC files that could not be read.
    """
    files = [p for p in repo.list_files(sha) if p.endswith("dvc.lock") or (p.endswith(".dvc") and is_dvc_path(p))]
    blobs = repo.read_blobs([f"{sha}:{p}" for p in files])
    tracked: dict[str, HashedPath] = {}
    errors: list[str] = []
    for path in files:
        text = blobs.get(f"{sha}:{path}")
        if text is None:
            continue
        try:
            stages = parse_lock(text, path) if path.endswith("dvc.lock") else {path: parse_dvcfile(text, path)}
        except DvcFormatError as exc:
            errors.append(str(exc))
            continue
        for stage in stages.values():
            for out in stage.outs:
                tracked[out.path] = out
    return tracked, errors


def resolve_path_at(repo_path: Path, path: str, rev: str) -> tuple[str, HashedPath]:
    """The data version of a DVC-tracked ``path`` at git revision ``rev``: (commit sha, hash).

    Raises :class:`SourceError` naming the path and revision when either is unknown.
    """
    try:
        repo = GitRepo(repo_path)
        sha = repo.rev_parse(rev)
    except GitError as exc:
        raise SourceError(str(exc)) from exc
    tracked, errors = tracked_paths_at(repo, sha)
    wanted = posixpath.normpath(path)
    hashed = tracked.get(wanted)
    if hashed is None:
        detail = f"; {errors[0]}" if errors else ""
        raise SourceError(f"{path} is not tracked by DVC at {rev} ({sha[:12]}) in {repo_path}{detail}")
    return sha, hashed
