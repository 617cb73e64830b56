"""Models logged into a run's own artifacts, MLflow 2 style: no LoggedModel, only the MLmodel under
``<run>/artifacts/<path>`` and an entry in the run's ``mlflow.log-model.history`` tag. MLflow 3 reads
such stores but lists none of these models; mlprov dropped the tag, so every unregistered model of an
MLflow 2 store (found on real committed ``mlruns`` and ``mlflow.db``) was silently lost.

Rebuilt with the real MLflow: ``save_model`` (no LoggedModel), ``log_artifacts`` into the run and the
client's ``_record_logged_model`` write exactly what MLflow 2's ``log_model`` wrote."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


def _log_run_model(
    client: Any, experiment: str, root: Path, name: str, *, mlflow1: bool = False
) -> tuple[str, str, Path]:
    """One run with an sklearn model saved into its artifacts: (run id, model_uuid, the model folder).

    ``mlflow1``: as MLflow 1 wrote it, before ``model_uuid`` existed: neither the MLmodel nor the run's
    tag names one (model_uuid "")."""
    import mlflow.sklearn
    from mlflow.models import Model
    from sklearn.linear_model import LogisticRegression

    run = client.create_run(experiment, run_name=name)
    run_id = run.info.run_id
    client.log_param(run_id, "C", "0.7")
    saved = root / f"saved-{name}"
    model = LogisticRegression(C=0.7).fit([[0.0], [1.0], [2.0]], [0, 1, 1])
    mlflow.sklearn.save_model(model, str(saved), serialization_format="pickle")
    if mlflow1:
        mlmodel_file = saved / "MLmodel"
        meta = yaml.safe_load(mlmodel_file.read_text())
        del meta["model_uuid"]
        meta["run_id"], meta["artifact_path"] = run_id, "model"
        mlmodel_file.write_text(yaml.safe_dump(meta))
        client.log_artifacts(run_id, str(saved), "model")
        client.set_tag(run_id, "mlflow.log-model.history", json.dumps([meta]))
        client.set_terminated(run_id)
        return run_id, "", Path(run.info.artifact_uri.removeprefix("file://")) / "model"
    client.log_artifacts(run_id, str(saved), "model")
    mlmodel = Model.load(str(saved))
    mlmodel.run_id, mlmodel.artifact_path = run_id, "model"
    client._record_logged_model(run_id, mlmodel)
    client.set_terminated(run_id)
    return run_id, str(mlmodel.model_uuid), Path(run.info.artifact_uri.removeprefix("file://")) / "model"


@pytest.fixture(scope="module")
def mlflow2_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from mlflow import MlflowClient

    root = tmp_path_factory.mktemp("mlflow2")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = MlflowClient(uri, registry_uri=uri)
        experiment = client.create_experiment("runs-with-models", artifact_location=(root / "art").as_uri())
        kept, kept_uuid, _ = _log_run_model(client, experiment, root, "kept")
        lost, lost_uuid, lost_dir = _log_run_model(client, experiment, root, "files-gone")
        shutil.rmtree(lost_dir)
        old, _, _ = _log_run_model(client, experiment, root, "mlflow1", mlflow1=True)
        client.create_registered_model("reg")
        client.create_model_version("reg", f"runs:/{kept}/model", run_id=kept)
        client.create_model_version("reg", f"runs:/{old}/model", run_id=old)
        odd = client.create_run(experiment, run_name="odd-tag")
        client.set_tag(odd.info.run_id, "mlflow.log-model.history", '[{"artifact_path": "model", "flav')
    return {
        "uri": uri,
        "kept": kept,
        "kept_uuid": kept_uuid,
        "lost": lost,
        "lost_uuid": lost_uuid,
        "odd": odd.info.run_id,
        "mlflow1": old,
    }


@pytest.mark.parametrize("fast_path", [True, False])
def test_models_logged_in_runs_are_recorded(mlflow2_store: dict[str, str], tmp_path: Path, fast_path: bool) -> None:
    s = mlflow2_store
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(s["uri"], fast_path=fast_path)], link=False)
        assert report.error is None, report.error

        model = store.node(f"model:{s['kept_uuid']}")
        assert model is not None
        assert set(model.properties["flavors"]) == {"python_function", "sklearn"}
        assert {"MLmodel", "model.pkl", "requirements.txt"} <= {f["path"] for f in model.properties["files"]}
        assert [e.target for e in store.edges_from([model.id], [EdgeKind.GENERATED_BY])] == [f"run:{s['kept']}"]
        version = store.node("model_version:reg/1")
        assert version is not None
        assert [e.target for e in store.edges_from([version.id], [EdgeKind.VERSION_OF])] == [model.id]
        run = store.node(f"run:{s['kept']}")
        assert run is not None and run.properties["params"] == {"C": "0.7"}
        [summary] = run.properties["logged_models"]
        assert summary["artifact_path"] == "model" and summary["model_uuid"] == s["kept_uuid"]
        assert "mlflow.log-model.history" not in run.properties["tags"]

        # files gone: the tag's copy of the MLmodel still names the model, the gap says what is missing
        lost = store.node(f"model:{s['lost_uuid']}")
        assert lost is not None and set(lost.properties["flavors"]) == {"python_function", "sklearn"}
        assert "files" not in lost.properties
        assert [e.target for e in store.edges_from([lost.id], [EdgeKind.GENERATED_BY])] == [f"run:{s['lost']}"]
        [gap] = [g for g in store.gaps() if g.subject == lost.id]
        assert gap.kind == "missing_artifact" and s["lost"] in gap.locator

        # a truncated tag: the run is recorded, nothing invented, no error
        odd = store.node(f"run:{s['odd']}")
        assert odd is not None and "logged_models" not in odd.properties
        # MLflow 1: no model_uuid anywhere; known by the run and path it was logged at, registered and all
        legacy = store.node(f"model:{s['mlflow1']}/model")
        assert legacy is not None and "model_id" not in legacy.properties  # MLflow gave it no id
        assert set(legacy.properties["flavors"]) == {"python_function", "sklearn"}
        assert "model.pkl" in {f["path"] for f in legacy.properties["files"]}
        assert [e.target for e in store.edges_from([legacy.id], [EdgeKind.GENERATED_BY])] == [f"run:{s['mlflow1']}"]
        assert [e.target for e in store.edges_from(["model_version:reg/2"], [EdgeKind.VERSION_OF])] == [legacy.id]
        assert not [g for g in store.gaps() if g.subject in ("model_version:reg/2", legacy.id)]
        assert {n.id for n in store.nodes("model")} == {model.id, lost.id, legacy.id}


def test_a_model_whose_weights_are_missing_is_a_gap(tmp_path: Path) -> None:
    """A checkout without the weights (LFS, not yet uploaded): the MLmodel names model.pkl, the folder
    holds the rest. The scan hashed what was there and said nothing, and the ML-BOM left the weights out."""
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    from explorer.sources.mlflow_artifacts import read_model_files

    saved = tmp_path / "model"
    model = LogisticRegression().fit([[0.0], [1.0]], [0, 1])
    mlflow.sklearn.save_model(model, str(saved), serialization_format="pickle")
    assert read_model_files(saved.as_uri(), "sqlite:///x.db").problem is None
    (saved / "model.pkl").unlink()
    files = read_model_files(saved.as_uri(), "sqlite:///x.db")
    assert files.problem_kind == "missing_artifact" and files.problem is not None
    assert "python_function: model.pkl" in files.problem and "sklearn: model.pkl" in files.problem
    assert "MLmodel" in {f["path"] for f in files.files}  # what is there is still recorded
