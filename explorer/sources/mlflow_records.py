"""What an MLflow tracking store holds, as plain records: the one shape both readers produce.

The SQL fast path (:mod:`explorer.sources.mlflow_sql`) and the client path
(:mod:`explorer.sources.mlflow_client`) each fill these; :mod:`explorer.sources.mlflow_facts`
turns them into lineage facts, so both paths yield the same facts by construction.
Times are epoch milliseconds as MLflow keeps them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

# Tags MLflow (and its genai git versioning) write for the code a run or model came from.
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_GIT_REPO_URL = "mlflow.source.git.repoURL"
TAG_GIT_BRANCH = "mlflow.source.git.branch"
TAG_GIT_DIRTY = "mlflow.source.git.dirty"
TAG_GIT_DIFF = "mlflow.source.git.diff"
TAG_USER = "mlflow.user"
TAG_RUN_NAME = "mlflow.runName"
INPUT_CONTEXT_TAG = "mlflow.data.context"

OPEN_RUN_STATES = frozenset({"RUNNING", "SCHEDULED"})


@dataclass(slots=True)
class ExperimentRecord:
    experiment_id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str] = field(default_factory=dict)

    def fingerprint(self) -> str:
        return digest(self.name, self.lifecycle_stage, self.last_update_time, sorted(self.tags.items()))


@dataclass(slots=True)
class DatasetInput:
    """One ``log_input`` of a run: the dataset entity and the input's context tag."""

    name: str
    digest: str
    source_type: str
    source: str  # MLflow keeps the source as a JSON text, e.g. {"uri": "data/raw.csv"}
    schema: str | None = None
    profile: str | None = None
    context: str | None = None


@dataclass(slots=True)
class RunRecord:
    run_id: str
    experiment_id: str
    name: str | None
    status: str | None
    user: str | None
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: list[DatasetInput] = field(default_factory=list)
    fingerprint: str = ""  # set by the reader: equal to what its run_fingerprints says for this run


@dataclass(slots=True)
class LoggedModelRecord:
    """An MLflow 3 LoggedModel (``m-…``), whose files live under its own artifact location."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    created: int | None
    last_updated: int | None
    status: str | None
    lifecycle_stage: str
    model_type: str | None
    source_run_id: str | None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # the latest value per (metric, dataset): MLflow 3 logs a model's metrics against the dataset
    # they were computed on, which is the slice an ML-BOM's performanceMetrics needs
    metric_records: list[dict[str, Any]] = field(default_factory=list)

    def fingerprint(self) -> str:
        return digest(self.last_updated, self.status, self.lifecycle_stage, sorted(self.tags.items()))


@dataclass(slots=True)
class ModelVersionRecord:
    name: str
    version: str
    created: int | None
    last_updated: int | None
    description: str | None
    user_id: str | None
    current_stage: str | None
    source: str | None
    run_id: str | None
    status: str | None
    storage_location: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.name}/{self.version}"

    def fingerprint(self) -> str:
        return digest(
            self.last_updated,
            self.status,
            self.current_stage,
            sorted(self.tags.items()),
            sorted(self.aliases),
        )


class TrackingReader(Protocol):
    """Reads one tracking store. Implementations: SQL (fast, read-only) and MlflowClient."""

    @property
    def kind(self) -> str:
        """``sql`` or ``client``: a cursor written by one reader is not reused by the other."""
        ...

    def experiments(self) -> list[ExperimentRecord]: ...

    def run_fingerprints(
        self, known: dict[str, str], watermark: int | None, open_runs: list[str]
    ) -> dict[str, str]:
        """Fingerprints of the runs that may have changed since ``watermark`` (all runs when None).

        ``known`` holds the previous scan's fingerprints and ``open_runs`` the runs still running
        then; a reader may return more runs than changed (the source drops those whose fingerprint
        is unchanged) but never fewer.
        """
        ...

    def runs(self, run_ids: list[str] | None) -> Iterator[RunRecord]:
        """Full records of these runs (all runs when None), in any order."""
        ...

    def run_states(self, run_ids: list[str]) -> dict[str, str]:
        """``lifecycle_stage`` of each run that still exists (missing ids: hard-deleted)."""
        ...

    def logged_models(self) -> list[LoggedModelRecord]: ...

    def model_versions(self) -> list[ModelVersionRecord]: ...

    def close(self) -> None: ...


def digest(*parts: object) -> str:
    """A short stable fingerprint: enough to notice a change, small enough for 100k entries in a cursor."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def metric_records(latest: dict[tuple[str, str | None, str | None], float]) -> list[dict[str, Any]]:
    """The ``metric_records`` property: latest value per (metric, dataset), only where a dataset is named."""
    return [
        {"key": key, "value": value, "dataset_name": name, "dataset_digest": digest_}
        for (key, name, digest_), value in sorted(latest.items(), key=lambda kv: tuple(map(str, kv[0])))
        if name is not None
    ]
