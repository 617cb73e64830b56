"""Artifacts attached to an image: SBOMs, signatures, attestations.

Found through the OCI 1.1 referrers API and, because registries such as distribution 2.8 lack it,
through the tag schema fallback: an index tagged ``sha256-<hex>`` listing referrers, and
cosign-style ``sha256-<hex>.sig`` / ``.att`` / ``.sbom`` tags. Each becomes a ``signature`` node
(``signs`` the image) or a ``bom`` node (``describes`` the image).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from explorer.lineage import EdgeKind, Evidence, Facts, Gap, Node, NodeKind, bom_id, signature_id
from explorer.oci_client import INDEX_TYPES, MAX_MANIFEST_BYTES, Fetched, RegistryError

MAX_ATTACHMENT = 16 * 1024 * 1024
FALLBACK_SUFFIXES = {".sig": "signature", ".att": "attestation", ".sbom": "sbom"}


class ImageRepository(Protocol):
    """What the OCI source reads: a registry repository or an image layout directory."""

    @property
    def name(self) -> str: ...

    def tags(self) -> list[str]: ...
    def manifest(self, reference: str) -> Fetched: ...
    def blob(self, digest: str, limit: int) -> bytes: ...
    def open_blob(self, digest: str) -> Iterator[bytes]: ...
    def referrers(self, digest: str) -> list[dict[str, Any]] | None: ...


@dataclass(frozen=True, slots=True)
class Attached:
    """A referrer manifest and how it was found."""

    digest: str
    hint: str  # signature / attestation / sbom / "" (decide from media types)
    via: str


def fallback_tag(digest: str) -> str:
    return digest.replace(":", "-", 1)


def is_fallback_tag(tag: str) -> bool:
    head = tag.split(".", 1)[0]
    return head.startswith("sha256-") and len(head) == 7 + 64


def find_attached(
    repo: ImageRepository, digest: str, tags: set[str], facts: Facts, subject: str
) -> list[Attached]:
    """Referrers of ``digest`` from the API and the tag fallback, each once."""
    found: dict[str, Attached] = {}
    try:
        api = repo.referrers(digest)
    except RegistryError as exc:
        facts.gap(Gap(subject, "referrers_unreadable", str(exc), f"{repo.name}@{digest}"))
        api = None
    for desc in api or []:
        if desc.get("digest"):
            found.setdefault(str(desc["digest"]), Attached(str(desc["digest"]), "", "referrers API"))
    base = fallback_tag(digest)
    if base in tags:
        try:
            index = repo.manifest(base)
            if index.media_type in INDEX_TYPES:
                for desc in index.json().get("manifests") or []:
                    if isinstance(desc, dict) and desc.get("digest"):
                        found.setdefault(
                            str(desc["digest"]), Attached(str(desc["digest"]), "", f"tag {base}")
                        )
        except (RegistryError, ValueError) as exc:
            facts.gap(Gap(subject, "referrers_unreadable", f"tag {base}: {exc}", f"{repo.name}:{base}"))
    for suffix, hint in FALLBACK_SUFFIXES.items():
        if base + suffix in tags:
            try:
                fetched = repo.manifest(base + suffix)
            except RegistryError as exc:
                facts.gap(Gap(subject, "referrers_unreadable", str(exc), f"{repo.name}:{base}{suffix}"))
                continue
            found.setdefault(fetched.digest, Attached(fetched.digest, hint, f"tag {base}{suffix}"))
    return list(found.values())


def record_attached(repo: ImageRepository, item: Attached, subject: str, facts: Facts) -> None:
    """Read one referrer manifest and record what its layers are."""
    try:
        doc = repo.manifest(item.digest).json()
    except (RegistryError, ValueError) as exc:
        facts.gap(
            Gap(
                subject,
                "referrer_unreadable",
                f"referrer {item.digest[:19]}: {exc}",
                f"{repo.name}@{item.digest}",
            )
        )
        return
    artifact_type = str(doc.get("artifactType") or (doc.get("config") or {}).get("mediaType") or "")
    annotations = doc.get("annotations") or {}
    for layer in doc.get("layers") or []:
        if not isinstance(layer, dict) or not layer.get("digest"):
            continue
        kind = _classify(item.hint, artifact_type, str(layer.get("mediaType", "")))
        locator = f"{repo.name}@{item.digest} layer {str(layer['digest'])[:19]} ({item.via})"
        if kind == "sbom":
            _bom(repo, layer, subject, artifact_type, locator, facts)
        elif kind in ("signature", "attestation"):
            _signature(
                repo,
                layer,
                kind,
                subject,
                artifact_type,
                {**annotations, **(layer.get("annotations") or {})},
                locator,
                facts,
            )


def _classify(hint: str, artifact_type: str, layer_type: str) -> str:
    text = f"{artifact_type} {layer_type}".lower()
    if "spdx" in text or "cyclonedx" in text or hint == "sbom":
        return "sbom"
    if "in-toto" in text or "dsse" in text or hint == "attestation":
        return "attestation"
    if "signature" in text or "cosign" in text or "sigstore" in text or hint == "signature":
        return "signature"
    return ""


def _bom(
    repo: ImageRepository, layer: dict[str, Any], subject: str, artifact_type: str, locator: str, facts: Facts
) -> None:
    digest = str(layer["digest"])
    props: dict[str, Any] = {
        "subject": subject,
        "oci_digest": digest,
        "media_type": layer.get("mediaType", ""),
        "artifact_type": artifact_type,
    }
    serial = None
    try:
        doc = json.loads(repo.blob(digest, MAX_ATTACHMENT))
    except (RegistryError, ValueError) as exc:
        facts.gap(Gap(subject, "sbom_unreadable", f"SBOM {digest[:19]}: {exc}", locator))
        doc = None
    if isinstance(doc, dict):
        if doc.get("bomFormat") == "CycloneDX":
            serial = doc.get("serialNumber")
            props.update(format="cyclonedx", spec_version=doc.get("specVersion"))
            tools = (doc.get("metadata") or {}).get("tools")
            if isinstance(tools, dict) and tools.get("components"):
                props["generator"] = tools["components"][0].get("name")
        elif doc.get("spdxVersion"):
            serial = doc.get("documentNamespace")
            props.update(format="spdx", spec_version=doc.get("spdxVersion"))
    # no serial number: the blob digest is the only stable identity the SBOM has
    node_id = bom_id(str(serial) if serial else f"oci:{digest}")
    props["serial_number"] = serial
    facts.add_node(Node(node_id, NodeKind.BOM, f"SBOM of {subject.rsplit('@', 1)[-1][:19]}", props))
    facts.link(node_id, subject, EdgeKind.DESCRIBES, Evidence("oci", locator, "SBOM attached to the image"))


def _signature(
    repo: ImageRepository,
    layer: dict[str, Any],
    kind: str,
    subject: str,
    artifact_type: str,
    annotations: dict[str, Any],
    locator: str,
    facts: Facts,
) -> None:
    digest = str(layer["digest"])
    props: dict[str, Any] = {
        "method": "attestation" if kind == "attestation" else "cosign",
        "subject_name": subject,
        "media_type": layer.get("mediaType", ""),
        "artifact_type": artifact_type,
        "oci_digest": digest,
        "verified": None,  # recorded, not verified: `mlprov verify` decides
    }
    if "sigstore.bundle" in str(layer.get("mediaType", "")):
        props["method"] = "sigstore"
    if kind == "attestation":
        predicate = annotations.get("predicateType") or _predicate_type(repo, digest)
        if predicate:
            props["predicate_type"] = predicate
    node_id = signature_id(digest.partition(":")[2])
    label = f"{'attestation' if kind == 'attestation' else 'signature'} of {subject.rsplit('@', 1)[-1][:19]}"
    facts.add_node(Node(node_id, NodeKind.SIGNATURE, label, props))
    facts.link(node_id, subject, EdgeKind.SIGNS, Evidence("oci", locator, f"{kind} attached to the image"))


def _predicate_type(repo: ImageRepository, digest: str) -> str | None:
    """The in-toto predicate type inside a DSSE envelope (payload is base64 JSON)."""
    try:
        envelope = json.loads(repo.blob(digest, MAX_MANIFEST_BYTES))
        statement = json.loads(base64.b64decode(envelope.get("payload", "")))
    except (RegistryError, ValueError, TypeError, AttributeError):
        return None
    return str(statement.get("predicateType")) if isinstance(statement, dict) else None
