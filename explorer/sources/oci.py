"""Container images from a registry repository or an OCI image layout directory.

Each tag's manifest or index becomes an ``image:<registry>/<repository>@sha256:<hex>`` node
(multi-platform indexes ``contains`` their platform manifests). Config labels link the image to
what it holds: ``org.opencontainers.image.revision`` -> ``built_from`` commit; model labels (a
``models:/`` or ``runs:/`` URI, a run id, a model id) -> ``contains`` model version / model / run.
Where labels name no model, an ``MLmodel`` file found in a layer does. Attached SBOMs,
signatures and attestations are recorded (see :mod:`explorer.oci_referrers`).

Incremental: the cursor maps each tag (and each referrer fallback tag) to its digest; an
unchanged tag is not read again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.lineage import (
    EdgeKind,
    Evidence,
    Facts,
    Gap,
    Node,
    NodeKind,
    commit_id,
    image_id,
    mlflow_model_id,
    model_id,
    model_version_id,
    run_id,
)
from explorer.oci_client import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    Fetched,
    RegistryClient,
    RegistryError,
    parse_registry_ref,
)
from explorer.oci_layout import LayoutRepository, is_layout
from explorer.oci_mlmodel import scan_layer
from explorer.oci_referrers import ImageRepository, find_attached, is_fallback_tag, record_attached
from explorer.progress import Progress
from explorer.sources.base import Batch, SourceError

if TYPE_CHECKING:
    from explorer.config import Settings

REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
CREATED = "org.opencontainers.image.created"
MAX_CONFIG = 1 << 20
MAX_LAYER_SCAN = 2 << 30  # bigger layers are weights, not MLmodel directories worth streaming
_SHA = re.compile(r"^[0-9a-f]{40}$")
# label keys (by suffix) whose value is an id, for images that label without a URI
RUN_KEYS = ("run_id", "run-id", "run.id")
MODEL_KEYS = ("model_id", "model-id", "model.id")


def source_for(location: str, settings: Settings) -> OciSource:
    """A layout directory when ``location`` is one (relative to the workspace), else a registry ref."""
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = settings.workspace / path
    if path.is_dir() or location.startswith((".", "/", "~")):
        return OciSource(str(path.resolve()), layout=True)
    try:
        parse_registry_ref(location)
    except RegistryError as exc:
        raise SourceError(str(exc)) from exc
    return OciSource(location, layout=False)


class OciSource:
    def __init__(self, location: str, *, layout: bool) -> None:
        self.location = location
        self.layout = layout

    @property
    def origin(self) -> str:
        if self.layout:
            return f"oci-layout:{self.location}"
        return f"registry:{parse_registry_ref(self.location).name}"

    def _open(self) -> ImageRepository:
        try:
            if self.layout:
                if not is_layout(Path(self.location)):
                    raise SourceError(f"not an OCI image layout: {self.location} (no oci-layout and index.json)")
                return LayoutRepository(Path(self.location))
            return RegistryClient(parse_registry_ref(self.location))
        except RegistryError as exc:
            raise SourceError(str(exc)) from exc

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        repo = self._open()
        try:
            tags = sorted(repo.tags())
        except RegistryError as exc:
            raise SourceError(str(exc)) from exc
        previous: dict[str, str] = dict((cursor or {}).get("tags", {}))
        old_attach: dict[str, str] = dict((cursor or {}).get("attachments", {}))
        image_tags = [t for t in tags if not is_fallback_tag(t)]
        fallback = {t for t in tags if is_fallback_tag(t)}
        reader = _ImageReader(repo, fallback, progress)
        attach_now = reader.digests_of(sorted(fallback))
        attachments_moved = attach_now != old_attach
        done: dict[str, str] = {t: d for t, d in previous.items() if t in image_tags}
        # tags are present state: a tag that moved must leave its old image. Each tag's batch writes
        # that tag alone; a last batch writes every image's whole tag list and marks the cursor settled.
        settled = bool((cursor or {}).get("settled", cursor is None))
        changed = False
        progress.start(f"read {len(image_tags)} tags of {repo.name}", len(image_tags))
        for tag in image_tags:
            facts = Facts()
            try:
                fetched = repo.manifest(tag)
            except RegistryError as exc:
                facts.gap(Gap(f"image:{repo.name}:{tag}", "manifest_unreadable", str(exc), f"{repo.name}:{tag}"))
                yield Batch(facts, {"tags": done, "attachments": old_attach, "settled": settled})
                progress.advance()
                continue
            if previous.get(tag) == fetched.digest and not attachments_moved:
                progress.advance()
                continue
            reader.record(fetched, facts, tags=[tag])
            done[tag] = fetched.digest
            changed = True
            yield Batch(facts, {"tags": dict(done), "attachments": old_attach, "settled": False})
            progress.advance()
        if changed or not settled or set(previous) != set(done):
            yield Batch(
                _tag_lists(repo.name, done, previous), {"tags": done, "attachments": attach_now, "settled": True}
            )
        elif attachments_moved:
            yield Batch(Facts(), {"tags": done, "attachments": attach_now, "settled": True})


def _tag_lists(repository: str, done: dict[str, str], previous: dict[str, str]) -> Facts:
    """Every image's whole list of current tags, including images that lost all theirs."""
    by_digest: dict[str, list[str]] = {d: [] for d in previous.values() if d}
    for tag, digest in done.items():
        by_digest.setdefault(digest, []).append(tag)
    facts = Facts()
    for digest, tags in sorted(by_digest.items()):
        facts.add_node(Node(image_id(repository, digest), NodeKind.IMAGE, "", {"tags": sorted(tags)}))
    return facts


