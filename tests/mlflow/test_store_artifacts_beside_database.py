"""A SQLite tracking store committed (or copied) together with its artifact folder, as MLflow's own
tutorials lay it out: ``mlflow ui --backend-store-uri sqlite:///mlflow.db`` keeps artifacts in
``./mlruns`` beside the database, ``mlflow server`` in ``./mlartifacts`` (as ``mlflow-artifacts:/…``).
Found on real repositories: the recorded artifact paths point at the author's machine (or at the
server), so every model was a ``missing_artifact`` gap although its files were in the clone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mlflow_fixtures import Tracking, log_one_training, running_server

from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


def _scan(db: Path, uri: str) -> tuple[LineageStore, list[str], list[str]]:
    store = LineageStore.open(f"sqlite:///{db}")
    [report, *_] = run_scan(store, [MlflowSource(uri)], link=False)
    assert report.error is None, report.error
    return store, report.notes, [g.reason for g in store.gaps() if g.kind == "missing_artifact"]


def test_a_moved_sqlite_store_finds_its_mlruns_folder(tracking: Tracking, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    uri = f"sqlite:///{laptop / 'mlflow.db'}"
    run_id, model_id = log_one_training(
        tracking, uri, "beside-db", c="0.3", artifact_location=(laptop / "mlruns" / "1").as_uri()
    )
    clone = tmp_path / "clone"
    shutil.move(str(laptop), clone)  # the recorded file:///…/laptop/mlruns/1/… paths now point nowhere
    store, _, missing = _scan(tmp_path / "l.db", f"sqlite:///{clone / 'mlflow.db'}")
    with store:
        assert missing == []
        model = store.node(f"model:{model_id}")
        assert model is not None
        assert model.properties["artifact_location"].startswith((laptop / "mlruns").as_uri())  # the evidence
        assert model.properties["artifact_read_from"] == str(clone / "mlruns/1/models" / model_id / "artifacts")
        assert {"MLmodel", "model.pkl"} <= {f["path"] for f in model.properties["files"]}
        assert set(model.properties["flavors"]) == {"python_function", "sklearn"}
        assert model.properties["mlmodel_run_id"] == run_id


def test_server_artifacts_are_read_from_mlartifacts_beside_the_database(tracking: Tracking, tmp_path: Path) -> None:
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    backend = f"sqlite:///{server_dir / 'mlflow.db'}"
    # the server's defaults: artifacts served as mlflow-artifacts:/…, kept in ./mlartifacts where it runs
    with running_server(backend, [], server_dir / "server.log") as url:
        _, model_id = log_one_training(tracking, url, "served", c="0.4")
    model_dir = server_dir / "mlartifacts"
    assert model_dir.is_dir()
    store, _, missing = _scan(tmp_path / "l.db", backend)
    with store:
        assert missing == []
        model = store.node(f"model:{model_id}")
        assert model is not None
        assert model.properties["artifact_location"].startswith("mlflow-artifacts:/")
        assert model.properties["artifact_read_from"].startswith(str(model_dir))
        assert "model.pkl" in {f["path"] for f in model.properties["files"]}
        version = store.node("model_version:served/1")
        assert version is not None and version.properties["aliases"] == ["champion"]

    # without the folder: one gap saying where the files are and what to scan instead (no traceback,
    # no MLflow error about tracking URIs)
    shutil.rmtree(model_dir)
    store, notes, missing = _scan(tmp_path / "l2.db", backend)
    with store:
        [reason] = missing
        assert "kept by a tracking server's artifact store" in reason and "scan the tracking server" in reason
        assert "\n" not in reason
        assert store.node(f"model:{model_id}") is not None  # the model is still recorded
    assert not [n for n in notes if "Traceback" in n]


@pytest.mark.parametrize("windows", [True, False])
def test_recorded_windows_paths_are_matched_by_their_tail(tmp_path: Path, windows: bool) -> None:
    """``file:C:\\Users\\…\\mlruns/1`` (MLflow on Windows writes backslashes) is matched like a POSIX path."""
    from explorer.sources.mlflow_artifacts import moved_store_path

    store = tmp_path / "mlruns"
    (store / "1" / "abc" / "artifacts" / "model").mkdir(parents=True)
    tail = "mlruns/1/abc/artifacts/model"
    recorded = Path(f"C:\\Users\\lb\\proj\\{tail}") if windows else Path(f"/home/x/{tail}")
    assert moved_store_path(recorded, store.as_uri()) == store / "1/abc/artifacts/model"
