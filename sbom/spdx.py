"""The same facts as SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.

The model is an ``ai_AIPackage`` (its files ``software_File`` with SHA-256), each dataset a
``dataset_DatasetPackage``, each requirement a ``software_Package``; relationships say the model
``trainedOn``/``testedOn`` its data (by the run's recorded dataset context), ``dependsOn`` its
libraries and ``contains`` its files, and the image ``contains`` the model.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sbom.cdx_blocks import all_metrics, metric_text
from sbom.facts import DataVersion, MLModelFacts
from sbom.refs import image_purl, model_purl, remote_object_url, repository_url, requirement_purl
from sbom.times import parse_time, rfc3339, source_date_epoch
from sbom.validate import ValidationReport

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
SPEC_VERSION = "3.0.1"
_NAMESPACE = uuid.UUID("0e3b7a52-8a43-5d0b-a7b1-6d6c70726f76")
_CREATION = "_:creationinfo"
_TESTED_CONTEXTS = {"evaluation", "eval", "test", "testing", "validation"}
_EPOCH_FALLBACK = "1970-01-01T00:00:00Z"  # CreationInfo.created is required; used only when nothing is recorded


class _Graph:
    def __init__(self, base: str) -> None:
        self.base = base
        self.elements: list[dict[str, Any]] = []
        self._rel = 0

    def iri(self, local: str) -> str:
        safe = "".join(c if c.isalnum() or c in "-._~" else "-" for c in local)
        return f"{self.base}#{safe}"

    def add(self, kind: str, local: str, **fields: Any) -> str:
        spdx_id = self.iri(local)
        self.elements.append({"type": kind, "spdxId": spdx_id, "creationInfo": _CREATION, **_clean(fields)})
        return spdx_id

    def relate(self, source: str, kind: str, targets: list[str]) -> None:
        if targets:
            self._rel += 1
            self.add("Relationship", f"rel-{self._rel}", relationshipType=kind, **{"from": source, "to": targets})


def build_spdx(facts: MLModelFacts) -> dict[str, Any]:
    draft = _document(facts, "urn:placeholder")
    canonical = json.dumps(draft, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc_uuid = uuid.uuid5(_NAMESPACE, canonical)
    name = "".join(c if c.isalnum() or c in "-._" else "-" for c in facts.name)
    return _document(facts, f"https://spdx.org/spdxdocs/mlprov-{name}-{doc_uuid}")


def _document(facts: MLModelFacts, base: str) -> dict[str, Any]:
    g = _Graph(base)
    agent = g.add("SoftwareAgent", "mlprov", name="mlprov")
    model = _model(g, facts)
    _files(g, facts, model)
    _data(g, facts, model)
    libs = [
        g.add(
            "software_Package",
            f"pkg-{requirement_purl(r).to_string()}",
            name=r.name,
            software_packageVersion=r.version,
            software_packageUrl=requirement_purl(r).to_string(),
            software_primaryPurpose="library",
        )
        for r in facts.requirements
    ]
    g.relate(model, "dependsOn", libs)
    for image in facts.images:
        purl = image_purl(image).to_string()
        img = g.add(
            "software_Package",
            f"image-{image.digest}",
            name=image.repository,
            software_packageVersion=image.digest,
            software_packageUrl=purl,
            software_primaryPurpose="container",
        )
        g.relate(img, "contains", [model])
    document = g.add(
        "SpdxDocument",
        "document",
        name=f"ML-BOM of {facts.name}" + (f" {facts.version}" if facts.version else ""),
        profileConformance=["core", "software", "ai", "dataset"],
        rootElement=[model],
        element=[e["spdxId"] for e in g.elements],
    )
    creation = {
        "type": "CreationInfo",
        "@id": _CREATION,
        "specVersion": SPEC_VERSION,
        "created": _created(facts),
        "createdBy": [agent],
    }
    ordered = [creation, *sorted(g.elements, key=lambda e: (e["spdxId"] != document, e["spdxId"]))]
    return {"@context": CONTEXT, "@graph": ordered}


def _model(g: _Graph, facts: MLModelFacts) -> str:
    purl = model_purl(facts)
    refs = [
        {
            "type": "ExternalRef",
            "externalRefType": "vcs",
            "locator": [repository_url(c.remote_url)],
            "comment": sha,
        }
        for sha, c in sorted(facts.commits.items())
        if c.remote_url
    ]
    training = [f"MLflow run {r.run_id}" + (f" ({r.experiment})" if r.experiment else "") for r in facts.runs]
    ends = [parse_time(r.end_time) for r in facts.runs if r.end_time]
    return g.add(
        "ai_AIPackage",
        "model",
        name=facts.name,
        description=facts.description,
        software_packageVersion=facts.version,
        software_packageUrl=purl.to_string() if purl else None,
        software_primaryPurpose="model",
        software_downloadLocation=facts.artifact_location if _is_remote(facts.artifact_location) else None,
        releaseTime=_z(facts.created),
        builtTime=_z(rfc3339(max(t for t in ends if t))) if any(ends) else None,
        ai_typeOfModel=[t for t in (facts.estimator_class, facts.primary_flavor) if t] or None,
        ai_domain=[facts.task] if facts.task else None,
        ai_hyperparameter=[
            {"type": "DictionaryEntry", "key": k, "value": v} for k, v in sorted(facts.hyperparameters.items())
        ]
        or None,
        ai_metric=[
            {
                "type": "DictionaryEntry",
                "key": m.name + (f" ({m.context})" if m.context else ""),
                "value": metric_text(m.value),
            }
            for m in all_metrics(facts)
        ]
        or None,
        ai_informationAboutTraining="; ".join(training) or None,
        externalRef=refs or None,
    )


def _files(g: _Graph, facts: MLModelFacts, model: str) -> None:
    files = [
        g.add(
            "software_File",
            f"file-{f.path}",
            name=f.path,
            verifiedUsing=[{"type": "Hash", "algorithm": "sha256", "hashValue": f.sha256}],
        )
        for f in facts.files
    ]
    g.relate(model, "contains", files)


def _data(g: _Graph, facts: MLModelFacts, model: str) -> None:
    trained: list[str] = []
    tested: list[str] = []
    for data in facts.training_data():
        ident = _dataset(g, data)
        roles = {c.lower() for c in data.contexts}
        if roles & _TESTED_CONTEXTS:
            tested.append(ident)
        if not roles or roles - _TESTED_CONTEXTS:  # a training input, or one the run gave no other role
            trained.append(ident)
    g.relate(model, "trainedOn", trained)
    g.relate(model, "testedOn", tested)


def _dataset(g: _Graph, data: DataVersion) -> str:
    verified = None
    if data.algorithm == "md5" and data.digest and not data.is_directory:
        verified = [{"type": "Hash", "algorithm": "md5", "hashValue": data.digest}]
    version = f"{data.algorithm}:{data.digest}" if data.algorithm and data.digest else data.digest
    ident = g.add(
        "dataset_DatasetPackage",
        f"data-{data.ref}",
        name=data.path or data.name,
        software_packageVersion=version,
        software_primaryPurpose="data",
        software_downloadLocation=remote_object_url(data),
        dataset_datasetType=["noAssertion"],  # required; DVC and MLflow record no data type
        dataset_datasetSize=data.size,
        verifiedUsing=verified,
    )
    return ident


def _created(facts: MLModelFacts) -> str:
    fixed = source_date_epoch()
    if fixed is not None:
        return fixed.isoformat(timespec="seconds").replace("+00:00", "Z")
    times = [parse_time(facts.created), *(parse_time(r.end_time) for r in facts.runs)]
    known = [t for t in times if t is not None]
    return max(known).isoformat(timespec="seconds").replace("+00:00", "Z") if known else _EPOCH_FALLBACK


def _z(value: str | None) -> str | None:
    """SPDX DateTime is seconds precision with a Z."""
    parsed = parse_time(value)
    return parsed.isoformat(timespec="seconds").replace("+00:00", "Z") if parsed else None


def _is_remote(location: str | None) -> bool:
    return bool(location and "://" in location and not location.startswith("file://"))


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != ""}


def check_spdx(doc: dict[str, Any]) -> ValidationReport:
    """Every id reference resolving, required keys present, and, where the SPDX bindings
    (``spdx-python-model``) are installed, every class, property and enum value known to SPDX 3.0.1."""
    report = ValidationReport(SPEC_VERSION)
    report.schema_errors.extend(_binding_errors(doc))
    if doc.get("@context") != CONTEXT:
        report.schema_errors.append(f"@context is not {CONTEXT}")
    graph = doc.get("@graph") or []
    ids = {e.get("spdxId") for e in graph if isinstance(e, dict)}
    for element in graph:
        if element.get("type") == "CreationInfo":
            continue
        for key in ("type", "spdxId", "creationInfo"):
            if key not in element:
                report.schema_errors.append(f"{element.get('spdxId', '?')}: missing {key}")
        refs = [element.get("from"), *(element.get("to") or []), *(element.get("rootElement") or [])]
        refs.extend(element.get("element") or [])
        for ref in refs:
            if ref is not None and ref not in ids:
                report.reference_errors.append(f"{element.get('spdxId')}: {ref} names no element")
    return report


def _binding_errors(doc: dict[str, Any]) -> list[str]:
    try:
        from spdx_python_model import v3_0_1 as model
    except ImportError:
        return []
    import io

    try:
        model.JSONLDDeserializer().read(io.BytesIO(json.dumps(doc).encode()), model.SHACLObjectSet())
    except (ValueError, TypeError, KeyError) as exc:
        return [f"SPDX 3.0.1 model: {exc}"]
    return []
