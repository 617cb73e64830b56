"""Prediction-log record formats: recognise one and read what trace needs from it.

Every format is turned into a :class:`PredictionRecord`: request id(s), time, endpoint,
environment, role (default/canary or a variant), and the model name/version when the log carries
them (MLServer, Databricks legacy) — KServe and SageMaker do not, so trace resolves those
through the deployment history.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from explorer.times import iso

FORMATS = ("auto", "kserve", "mlserver", "databricks", "sagemaker", "generic")
MAPPED_FIELDS = ("request_id", "time", "endpoint", "environment", "role", "model_name", "model_version",
                 "inputs", "outputs")
# SageMaker Data Capture: s3://bucket/prefix/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl
_SAGEMAKER_PATH = re.compile(r"(?:^|/)(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/[^/]+$")


@dataclass(slots=True)
class PredictionRecord:
    """One logged prediction (request and response joined when the log splits them)."""

    request_id: str
    format: str
    file: str
    time: datetime | None = None
    endpoint: str | None = None
    environment: str | None = None
    role: str | None = None
    model_name: str | None = None
    model_version: str | None = None
    inputs: Any = None
    outputs: Any = None
    ids: dict[str, str] = field(default_factory=dict)  # every id the record carries, by field
    phase: str = "both"  # KServe/MLServer events: "request" or "response"
    raw: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "ids": self.ids,
            "format": self.format,
            "file": self.file,
            "time": iso(self.time) if self.time else None,
            "endpoint": self.endpoint,
            "environment": self.environment,
            "role": self.role,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "inputs": self.inputs,
            "outputs": self.outputs,
        }


def parse_time(value: Any, unit: str | None = None) -> datetime | None:
    """RFC 3339 text, a datetime, or epoch seconds/ms/µs (by ``unit`` or by magnitude)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value)):
        number = float(value)
        scale = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}.get(unit or "", 0)
        if not scale:
            scale = 1e9 if number > 1e17 else 1e6 if number > 1e14 else 1e3 if number > 1e11 else 1
        return datetime.fromtimestamp(number / scale, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _ce(doc: dict[str, Any]) -> dict[str, Any]:
    """CloudEvent attributes, whether stored as ``ce-*`` HTTP headers or structured, lower-cased."""
    attrs: dict[str, Any] = {}
    for scope in (doc, doc.get("headers") or {}, doc.get("attributes") or {}):
        if isinstance(scope, dict):
            for key, value in scope.items():
                name = str(key).lower()
                attrs[name.removeprefix("ce-") if name.startswith("ce-") else name] = value
    return attrs


def _body(doc: dict[str, Any]) -> Any:
    body = doc.get("data", doc.get("body"))
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def detect(doc: dict[str, Any]) -> str | None:
    """The format of one JSON record, or None when it is none of the known ones."""
    if "captureData" in doc or "eventMetadata" in doc:
        return "sagemaker"
    if "databricks_request_id" in doc or "request_metadata" in doc or "served_entity_id" in doc:
        return "databricks"
    attrs = _ce(doc)
    kind = str(attrs.get("type", ""))
    body = _body(doc)
    if kind.startswith("org.kubeflow.serving"):  # its V2 responses carry model_name too: the type decides
        return "kserve"
    if kind.startswith("io.seldon") or "modelid" in attrs or "model_name" in doc or (
        isinstance(body, dict) and "model_name" in body
    ):
        return "mlserver"
    if kind.startswith("org.kubeflow.serving") or "inferenceservicename" in attrs:
        return "kserve"
    return None


def read_record(doc: dict[str, Any], fmt: str, file: str, mapping: dict[str, Any] | None = None,
                constants: dict[str, Any] | None = None) -> PredictionRecord | None:
    """A record in ``fmt`` (``auto`` detects); None when it carries no request id."""
    if fmt == "auto":
        fmt = detect(doc) or ("generic" if mapping else "")
    reader = READERS.get(fmt)
    record = reader(doc, file, mapping or {}) if reader else None
    if record is None:
        return None
    for key, value in (constants or {}).items():
        if key in ("endpoint", "environment", "role", "model_name", "model_version") and getattr(record, key) is None:
            setattr(record, key, str(value))
    record.raw.append(doc)
    return record


def _kserve(doc: dict[str, Any], file: str, _m: dict[str, Any]) -> PredictionRecord | None:
    attrs = _ce(doc)
    rid = attrs.get("id")
    if not rid:
        return None
    kind = str(attrs.get("type", ""))
    phase = "response" if kind.endswith("response") else "request" if kind.endswith("request") else "both"
    body = _body(doc)
    return PredictionRecord(
        str(rid), "kserve", file, parse_time(attrs.get("time")),
        endpoint=_s(attrs.get("inferenceservicename")), environment=_s(attrs.get("namespace")),
        role=_s(attrs.get("endpoint")), ids={"ce-id": str(rid)}, phase=phase,
        inputs=body if phase == "request" else None, outputs=body if phase == "response" else None,
    )


def _mlserver(doc: dict[str, Any], file: str, _m: dict[str, Any]) -> PredictionRecord | None:
    attrs = _ce(doc)
    body = _body(doc)
    body = body if isinstance(body, dict) else doc
    ids = {k: str(v) for k, v in (("id", body.get("id")), ("ce-requestid", attrs.get("requestid")),
                                   ("ce-id", attrs.get("id") if body is not doc else None)) if v}
    if not ids:
        return None
    kind = str(attrs.get("type", ""))
    phase = "request" if kind.endswith("request") else "response" if kind.endswith("response") else (
        "response" if "outputs" in body else "request" if "inputs" in body else "both")
    model = _s(body.get("model_name")) or _s(attrs.get("modelid"))
    return PredictionRecord(
        next(iter(ids.values())), "mlserver", file, parse_time(attrs.get("time") or doc.get("time")),
        endpoint=_s(attrs.get("inferenceservicename")) or model, environment=_s(attrs.get("namespace")),
        role=_s(attrs.get("endpoint")), model_name=model, model_version=_s(body.get("model_version")),
        ids=ids, phase=phase, inputs=body.get("inputs"), outputs=body.get("outputs"),
    )


def _databricks(doc: dict[str, Any], file: str, _m: dict[str, Any]) -> PredictionRecord | None:
    ids = {k: str(doc[k]) for k in ("databricks_request_id", "client_request_id") if doc.get(k)}
    if not ids:
        return None
    meta = doc.get("request_metadata") or {}
    if isinstance(meta, list):  # a Parquet MAP read as key/value pairs
        meta = {str(p[0] if isinstance(p, (list, tuple)) else p.get("key")):
                (p[1] if isinstance(p, (list, tuple)) else p.get("value")) for p in meta}
    when = parse_time(doc.get("timestamp_ms"), "ms") if doc.get("timestamp_ms") is not None else parse_time(
        doc.get("request_time"))
    record = PredictionRecord(
        ids.get("client_request_id") or ids["databricks_request_id"], "databricks", file, when,
        endpoint=_s(meta.get("endpoint_name")), model_name=_s(meta.get("model_name")),
        model_version=_s(meta.get("model_version")), ids=ids,
        inputs=_maybe_json(doc.get("request")), outputs=_maybe_json(doc.get("response")),
    )
    if doc.get("served_entity_id"):
        record.ids["served_entity_id"] = str(doc["served_entity_id"])
    return record


def _sagemaker(doc: dict[str, Any], file: str, _m: dict[str, Any]) -> PredictionRecord | None:
    meta = doc.get("eventMetadata") or {}
    ids = {k: str(meta[k]) for k in ("inferenceId", "eventId") if meta.get(k)}
    if doc.get("inferenceId"):
        ids.setdefault("inferenceId", str(doc["inferenceId"]))
    if not ids:
        return None
    match = _SAGEMAKER_PATH.search(file.replace("\\", "/"))
    capture = doc.get("captureData") or {}
    return PredictionRecord(
        ids.get("inferenceId") or ids["eventId"], "sagemaker", file, parse_time(meta.get("inferenceTime")),
        endpoint=match["endpoint"] if match else None, role=match["variant"] if match else None, ids=ids,
        inputs=(capture.get("endpointInput") or {}).get("data"), outputs=(capture.get("endpointOutput") or {}).get(
            "data"),
    )


def _generic(doc: dict[str, Any], file: str, mapping: dict[str, Any]) -> PredictionRecord | None:
    values = {name: dig(doc, str(mapping[name])) for name in MAPPED_FIELDS if mapping.get(name)}
    rid = values.get("request_id")
    if rid in (None, ""):
        return None
    return PredictionRecord(
        str(rid), "generic", file, parse_time(values.get("time"), mapping.get("time_unit")),
        endpoint=_s(values.get("endpoint")), environment=_s(values.get("environment")), role=_s(values.get("role")),
        model_name=_s(values.get("model_name")), model_version=_s(values.get("model_version")),
        ids={str(mapping["request_id"]): str(rid)}, inputs=values.get("inputs"), outputs=values.get("outputs"),
    )


def dig(doc: Any, path: str) -> Any:
    """A value by dotted path (``request.meta.id``); a top-level key with dots wins."""
    if isinstance(doc, dict) and path in doc:
        return doc[path]
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _s(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


READERS = {"kserve": _kserve, "mlserver": _mlserver, "databricks": _databricks, "sagemaker": _sagemaker,
           "generic": _generic}
