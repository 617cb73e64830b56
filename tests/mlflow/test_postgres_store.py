"""A PostgreSQL tracking store filled by the real MLflow, read by the fast SQL path in a read-only session."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from mlflow_fixtures import Tracking

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


@pytest.mark.slow
def test_postgres_tracking_store_is_read_by_the_sql_path(tracking: Tracking, pg_store_url: str, tmp_path: Path) -> None:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    uri = pg_store_url if "+psycopg" in pg_store_url else pg_store_url.replace("postgresql://", "postgresql+psycopg://")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = MlflowClient(uri, registry_uri=uri)  # runs MLflow's own migrations on the new database
        experiment = client.create_experiment("churn-pg", artifact_location=(tmp_path / "artifacts").as_uri())
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            frame = pd.read_csv(tracking.repo / "data/raw.csv")
            features, target = frame.drop(columns=["customer_id", "churned"]), frame["churned"]
            model = LogisticRegression(C=0.75, max_iter=250).fit(features, target)
            tags = {"mlflow.source.git.commit": tracking.commit}
            with mlflow.start_run(experiment_id=experiment, run_name="pg-train", tags=tags) as run:
                mlflow.log_params({"C": "0.75", "max_iter": "250"})
                mlflow.log_metric("accuracy", 0.5, step=0)
                mlflow.log_metric("accuracy", 0.9, step=1)
                dataset = mlflow.data.from_pandas(frame, source="data/raw.csv", name="customers", targets="churned")
                mlflow.log_input(dataset, context="training")
                info = mlflow.sklearn.log_model(
                    model, name="model", registered_model_name="churn-pg", serialization_format="pickle"
                )
            client.set_registered_model_alias("churn-pg", "champion", "1")
        finally:
            mlflow.set_tracking_uri("")
            mlflow.set_registry_uri("")
    source = MlflowSource(uri)
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [source], link=False)
        assert report.error is None, report.error
        cursor = store.cursor(report.origin)
        assert cursor is not None and cursor["reader"] == "sql", report.notes  # the fast path read it
        run = store.node(f"run:{run.info.run_id}")
        assert run is not None
        assert run.properties["params"] == {"C": "0.75", "max_iter": "250"}
        assert run.properties["metrics"] == {"accuracy": 0.9}  # the latest step
        assert [i["name"] for i in run.properties["inputs"]] == ["customers"]
        assert [e.target for e in store.edges_from([run.id], [EdgeKind.RAN_AT])] == [f"commit:{tracking.commit}"]
        version = store.node("model_version:churn-pg/1")
        assert version is not None and version.properties["aliases"] == ["champion"]
        assert [e.target for e in store.edges_from([version.id], [EdgeKind.VERSION_OF])] == [f"model:{info.model_id}"]
        model_node = store.node(f"model:{info.model_id}")
        assert model_node is not None and "model.pkl" in {f["path"] for f in model_node.properties["files"]}