class _ImageReader:
    """Records manifests and indexes of one repository, each digest once per scan."""

    def __init__(self, repo: ImageRepository, fallback_tags: set[str], progress: Progress) -> None:
        self.repo = repo
        self.fallback_tags = fallback_tags
        self.progress = progress
        self.seen: set[str] = set()

    def digests_of(self, tags: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for tag in tags:
            try:
                out[tag] = self.repo.manifest(tag).digest
            except RegistryError:
                out[tag] = ""
        return out

    def record(self, fetched: Fetched, facts: Facts, tags: list[str], platform: str | None = None) -> str:
        iid = image_id(self.repo.name, fetched.digest)
        props: dict[str, Any] = {
            "repository": self.repo.name,
            "digest": fetched.digest,
            "tags": tags,
            "media_type": fetched.media_type,
        }
        if platform:
            props["platform"] = platform
        label = f"{self.repo.name}:{tags[0]}" if tags else f"{self.repo.name}@{fetched.digest[:19]}"
        node = Node(iid, NodeKind.IMAGE, label, props)
        facts.add_node(node)
        if fetched.digest in self.seen:
            return iid
        self.seen.add(fetched.digest)
        where = f"{self.repo.name}@{fetched.digest}"
        try:
            doc = fetched.json()
        except ValueError as exc:
            facts.gap(Gap(iid, "manifest_unreadable", f"{where}: not JSON: {exc}", where))
            return iid
        if fetched.media_type in INDEX_TYPES:
            self._index(iid, doc, props, facts, where)
        elif fetched.media_type in MANIFEST_TYPES:
            self._manifest(iid, doc, props, facts, where)
        else:
            facts.gap(
                Gap(
                    iid,
                    "unexpected_media_type",
                    f"{label}: unexpected manifest media type {fetched.media_type!r} (not an OCI or Docker "
                    "image manifest or index)",
                    where,
                )
            )
            return iid
        for item in find_attached(self.repo, fetched.digest, self.fallback_tags, facts, iid):
            record_attached(self.repo, item, iid, facts)
        return iid

    def _index(self, iid: str, doc: dict[str, Any], props: dict[str, Any], facts: Facts, where: str) -> None:
        platforms: list[str] = []
        for desc in doc.get("manifests") or []:
            if not isinstance(desc, dict) or not desc.get("digest"):
                continue
            p = desc.get("platform") or {}
            platform = "/".join(str(p[k]) for k in ("os", "architecture", "variant") if p.get(k)) or "unknown"
            if (desc.get("annotations") or {}).get("vnd.docker.reference.type") == "attestation-manifest":
                continue  # buildkit provenance: not a runnable platform
            try:
                child = self.repo.manifest(str(desc["digest"]))
            except RegistryError as exc:
                facts.gap(Gap(iid, "manifest_unreadable", f"platform {platform}: {exc}", where))
                continue
            child_id = self.record(child, facts, tags=[], platform=platform)
            platforms.append(platform)
            facts.link(iid, child_id, EdgeKind.CONTAINS, Evidence("oci", where, f"index lists {platform} manifest"))
        props["platforms"] = platforms
        if doc.get("annotations"):
            props["annotations"] = doc["annotations"]

    def _manifest(self, iid: str, doc: dict[str, Any], props: dict[str, Any], facts: Facts, where: str) -> None:
        config_desc = doc.get("config") or {}
        layers = [d for d in doc.get("layers") or [] if isinstance(d, dict)]
        props["size"] = sum(int(d.get("size") or 0) for d in layers)
        props["layers"] = len(layers)
        config: dict[str, Any] = {}
        if config_desc.get("digest"):
            try:
                config = json.loads(self.repo.blob(str(config_desc["digest"]), MAX_CONFIG))
            except (RegistryError, ValueError) as exc:
                facts.gap(Gap(iid, "config_unreadable", f"{where}: image config: {exc}", where))
        if not isinstance(config, dict):
            config = {}
        labels = dict((config.get("config") or {}).get("Labels") or {})
        labels.update({k: v for k, v in (doc.get("annotations") or {}).items() if k.startswith("org.")})
        props["labels"] = labels
        if config.get("created") or labels.get(CREATED):
            props["created"] = labels.get(CREATED) or config.get("created")
        if config.get("architecture"):
            props.setdefault("platform", f"{config.get('os', 'linux')}/{config['architecture']}")
        if labels.get(SOURCE):
            props["source"] = labels[SOURCE]
        revision = str(labels.get(REVISION) or "")
        if revision:
            if _SHA.match(revision):
                facts.link(
                    iid,
                    commit_id(revision),
                    EdgeKind.BUILT_FROM,
                    Evidence("oci", f"{where} label {REVISION}", "image revision label"),
                )
            else:
                facts.gap(
                    Gap(
                        iid,
                        "revision_not_a_commit",
                        f"{REVISION}={revision!r} is not a full 40-hex commit sha",
                        where,
                    )
                )
        if not self._model_labels(iid, labels, facts, where):
            self._mlmodel_in_layers(iid, layers, props, facts, where)

    def _model_labels(self, iid: str, labels: dict[str, Any], facts: Facts, where: str) -> bool:
        linked = False
        for key, raw in sorted(labels.items()):
            value = str(raw).strip()
            target = None
            if value.startswith("models:/"):
                target = _model_uri_target(value)
                if target is None:
                    facts.gap(
                        Gap(
                            iid,
                            "unpinned_model_uri",
                            f"label {key}={value} names an alias or is malformed: an alias moves, so it "
                            "cannot say which version the image holds",
                            where,
                        )
                    )
                    continue
            elif value.startswith("runs:/"):
                target = run_id(value.removeprefix("runs:/").split("/", 1)[0])
            elif key.lower().endswith(RUN_KEYS) and value:
                target = run_id(value)
            elif key.lower().endswith(MODEL_KEYS) and value:
                target = model_id(value)
            if target:
                facts.link(iid, target, EdgeKind.CONTAINS, Evidence("oci", f"{where} label {key}", "model label"))
                linked = True
        return linked

    def _mlmodel_in_layers(
        self, iid: str, layers: list[dict[str, Any]], props: dict[str, Any], facts: Facts, where: str
    ) -> None:
        for desc in layers:
            digest = str(desc.get("digest") or "")
            if not digest or int(desc.get("size") or 0) > MAX_LAYER_SCAN:
                continue
            try:
                found, problem = scan_layer(self.repo.open_blob(digest), str(desc.get("mediaType", "")), digest)
            except RegistryError as exc:
                found, problem = [], str(exc)
            if problem:
                self.progress.note(f"{where}: {problem}")
            for model in found:
                key = model.model_key
                if key is None:
                    continue
                mid = model_id(key)
                model_props: dict[str, Any] = {}
                if mlflow_model_id(model.meta):  # not an MLflow 1 model's run/path key
                    model_props["model_id"] = key
                for name in ("run_id", "artifact_path", "utc_time_created", "mlflow_version", "model_uuid"):
                    if model.meta.get(name):
                        model_props[name] = str(model.meta[name])
                if isinstance(model.meta.get("flavors"), dict):
                    model_props["flavors"] = model.meta["flavors"]
                if model.requirements:
                    model_props["requirements"] = model.requirements
                facts.add_node(Node(mid, NodeKind.MODEL, key, model_props))
                locator = f"{where} layer {digest[:19]} {model.path}"
                facts.link(iid, mid, EdgeKind.CONTAINS, Evidence("oci", locator, "MLmodel file in a layer"))
                if model.meta.get("run_id"):
                    facts.link(
                        mid,
                        run_id(str(model.meta["run_id"])),
                        EdgeKind.GENERATED_BY,
                        Evidence("oci", locator, "run_id in MLmodel"),
                    )
                props.setdefault("mlmodel_paths", []).append(model.path)


def _model_uri_target(uri: str) -> str | None:
    """``models:/m-…`` -> model; ``models:/NAME/VERSION`` -> model version; aliases -> None."""
    body = uri.removeprefix("models:/").strip("/")
    if body.startswith("m-") and "/" not in body:
        return model_id(body)
    name, _, version = body.rpartition("/")
    if not name or "@" in body or not version:
        return None
    return model_version_id(name, version)
