"""The fast path: read an MLflow 3 tracking database (SQLite, PostgreSQL) directly, read-only.

``MlflowClient.search_runs`` costs ~17x a plain SQL read of the same facts, so for database-backed
stores whose schema revision is one MLflow 3.0-3.17 wrote (checked in ``alembic_version``), the
tables are read with a handful of set-wise queries. Any other revision: :class:`SchemaMismatch`,
and the caller falls back to the client. Nothing here imports mlflow.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from explorer.sources.mlflow_records import (
    INPUT_CONTEXT_TAG,
    TAG_RUN_NAME,
    TAG_USER,
    DatasetInput,
    ExperimentRecord,
    LoggedModelRecord,
    ModelVersionRecord,
    RunRecord,
    chunks,
    metric_records,
)

# alembic revisions of MLflow's tracking schema from 3.0 (logged_models added, 400f98739977)
# to 3.17 (dc11669786a5): every table and column read below exists unchanged in all of them.
SUPPORTED_REVISIONS = frozenset(
    [
        "dc11669786a5",
        "75868b020152",
        "b7e2c1a4d9f3",
        "17e22815139b",
        "1971f2d9a75b",
        "6f8d9c3b2a1e",
        "c3d9e7f1a2b4",
        "c1d2e3f4a5b6",
        "a8b9c0d1e2f3",
        "b7e4c1a90f23",
        "89d3d66ed43f",
        "da6fb0208061",
        "7d34483879f0",
        "ae8bbe7743c9",
        "a5b4c3d2e1f0",
        "c3d6457b6d8a",
        "76601a5f987d",
        "e1f2a3b4c5d6",
        "1b5f0d9ad7c1",
        "c8d9e0f1a2b3",
        "d0e1f2a3b4c5",
        "d3e4f5a6b7c8",
        "2c33131f4dae",
        "c9d4e5f6a7b8",
        "5d2d30f0abce",
        "b7c8d9e0f1a2",
        "1bd49d398cd23",
        "bf29a5ff90ea",
        "3da73c924c2f",
        "71994744cf8e",
        "534353b11cbc",
        "1a0cddfcaa16",
        "de4033877273",
        "a1b2c3d4e5f6",
        "770bee3ae1dd",
        "cbc13b556ace",
        "bda7b8c39065",
        "6953534de441",
        "400f98739977",
    ]
)

# LoggedModel.status is stored as the enum's number (mlflow.entities.LoggedModelStatus).
LOGGED_MODEL_STATUS = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}


class SchemaMismatch(Exception):
    """The database is not an MLflow 3 tracking store this reader knows: use the client instead."""


class UnreachableDatabase(Exception):
    """The database cannot be opened (server down, no such file): one line, credentials removed."""


def is_database_uri(uri: str) -> bool:
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    return scheme in ("sqlite", "postgresql", "postgres")


def engine_url(uri: str) -> str:
    """The SQLAlchemy URL to read ``uri`` with: SQLite opened read-only, PostgreSQL with psycopg 3."""
    if uri.startswith("sqlite:///"):
        path = uri.removeprefix("sqlite:///")
        if not Path(path).is_file():
            raise UnreachableDatabase(f"no MLflow tracking database at {path}")
        # mode=ro: the tracking store is someone else's; never create, migrate or lock it for writing
        return f"sqlite:///file:{path}?mode=ro&uri=true"
    scheme, _, rest = uri.partition("://")
    if scheme in ("postgresql", "postgres"):
        try:
            import psycopg2  # noqa: F401  (MLflow's default driver; use it when the user has it)

            return uri
        except ImportError:
            return f"postgresql+psycopg://{rest}"
    return uri


def sqlite_snapshot(uri: str) -> tuple[str, Callable[[], None]]:
    """A private copy of a SQLite tracking store (SQLite's backup: consistent, WAL included, the
    original opened read-only) as a ``sqlite:///`` URI, and the function that deletes it."""
    import shutil
    import sqlite3
    import tempfile

    path = uri.removeprefix("sqlite:///")
    folder = tempfile.mkdtemp(prefix="mlprov-mlflow-")
    copy = Path(folder) / "mlflow.db"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source, sqlite3.connect(copy) as target:
            source.backup(target)
    except sqlite3.Error as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise UnreachableDatabase(f"cannot read {path}: {exc}") from exc
    return f"sqlite:///{copy}", lambda: shutil.rmtree(folder, ignore_errors=True)


