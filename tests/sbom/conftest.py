"""Fixtures for the ML-BOM tests: a lineage store (fixed facts) and a real MLflow model."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sbom.lineage_builder import BuiltLineage, build_store

SPEC_EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "sbom" / "cyclonedx-spec-1.6"


@pytest.fixture
def lineage(tmp_path: Path) -> Iterator[BuiltLineage]:
    built = build_store(tmp_path)
    yield built
    built.store.close()


@pytest.fixture(autouse=True)
def _no_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@dataclass(frozen=True, slots=True)
class LoggedModel:
    model_dir: Path
    run_id: str
    model_id: str
    tracking_uri: str


_TRAIN = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.filterwarnings("ignore")
    import mlflow, mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("bom-test")
    X, y = load_iris(return_X_y=True, as_frame=True)
    with mlflow.start_run() as run:
        model = LogisticRegression(max_iter=300).fit(X, y)
        mlflow.log_param("max_iter", 300)
        mlflow.log_metric("accuracy", model.score(X, y))
        info = mlflow.sklearn.log_model(model, name="model", input_example=X.head(2),
                                        registered_model_name="iris-classifier")
    print(json.dumps({"run_id": run.info.run_id, "model_id": info.model_id,
                      "dir": mlflow.artifacts.download_artifacts(info.model_uri)}))
    """
)


@pytest.fixture(scope="session")
def logged_model(tmp_path_factory: pytest.TempPathFactory) -> LoggedModel:
    """An sklearn model trained, logged and registered by real MLflow (in a subprocess: MLflow's
    import and its logging stay out of the test process)."""
    return log_model_into(tmp_path_factory.mktemp("mlflow"))


def log_model_into(root: Path) -> LoggedModel:
    """Train and register the iris model with real MLflow into ``root/mlflow.db`` (artifacts under ``root``)."""
    uri = f"sqlite:///{root / 'mlflow.db'}"
    # the script names its store; URIs another test exported to the environment must not redirect its registry
    inherited = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env = {**inherited, "MLFLOW_ARTIFACT_ROOT": str(root / "artifacts")}
    done = subprocess.run(
        [sys.executable, "-c", _TRAIN, uri], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    info = json.loads(done.stdout.strip().splitlines()[-1])
    return LoggedModel(Path(info["dir"]), info["run_id"], info["model_id"], uri)
