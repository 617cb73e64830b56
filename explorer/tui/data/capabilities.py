"""Capabilities other packages provide (trace, diff, ML-BOM, signing, scan), imported only when used.

The explorer offers each one as soon as its module exists. Every function here runs in a worker
thread, imports its module lazily (so start-up never pays for MLflow, sigstore or CycloneDX) and
raises :class:`Unavailable` with a sentence for the user when the module is not installed.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlparse

from explorer.config import Settings
from explorer.files import write_atomically
from explorer.lineage import EdgeKind, Subgraph
from explorer.progress import Progress
from explorer.scan import SourceReport, run_scan, source_factories
from explorer.sources.base import Source
from explorer.store import LineageStore


class Unavailable(Exception):
    """A capability whose module is missing from this installation: the message says which."""


class CapabilityError(Exception):
    """A capability ran and failed: the message is one line for the user."""


def require(module_name: str, what: str) -> ModuleType:
    """Import ``module_name`` or raise :class:`Unavailable` naming ``what`` is missing."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
            raise Unavailable(f"{what} is not available in this installation ({module_name} is missing)") from exc
        raise


def as_document(result: Any) -> dict[str, Any]:
    """A result as the JSON contract of design.md (``to_dict()``, a dict, or a Subgraph)."""
    if isinstance(result, dict):
        return result
    if isinstance(result, Subgraph) or hasattr(result, "to_dict"):
        return dict(result.to_dict())
    raise CapabilityError(f"unexpected result of type {type(result).__name__}")


# --- trace and diff --------------------------------------------------------------------------------


def trace(store: LineageStore, settings: Settings | None, query: str) -> dict[str, Any]:
    """Trace a request id, or a whole pasted log line, to training; the trace's JSON document.

    A request id is looked up in the prediction logs ``mlprov.toml`` lists (in place, with DuckDB);
    a pasted JSON line is read as the record itself, completed from the logs when they hold it.
    """
    trace_module = require("explorer.trace", "Trace")
    predictions = require("explorer.predictions", "Trace")
    text = query.strip()
    pasted = _pasted_record(text)
    request_id = pasted.request_id if pasted is not None else text
    workspace = settings.workspace if settings else Path.cwd()
    try:
        sets = predictions.log_sets(settings.config if settings else {}, workspace)
    except predictions.LogConfigError as exc:
        raise CapabilityError(str(exc)) from exc
    records = predictions.find_request(request_id, sets).records if sets else []
    record = records[0] if records else pasted
    if record is None:
        none = "none configured: `[trace] logs` or `[predictions.NAME]` tables in mlprov.toml"
        searched = ", ".join(s.name for s in sets) or none
        raise CapabilityError(f"request {request_id} is in no prediction log (searched: {searched})")
    doc = as_document(trace_module.trace_record(store, record))
    if len(records) > 1:
        doc.setdefault("notes", []).append(f"{len(records)} records carry this request id: the first is traced")
    return doc


def _pasted_record(text: str) -> Any:
    """A pasted JSON log line as a prediction record; None when ``text`` is a bare request id."""
    if not text.startswith("{"):
        return None
    formats = require("explorer.log_formats", "Trace")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CapabilityError(f"the pasted line is not JSON: {exc}") from exc
    record = formats.read_record(doc, "auto", "(pasted line)") if isinstance(doc, dict) else None
    if record is None:
        raise CapabilityError("the pasted line is in no known log format (KServe, MLServer, Databricks, SageMaker)")
    return record


def diff(store: LineageStore, a: str, b: str) -> dict[str, Any]:
    """Diff two model versions (or runs), given as any reference ``resolve`` accepts."""
    diff_module = require("explorer.diff", "Diff")
    try:
        return as_document(diff_module.diff_models(store, a, b))  # resolves a and b itself
    except diff_module.DiffError as exc:
        raise CapabilityError(str(exc)) from exc


# --- ML-BOM ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class SavedBom:
    """Where a BOM was written and what it holds."""

    path: Path
    valid: bool
    summary: dict[str, Any] = field(default_factory=dict)


def default_bom_path(settings: Settings | None, version_id: str) -> Path:
    """``<workspace>/boms/<name>-<version>.cdx.json``."""
    base = settings.workspace if settings else Path.cwd()
    stem = version_id.removeprefix("model_version:").replace("/", "-")
    stem = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in stem).lstrip(".") or "model"
    return base / "boms" / f"{stem}.cdx.json"


def save_bom(store: LineageStore, version_id: str, path: Path) -> SavedBom:
    """Generate the ML-BOM of a model version from recorded lineage and write it atomically."""
    facts_module = require("sbom.lineage_facts", "ML-BOM generation")
    generate_module = require("sbom.generate", "ML-BOM generation")
    facts = facts_module.facts_from_store(store, version_id)
    generated = generate_module.generate(facts)
    write_atomically(path, generated.text)
    return SavedBom(path, bool(generated.report.ok), dict(generated.summary))