class SqlTrackingReader:
    """Reads the tracking tables with set-wise queries on one read-only connection."""

    kind = "sql"

    def __init__(self, uri: str) -> None:
        try:
            self._engine: Engine = create_engine(engine_url(uri), future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise UnreachableDatabase(_reason(exc)) from exc
        if self._engine.dialect.name == "postgresql":
            event.listen(self._engine, "connect", _read_only_session)
        try:
            self._conn: Connection = self._engine.connect()
            revision = self._conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError as exc:
            self._engine.dispose()
            reason = _reason(exc)
            if "alembic_version" in reason:
                raise SchemaMismatch("no alembic_version table: not an MLflow tracking database") from exc
            raise UnreachableDatabase(reason) from exc
        if revision not in SUPPORTED_REVISIONS:
            self.close()
            raise SchemaMismatch(f"MLflow schema revision {revision} is not one MLflow 3.0-3.17 wrote")
        self.revision = str(revision)
        # Rows are fetched with the driver's own cursor: SQLAlchemy's per-row Result costs ~2 us a
        # row, which at 170k rows (10k runs) is most of the read. Queries use ``:name`` parameters,
        # sqlite3's style; for PostgreSQL drivers they become ``%(name)s``.
        self._raw = self._conn.connection.dbapi_connection
        self._named = self._engine.dialect.name == "sqlite"
        dbapi = self._engine.dialect.dbapi
        self._driver_error: type[Exception] = getattr(dbapi, "Error", SQLAlchemyError)

    def close(self) -> None:
        self._conn.close()
        self._engine.dispose()

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        if not self._named:
            sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
        try:
            cursor = self._raw.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except (self._driver_error, SQLAlchemyError) as exc:
            raise UnreachableDatabase(_reason(exc)) from exc

    def _in(self, sql: str, ids: list[str] | None, column: str = "run_uuid", **params: Any) -> Iterable[Any]:
        """Run ``sql`` (with ``{where}`` for the id filter) for all rows, or per chunk of ids."""
        if ids is None:
            return self._rows(sql.format(where="1=1"), **params)  # a list: no generator step per row
        return self._in_chunks(sql, ids, column, **params)

    def _in_chunks(self, sql: str, ids: list[str], column: str, **params: Any) -> Iterator[Any]:
        for chunk in chunks(ids):
            marks = ", ".join(f":p{i}" for i in range(len(chunk)))
            yield from self._rows(
                sql.format(where=f"{column} IN ({marks})"),
                **params,
                **{f"p{i}": v for i, v in enumerate(chunk)},
            )

    # --- experiments ---------------------------------------------------------------------------

    def experiments(self) -> list[ExperimentRecord]:
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, exp in self._rows("SELECT key, value, experiment_id FROM experiment_tags"):
            tags[str(exp)][key] = value or ""
        return [
            ExperimentRecord(str(e), n, loc, stage or "active", created, updated, tags.get(str(e), {}))
            for e, n, loc, stage, created, updated in self._rows(
                "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
                " FROM experiments"
            )
        ]

    # --- runs -------------------------------------------------------------------------------------

    def run_fingerprints(
        self, known: dict[str, str], watermark: int | None, open_runs: list[str]
    ) -> dict[str, str]:
        """Every run's fingerprint from row counts and times: a few aggregate queries, no values read.

        The same fingerprint :meth:`runs` computes from the rows. A changed tag or param value of
        equal length goes unnoticed; a new metric value, a new tag, a status change, an end or a
        deletion does not.
        """
        tags = self._aggregate(
            "SELECT run_uuid, count(*), sum(coalesce(length(value), 0)) FROM tags GROUP BY run_uuid"
        )
        params = self._aggregate(
            "SELECT run_uuid, count(*), sum(length(value)) FROM params GROUP BY run_uuid"
        )
        metrics = self._aggregate(
            "SELECT run_uuid, count(*), max(timestamp), sum(step) FROM latest_metrics GROUP BY run_uuid"
        )
        inputs = self._aggregate(
            "SELECT i.destination_id, count(*) FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id"
            " WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' GROUP BY i.destination_id"
        )
        return {
            run: run_fingerprint(
                (status, end, stage, deleted), tags.get(run), params.get(run), metrics.get(run), inputs.get(run)
            )
            for run, status, end, stage, deleted in self._rows(
                "SELECT run_uuid, status, end_time, lifecycle_stage, deleted_time FROM runs"
            )
        }

    def _aggregate(self, sql: str) -> dict[str, tuple[int, ...]]:
        # int(): PostgreSQL sums are Decimal; the fingerprint must not depend on the driver's types
        return {row[0]: tuple(int(v) for v in row[1:] if v is not None) for row in self._rows(sql)}

    def runs(self, run_ids: list[str] | None) -> Iterator[RunRecord]:
        # The fingerprint's aggregates (see run_fingerprints) are summed on the way, row by row.
        params: dict[str, dict[str, str]] = defaultdict(dict)
        param_lengths: dict[str, int] = defaultdict(int)
        for key, value, run in self._in("SELECT key, value, run_uuid FROM params WHERE {where}", run_ids):
            params[run][key] = value
            param_lengths[run] += len(value)
        metrics: dict[str, dict[str, float]] = defaultdict(dict)
        metric_aggs: dict[str, list[Any]] = {}  # run -> [count, max timestamp or None, sum of steps]
        for key, value, is_nan, ts, step, run in self._in(
            "SELECT key, value, is_nan, timestamp, step, run_uuid FROM latest_metrics WHERE {where}", run_ids
        ):
            metrics[run][key] = float("nan") if is_nan else float(value)
            agg = metric_aggs.get(run)
            if agg is None:
                metric_aggs[run] = [1, ts, step]
            else:
                agg[0] += 1
                if ts is not None and (agg[1] is None or ts > agg[1]):
                    agg[1] = ts
                agg[2] += step
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        tag_lengths: dict[str, int] = defaultdict(int)
        for key, value, run in self._in("SELECT key, value, run_uuid FROM tags WHERE {where}", run_ids):
            if value is None:
                tags[run][key] = ""
            else:
                tags[run][key] = value
                tag_lengths[run] += len(value)
        inputs = self._inputs(run_ids)
        for row in self._in(
            "SELECT run_uuid, name, status, user_id, start_time, end_time, lifecycle_stage, artifact_uri,"
            " experiment_id, deleted_time FROM runs WHERE {where}",
            run_ids,
        ):
            run_id, name, status, user, start, end, stage, artifact_uri, exp, deleted = row
            run_tags = tags.get(run_id, {})
            run_params = params.get(run_id, {})
            agg = metric_aggs.get(run_id)
            run_inputs = inputs.get(run_id, [])
            yield RunRecord(
                run_id=run_id,
                experiment_id=str(exp),
                name=name or run_tags.get(TAG_RUN_NAME),
                status=status,
                user=user or run_tags.get(TAG_USER),
                start_time=start,
                end_time=end,
                lifecycle_stage=stage or "active",
                artifact_uri=artifact_uri,
                params=run_params,
                metrics=metrics.get(run_id, {}),
                tags=run_tags,
                inputs=run_inputs,
                fingerprint=run_fingerprint(
                    (status, end, stage, deleted),
                    (len(run_tags), tag_lengths[run_id]) if run_tags else None,
                    (len(run_params), param_lengths[run_id]) if run_params else None,
                    _metric_fingerprint(agg) if agg else None,
                    (len(run_inputs),) if run_inputs else None,
                ),
            )

    def _inputs(self, run_ids: list[str] | None) -> dict[str, list[DatasetInput]]:
        sql = (
            "SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source,"
            " d.dataset_schema, d.dataset_profile, t.value"
            " FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id"
            " LEFT JOIN input_tags t ON t.input_uuid = i.input_uuid AND t.name = :context_tag"
            " WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN' AND {where}"
        )
        out: dict[str, list[DatasetInput]] = defaultdict(list)
        for run, name, dig, stype, source, schema, profile, context in self._in(
            sql, run_ids, "i.destination_id", context_tag=INPUT_CONTEXT_TAG
        ):
            out[run].append(DatasetInput(name, dig, stype, source, schema, profile, context))
        for found in out.values():
            found.sort(key=lambda d: (d.context or "", d.name, d.digest))
        return out

    def run_states(self, run_ids: list[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for run, stage in self._in("SELECT run_uuid, lifecycle_stage FROM runs WHERE {where}", run_ids):
            out[run] = stage or "active"
        return out

    # --- logged models and the registry --------------------------------------------------------

    def logged_models(self) -> list[LoggedModelRecord]:
        tags = self._pairs("SELECT model_id, tag_key, tag_value FROM logged_model_tags")
        params = self._pairs("SELECT model_id, param_key, param_value FROM logged_model_params")
        metrics: dict[str, dict[str, float]] = defaultdict(dict)
        sliced: dict[str, dict[tuple[str, str | None, str | None], float]] = defaultdict(dict)
        for model, key, value, ds_name, ds_digest in self._rows(
            "SELECT model_id, metric_name, metric_value, dataset_name, dataset_digest FROM logged_model_metrics"
            " ORDER BY metric_timestamp_ms, metric_step"
        ):
            if value is not None:  # ordered by time: the last value wins, like latest_metrics
                metrics[model][key] = float(value)
                sliced[model][(key, ds_name, ds_digest)] = float(value)
        return [
            LoggedModelRecord(
                model_id=m,
                experiment_id=str(exp),
                name=name,
                artifact_location=loc,
                created=created,
                last_updated=updated,
                status=LOGGED_MODEL_STATUS.get(status, str(status)),
                lifecycle_stage=stage or "active",
                model_type=mtype,
                source_run_id=run,
                tags=tags.get(m, {}),
                params=params.get(m, {}),
                metrics=metrics.get(m, {}),
                metric_records=metric_records(sliced.get(m, {})),
            )
            for m, exp, name, loc, created, updated, status, stage, mtype, run in self._rows(
                "SELECT model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
                " last_updated_timestamp_ms, status, lifecycle_stage, model_type, source_run_id FROM logged_models"
            )
        ]

    def _pairs(self, sql: str) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = defaultdict(dict)
        for owner, key, value in self._rows(sql):
            out[str(owner)][key] = value or ""
        return out

    def model_versions(self) -> list[ModelVersionRecord]:
        tags: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for name, version, key, value in self._rows(
            "SELECT name, version, key, value FROM model_version_tags"
        ):
            tags[(name, str(version))][key] = value or ""
        aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name, version, alias in self._rows("SELECT name, version, alias FROM registered_model_aliases"):
            aliases[(name, str(version))].append(alias)
        out: list[ModelVersionRecord] = []
        for row in self._rows(
            "SELECT name, version, creation_time, last_updated_time, description, user_id, current_stage,"
            " source, run_id, status, storage_location FROM model_versions"
        ):
            name, version, created, updated, desc, user, stage, source, run, status, storage = row
            key = (name, str(version))
            out.append(
                ModelVersionRecord(
                    name,
                    str(version),
                    created,
                    updated,
                    desc,
                    user,
                    stage,
                    source,
                    run or None,
                    status,
                    storage,
                    tags.get(key, {}),
                    sorted(aliases.get(key, [])),
                )
            )
        return out


def run_fingerprint(state: tuple[Any, ...], *aggregates: tuple[int, ...] | None) -> str:
    """One run's fingerprint: its state columns and (count, size...) of each child table, or None.

    Joined as text, not ``repr`` of tuples: it is computed for every run on every rescan.
    """
    text = "|".join(map(str, (*state, *aggregates)))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _metric_fingerprint(agg: list[Any]) -> tuple[int, ...]:
    """(count, max timestamp, sum of steps) as the aggregate query computes it (no max when all are NULL)."""
    count, latest, steps = agg
    return (count, int(latest), int(steps)) if latest is not None else (count, int(steps))


def _read_only_session(dbapi_connection: Any, _record: Any) -> None:
    """The tracking database is someone else's: this session can never write to it."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()


def _reason(exc: BaseException) -> str:
    """The first line of a database error, with any password in a URL replaced."""
    from explorer.sources.mlflow_uri import redact

    line = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact(line[0]) if line else type(exc).__name__
