"""mlprov never changes a tracking database: MLflow's client upgrades the schema of an older store it
opens, so the client reads a snapshot of a SQLite store and never opens a database server's."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import pytest
from mlflow_fixtures import Tracking

from explorer.scan import run_scan
from explorer.sources import mlflow_sql
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unknown_schema_is_read_from_a_snapshot(
    tracking: Tracking, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "mlflow.db"
    shutil.copyfile(tracking.root / "mlflow.db", db)
    before = (_digest(db), db.stat().st_mtime_ns)
    # this store's revision, as if this mlprov did not know it: the SQL reader declines, the client reads
    monkeypatch.setattr(mlflow_sql, "SUPPORTED_REVISIONS", frozenset())
    snapshots_before = set(Path(tempfile.gettempdir()).glob("mlprov-mlflow-*"))
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(f"sqlite:///{db}")], link=False)
        assert report.error is None, report.error
        assert any("from a snapshot (your database is not changed)" in n for n in report.notes), report.notes
        run = store.node(f"run:{tracking.run_id}")
        assert run is not None and run.properties["params"] == tracking.params
    assert (_digest(db), db.stat().st_mtime_ns) == before
    assert set(Path(tempfile.gettempdir()).glob("mlprov-mlflow-*")) == snapshots_before  # the snapshot is gone


def test_a_database_server_of_an_unknown_schema_is_refused_not_upgraded(pg_store_url: str, tmp_path: Path) -> None:
    """A real PostgreSQL database whose alembic revision this mlprov does not know: a one-line refusal."""
    import psycopg

    plain = pg_store_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        conn.execute("INSERT INTO alembic_version VALUES ('867495a8f9d4')")  # an MLflow 2 revision
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(plain)], link=False)
    assert report.error is not None and "\n" not in report.error
    assert "867495a8f9d4" in report.error and "MLflow's client would upgrade your schema" in report.error
    with psycopg.connect(plain) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert tables == {"alembic_version"}  # nothing created
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("867495a8f9d4",)]
