"""MLflow tracking stores as a lineage source: experiments, runs, dataset inputs, LoggedModels and
their files, registered versions and aliases.

``scan --mlflow URI`` (or ``[scan] mlflow = [...]``, or ``MLFLOW_TRACKING_URI``) picks a reader:
the read-only SQL fast path for ``sqlite:``/``postgresql:`` stores of a known MLflow 3 schema,
else ``MlflowClient``. Incremental: the cursor keeps a fingerprint of every run, model, version and
experiment; a rescan reads in full only what was created or changed since. Importing this module
does not import mlflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.lineage import Facts, model_id
from explorer.memory import gc_paused
from explorer.progress import Progress
from explorer.sources.base import Batch, SourceError
from explorer.sources.mlflow_artifacts import ModelFiles, read_model_files
from explorer.sources.mlflow_facts import (
    FactsBuilder,
    experiments_by_id,
    model_id_of,
    run_logged_models,
    version_model_gap,
)
from explorer.sources.mlflow_records import (
    OPEN_RUN_STATES,
    LoggedModelRecord,
    ModelVersionRecord,
    RunRecord,
    TrackingReader,
)
from explorer.sources.mlflow_uri import (
    TrackingUriError,
    display_uri,
    is_http,
    local_path,
    redact,
    resolve_uri,
)

if TYPE_CHECKING:
    from explorer.config import Settings

CURSOR_VERSION = 1
RUNS_PER_BATCH = 5000


def source_for(location: str, settings: Settings) -> MlflowSource:
    """The source ``scan`` builds for ``--mlflow LOCATION`` (empty: ``MLFLOW_TRACKING_URI``)."""
    fast = settings.section("mlflow").get("fast_path", True) is not False
    try:
        uri = resolve_uri(location, settings.workspace)
    except TrackingUriError as exc:
        return MlflowSource("", fast_path=fast, problem=str(exc))  # reported by scan, like any unreadable source
    return MlflowSource(uri, fast_path=fast)


class MlflowSource:
    """One tracking store. ``uri`` may hold credentials: it is never stored, printed or put in facts."""

    def __init__(self, uri: str, *, fast_path: bool = True, problem: str | None = None) -> None:
        self._uri = uri
        self.fast_path = fast_path
        self.problem = problem
        self.display = display_uri(uri)
        self.notes: list[str] = []

    @property
    def origin(self) -> str:
        return f"mlflow:{self.display}"

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        if self.problem:
            raise SourceError(self.problem)
        progress.start(f"open MLflow {self.display}")
        reader = self._open_reader()
        try:
            previous = cursor or {}
            if previous.get("version") != CURSOR_VERSION or previous.get("reader") != reader.kind:
                previous = {}
            yield from _Scan(self, reader, previous, progress).batches()
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"MLflow {self.display}: {_first_line(exc)}") from exc
        finally:
            reader.close()

    def _open_reader(self) -> TrackingReader:
        from explorer.sources import mlflow_sql

        uri, cleanup = self._uri, None
        if mlflow_sql.is_database_uri(self._uri):
            try:
                reader = mlflow_sql.SqlTrackingReader(self._uri)
            except mlflow_sql.UnreachableDatabase as exc:
                raise SourceError(f"cannot open the MLflow tracking database {self.display}: {exc}") from exc
            except mlflow_sql.SchemaMismatch as exc:
                mismatch: str | None = str(exc)
            else:
                if self.fast_path:
                    return reader
                reader.close()
                mismatch = None
            # MlflowClient upgrades the schema of any database it opens that lacks a table of its
            # version (an older store): it must never open the user's database. A SQLite store is
            # read from a snapshot; a server database only by the SQL reader.
            if not self._uri.startswith("sqlite:///"):
                raise SourceError(
                    f"MLflow {self.display}: {mismatch or 'fast_path is off'}; mlprov reads a database server "
                    "only with its read-only SQL reader (MLflow's client would upgrade your schema): "
                    "upgrade it yourself (`mlflow db upgrade`, after a backup) or scan its tracking server"
                )
            uri, cleanup = mlflow_sql.sqlite_snapshot(self._uri)
            why = mismatch or "fast_path is off"
            self.notes.append(f"{why}: read through MlflowClient from a snapshot (your database is not changed)")
        elif is_http(self._uri):
            self._check_server()
        else:
            path = local_path(self._uri)
            if path is not None and not path.is_dir():
                raise SourceError(f"no MLflow file store at {path}")
            if path is not None and _experiment_or_run_folder(path):
                raise SourceError(
                    f"{path} is one MLflow experiment's (or run's) folder, not a tracking store: "
                    f"scan the folder that holds it ({path.parent})"
                )
        from explorer.sources.mlflow_client import ClientTrackingReader

        try:
            return ClientTrackingReader(uri, self.notes, cleanup=cleanup)
        except Exception as exc:
            if cleanup is not None:
                cleanup()
            raise SourceError(f"cannot open MLflow {self.display}: {_first_line(exc)}") from exc

    def _check_server(self) -> None:
        """A quick ``/health`` probe, so an unreachable server fails in seconds with one clear line."""
        import requests

        try:
            response = requests.get(f"{self._uri.rstrip('/')}/health", timeout=5)
        except requests.RequestException as exc:
            reason = type(exc).__name__.replace("Error", " error").strip().lower()
            raise SourceError(f"cannot reach the MLflow tracking server {self.display} ({reason})") from exc
        if response.status_code >= 500:
            raise SourceError(
                f"MLflow tracking server {self.display} answered /health with {response.status_code}"
            )

    def read_files(self, location: str) -> ModelFiles:
        return read_model_files(location, self._uri)


@dataclass(slots=True)
class _Scan:
    """One scan of one store: compares fingerprints with the cursor and yields what changed."""

    source: MlflowSource
    reader: TrackingReader
    previous: dict[str, Any]
    progress: Progress
    cursor: dict[str, Any] = field(default_factory=dict)
    notes_sent: int = 0

    def batches(self) -> Iterator[Batch]:
        prev = self.previous
        experiments = self.reader.experiments()
        exp_fps = {e.experiment_id: e.fingerprint() for e in experiments}
        builder = FactsBuilder(self.source.display, experiments_by_id(experiments))
        open_runs = list(prev.get("open", []))
        old_runs: dict[str, str] = prev.get("runs", {})
        changed_runs: list[str] | None = None  # None: a first scan reads every run, fingerprints on the way
        if prev:
            self.progress.start("compare MLflow runs with the last scan")
            run_fps = self.reader.run_fingerprints(old_runs, prev.get("watermark"), open_runs)
            changed_runs = [r for r, fp in run_fps.items() if old_runs.get(r) != fp]
        models = self.reader.logged_models()
        old_models: dict[str, str] = prev.get("models", {})
        changed_models = [m for m in models if old_models.get(m.model_id) != m.fingerprint()]
        versions = self.reader.model_versions()
        old_versions: dict[str, str] = prev.get("versions", {})
        touched = set(changed_runs or [])
        changed_versions = [
            v for v in versions if old_versions.get(v.key) != v.fingerprint() or (v.run_id or "") in touched
        ]
        changed_exps = [
            e
            for e in experiments
            if prev.get("experiments", {}).get(e.experiment_id) != exp_fps[e.experiment_id]
        ]
        if not (changed_runs is None or changed_runs or changed_models or changed_versions or changed_exps):
            return
        full = not prev
        self.cursor = {
            "version": CURSOR_VERSION,
            "reader": self.reader.kind,
            "uri": self.source.display,
            "experiments": exp_fps,
            "runs": dict(old_runs),
            "open": open_runs,
            "watermark": prev.get("watermark"),
            "models": dict(old_models),
            "versions": dict(old_versions),
        }
        facts = Facts()
        for exp in changed_exps:
            builder.experiment(facts, exp)
        first = True
        chunks = self._run_chunks(changed_runs, len(old_runs))
        while True:
            with gc_paused():  # re-enabled before the batch leaves: the consumer runs with it on
                chunk = next(chunks, None)
                if chunk is None:
                    break
                for run in chunk:
                    builder.run(facts, run)
                    self._run_models(facts, builder, run)
                    self._remember_run(run)
            yield self._batch(facts, full=full, first=first)
            facts, first = Facts(), False
        self._models_and_versions(facts, builder, models, changed_models, changed_versions)
        self.cursor["models"] = {m.model_id: m.fingerprint() for m in models}
        self.cursor["versions"] = {v.key: v.fingerprint() for v in versions}
        yield self._batch(facts, full=full, first=first)

    def _batch(self, facts: Facts, *, full: bool, first: bool) -> Batch:
        """A batch with the cursor as of now; the first batch of a full scan replaces the origin's gaps,
        later ones drop the old gaps of what they re-read."""
        return Batch(
            facts,
            self._cursor_copy(),
            replace_gaps=full and first,
            notes=self._notes(first),
            recheck=[n.id for n in facts.nodes],
        )

    def _notes(self, first: bool) -> list[str]:
        """The source's notes not handed on yet (the reader adds some while it reads)."""
        if first:
            self.notes_sent = 0
        fresh = self.source.notes[self.notes_sent :]
        self.notes_sent = len(self.source.notes)
        return list(fresh)

    def _cursor_copy(self) -> dict[str, Any]:
        out = dict(self.cursor)
        out["open"] = sorted(set(out["open"]))
        return out

    def _run_chunks(self, changed: list[str] | None, known: int) -> Iterator[list[RunRecord]]:
        """Records of the changed runs (all runs when None), in batches of :data:`RUNS_PER_BATCH`."""
        if changed == []:
            return
        self.progress.start(f"read {len(changed) if changed is not None else 'all'} MLflow runs",
                            len(changed) if changed is not None else None)
        # reading every run set-wise is cheaper than thousands of id lookups once most changed
        ids = None if changed is None or len(changed) * 2 > known else changed
        wanted = None if changed is None else set(changed)
        chunk: list[RunRecord] = []
        for run in self.reader.runs(ids):
            if wanted is not None and run.run_id not in wanted:
                continue
            chunk.append(run)
            if len(chunk) >= RUNS_PER_BATCH:
                self.progress.advance(len(chunk))
                yield chunk
                chunk = []
        if chunk:
            self.progress.advance(len(chunk))
            yield chunk

    def _run_models(self, facts: Facts, builder: FactsBuilder, run: RunRecord) -> None:
        """MLflow 2 models logged into the run's artifacts (not LoggedModels): read like a registered
        MLflow 2 version's model, so an unregistered model is not lost."""
        if not run.artifact_uri:
            return
        for entry in run_logged_models(run.tags):
            location = f"{run.artifact_uri.rstrip('/')}/{entry['artifact_path'].strip('/')}"
            builder.run_model(facts, run.run_id, entry, location, self.source.read_files(location))

    def _remember_run(self, run: RunRecord) -> None:
        self.cursor["runs"][run.run_id] = run.fingerprint
        open_runs: list[str] = self.cursor["open"]
        if (run.status or "") in OPEN_RUN_STATES:
            open_runs.append(run.run_id)
        elif run.run_id in open_runs:
            open_runs.remove(run.run_id)
        times = [t for t in (run.start_time, run.end_time, self.cursor.get("watermark")) if t is not None]
        if times:
            self.cursor["watermark"] = max(times)

    def _models_and_versions(
        self,
        facts: Facts,
        builder: FactsBuilder,
        models: list[LoggedModelRecord],
        changed_models: list[LoggedModelRecord],
        changed_versions: list[ModelVersionRecord],
    ) -> None:
        if changed_models:
            self.progress.start(f"read {len(changed_models)} MLflow model directories", len(changed_models))
        for model in changed_models:
            builder.logged_model(facts, model, self.source.read_files(model.artifact_location))
            self.progress.advance()
        known = {m.model_id for m in models}
        states = self.reader.run_states(sorted({v.run_id for v in changed_versions if v.run_id}))
        for mv in changed_versions:
            builder.model_version(
                facts, mv, states.get(mv.run_id or "", "missing"), self._model_of(facts, builder, mv, known)
            )

    def _model_of(
        self, facts: Facts, builder: FactsBuilder, mv: ModelVersionRecord, known: set[str]
    ) -> str | None:
        """The model node a version registers: its LoggedModel, or (MLflow 2) the MLmodel at its source."""
        logged = model_id_of(mv.source)
        if logged is not None:
            if logged not in known:
                version_model_gap(
                    facts,
                    mv,
                    self.source.display,
                    f"its source {mv.source} names a logged model that is not in the tracking store",
                )
            return model_id(logged)
        location = self._version_location(mv)
        if location is None:
            version_model_gap(
                facts,
                mv,
                self.source.display,
                f"cannot locate the model files of source {redact(mv.source or '')}",
            )
            return None
        files = self.source.read_files(location)
        found = builder.model_from_mlmodel(facts, location, files)
        if found is None:
            version_model_gap(
                facts,
                mv,
                self.source.display,
                files.problem
                or f"the MLmodel at {redact(location)} names no model (no model_uuid, run_id or artifact_path)",
            )
        return found

    def _version_location(self, mv: ModelVersionRecord) -> str | None:
        source = mv.source or ""
        if source.startswith("runs:/"):
            run, _, path = source.removeprefix("runs:/").partition("/")
            record = next(iter(self.reader.runs([run])), None)
            if record is None or not record.artifact_uri:
                return mv.storage_location
            return f"{record.artifact_uri.rstrip('/')}/{path}".rstrip("/")
        if source and not source.startswith("models:/"):
            return source
        return mv.storage_location


def _experiment_or_run_folder(path: Path) -> bool:
    """A folder inside a file store, not its root: it has a meta.yaml, or its folders are runs."""
    if (path / "meta.yaml").is_file():
        return True
    for meta in sorted(path.glob("*/meta.yaml"))[:5]:
        try:
            head = meta.read_text(encoding="utf-8", errors="replace")[:2000]
        except OSError:
            continue
        if "\nrun_id:" in head or "run_uuid:" in head:  # a run's meta.yaml: `path` is an experiment's folder
            return True
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)[:300]
