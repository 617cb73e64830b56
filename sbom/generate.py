"""One entry point for writers of BOMs (the CLI, the benchmark): facts in, validated text out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sbom.cyclonedx import SpecVersion, build_bom, dumps
from sbom.facts import MLModelFacts
from sbom.validate import ValidationReport, validate_document

OutputFormat = Literal["cyclonedx", "spdx3"]


@dataclass(slots=True)
class GeneratedBom:
    text: str
    document: dict[str, Any]
    report: ValidationReport
    summary: dict[str, Any] = field(default_factory=dict)


def generate(facts: MLModelFacts, fmt: OutputFormat = "cyclonedx", spec_version: SpecVersion = "1.6") -> GeneratedBom:
    if fmt == "spdx3":
        from sbom.spdx import build_spdx, check_spdx

        doc = build_spdx(facts)
        text = dumps(doc)
        report = check_spdx(doc)
    else:
        doc = build_bom(facts, spec_version)
        text = dumps(doc)
        report = validate_document(doc, text)
    return GeneratedBom(text, doc, report, summarize(facts, fmt, doc, report))


def summarize(facts: MLModelFacts, fmt: str, doc: dict[str, Any], report: ValidationReport) -> dict[str, Any]:
    return {
        "format": fmt,
        "spec_version": report.spec_version,
        "serial_number": doc.get("serialNumber") or doc.get("@graph", [{}])[0].get("spdxId"),
        "subject": {"ref": facts.ref, "name": facts.name, "version": facts.version},
        "model_files": len(facts.files),
        "libraries": len(facts.requirements),
        "datasets": len(facts.data),
        "workflows": len(facts.runs) or (1 if facts.producing_stages else 0),
        "stages": len(facts.stages),
        "images": len(facts.images),
        "valid": report.ok,
        "errors": report.errors,
        "notes": list(facts.notes),
    }


def default_filename(facts: MLModelFacts, fmt: OutputFormat) -> str:
    """``<name>-<version>.cdx.json`` (``.spdx.json`` for SPDX), safe as one path component."""
    stem = facts.name if facts.version is None else f"{facts.name}-{facts.version}"
    stem = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in stem).lstrip(".") or "model"
    return f"{stem}.{'spdx' if fmt == 'spdx3' else 'cdx'}.json"