# --- signatures --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Verification:
    """The outcome of verifying one signature bundle of a model version."""

    bundle: Path
    verified: bool
    signer: str
    detail: str


def verify(store: LineageStore, settings: Settings | None, version_id: str) -> list[Verification]:
    """Verify every signature of a model version against the workspace's signer policy.

    Results are recorded in the store as ``signature`` nodes (see :mod:`signing.lineage`).
    """
    verify_module = require("signing.verify", "Signature verification")
    policy_module = require("signing.policy", "Signature verification")
    lineage_module = require("signing.lineage", "Signature verification")
    errors = require("signing.errors", "Signature verification")
    node = store.node(version_id)
    if node is None:
        raise CapabilityError(f"no node {version_id} in the store")
    model_dir = model_path(store, version_id)
    if model_dir is None:
        raise CapabilityError(f"{version_id}: the model's files are not on this machine (no local artifact path)")
    bundles = _bundles(store, version_id, model_dir, lineage_module)
    if not bundles:
        raise CapabilityError(f"{version_id}: no signature found beside {model_dir} (sign it with `mlprov sign`)")
    workspace = settings.workspace if settings else Path.cwd()
    policy_path = workspace / policy_module.POLICY_NAME
    if not policy_path.is_file():
        raise CapabilityError(f"no signer policy at {policy_path}: it says who may sign {node.label}")
    name = str(node.properties.get("name") or node.label)
    signers = policy_module.load_policy(policy_path).signers_for(name)
    out: list[Verification] = []
    for bundle in bundles:
        try:
            result = verify_module.verify_model(model_dir, bundle, signers, model_name=name)
        except errors.VerificationFailure as failure:
            result = getattr(failure, "result", None)
            out.append(Verification(bundle, False, _signer(result), failure.diagnostics()))
        except errors.SigningInputError as exc:
            raise CapabilityError(exc.diagnostics()) from exc
        else:
            out.append(Verification(bundle, True, _signer(result), result.detail))
        if result is not None:
            store.write_batch("signing:verify", lineage_module.signature_facts(bundle, version_id, result))
    return out


def model_path(store: LineageStore, version_id: str) -> Path | None:
    """Where a model version's files are on this machine, when the lineage says so."""
    node = store.node(version_id)
    if node is None:
        return None
    props = node.properties
    if (local := _local_path(props)) is not None:
        return local
    # an MLflow version's source is models:/<id>: the logged model it is a version of has the files
    models = store.nodes_by_id(e.target for e in store.edges_from([version_id], [EdgeKind.VERSION_OF]))
    for model in models.values():
        if (local := _local_path(model.properties)) is not None:
            return local
    artifact = props.get("artifact_path")
    if artifact:
        commits = store.nodes_by_id(e.target for e in store.edges_from([version_id]) if e.target.startswith("commit:"))
        for commit in commits.values():
            repo = commit.properties.get("repo_path")
            if repo and (Path(str(repo)) / str(artifact)).exists():
                return Path(str(repo)) / str(artifact)
    return None


def _local_path(props: dict[str, Any]) -> Path | None:
    """A ``file:`` URI or absolute path in ``source``, ``storage_uri`` or ``artifact_location`` that exists here,
    first where the scan found the files (``artifact_read_from``: a store cloned or moved since it was logged)."""
    for key in ("artifact_read_from", "source", "storage_uri", "artifact_location"):
        value = str(props.get(key) or "")
        if value.startswith("file:"):
            value = unquote(urlparse(value).path)
        if value.startswith("/") and Path(value).exists():
            return Path(value)
    return None


def _bundles(store: LineageStore, version_id: str, model_dir: Path, lineage_module: ModuleType) -> list[Path]:
    known = store.nodes_by_id(e.source for e in store.edges_to([version_id]) if e.source.startswith("signature:"))
    paths = [Path(str(n.properties["bundle_path"])) for n in known.values() if n.properties.get("bundle_path")]
    search = model_dir if model_dir.is_dir() else model_dir.parent
    paths.extend(lineage_module.find_signatures(search))
    return sorted({p for p in paths if p.exists()})


def _signer(result: Any) -> str:
    if result is None:
        return "?"
    return str(getattr(result, "identity", None) or getattr(result, "method", "?"))


# --- scan ----------------------------------------------------------------------------------------------


def configured_sources(settings: Settings) -> list[Source]:
    """The sources ``mlprov.toml`` lists under ``[scan]``, as ``mlprov scan`` with no option reads them."""
    factories = source_factories()
    return [factories[kind](loc, settings) for kind in factories for loc in settings.scan_sources(kind)]


def scan(store: LineageStore, settings: Settings, progress: Progress) -> list[SourceReport]:
    """Scan the configured sources into the store, reporting through ``progress``."""
    sources = configured_sources(settings)
    if not sources:
        raise CapabilityError("nothing to scan: list sources under [scan] in mlprov.toml")
    return run_scan(store, sources, progress)
