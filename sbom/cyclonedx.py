"""CycloneDX 1.6/1.7 ML-BOMs from :class:`sbom.facts.MLModelFacts`.

The typed core (metadata, components, hashes, purls, pedigree, references, dependencies) is built
with cyclonedx-python-lib; ``modelCard``, the data components' ``data`` and ``formulation``, which
the library lacks, are added to its serialised JSON (:mod:`sbom.cdx_blocks`). The result is
reproducible: keys in a fixed order, the timestamp from the lineage or ``SOURCE_DATE_EPOCH``, and
a serial number derived from the rest of the content.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from typing import Any, Literal

from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    IdentifiableAction,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Commit as CdxCommit
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion

from sbom import cdx_blocks
from sbom.facts import ContainerImage, DataVersion, MLModelFacts, Requirement
from sbom.refs import (
    file_ref,
    image_purl,
    model_purl,
    model_ref,
    repository_url,
    requirement_purl,
    run_url,
)
from sbom.times import parse_time, source_date_epoch

SpecVersion = Literal["1.6", "1.7"]
SCHEMA_VERSIONS: dict[str, SchemaVersion] = {"1.6": SchemaVersion.V1_6, "1.7": SchemaVersion.V1_7}
HYPERPARAMETER_PROPERTY = "cdx:ai-ml:model:hyperparameter:"
# UUIDv5 namespace for serial numbers: the same content always gets the same urn:uuid.
_SERIAL_NAMESPACE = uuid.UUID("5b0f6a8e-3c1d-5d2e-9f4a-6d6c70726f76")
_TOP_LEVEL_ORDER = ("$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata")


def build_bom(facts: MLModelFacts, spec_version: SpecVersion = "1.6") -> dict[str, Any]:
    """The ML-BOM as a JSON-ready dict (not yet validated: see :mod:`sbom.validate`)."""
    bom = _library_bom(facts)
    text = make_outputter(bom, OutputFormat.JSON, SCHEMA_VERSIONS[spec_version]).output_as_string()
    doc: dict[str, Any] = json.loads(text)
    _add_ml_blocks(doc, facts)
    timestamp = _timestamp(facts)
    if timestamp:
        doc["metadata"]["timestamp"] = timestamp
    else:
        doc["metadata"].pop("timestamp", None)  # the library stamps "now": that is no recorded fact
    return _with_serial_number(doc)


def dumps(doc: dict[str, Any]) -> str:
    """The byte-stable text of a BOM: two-space indent, UTF-8 as-is, trailing newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# --- the typed core ---------------------------------------------------------------------------


def _library_bom(facts: MLModelFacts) -> Bom:
    model = _model_component(facts)
    libraries = [_library_component(r) for r in facts.requirements]
    data = [_data_component(d) for d in _sorted_data(facts)]
    images = [_image_component(i) for i in facts.images]
    bom = Bom(
        metadata=BomMetaData(
            component=model,
            tools=ToolRepository(components=[_tool_component()]),
        ),
        components=[*libraries, *data, *images],
    )
    bom.register_dependency(model, libraries)
    for lib in libraries:
        bom.register_dependency(lib, [])
    for image in images:
        bom.register_dependency(image, [model])  # the image ships the model
    return bom


def _model_component(facts: MLModelFacts) -> Component:
    ref = model_ref(facts)
    refs = _model_references(facts)
    commits = [_commit(facts, sha) for sha in _commit_shas(facts)]
    # a GTO/DVC registry version points at DVC-tracked content: its md5 is the artifact's content hash
    hashes = [
        HashType(alg=HashAlgorithm.MD5, content=d.digest)
        for d in facts.registered_data
        if d.algorithm == "md5" and d.digest and not d.is_directory
    ]
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=ref,
        name=facts.name,
        version=facts.version,
        description=facts.description,
        purl=model_purl(facts),
        hashes=hashes,
        external_references=refs,
        pedigree=Pedigree(commits=commits) if commits else None,
        properties=_model_properties(facts),
        components=[
            Component(
                type=ComponentType.FILE,
                bom_ref=file_ref(ref, f.path),
                name=f.path,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f.sha256)],
            )
            for f in facts.files
        ],
    )


def _model_references(facts: MLModelFacts) -> list[ExternalReference]:
    refs: list[ExternalReference] = []
    for sha in _commit_shas(facts):
        commit = facts.commits.get(sha)
        if commit and commit.remote_url:
            url = XsUri(repository_url(commit.remote_url))
            refs.append(ExternalReference(type=ExternalReferenceType.VCS, url=url, comment=f"commit {sha}"))
    for run in facts.runs:
        url = XsUri(run_url(facts, run.run_id, run.experiment_id))
        refs.append(
            ExternalReference(type=ExternalReferenceType.BUILD_META, url=url, comment=f"MLflow run {run.run_id}")
        )
    location = facts.artifact_location or ""
    # a local path or file:// URI names no location anyone else can fetch from
    if "://" in location and not location.startswith("file://"):
        refs.append(
            ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(location), comment="model artifacts")
        )
    return refs


def _commit_shas(facts: MLModelFacts) -> list[str]:
    shas = [run.commit for run in facts.runs if run.commit]
    shas.extend(s.commit for r in facts.producing_stages if (s := facts.stages.get(r)) and s.commit)
    return list(dict.fromkeys(shas))


