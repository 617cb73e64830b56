"""A local `mlruns` file store, logged by the real MLflow, then moved (as a committed `mlruns` is cloned)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlflow_fixtures import Tracking, log_one_training

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


@pytest.fixture(scope="module")
def file_store(tracking: Tracking, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One training run logged into a file store at one place, the store then moved elsewhere."""
    root = tmp_path_factory.mktemp("filestore")
    logged_at = root / "laptop" / "mlruns"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3.7+ asks for it to write one
        run_id, model_id = log_one_training(tracking, logged_at.as_uri(), "churn-files", c="0.25")
    moved = root / "clone" / "mlruns"
    shutil.move(str(logged_at), moved)  # the recorded artifact paths now point nowhere
    return {"uri": str(moved), "run": run_id, "model": model_id, "commit": tracking.commit}


def test_moved_file_store_is_read_with_its_models(file_store: dict[str, str], tmp_path: Path) -> None:
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(file_store["uri"])], link=False)
        assert report.error is None, report.error
        run = store.node(f"run:{file_store['run']}")
        assert run is not None
        assert run.properties["params"] == {"C": "0.25", "max_iter": "250"}
        assert set(run.properties["metrics"]) == {"accuracy"}
        assert [i["name"] for i in run.properties["inputs"]] == ["customers"]
        model = store.node(f"model:{file_store['model']}")
        assert model is not None
        # the recorded location is the laptop's; the files were found under the moved store and hashed
        assert model.properties["artifact_read_from"].startswith(file_store["uri"])
        assert "model.pkl" in {f["path"] for f in model.properties["files"]}
        assert set(model.properties["flavors"]) == {"python_function", "sklearn"}
        version = store.node("model_version:churn-files/1")
        assert version is not None and version.properties["aliases"] == ["champion"]
        assert [e.target for e in store.edges_from([version.id], [EdgeKind.VERSION_OF])] == [model.id]
        assert [e.target for e in store.edges_from([run.id], [EdgeKind.RAN_AT])] == [f"commit:{file_store['commit']}"]
        assert not [g for g in store.gaps() if g.kind == "missing_artifact"]


def test_store_problems_are_notes_and_one_line_errors(
    file_store: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """An experiment folder without meta.yaml is a note (MLflow's traceback is not printed); an
    experiment's folder given as the store is a one-line error naming the folder to scan instead."""
    copy = tmp_path / "mlruns"
    shutil.copytree(file_store["uri"], copy)
    run_dir = next(p for p in copy.glob("*/*") if p.name == file_store["run"])
    experiment = run_dir.parent
    (experiment / "meta.yaml").unlink()
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(str(copy))], link=False)
        assert report.error is None
        assert [n for n in report.notes if f"Malformed experiment '{experiment.name}'" in n], report.notes
        assert store.node(f"run:{file_store['run']}") is None  # MLflow skips the experiment's runs
        [wrong] = run_scan(store, [MlflowSource(str(experiment))], link=False)
        assert wrong.error is not None
        assert "one MLflow experiment's (or run's) folder, not a tracking store" in wrong.error
        assert str(copy) in wrong.error
    assert "Traceback" not in capfd.readouterr().err
