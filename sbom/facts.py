"""What goes into an ML-BOM: recorded facts about one model, independent of the output format.

The CycloneDX and SPDX writers read only these values. They are filled either from the lineage
store (:mod:`sbom.lineage_facts`) or from an MLflow model directory read directly
(:mod:`sbom.mlflow_dir`). A field is ``None`` or empty when no source recorded it: the writers
omit it rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Ecosystem = Literal["pypi", "conda"]


@dataclass(frozen=True, slots=True)
class ArtifactFile:
    """One file of the model artifact, hashed by mlprov when the BOM is written."""

    path: str  # relative to the model directory, '/'-separated
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Requirement:
    """One line of the model's requirements.txt or conda.yaml."""

    name: str
    ecosystem: Ecosystem
    version: str | None  # only when pinned exactly (``==``, or ``=`` in conda)
    line: str  # as written, for unpinned lines where the constraint is the only fact


@dataclass(frozen=True, slots=True)
class DataFile:
    """A file inside a multi-file (DVC ``.dir``) data version."""

    path: str
    md5: str | None = None
    size: int | None = None


@dataclass(slots=True)
class DataVersion:
    """A content-addressed data version (DVC) or an MLflow dataset the training used."""

    ref: str  # lineage id: data:md5:... or dataset:mlflow:name@digest
    name: str
    algorithm: str | None = None  # md5, md5-dos2unix, sha256
    digest: str | None = None
    path: str | None = None
    size: int | None = None
    nfiles: int | None = None
    remote: str | None = None  # URL of the DVC remote where configured
    source: str | None = None  # MLflow dataset source (a path or URI)
    contexts: list[str] = field(default_factory=list)  # mlflow.data.context: training, evaluation...
    files: list[DataFile] = field(default_factory=list)

    @property
    def is_directory(self) -> bool:
        return bool(self.digest and self.digest.endswith(".dir"))


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    remote_url: str | None = None
    author: str | None = None
    author_email: str | None = None
    authored_at: str | None = None
    committed_at: str | None = None
    message: str | None = None


@dataclass(slots=True)
class PipelineStage:
    """A DVC stage as locked at a commit: a formulation task."""

    ref: str  # lineage id
    name: str
    cmd: str | None = None
    commit: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # {params file: {key: value}}
    deps: list[str] = field(default_factory=list)  # refs of DataVersion
    outs: list[str] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)  # refs of stages whose outs this one uses


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    value: float | int | str
    context: str | None = None  # the dataset context / split the value was computed on, when recorded


@dataclass(slots=True)
class TrainingRun:
    """An MLflow run that produced the model: a formulation workflow."""

    run_id: str
    name: str | None = None
    experiment: str | None = None
    experiment_id: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    status: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # refs of DataVersion
    commit: str | None = None  # sha
    stages: list[str] = field(default_factory=list)  # refs of PipelineStage upstream of the run


@dataclass(frozen=True, slots=True)
class ContainerImage:
    repository: str
    digest: str
    tags: tuple[str, ...] = ()


@dataclass(slots=True)
class MLModelFacts:
    """Everything recorded about one model version, the subject of a BOM."""

    name: str
    version: str | None = None
    ref: str | None = None  # lineage id of the subject (model_version:... or model:...)
    registry: str | None = None  # mlflow, gto
    registry_url: str | None = None  # MLflow tracking URI, when recorded
    model_id: str | None = None
    model_uuid: str | None = None
    run_id: str | None = None
    description: str | None = None
    created: str | None = None  # RFC 3339
    mlflow_version: str | None = None
    artifact_location: str | None = None  # a remote URI (local paths are not written into the BOM)
    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    estimator_class: str | None = None  # from the artifact's own metadata (skops schema), never by loading
    task: str | None = None
    approach: str | None = None
    signature: dict[str, Any] = field(default_factory=dict)  # {inputs, outputs, params} parsed
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)  # model-level metrics (MLflow 3 LoggedModel)
    files: list[ArtifactFile] = field(default_factory=list)
    requirements: list[Requirement] = field(default_factory=list)
    python_version: str | None = None
    runs: list[TrainingRun] = field(default_factory=list)
    data: dict[str, DataVersion] = field(default_factory=dict)  # by ref
    stages: dict[str, PipelineStage] = field(default_factory=dict)  # by ref
    commits: dict[str, Commit] = field(default_factory=dict)  # by sha
    producing_stages: list[str] = field(default_factory=list)  # stages whose outs are the model artifact
    registered_data: list[DataVersion] = field(default_factory=list)  # GTO: the artifact's DVC data version
    images: list[ContainerImage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read, for the CLI to report

    @property
    def hyperparameters(self) -> dict[str, str]:
        """The training runs' params; a later run's value wins (one run is the usual case)."""
        out: dict[str, str] = {}
        for run in self.runs:
            out.update(run.params)
        return out

    @property
    def primary_flavor(self) -> str | None:
        """The framework flavor (``python_function`` is MLflow's generic wrapper, not an architecture)."""
        for name in sorted(self.flavors):
            if name != "python_function":
                return name
        return "python_function" if "python_function" in self.flavors else None

    def training_data(self) -> list[DataVersion]:
        """The data the model card lists: what the runs used, else the inputs of the stages."""
        refs: list[str] = []
        for run in self.runs:
            refs.extend(run.inputs)
        if not refs:  # a DVC/GTO model without an MLflow run: the deps of the stage that wrote it
            for ref in self.producing_stages:
                if ref in self.stages:
                    refs.extend(self.stages[ref].deps)
        return [self.data[r] for r in dict.fromkeys(refs) if r in self.data]
