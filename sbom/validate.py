"""Validate any CycloneDX JSON BOM: the strict JSON schema of its spec version, then every reference.

The schema does not check that a ``ref`` names a ``bom-ref`` in the same document, nor that
bom-refs are unique; :func:`reference_errors` does, for ours and third parties' BOMs alike.
BOM-Links to other documents (``urn:cdx:<serial>/<version>#ref``) are left alone unless they
point into this very BOM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

SUPPORTED = {f"1.{n}": SchemaVersion.from_version(f"1.{n}") for n in range(2, 8)}
# Keys whose list items are refs (dependency graph, compositions); any "ref" key holds one ref.
_REF_LIST_KEYS = {"dependsOn", "provides", "assemblies", "dependencies", "vulnerabilities"}


class BomReadError(Exception):
    """The file is not a CycloneDX JSON document: the message names the file."""


@dataclass(slots=True)
class ValidationReport:
    spec_version: str
    schema_errors: list[str] = field(default_factory=list)
    reference_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.schema_errors and not self.reference_errors

    @property
    def errors(self) -> list[str]:
        return [*self.schema_errors, *self.reference_errors]

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.ok,
            "spec_version": self.spec_version,
            "schema_errors": self.schema_errors,
            "reference_errors": self.reference_errors,
        }


def load_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise BomReadError(f"cannot read {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BomReadError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("bomFormat") != "CycloneDX":
        raise BomReadError(f"{path} is not a CycloneDX JSON BOM (no bomFormat: CycloneDX)")
    return doc


def validate_file(path: Path) -> ValidationReport:
    return validate_document(load_json(path))


def validate_document(doc: dict[str, Any], text: str | None = None) -> ValidationReport:
    """Schema errors (all of them, each with its JSON path) and dangling or duplicate refs.

    ``text`` is the serialised form when the caller has it, so the bytes checked are the bytes shipped.
    """
    spec = str(doc.get("specVersion", ""))
    report = ValidationReport(spec)
    schema = SUPPORTED.get(spec)
    if schema is None:
        report.schema_errors.append(f"unsupported specVersion {spec!r} (supported: {', '.join(SUPPORTED)})")
        return report
    errors = JsonStrictValidator(schema).validate_str(text or json.dumps(doc), all_errors=True)
    for error in errors or ():
        report.schema_errors.append(_describe(error))
    report.reference_errors.extend(reference_errors(doc))
    return report


def _describe(error: Any) -> str:
    data = getattr(error, "data", None)
    path = "/".join(str(p) for p in getattr(data, "absolute_path", ()))
    message = getattr(data, "message", None) or str(error)
    return f"/{path}: {message}" if path else message


def reference_errors(doc: dict[str, Any]) -> list[str]:
    """Duplicate bom-refs and refs that resolve to no bom-ref in this document."""
    defined: dict[str, str] = {}
    errors: list[str] = []
    for where, value in _bom_refs(doc, ""):
        if value in defined:
            errors.append(f"{where}: bom-ref {value!r} is already defined at {defined[value]}")
        else:
            defined[value] = where
    own_link = _own_bom_link(doc)
    for where, value in _refs(doc, ""):
        target = value
        if value.startswith("urn:cdx:"):
            if own_link is None or not value.startswith(own_link):
                continue  # a BOM-Link into another BOM: not resolvable here
            target = value.partition("#")[2]
        if target not in defined:
            errors.append(f"{where}: ref {value!r} matches no bom-ref in this BOM")
    return errors


def _own_bom_link(doc: dict[str, Any]) -> str | None:
    serial = str(doc.get("serialNumber", ""))
    if not serial.startswith("urn:uuid:"):
        return None
    return f"urn:cdx:{serial.removeprefix('urn:uuid:')}/{doc.get('version', 1)}#"


def _bom_refs(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key == "bom-ref" and isinstance(value, str):
                yield here, value
            else:
                yield from _bom_refs(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _bom_refs(item, f"{path}/{i}")


def _refs(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}/{key}"
            if key == "ref" and isinstance(value, str):
                yield here, value
            elif key in _REF_LIST_KEYS and isinstance(value, list) and all(isinstance(v, str) for v in value):
                yield from ((f"{here}/{i}", v) for i, v in enumerate(value))
            else:
                yield from _refs(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _refs(item, f"{path}/{i}")
