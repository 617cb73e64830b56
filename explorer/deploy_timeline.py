"""Which workload served on which endpoint when: intervals and the ``serves`` links they carry.

Shared by the GitOps source (a change is a commit) and the deploy-event log (a change is an
event). A deployment node opens when what a slot (environment, endpoint, role) serves changes
and closes when the next change replaces or removes it; ``since``/``until`` are RFC 3339 times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from explorer.k8s_manifests import Workload
from explorer.lineage import (
    EdgeKind,
    Evidence,
    Facts,
    Gap,
    Node,
    NodeKind,
    deployment_id,
    image_id,
    model_id,
    model_version_id,
)

SlotKey = tuple[str, str, str]  # environment, endpoint, role


class ServedLookup(Protocol):
    """What the store already knows, for references a manifest gives by tag or by storage URI."""

    def images_with_tag(self, repository: str, tag: str) -> list[str]: ...
    def models_at_uri(self, uri: str) -> list[str]: ...


class NoLookup:
    def images_with_tag(self, repository: str, tag: str) -> list[str]:
        return []

    def models_at_uri(self, uri: str) -> list[str]:
        return []


@dataclass(frozen=True, slots=True)
class ImageRef:
    repository: str  # registry/path, docker.io/library/x for short names
    tag: str | None
    digest: str | None


def parse_image_ref(ref: str) -> ImageRef:
    name, _, digest = ref.strip().partition("@")
    tag = None
    head, sep, last = name.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
    name = f"{head}{sep}{last}"
    first = name.split("/", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return ImageRef(name, tag, digest or None)


@dataclass(slots=True)
class Live:
    node_id: str
    workload: Workload
    traffic: int | None


@dataclass(slots=True)
class Timeline:
    """The live deployments of one source, advanced change by change."""

    source: str  # evidence source: "gitops" or "deploy-events"
    lookup: ServedLookup
    facts: Facts = field(default_factory=Facts)
    live: dict[SlotKey, Live] = field(default_factory=dict)
    unresolved: int = 0

    def desired(self, workloads: list[Workload]) -> dict[SlotKey, tuple[Workload, int | None]]:
        """Slots the workloads fill; a KServe canary keeps the previous default serving beside it."""
        out: dict[SlotKey, tuple[Workload, int | None]] = {}
        for w in workloads:
            if w.kind != "InferenceService":
                out[(w.environment, w.endpoint, w.role)] = (w, w.traffic)
                continue
            key = (w.environment, w.endpoint, "default")
            previous = self.live.get(key)
            percent = w.canary_percent
            if percent is None or percent >= 100 or previous is None or previous.workload.serving == w.serving:
                out[key] = (w, 100)
            else:
                out[key] = (previous.workload, 100 - percent)
                out[(w.environment, w.endpoint, "canary")] = (replace(w, role="canary"), percent)
        return out

    def apply(self, desired: dict[SlotKey, tuple[Workload, int | None]], when: str, marker: str,
              locator: str, commit: str | None = None) -> None:
        """Move to ``desired`` at time ``when``; new deployments are named ``@marker``."""
        for key in sorted(set(self.live) - set(desired)):
            self._close(self.live.pop(key), when, marker)
        for key, (workload, traffic) in sorted(desired.items()):
            current = self.live.get(key)
            if current is not None and current.workload.serving == workload.serving:
                if current.traffic != traffic:
                    current.traffic = traffic
                    history = [{"at": when, "traffic": traffic}]
                    self.facts.add_node(Node(current.node_id, NodeKind.DEPLOYMENT, "",
                                             {"traffic": traffic, "traffic_history": history}))
                continue
            if current is not None:
                self._close(current, when, marker)
            self.live[key] = self._open(key, workload, traffic, when, marker, locator, commit)

    def _close(self, live: Live, when: str, marker: str) -> None:
        self.facts.add_node(Node(live.node_id, NodeKind.DEPLOYMENT, "", {"until": when, "replaced_by": marker}))

    def _open(self, key: SlotKey, w: Workload, traffic: int | None, when: str, marker: str, locator: str,
              commit: str | None) -> Live:
        env, endpoint, role = key
        slot = endpoint if role == "default" else f"{endpoint}:{role}"
        node_id = deployment_id(env, slot, marker)
        props: dict[str, Any] = {
            "environment": env, "endpoint": endpoint, "role": role, "kind": w.kind, "since": when,
            "manifest": w.path, "images": list(w.images),
        }
        if w.images:
            props["image"] = w.images[0]
        if w.storage_uri:
            props["storage_uri"] = w.storage_uri
        if len(w.storage_uris) > 1:
            props["storage_uris"] = list(w.storage_uris)
        if traffic is not None:
            props["traffic"] = traffic
            props["traffic_history"] = [{"at": when, "traffic": traffic}]
        if commit:
            props["commit"] = commit
        label = f"{env}/{slot} since {when[:10]}"
        self.facts.add_node(Node(node_id, NodeKind.DEPLOYMENT, label, props))
        where = f"{locator}:{w.path}" if w.path and not locator.endswith(w.path) else locator
        for image in w.images:
            self._serve_image(node_id, image, where, f"container image in {w.kind}")
        for uri in w.storage_uris:
            self._serve_uri(node_id, uri, where, w.kind)
        return Live(node_id, w, traffic)

    def _serve_image(self, node_id: str, ref: str, where: str, rule: str) -> None:
        parsed = parse_image_ref(ref)
        if parsed.digest:
            target = image_id(parsed.repository, parsed.digest)
            self.facts.link(node_id, target, EdgeKind.SERVES, Evidence(self.source, where, f"{rule}, by digest"))
            return
        tag = parsed.tag or "latest"
        hits = self.lookup.images_with_tag(parsed.repository, tag)
        if len(hits) == 1:
            evidence = Evidence(self.source, where, f"{rule}, tag {tag} resolved through the scanned registry")
            self.facts.link(node_id, hits[0], EdgeKind.SERVES, evidence)
            return
        self.unresolved += 1
        reason = (f"image {ref} is given by tag and the tag names {len(hits)} scanned images: cannot tell which "
                  "one served" if hits else
                  f"image {ref} is given by tag and no scanned registry has that tag (scan the registry, or pin "
                  "the image by digest)")
        self.facts.gap(Gap(node_id, "unresolved_image_tag", reason, where, tuple(hits)))

    def _serve_uri(self, node_id: str, uri: str, where: str, kind: str) -> None:
        rule = f"storageUri of {kind}"
        if uri.startswith("oci://"):
            self._serve_image(node_id, uri.removeprefix("oci://"), where, rule)
            return
        if uri.startswith("models:/"):
            body = uri.removeprefix("models:/").strip("/")
            target = None
            if re.fullmatch(r"m-[0-9a-f]+", body):
                target = model_id(body)
            elif "@" not in body and "/" in body:
                name, _, version = body.rpartition("/")
                target = model_version_id(name, version)
            if target:
                self.facts.link(node_id, target, EdgeKind.SERVES, Evidence(self.source, where, rule))
                return
            self.unresolved += 1
            self.facts.gap(Gap(node_id, "unpinned_model_uri",
                               f"storageUri {uri} names an alias: which version served depends on when the "
                               "alias moved, so it is not pinned", where))
            return
        hits = self.lookup.models_at_uri(uri)
        if len(hits) == 1:
            evidence = Evidence(self.source, where, f"{rule}, matched the model's artifact location")
            self.facts.link(node_id, hits[0], EdgeKind.SERVES, evidence)
            return
        self.unresolved += 1
        reason = (f"storageUri {uri} matches {len(hits)} models" if hits else
                  f"storageUri {uri} matches no model artifact location in the store (scan MLflow first)")
        self.facts.gap(Gap(node_id, "unresolved_storage_uri", reason, where, tuple(hits)))
