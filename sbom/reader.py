"""Read CycloneDX ML-BOMs back, ours or a third party's, without losing what the library drops.

``Bom.from_json`` of cyclonedx-python-lib silently drops ``modelCard``, ``data`` and
``formulation``; this reader keeps the JSON as written and offers typed views of the ML parts.
:func:`bom_facts` turns a BOM into lineage facts: a ``bom:<serialNumber>`` node that
``describes`` the model / model version it names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packageurl import PackageURL

from explorer.lineage import EdgeKind, Evidence, Facts, Gap, Node, NodeKind, bom_id, model_id, model_version_id
from sbom.validate import BomReadError

_LINEAGE_PREFIXES = ("model_version:", "model:")


@dataclass(slots=True)
class BomDocument:
    """A CycloneDX JSON BOM as written, with the ML parts easy to reach."""

    raw: dict[str, Any]
    locator: str
    sha256: str

    @property
    def serial_number(self) -> str | None:
        value = self.raw.get("serialNumber")
        return str(value) if value else None

    @property
    def spec_version(self) -> str:
        return str(self.raw.get("specVersion", ""))

    @property
    def subject(self) -> dict[str, Any] | None:
        component = self.raw.get("metadata", {}).get("component")
        return component if isinstance(component, dict) else None

    def components(self) -> Iterator[dict[str, Any]]:
        """Every component, metadata.component and nested ones included, depth first."""
        roots = [c for c in [self.subject, *(self.raw.get("components") or [])] if isinstance(c, dict)]
        stack = list(reversed(roots))
        while stack:
            component = stack.pop()
            yield component
            stack.extend(reversed([c for c in component.get("components") or [] if isinstance(c, dict)]))

    def models(self) -> list[dict[str, Any]]:
        return [c for c in self.components() if c.get("type") == "machine-learning-model"]

    def model_cards(self) -> dict[str, dict[str, Any]]:
        """``modelCard`` by the component's bom-ref (or name when it has none)."""
        return {_key(c): c["modelCard"] for c in self.models() if isinstance(c.get("modelCard"), dict)}

    def data(self) -> dict[str, list[dict[str, Any]]]:
        """The ``data`` entries of every ``data`` component, by bom-ref (or name)."""
        return {_key(c): list(c.get("data") or []) for c in self.components() if c.get("type") == "data"}

    @property
    def formulation(self) -> list[dict[str, Any]]:
        return list(self.raw.get("formulation") or [])

    def generator(self) -> str | None:
        tools = self.raw.get("metadata", {}).get("tools")
        entries = tools.get("components", []) if isinstance(tools, dict) else tools or []  # 1.5+ / legacy list
        names = [" ".join(str(t[k]) for k in ("name", "version") if t.get(k)) for t in entries if isinstance(t, dict)]
        return ", ".join(n for n in names if n) or None


def read_bom(path: Path) -> BomDocument:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BomReadError(f"cannot read {path}: {exc.strerror}") from exc
    return read_bom_bytes(data, str(path))


def read_bom_bytes(data: bytes, locator: str) -> BomDocument:
    """A BOM from bytes (a file, or an OCI referrer's blob); ``locator`` names where it came from."""
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BomReadError(f"{locator} is not JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("bomFormat") != "CycloneDX":
        raise BomReadError(f"{locator} is not a CycloneDX JSON BOM (no bomFormat: CycloneDX)")
    return BomDocument(raw, locator, hashlib.sha256(data).hexdigest())


def bom_facts(path: Path) -> Facts:
    """What ``mlprov scan --bom FILE`` records: the BOM node and what it describes."""
    return facts_from_document(read_bom(path))


def facts_from_document(doc: BomDocument) -> Facts:
    facts = Facts()
    # a BOM without a serial number (optional in the schema) is identified by its bytes
    serial = doc.serial_number or f"sha256:{doc.sha256}"
    node_id = bom_id(serial)
    subjects = _subjects(doc)
    props: dict[str, Any] = {
        "serial_number": doc.serial_number,
        "spec_version": doc.spec_version,
        "path": doc.locator,
        "generator": doc.generator(),
        "subject": subjects[0][0] if subjects else None,
        "sha256": doc.sha256,
    }
    label = f"BOM of {subjects[0][0].partition(':')[2]}" if subjects else f"BOM {serial}"
    facts.add_node(Node(node_id, NodeKind.BOM, label, {k: v for k, v in props.items() if v is not None}))
    for target, component, rule in subjects:
        kind = NodeKind.MODEL_VERSION if target.startswith("model_version:") else NodeKind.MODEL
        facts.add_node(Node(target, kind, target.partition(":")[2], _subject_properties(kind, component)))
        ref = component.get("bom-ref") or component.get("name")
        facts.link(node_id, target, EdgeKind.DESCRIBES, Evidence("bom", f"{doc.locator}#{ref}", rule))
    if not subjects:
        names = [str(c.get("name")) for c in doc.models()] or ["(no machine-learning-model component)"]
        facts.gap(
            Gap(
                node_id,
                "unresolved_bom_subject",
                f"the BOM names no MLflow model version or model mlprov can identify: {', '.join(names)}",
                doc.locator,
            )
        )
    return facts


def _subjects(doc: BomDocument) -> list[tuple[str, dict[str, Any], str]]:
    """(lineage id, component, rule) for each model the BOM names in a way mlprov can resolve."""
    subject = doc.subject
    candidates = [subject] if subject and subject.get("type") == "machine-learning-model" else doc.models()
    found: dict[str, tuple[str, dict[str, Any], str]] = {}
    for component in candidates:
        ref = str(component.get("bom-ref") or "")
        if ref.startswith(_LINEAGE_PREFIXES):
            found.setdefault(ref, (ref, component, "bom-ref is a lineage id"))
        purl = _mlflow_purl(component.get("purl"))
        if purl is not None and purl.version:
            mv = model_version_id(purl.name, purl.version)
            found.setdefault(mv, (mv, component, "pkg:mlflow purl names the registered version"))
            uuid_ = (purl.qualifiers or {}).get("model_uuid")
            if isinstance(uuid_, str) and uuid_:
                found.setdefault(model_id(uuid_), (model_id(uuid_), component, "pkg:mlflow purl model_uuid"))
    return list(found.values())


def _mlflow_purl(value: Any) -> PackageURL | None:
    if not isinstance(value, str) or not value.startswith("pkg:mlflow/"):
        return None
    try:
        return PackageURL.from_string(value)
    except ValueError:
        return None


def _subject_properties(kind: NodeKind, component: dict[str, Any]) -> dict[str, Any]:
    """Only what the BOM states and the property contract names (never overwriting with guesses)."""
    if kind != NodeKind.MODEL_VERSION:
        return {}
    purl = _mlflow_purl(component.get("purl"))
    name = purl.name if purl else component.get("name")
    version = purl.version if purl else component.get("version")
    return {k: v for k, v in (("name", name), ("version", version)) if v}


def _key(component: dict[str, Any]) -> str:
    return str(component.get("bom-ref") or component.get("name") or "")
