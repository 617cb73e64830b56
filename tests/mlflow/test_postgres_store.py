"""A PostgreSQL tracking store filled by the real MLflow, read by the fast SQL path in a read-only session."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow_fixtures import Tracking, log_one_training

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


@pytest.mark.slow
def test_postgres_tracking_store_is_read_by_the_sql_path(tracking: Tracking, pg_store_url: str, tmp_path: Path) -> None:
    uri = pg_store_url if "+psycopg" in pg_store_url else pg_store_url.replace("postgresql://", "postgresql+psycopg://")
    # the client runs MLflow's own migrations on the new database, then logs one training
    run_id, model_id = log_one_training(
        tracking, uri, "churn-pg", c="0.75", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    source = MlflowSource(uri)
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [source], link=False)
        assert report.error is None, report.error
        cursor = store.cursor(report.origin)
        assert cursor is not None and cursor["reader"] == "sql", report.notes  # the fast path read it
        run = store.node(f"run:{run_id}")
        assert run is not None
        assert run.properties["params"] == {"C": "0.75", "max_iter": "250"}
        assert run.properties["metrics"] == {"accuracy": 0.9}  # the latest step
        assert [i["name"] for i in run.properties["inputs"]] == ["customers"]
        assert [e.target for e in store.edges_from([run.id], [EdgeKind.RAN_AT])] == [f"commit:{tracking.commit}"]
        version = store.node("model_version:churn-pg/1")
        assert version is not None and version.properties["aliases"] == ["champion"]
        assert [e.target for e in store.edges_from([version.id], [EdgeKind.VERSION_OF])] == [f"model:{model_id}"]
        model_node = store.node(f"model:{model_id}")
        assert model_node is not None and "model.pkl" in {f["path"] for f in model_node.properties["files"]}
