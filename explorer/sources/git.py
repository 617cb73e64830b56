"""Git with DVC: commits on every ref, every locked version of the DVC pipeline, GTO registry tags.

The whole history is read with one ``git log --raw`` and one ``git cat-file --batch``: a stage
node is recorded at each commit where its ``dvc.lock`` entry differs from the first parent's.
Incremental: the cursor holds the ref tips already scanned; the next scan reads only commits
not reachable from them, and recomputes registry tags only when tags moved.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
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
    parse_gto_artifacts_yaml,
    parse_lock,
    parse_lock_sections,
    split_lock,
    stage_wdirs,
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
from explorer.times import iso_seconds

# refs/exps/<2 hex>/<38 hex of the baseline commit>/<name>; refs/exps/exec/* are DVC's scratch refs
EXPERIMENT_REF = re.compile(r"^refs/exps/[0-9a-f]{2}/[0-9a-f]{38}/(?P<name>[^/]+)$")
# GTO's tag grammar (as gto 1.x writes and reads it): ARTIFACT, then one action, then an optional
# `#N` event counter that older GTO omitted and newer GTO writes on some actions only:
#   ARTIFACT@vX.Y.Z   registers a version      ARTIFACT@vX.Y.Z!   deregisters it
#   ARTIFACT#STAGE    assigns a stage          ARTIFACT#STAGE!    unassigns it
#   ARTIFACT@deprecated  deprecates the artifact (ARTIFACT@created: created, no version)
# ARTIFACT is `name` or `dir=name`: the artifact `dir:name`, declared in `dir/dvc.yaml`.
_GTO_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9\-/_]*[a-zA-Z0-9])?"
_SEMVER = r"v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.\-]+)?(?:\+[0-9A-Za-z.\-]+)?"
GTO_TAG = re.compile(
    rf"^(?P<artifact>(?:[a-zA-Z0-9\-_./]+=)?{_GTO_NAME})"
    rf"(?:(?:@(?P<version>{_SEMVER})|#(?P<stage>{_GTO_NAME}))(?P<cancel>!?)|@(?P<deprecated>deprecated)|@created)"
    r"(?:#(?P<n>\d+))?$"
)


@dataclass(frozen=True, slots=True)
class GtoEvent:
    """One GTO tag, read: which artifact, what happened, and when (tag time, then counter)."""

    artifact: str  # `dir:name` for an artifact declared in a subdirectory's dvc.yaml
    action: str  # register, deregister, assign, unassign, deprecate, create
    version: str | None
    stage: str | None
    n: int
    ref: RefRecord

    @property
    def tag(self) -> str:
        return self.ref.name.removeprefix("refs/tags/")


def gto_event(ref: RefRecord) -> GtoEvent | None:
    """The GTO event a tag records, or None for a tag that is not GTO's."""
    if not ref.name.startswith("refs/tags/"):
        return None
    m = GTO_TAG.match(ref.name.removeprefix("refs/tags/"))
    if m is None:
        return None
    cancel = bool(m["cancel"])
    if m["version"]:
        action = "deregister" if cancel else "register"
    elif m["stage"]:
        action = "unassign" if cancel else "assign"
    else:
        action = "deprecate" if m["deprecated"] else "create"
    artifact = m["artifact"].replace("=", ":")
    return GtoEvent(artifact, action, m["version"], m["stage"], int(m["n"] or 0), ref)


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
        name: target for name, target in ref_map.items() if name.startswith("refs/tags/") and GTO_TAG.match(name[10:])
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
        self._cache: dict[tuple[str, str, tuple[tuple[str, str], ...]], _Parsed] = {}
        self._yamls: dict[str, bytes | None] = {}  # `sha:dir/dvc.yaml` beside each changed lock, for stage wdirs
        self._wdirs: dict[bytes, tuple[dict[str, str], list[str]]] = {}
        self._sections: dict[str, dict[str, str] | None] = {}
        self._blobs: dict[str, bytes | None] = {}
        self._data_ids: dict[HashedPath, str] = {}  # data versions added to this scan's (one) Facts

    # --- commits and pipeline versions ---------------------------------------------------

    def commits(self, commits: list[CommitRecord]) -> Facts:
        facts = Facts()
        wanted: list[str] = []
        yamls: list[str] = []
        for commit in commits:
            for change in commit.changes:
                if not is_dvc_path(change.path):
                    continue
                if change.new_blob != NULL_SHA:
                    wanted.append(change.new_blob)
                    if change.path.endswith("dvc.lock"):
                        yamls.append(f"{commit.sha}:{_beside(change.path)}")
                if change.old_blob != NULL_SHA and change.path.endswith("dvc.lock"):
                    wanted.append(change.old_blob)
        self.progress.start(f"read {len(set(wanted))} DVC files", None)
        self._blobs = self.repo.read_blobs(wanted)
        self._yamls = self.repo.read_blobs(yamls)
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
            "authored_at": iso_seconds(c.authored_at),
            "committed_at": iso_seconds(c.committed_at),
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

    def _wdirs_at(self, sha: str, lock_path: str) -> tuple[dict[str, str], list[str]]:
        """The stage wdirs of the dvc.yaml beside a lock at a commit (paths in the lock are relative to them)."""
        text = self._yamls.get(f"{sha}:{_beside(lock_path)}")
        if text is None:
            return {}, []
        found = self._wdirs.get(text)
        if found is None:
            found = self._wdirs[text] = stage_wdirs(text, _beside(lock_path))
        return found

    def _parse(self, blob: str, path: str, wdirs: dict[str, str] | None = None) -> _Parsed:
        key = (blob, path, tuple(sorted((wdirs or {}).items())))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        text = self._blobs.get(blob)
        if text is None:
            parsed = _Parsed(None, f"{path}: blob {blob[:12]} missing from the repository")
        else:
            try:
                if path.endswith("dvc.lock"):
                    parsed = _Parsed(parse_lock(text, path, wdirs), None)
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

    def _changed_lock_stages(
        self, path: str, old_blob: str, new_blob: str, wdirs: dict[str, str]
    ) -> dict[str, LockedStage] | None:
        """The stages whose lock text differs from the parent's, parsing only those; None: can't tell."""
        new = self._split(new_blob)
        old = self._split(old_blob) if old_blob != NULL_SHA else {}
        if new is None or old is None:
            return None
        changed = [name for name, text in new.items() if old.get(name) != text]
        if not changed:
            return {}
        try:
            return parse_lock_sections(new, changed, path, wdirs)
        except DvcFormatError:
            return None  # parse the whole file below, which names the error precisely

    def _dvc_change(self, facts: Facts, c: CommitRecord, path: str, old_blob: str, new_blob: str) -> None:
        wdirs: dict[str, str] = {}
        if path.endswith("dvc.lock"):
            wdirs, problems = self._wdirs_at(c.sha, path)
            for problem in problems:
                where = f"{self.name}@{c.sha}:{_beside(path)}"
                facts.gap(Gap(commit_id(c.sha), "unresolved_wdir", f"{problem} (at commit {c.sha[:12]})", where))
            quick = self._changed_lock_stages(path, old_blob, new_blob, wdirs)
            if quick is not None:
                for stage in quick.values():
                    self._stage(facts, c.sha, path, stage)
                return
        new = self._parse(new_blob, path, wdirs)
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
        if stage.wdir:
            props["wdir"] = stage.wdir
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
        did = self._data_ids.get(hashed)
        if did is not None:
            return did  # reported already in this scan, the same in every field: once is enough
        did = self._data_ids[hashed] = _data_node_id(hashed)
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
        """Model versions and their stages from GTO's tags, replayed in order as GTO does.

        A version's state is its latest register/deregister event; a stage belongs to the version
        that was last assigned it, until unassigned. A stage assigned at a commit where no version
        is registered goes, as in GTO, to an unregistered version named by that commit's sha.
        """
        events = [e for e in (gto_event(r) for r in refs) if e is not None]
        times = self._commit_times({e.ref.target for e in events})

        def when(e: GtoEvent) -> int:
            return e.ref.tagger_time or times.get(e.ref.target, 0)

        events.sort(key=lambda e: (e.artifact, when(e), e.n, e.tag))
        registered: dict[tuple[str, str], GtoEvent] = {}  # first registration of each version
        state: dict[tuple[str, str], str] = {}
        deprecated: dict[str, GtoEvent] = {}
        for e in events:
            if e.action == "register" and e.version:
                registered.setdefault((e.artifact, e.version), e)
                state[(e.artifact, e.version)] = "registered"
            elif e.action == "deregister" and e.version:
                state[(e.artifact, e.version)] = "deregistered"  # of a version no tag registers: nothing to show
            elif e.action == "deprecate":
                deprecated[e.artifact] = e
        by_commit: dict[tuple[str, str], list[str]] = {}
        for (name, version), e in registered.items():
            by_commit.setdefault((name, e.ref.target), []).append(version)
        history: dict[str, list[dict[str, Any]]] = {}
        holder: dict[tuple[str, str], str | None] = {}
        unregistered: dict[str, GtoEvent] = {}
        for e in events:
            if e.action not in ("assign", "unassign") or not e.stage:
                continue
            candidates = sorted(by_commit.get((e.artifact, e.ref.target), []), key=_semver_key)
            if candidates:
                mv = model_version_id(e.artifact, candidates[-1])
            else:
                mv = model_version_id(e.artifact, e.ref.target)
                unregistered.setdefault(mv, e)
            history.setdefault(mv, []).append(
                {
                    "stage": e.stage,
                    "action": e.action,
                    "tag": e.tag,
                    "at": iso_seconds(when(e)),
                    "n": e.n,
                    "commit": e.ref.target,
                }
            )
            if e.action == "assign":
                holder[(e.artifact, e.stage)] = mv
            elif holder.get((e.artifact, e.stage)) == mv:
                holder[(e.artifact, e.stage)] = None
        nodes: dict[str, Node] = {}
        for (name, version), e in sorted(registered.items()):
            nodes[model_version_id(name, version)] = self._version(
                facts, name, version, e.ref, iso_seconds(when(e)), status=state[(name, version)]
            )
        for mv, e in sorted(unregistered.items()):
            created = iso_seconds(when(e))
            nodes[mv] = self._version(facts, e.artifact, e.ref.target, e.ref, created, status="unregistered")
        for mv, node in nodes.items():
            name = node.properties["name"]
            node.properties["stage_history"] = history.get(mv, [])
            node.properties["stages"] = sorted(s for (n, s), held in holder.items() if held == mv and n == name)
            if name in deprecated:
                node.properties["deprecated"] = True
                node.properties["deprecated_at"] = iso_seconds(when(deprecated[name]))

    def _version(self, facts: Facts, name: str, version: str, ref: RefRecord, created: str, *, status: str) -> Node:
        mv = model_version_id(name, version)
        sha = ref.target
        tag = ref.name.removeprefix("refs/tags/")
        props: dict[str, Any] = {
            "name": name,
            "version": version,
            "registry": "gto",
            "tag": tag,
            "commit": sha,
            "created": created,
            "status": status,
        }
        node = facts.add_node(Node(mv, NodeKind.MODEL_VERSION, f"{name} {version[:12]}", props))
        locator = f"{self.name}:refs/tags/{tag}"
        rule = "GTO version tag target" if status != "unregistered" else "GTO stage tag target (no version registered)"
        facts.link(mv, commit_id(sha), EdgeKind.REGISTERED_AT, Evidence("gto", locator, rule))
        # `dir:name` is declared in dir/dvc.yaml, its path relative to dir
        folder, _, short = name.rpartition(":")
        dvc_yaml = posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"
        # GTO before 0.3 kept its registry in a root `artifacts.yaml`; dvc.yaml's `artifacts:` since
        legacy = "artifacts.yaml" if not folder else None
        files = self.repo.read_blobs([f"{sha}:{dvc_yaml}"] + ([f"{sha}:{legacy}"] if legacy else []))
        decl = None
        for path, parse in ((dvc_yaml, parse_artifacts), (legacy, parse_gto_artifacts_yaml)):
            text = files.get(f"{sha}:{path}") if path else None
            if text is None or path is None or decl is not None:
                continue
            try:
                decl = parse(text, path).get(short)
            except DvcFormatError as exc:
                facts.gap(Gap(mv, "malformed_dvc_file", f"{exc} (at commit {sha[:12]})", f"{self.name}@{sha}:{path}"))
                return node
        if decl is None:
            facts.gap(
                Gap(
                    mv,
                    "undeclared_artifact",
                    f"{tag}: artifact {short!r} is not declared in {dvc_yaml} 'artifacts' at commit {sha[:12]}",
                    f"{self.name}@{sha}:{dvc_yaml}",
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
        how = "dvc.yaml artifacts.{short}.path, DVC-tracked"
        if hashed is None and "://" not in decl.path:
            hashed = git_file_content(self.repo, sha, decl.path)
            how = "dvc.yaml artifacts.{short}.path, a file in git"
        if hashed is None:
            if "://" in decl.path:
                reason = f"{tag}: artifact path {decl.path} is outside the repository: its content is not recorded"
            else:
                reason = (
                    f"{tag}: artifact path {decl.path} is neither tracked by DVC nor a file in git at commit {sha[:12]}"
                )
            if errors:
                reason += f" ({errors[0]})"
            facts.gap(Gap(mv, "untracked_artifact", reason, f"{self.name}@{sha}:{decl.path}"))
            return node
        did = self._data(facts, hashed)
        facts.link(
            mv,
            did,
            EdgeKind.REGISTERS,
            Evidence("gto", f"{locator} -> {how.format(short=short)} {decl.path}", "artifact content at tag"),
        )
        return node

    def _commit_times(self, shas: set[str]) -> dict[str, int]:
        return self.repo.commit_times(sorted(shas))


def _semver_key(version: str) -> tuple[int, ...]:
    nums = re.findall(r"\d+", version)
    return tuple(int(n) for n in nums[:3])


def _beside(lock_path: str) -> str:
    """The dvc.yaml a dvc.lock belongs to: the one in the same folder."""
    return posixpath.join(posixpath.dirname(lock_path), "dvc.yaml")


def _data_node_id(hashed: HashedPath) -> str:
    return data_id(hashed.algorithm, hashed.digest)


def locked_stages_at(repo: GitRepo, sha: str) -> tuple[list[LockedStage], list[str]]:
    """Every stage DVC locked at a commit: those of each ``dvc.lock`` (read with the stage wdirs of the
    ``dvc.yaml`` beside it) and each ``.dvc`` file. Returns them and the one-line reasons for DVC
    files that could not be read. Raises :class:`GitError` when git cannot list or read the commit.
    """
    files = [p for p in repo.list_files(sha) if p.endswith("dvc.lock") or (p.endswith(".dvc") and is_dvc_path(p))]
    yamls = [_beside(p) for p in files if p.endswith("dvc.lock")]
    blobs = repo.read_blobs([f"{sha}:{p}" for p in files + yamls])
    stages: list[LockedStage] = []
    errors: list[str] = []
    for path in files:
        text = blobs.get(f"{sha}:{path}")
        if text is None:
            continue
        try:
            if path.endswith("dvc.lock"):
                # locked paths are relative to each stage's wdir, which only the dvc.yaml beside it holds
                yaml_text = blobs.get(f"{sha}:{_beside(path)}")
                wdirs = stage_wdirs(yaml_text, _beside(path))[0] if yaml_text is not None else {}
                stages.extend(parse_lock(text, path, wdirs).values())
            else:
                stages.append(parse_dvcfile(text, path))
        except DvcFormatError as exc:
            errors.append(str(exc))
    return stages, errors


def tracked_paths_at(repo: GitRepo, sha: str) -> tuple[dict[str, HashedPath], list[str]]:
    """Every DVC-tracked path at a commit (outs of every ``dvc.lock`` and ``.dvc`` file).

    Returns the paths and the one-line reasons for DVC files that could not be read.
    """
    stages, errors = locked_stages_at(repo, sha)
    tracked = {out.path: out for stage in stages for out in stage.outs}
    return tracked, errors


_LFS_POINTER = re.compile(rb"^version https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n")


def git_file_content(repo: GitRepo, sha: str, path: str) -> HashedPath | None:
    """A file committed to git itself (not DVC) as a data version: the MD5 of its bytes, as DVC would
    hash it; for a Git LFS pointer, the SHA-256 and size the pointer gives for the real content."""
    name = f"{sha}:{path}"
    blob = repo.read_blobs([name]).get(name)
    if blob is None:
        return None
    lfs = _LFS_POINTER.match(blob)
    if lfs is not None:
        return HashedPath(path, "sha256", lfs[1].decode(), int(lfs[2]))
    return HashedPath(path, "md5", hashlib.md5(blob, usedforsecurity=False).hexdigest(), len(blob))


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
    # outs outside the repository (s3://, https://...) are kept as DVC wrote them; normpath would
    # collapse their `//` and they would never be found
    wanted = path if "://" in path else posixpath.normpath(path)
    hashed = tracked.get(wanted)
    if hashed is None:
        detail = f"; {errors[0]}" if errors else ""
        raise SourceError(f"{path} is not tracked by DVC at {rev} ({sha[:12]}) in {repo_path}{detail}")
    return sha, hashed
