"""The general path: read any tracking URI MLflow supports (http(s) servers, ``mlruns`` file stores,
databases of schema revisions the SQL reader does not know) through ``MlflowClient``.

Credentials come from MLflow's own environment variables (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``,
``MLFLOW_TRACKING_TOKEN``...), read by the client; mlprov never sees or stores them. ``mlflow`` is
imported inside :class:`ClientTrackingReader` only: it costs seconds.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

from explorer.sources.mlflow_records import (
    INPUT_CONTEXT_TAG,
    OPEN_RUN_STATES,
    DatasetInput,
    ExperimentRecord,
    LoggedModelRecord,
    ModelVersionRecord,
    RunRecord,
    chunks,
    digest,
    metric_records,
)
from explorer.sources.mlflow_uri import redact

PAGE = 1000
# A run's end_time and start_time come from the client that logged it; allow that much clock skew
# when asking the server for runs changed since the last scan (duplicates are dropped by fingerprint).
SKEW_MS = 10 * 60 * 1000


class ClientTrackingReader:
    """Reads runs, models and the registry with ``MlflowClient`` (REST or the store classes)."""

    kind = "client"

    def __init__(self, uri: str, notes: list[str] | None = None, cleanup: Callable[[], None] | None = None) -> None:
        self._cleanup = cleanup
        # a dead server must fail in seconds, not after MLflow's default minutes of retries
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
        # MLflow 3.7+ refuses to open an `mlruns` file store ("maintenance mode") unless allowed. mlprov
        # only reads, and teams keep years of runs there: allowed unless the user said otherwise.
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        from mlflow import MlflowClient

        # MLflow logs what it skips (an experiment folder without meta.yaml...) as warnings with a
        # traceback on stderr, and its set-up chatter as INFO: warnings become one-line notes of the
        # scan, nothing is printed
        self._warnings = _CollectedWarnings(notes if notes is not None else [])
        self._warnings.attach()
        try:
            self._client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        except Exception:
            self._warnings.detach()
            raise
        self._cache: dict[str, RunRecord] = {}
        self._experiment_ids: list[str] = []

    def close(self) -> None:
        self._cache.clear()
        self._warnings.detach()
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def experiments(self) -> list[ExperimentRecord]:
        from mlflow.entities import ViewType

        out: list[ExperimentRecord] = []
        token: str | None = None
        while True:
            page = self._client.search_experiments(view_type=ViewType.ALL, max_results=PAGE, page_token=token)
            out.extend(
                ExperimentRecord(
                    e.experiment_id,
                    e.name,
                    e.artifact_location,
                    e.lifecycle_stage,
                    e.creation_time,
                    e.last_update_time,
                    dict(e.tags or {}),
                )
                for e in page
            )
            token = page.token
            if not token:
                break
        self._experiment_ids = [e.experiment_id for e in out]
        return out

    # --- runs -------------------------------------------------------------------------------------

    def run_fingerprints(
        self, known: dict[str, str], watermark: int | None, open_runs: list[str]
    ) -> dict[str, str]:
        """Runs started or ended since ``watermark`` (less the skew), and the runs open at the last scan."""
        if not self._experiment_ids:
            self.experiments()
        if watermark is None:
            self._search("")
        else:
            since = watermark - SKEW_MS
            self._search(f"attributes.start_time >= {since}")
            self._search(f"attributes.end_time >= {since}")
            for run in open_runs:
                if run not in self._cache:
                    self._get(run)
        return {run: rec.fingerprint for run, rec in self._cache.items()}

    def _search(self, filter_string: str) -> None:
        from mlflow.entities import ViewType

        for group in chunks(self._experiment_ids, 100):
            token: str | None = None
            while True:
                page = self._client.search_runs(
                    group, filter_string, run_view_type=ViewType.ALL, max_results=PAGE, page_token=token
                )
                for run in page:
                    self._cache[run.info.run_id] = _run_record(run)
                token = page.token
                if not token:
                    break

    def _get(self, run: str) -> RunRecord | None:
        from mlflow.exceptions import MlflowException

        try:
            record = _run_record(self._client.get_run(run))
        except MlflowException as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        self._cache[run] = record
        return record

    def runs(self, run_ids: list[str] | None) -> Iterator[RunRecord]:
        if run_ids is None:
            if not self._cache:
                if not self._experiment_ids:
                    self.experiments()
                self._search("")
            yield from list(self._cache.values())
            return
        for run in run_ids:
            record = self._cache.get(run) or self._get(run)
            if record is not None:
                yield record

    def run_states(self, run_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for run in run_ids:
            record = self._cache.get(run) or self._get(run)
            if record is not None:
                out[run] = record.lifecycle_stage
        return out

    # --- logged models and the registry --------------------------------------------------------

    def logged_models(self) -> list[LoggedModelRecord]:
        if not self._experiment_ids:
            self.experiments()
        out: list[LoggedModelRecord] = []
        for group in chunks(self._experiment_ids, 100):
            token: str | None = None
            while True:
                page = self._client.search_logged_models(
                    experiment_ids=group, max_results=PAGE, page_token=token
                )
                out.extend(_model_record(m) for m in page)
                token = page.token
                if not token:
                    break
        return out

    def model_versions(self) -> list[ModelVersionRecord]:
        aliases: dict[tuple[str, str], list[str]] = {}
        token: str | None = None
        while True:
            models = self._client.search_registered_models(max_results=PAGE, page_token=token)
            for rm in models:
                for alias, version in (rm.aliases or {}).items():
                    aliases.setdefault((rm.name, str(version)), []).append(alias)
            token = models.token
            if not token:
                break
        out: list[ModelVersionRecord] = []
        token = None
        while True:
            page = self._client.search_model_versions(max_results=PAGE, page_token=token)
            for mv in page:
                key = (mv.name, str(mv.version))
                out.append(
                    ModelVersionRecord(
                        mv.name,
                        str(mv.version),
                        mv.creation_timestamp,
                        mv.last_updated_timestamp,
                        mv.description,
                        mv.user_id,
                        mv.current_stage,
                        mv.source,
                        mv.run_id or None,
                        mv.status,
                        getattr(mv, "storage_location", None),
                        dict(mv.tags or {}),
                        sorted(set(aliases.get(key, [])) | set(mv.aliases or [])),
                    )
                )
            token = page.token
            if not token:
                break
        return out


def _run_record(run: Any) -> RunRecord:
    info, data = run.info, run.data
    inputs: list[DatasetInput] = []
    for entry in getattr(run.inputs, "dataset_inputs", None) or []:
        ds = entry.dataset
        context = next((t.value for t in entry.tags or [] if t.key == INPUT_CONTEXT_TAG), None)
        inputs.append(
            DatasetInput(ds.name, ds.digest, ds.source_type, ds.source, ds.schema, ds.profile, context)
        )
    inputs.sort(key=lambda d: (d.context or "", d.name, d.digest))
    record = RunRecord(
        run_id=info.run_id,
        experiment_id=str(info.experiment_id),
        name=info.run_name,
        status=info.status,
        user=info.user_id,
        start_time=info.start_time,
        end_time=info.end_time,
        lifecycle_stage=info.lifecycle_stage or "active",
        artifact_uri=info.artifact_uri,
        params=dict(data.params),
        metrics={k: float(v) for k, v in data.metrics.items()},
        tags=dict(data.tags),
        inputs=inputs,
    )
    record.fingerprint = _fingerprint(record)
    return record


def _fingerprint(run: RunRecord) -> str:
    return digest(
        run.status,
        run.end_time,
        run.lifecycle_stage,
        sorted(run.tags.items()),
        sorted(run.params.items()),
        sorted(run.metrics.items()),
        [(d.name, d.digest, d.context) for d in run.inputs],
    )


def _model_record(model: Any) -> LoggedModelRecord:
    metrics: dict[str, float] = {}
    sliced: dict[tuple[str, str | None, str | None], float] = {}
    for metric in sorted(model.metrics or [], key=lambda m: (m.timestamp, m.step)):
        if metric.value is not None:
            metrics[metric.key] = float(metric.value)
            sliced[(metric.key, metric.dataset_name, metric.dataset_digest)] = float(metric.value)
    status = getattr(model.status, "name", None) or (str(model.status) if model.status is not None else None)
    return LoggedModelRecord(
        model_id=model.model_id,
        experiment_id=str(model.experiment_id),
        name=model.name,
        artifact_location=model.artifact_location,
        created=model.creation_timestamp,
        last_updated=model.last_updated_timestamp,
        status=status,
        lifecycle_stage="active",  # search_logged_models lists live models only
        model_type=model.model_type,
        source_run_id=model.source_run_id,
        tags=dict(model.tags or {}),
        params=dict(model.params or {}),
        metrics=metrics,
        metric_records=metric_records(sliced),
    )


def is_open(run: RunRecord) -> bool:
    return (run.status or "") in OPEN_RUN_STATES


class _CollectedWarnings(logging.Handler):
    """Takes the place of the ``mlflow`` logger's handlers while a store is read: warnings become notes.

    MLflow's file store also warns through the root logger (``logging.warning``, which would set up
    a stderr handler of its own): this handler sits on the root logger too, for MLflow's records.
    """

    def __init__(self, notes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.notes = notes
        self._saved: tuple[list[logging.Handler], bool] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if not (record.name.startswith("mlflow") or f"{os.sep}mlflow{os.sep}" in record.pathname):
            return
        text = record.getMessage().strip()
        line = redact(text.splitlines()[0] if text else record.levelname)[:300]
        note = f"MLflow: {line}"
        if note not in self.notes:
            self.notes.append(note)

    def attach(self) -> None:
        logger = logging.getLogger("mlflow")
        self._saved = (list(logger.handlers), logger.propagate)
        logger.handlers, logger.propagate = [self], False
        logging.getLogger().addHandler(self)

    def detach(self) -> None:
        if self._saved is not None:
            logger = logging.getLogger("mlflow")
            logger.handlers, logger.propagate = self._saved
            logging.getLogger().removeHandler(self)
            self._saved = None
