"""Deployments from a GitOps repository's history, or from a JSONL deploy-event log.

GitOps: the first-parent history of the repository is replayed; every commit that changes a
Kubernetes manifest (Deployment, StatefulSet, KServe InferenceService, SeldonDeployment, Seldon
Model) moves the timeline, so each ``deployment:<env>/<endpoint>@<commit>`` node is live from the
commit that introduced it to the one that replaced it. The whole history is replayed on each
scan where the head moved (or a reference was left unresolved): manifests are small, and a
replayed interval is the same node.

Event log: one JSON object per line (see docs/trace.md), ``deployment:<env>/<endpoint>@<time>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.deploy_timeline import Live, NoLookup, ServedLookup, SlotKey, Timeline
from explorer.gitio import NULL_SHA, GitError, GitRepo
from explorer.k8s_manifests import ManifestError, Workload, may_hold_workloads, parse_manifests
from explorer.kustomize_images import image_name, image_overrides, is_kustomization
from explorer.lineage import Gap
from explorer.progress import Progress
from explorer.sources.base import Batch, SourceError
from explorer.times import iso_seconds

if TYPE_CHECKING:
    from explorer.config import Settings


def source_for(location: str, settings: Settings) -> GitOpsSource | DeployEventSource:
    from explorer.store_lookup import StoreLookup

    path = Path(location).expanduser()
    if not path.is_absolute():
        path = settings.workspace / path
    lookup = StoreLookup(settings.db_url)
    if path.suffix == ".jsonl" or path.is_file():
        return DeployEventSource(path, lookup)
    return GitOpsSource(path, lookup)


def is_manifest(path: str) -> bool:
    # kubectl apply -f DIR and Argo CD's directory sources take *.json beside *.yaml and *.yml
    return path.endswith((".yaml", ".yml", ".json"))


class GitOpsSource:
    def __init__(self, path: Path, lookup: ServedLookup | None = None) -> None:
        self.path = path.resolve()
        self.lookup = lookup or NoLookup()

    @property
    def origin(self) -> str:
        return f"gitops:{self.path}"

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        try:
            repo = GitRepo(self.path)
            head = repo.head()
        except GitError as exc:
            raise SourceError(str(exc)) from exc
        if head is None:
            raise SourceError(f"GitOps repository {self.path} has no commits")
        previous = cursor or {}
        if previous.get("head") == head and not previous.get("unresolved"):
            return
        progress.start(f"replay deployments of {repo.name}")
        commits = list(repo.log([head]))
        by_sha = {c.sha: c for c in commits}
        mainline: set[str] = set()
        sha: str | None = head
        while sha and sha in by_sha:  # what was deployed is the first-parent line
            mainline.add(sha)
            sha = by_sha[sha].parents[0] if by_sha[sha].parents else None
        chain = [c for c in commits if c.sha in mainline]
        blobs = repo.read_blobs(
            ch.new_blob for c in chain for ch in c.changes
            if (is_manifest(ch.path) or is_kustomization(ch.path)) and ch.new_blob != NULL_SHA
        )
        timeline = Timeline("gitops", self.lookup)
        files: dict[str, list[Workload]] = {}
        overrides: dict[str, dict[str, str]] = {}  # kustomization path -> image name -> what it sets
        flagged: set[tuple[tuple[str, str, str], tuple[str, ...]]] = set()  # duplicate slots already reported
        progress.start(f"replay {len(chain)} commits of {repo.name}", len(chain))
        for commit in chain:
            touched = retagged = False
            for change in commit.changes:
                if is_kustomization(change.path):
                    found = {} if change.new_blob == NULL_SHA else image_overrides(blobs.get(change.new_blob) or b"")
                    retagged = retagged or bool(found)
                    if found:
                        overrides[change.path] = found
                    else:
                        overrides.pop(change.path, None)
                    continue
                if not is_manifest(change.path):
                    continue
                touched = True
                if change.new_blob == NULL_SHA:
                    files.pop(change.path, None)
                    continue
                text = blobs.get(change.new_blob) or b""
                held = bool(files.get(change.path))
                if not held and not may_hold_workloads(text, change.path):
                    files.pop(change.path, None)  # no workload before or now: not worth a YAML parse
                    continue
                try:
                    # a file that served something is read whole: if it broke, what it served keeps serving
                    files[change.path] = parse_manifests(text, change.path, every_document=held)
                except ManifestError as exc:
                    # a manifest that does not parse does not sync: what served before keeps serving
                    timeline.facts.gap(Gap(f"commit:{commit.sha}", "malformed_manifest",
                                           f"{exc} (at commit {commit.sha[:12]})",
                                           f"{repo.name}@{commit.sha}:{change.path}"))
            if touched:
                workloads = [w for path in sorted(files) for w in files[path]]
                _flag_duplicates(timeline, workloads, commit.sha, f"{repo.name}@{commit.sha}", flagged)
                before = {live.node_id for live in timeline.live.values()}
                timeline.apply(timeline.desired(workloads), iso_seconds(commit.committed_at), commit.sha,
                               f"{repo.name}@{commit.sha}", commit=commit.sha)
                opened = [live for live in timeline.live.values() if live.node_id not in before]
                _flag_overridden(timeline, opened, overrides, f"{repo.name}@{commit.sha}")
            if retagged and not touched:  # an image updater's commit: only the kustomization moved
                _flag_overridden(timeline, list(timeline.live.values()), overrides, f"{repo.name}@{commit.sha}")
            progress.advance()
        cursor_out = {"head": head, "unresolved": timeline.unresolved, "path": str(self.path)}
        yield Batch(timeline.facts, cursor_out, replace_gaps=True)


def _flag_duplicates(timeline: Timeline, workloads: list[Workload], sha: str, locator: str,
                     flagged: set[tuple[tuple[str, str, str], tuple[str, ...]]]) -> None:
    """Two files declaring the same workload (namespace, name, role): a cluster keeps whichever was
    applied last, which git does not record; the later file in path order is taken, and the clash
    is a gap (once per slot and set of files, not at every commit)."""
    by_slot: dict[tuple[str, str, str], list[str]] = {}
    for w in workloads:
        role = "default" if w.kind == "InferenceService" else w.role
        by_slot.setdefault((w.environment, w.endpoint, role), []).append(w.path)
    for slot, paths in sorted(by_slot.items()):
        files = tuple(sorted(set(paths)))
        if len(files) < 2 or (slot, files) in flagged:
            continue
        flagged.add((slot, files))
        env, endpoint, role = slot
        timeline.facts.gap(Gap(f"commit:{sha}", "duplicate_workload",
                               f"{len(files)} files declare {env}/{endpoint} ({role}): {', '.join(files)}; "
                               f"the cluster keeps whichever was applied last, mlprov takes {files[-1]}",
                               f"{locator}:{files[-1]}", files))


def _flag_overridden(timeline: Timeline, opened: list[Live], overrides: dict[str, dict[str, str]],
                     locator: str) -> None:
    """A gap on each new deployment whose image a kustomization's ``images:`` overrides: the image it
    records is the one committed in the manifest, not the one kustomize (and so the cluster) used."""
    for live in opened:
        for ref in live.workload.images:
            name = image_name(ref)
            hits = [(path, sets[name]) for path, sets in sorted(overrides.items()) if name in sets]
            if hits:
                where = "; ".join(f"{path} sets {what}" for path, what in hits)
                timeline.facts.gap(Gap(live.node_id, "kustomize_override",
                                       f"image {ref} is overridden by kustomize images: ({where}); mlprov reads "
                                       "manifests as committed, not rendered: the image served may differ "
                                       "(commit rendered manifests, or pin the image in the manifest)",
                                       f"{locator}:{hits[0][0]}", tuple(path for path, _ in hits)))


class DeployEventSource:
    """``{"time", "environment", "endpoint", "role", "image" | "model", "traffic", "action"}`` per line."""

    def __init__(self, path: Path, lookup: ServedLookup | None = None) -> None:
        self.path = path.resolve()
        self.lookup = lookup or NoLookup()

    @property
    def origin(self) -> str:
        return f"deploy-events:{self.path}"

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"deploy-event log {self.path}: {exc.strerror or exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        previous = cursor or {}
        if previous.get("sha256") == digest and not previous.get("unresolved"):
            return
        timeline = Timeline("deploy-events", self.lookup)
        events: list[tuple[str, int, dict[str, Any]]] = []
        bad: list[int] = []
        for number, line in enumerate(data.decode(errors="replace").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                when = _rfc3339(str(event["time"]))
                if not event.get("endpoint"):
                    raise KeyError("endpoint")
            except (ValueError, KeyError, TypeError):
                bad.append(number)
                continue
            events.append((when, number, event))
        if bad:
            timeline.facts.gap(Gap(f"deploy-events:{self.path.name}", "invalid_event_lines",
                                   f"{len(bad)} line(s) of {self.path.name} are not deploy events "
                                   f"(invalid JSON or no time/endpoint): lines {', '.join(map(str, bad[:10]))}",
                                   str(self.path)))
        desired: dict[SlotKey, tuple[Workload, int | None]] = {}
        for when, number, event in sorted(events, key=lambda e: (e[0], e[1])):
            env = str(event.get("environment") or "default")
            role = str(event.get("role") or "default")
            key = (env, str(event["endpoint"]), role)
            if str(event.get("action", "deploy")) in ("undeploy", "delete", "remove"):
                desired.pop(key, None)
            else:
                image = event.get("image")
                traffic = event.get("traffic")
                desired[key] = (Workload(env, key[1], role, str(event.get("kind") or "event"), self.path.name,
                                         (str(image),) if image else (), event.get("model") or None,
                                         int(traffic) if isinstance(traffic, int) else None),
                                int(traffic) if isinstance(traffic, int) else None)
            timeline.apply(dict(desired), when, when, f"{self.path.name} line {number}")
        yield Batch(timeline.facts, {"sha256": digest, "unresolved": timeline.unresolved}, replace_gaps=True)


def _rfc3339(value: str) -> str:
    """Normalise a timestamp to UTC ``...Z``; ``ValueError`` when it is not one."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