def _commit(facts: MLModelFacts, sha: str) -> CdxCommit:
    commit = facts.commits.get(sha)
    if commit is None:
        return CdxCommit(uid=sha)
    author = None
    if commit.author or commit.author_email or commit.authored_at:
        author = IdentifiableAction(
            timestamp=parse_time(commit.authored_at), name=commit.author, email=commit.author_email
        )
    committer = IdentifiableAction(timestamp=parse_time(commit.committed_at)) if commit.committed_at else None
    return CdxCommit(uid=sha, author=author, committer=committer, message=commit.message)


def _model_properties(facts: MLModelFacts) -> list[Property]:
    # Only facts the schema has no field for: hyperparameters, aliases, the runtime versions.
    props = [Property(name=f"{HYPERPARAMETER_PROPERTY}{k}", value=v) for k, v in sorted(facts.hyperparameters.items())]
    props.extend(Property(name="mlprov:mlflow:alias", value=a) for a in sorted(facts.aliases))
    if facts.mlflow_version:
        props.append(Property(name="mlprov:mlflow:version", value=facts.mlflow_version))
    if facts.python_version:
        props.append(Property(name="mlprov:python:version", value=facts.python_version))
    return props


def _library_component(req: Requirement) -> Component:
    purl = requirement_purl(req)
    # an unpinned line names no version: keep the constraint as written instead of resolving one
    description = None if req.version else f"declared as {req.line!r}"
    return Component(
        type=ComponentType.LIBRARY,
        bom_ref=purl.to_string(),
        name=req.name,
        version=req.version,
        purl=purl,
        description=description,
    )


def _sorted_data(facts: MLModelFacts) -> list[DataVersion]:
    return [facts.data[k] for k in sorted(facts.data)]


def _data_component(data: DataVersion) -> Component:
    # the DVC remote location goes in data[].contents.url (sbom.cdx_blocks), the field made for it
    hashes = []
    # DVC's md5 is of the file bytes; md5-dos2unix (DVC 2) and .dir digests are not content hashes
    if data.algorithm == "md5" and data.digest and not data.is_directory:
        hashes.append(HashType(alg=HashAlgorithm.MD5, content=data.digest))
    props = []
    if data.size is not None:
        props.append(Property(name="mlprov:data:size", value=str(data.size)))
    if data.nfiles is not None:
        props.append(Property(name="mlprov:data:nfiles", value=str(data.nfiles)))
    version = f"{data.algorithm}:{data.digest}" if data.algorithm and data.digest else data.digest
    return Component(
        type=ComponentType.DATA,
        bom_ref=data.ref,
        name=data.path or data.name,
        version=version,
        hashes=hashes,
        properties=props,
        components=[
            Component(
                type=ComponentType.FILE,
                bom_ref=file_ref(data.ref, f.path),
                name=f.path,
                hashes=[HashType(alg=HashAlgorithm.MD5, content=f.md5)] if f.md5 and data.algorithm == "md5" else [],
                properties=[Property(name="mlprov:data:size", value=str(f.size))] if f.size is not None else [],
            )
            for f in data.files
        ],
    )


def _image_component(image: ContainerImage) -> Component:
    purl = image_purl(image)
    return Component(
        type=ComponentType.CONTAINER,
        bom_ref=f"image:{image.repository}@{image.digest}",
        name=image.repository,
        version=image.digest,
        purl=purl,
    )


def _tool_component() -> Component:
    try:
        version = dist_version("mlprov")
    except PackageNotFoundError:
        version = None
    return Component(type=ComponentType.APPLICATION, name="mlprov", version=version)


# --- the blocks the library lacks -------------------------------------------------------------


def _add_ml_blocks(doc: dict[str, Any], facts: MLModelFacts) -> None:
    model = doc["metadata"]["component"]
    card = cdx_blocks.model_card(facts)
    if card:
        model["modelCard"] = card
    by_ref = {c.get("bom-ref"): c for c in doc.get("components", [])}
    for data in facts.data.values():
        component = by_ref.get(data.ref)
        if component is not None:
            component["data"] = cdx_blocks.data_block(data)
    formulation = cdx_blocks.formulation(facts, set(facts.data) | {model_ref(facts)})
    if formulation:
        doc["formulation"] = formulation


def _timestamp(facts: MLModelFacts) -> str | None:
    """``SOURCE_DATE_EPOCH`` when set, else the latest time the lineage recorded for this model."""
    fixed = source_date_epoch()
    if fixed is not None:
        return _iso(fixed)
    times = [parse_time(facts.created), *(parse_time(r.end_time) for r in facts.runs)]
    known = [t for t in times if t is not None]
    return _iso(max(known)) if known else None


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _with_serial_number(doc: dict[str, Any]) -> dict[str, Any]:
    doc.pop("serialNumber", None)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    doc["serialNumber"] = f"urn:uuid:{uuid.uuid5(_SERIAL_NAMESPACE, canonical)}"
    ordered = {k: doc[k] for k in _TOP_LEVEL_ORDER if k in doc}
    ordered.update((k, v) for k, v in doc.items() if k not in ordered)
    return ordered
