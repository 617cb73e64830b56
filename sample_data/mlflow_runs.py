"""Sample workspace step: a real MLflow run for each training commit, registered with aliases.

For each training commit the builder reads that commit's ``params.yaml``, ``metrics/eval.json`` and
``dvc.lock`` from git and the data and model from the DVC cache, then logs with the real MLflow
library into ``mlflow.db`` (artifacts in ``mlartifacts/``): params, metrics, the git tags MLflow
writes for a run started in a checkout, ``log_input`` of the DVC-tracked raw CSV (training) and of
the held-out split (evaluation), and the model via the sklearn flavor, registered as
``churn-model``. The model logged is the pipeline's own ``model.pkl`` (the builder made it, so it may
unpickle it), pickled again by MLflow: the same bytes, so mlprov can tie each MLflow version to the
GTO version of the same content. Aliases: ``champion`` on the production version, ``challenger`` on
the last staging one. One exploratory run logged outside git shows the gap a missing commit leaves.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from sample_data.build import DAY, MODEL, SampleWorkspace, TrainingCommit, run

TRACKING_DB = "mlflow.db"
ARTIFACTS = "mlartifacts"
EXPERIMENT = "churn"
CHAMPION = "v2.0.0"  # the version GTO promotes to prod last
CHALLENGER = "v1.2.0"  # the version still in staging


def add_mlflow_runs(ws: SampleWorkspace) -> dict[str, list[str]]:
    """Log one run per training commit; returns the scan config entry for the tracking store."""
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    import logging

    import mlflow

    # the demo's output is mlprov's: MLflow's notices about pickles and new versions are noise here
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    from mlflow import MlflowClient

    uri = f"sqlite:///{ws.root / TRACKING_DB}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with _mlflow_pointed_at(mlflow, uri):
        return _log_runs(ws, client)


@contextmanager
def _mlflow_pointed_at(mlflow: Any, uri: str) -> Iterator[None]:
    """MLflow's fluent API aimed at the sample store while it logs, then put back as it was.

    ``mlflow.set_tracking_uri`` also exports ``MLFLOW_TRACKING_URI`` to the process (for its
    subprocesses); left behind, every later ``mlprov scan`` of this process or its children would
    scan the sample store as if the user had set it.
    """
    saved = {name: os.environ.get(name) for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved["MLFLOW_TRACKING_URI"])  # None: back to MLflow's default
        mlflow.set_registry_uri(saved["MLFLOW_REGISTRY_URI"])
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _log_runs(ws: SampleWorkspace, client: Any) -> dict[str, list[str]]:
    experiment = client.create_experiment(EXPERIMENT, artifact_location=(ws.root / ARTIFACTS).as_uri())
    versions: dict[str, str] = {}
    import contextlib

    chatter = io.StringIO()  # MLflow prints "Created version ..." itself: keep the demo's output readable
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        warnings.simplefilter("ignore")  # MLflow warns about pickle serialization and dataset sources
        for commit in ws.commits:
            versions[commit.version] = _log_training(ws, client, experiment, commit)
        _log_exploration(ws, client, experiment)
    client.set_registered_model_alias(MODEL, "champion", versions[CHAMPION])
    client.set_registered_model_alias(MODEL, "challenger", versions[CHALLENGER])
    ws.notes.append(f"MLflow: {len(versions)} runs and versions of {MODEL} in {TRACKING_DB}")
    return {"mlflow": [f"sqlite:///{TRACKING_DB}"]}


def _log_training(ws: SampleWorkspace, client: Any, experiment: str, commit: TrainingCommit) -> str:
    """One run at ``commit``; returns the registered version number."""
    import mlflow
    import pandas as pd
    from mlflow.entities import Metric, Param, RunTag

    params = yaml.safe_load(_show(ws, commit.sha, "params.yaml"))
    metrics = json.loads(_show(ws, commit.sha, "metrics/eval.json"))
    outs = _locked_outs(ws, commit.sha)
    start = commit.when * 1000 + 60_000
    tags = {
        "mlflow.source.git.commit": commit.sha,
        "mlflow.source.git.branch": "main",
        "mlflow.source.git.repoURL": ws.repo.as_uri(),
        "mlflow.source.name": "src/train.py",
        "mlflow.source.type": "LOCAL",
        "mlflow.user": "dana",
        "purpose": commit.message,
    }
    run_obj = client.create_run(experiment, start_time=start, tags=tags, run_name=f"train-{commit.version}")
    run_id = run_obj.info.run_id
    flat = {f"{section}.{k}": str(v) for section, values in params.items() for k, v in values.items()}
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), start + 30_000, 0) for k, v in sorted(metrics.items())],
        params=[Param(k, v) for k, v in sorted(flat.items())],
        tags=[RunTag("dvc.stage", "train")],
    )
    raw = pd.read_csv(io.BytesIO(_cached(ws, outs["data/raw.csv"])))
    test = pd.read_csv(io.BytesIO(_dir_file(ws, outs["data/prepared"], "test.csv")))
    model_bytes = _cached(ws, outs["models/model.pkl"])
    model = pickle.loads(model_bytes)  # the builder's own artifact, for the input example's signature
    with mlflow.start_run(run_id=run_id):
        mlflow.log_input(
            mlflow.data.from_pandas(raw, source="data/raw.csv", name="customers"), context="training"
        )
        mlflow.log_input(
            mlflow.data.from_pandas(
                test, source="data/prepared/test.csv", name="customers-test", targets="churned"
            ),
            context="evaluation",
        )
        features = test.drop(columns=["churned"])
        info = mlflow.models.Model.log(
            artifact_path=None,
            name="model",
            flavor=_PipelinePickle(model_bytes),
            sk_model=model,
            serialization_format="pickle",
            registered_model_name=MODEL,
            input_example=features.head(3),
            pip_requirements=["scikit-learn"],
        )
    client.set_terminated(run_id, "FINISHED", end_time=start + 120_000)
    version = str(info.registered_model_version)
    client.set_model_version_tag(MODEL, version, "gto_version", commit.version)
    return version


class _PipelinePickle:
    """``mlflow.sklearn``, except that the pickle it keeps is the pipeline's own ``model.pkl`` bytes.

    Re-pickling a loaded model does not reproduce its bytes; keeping DVC's file lets the MLflow
    version and the GTO version of the same model share one content hash, as when a team registers
    the artifact its pipeline built.
    """

    __name__ = "mlflow.sklearn"

    def __init__(self, pickled: bytes) -> None:
        self.pickled = pickled

    def save_model(self, path: str, **kwargs: Any) -> None:
        import mlflow.sklearn

        mlflow.sklearn.save_model(path=path, **kwargs)
        (Path(path) / "model.pkl").write_bytes(self.pickled)


def _log_exploration(ws: SampleWorkspace, client: Any, experiment: str) -> None:
    """A notebook run with no git tags: its lineage stops at the run (mlprov reports the gap)."""
    start = (ws.commits[-1].when + DAY) * 1000
    run_obj = client.create_run(
        experiment,
        start_time=start,
        run_name="notebook-exploration",
        tags={"mlflow.user": "dana", "mlflow.source.type": "NOTEBOOK"},
    )
    from mlflow.entities import Metric, Param

    client.log_batch(
        run_obj.info.run_id,
        metrics=[Metric("accuracy", 0.81, start, 0)],
        params=[Param("train.n_estimators", "200")],
    )
    client.set_terminated(run_obj.info.run_id, "FINISHED", end_time=start + 300_000)


def _show(ws: SampleWorkspace, sha: str, path: str) -> str:
    return run(["git", "show", f"{sha}:{path}"], ws.repo)


def _locked_outs(ws: SampleWorkspace, sha: str) -> dict[str, str]:
    """Path -> md5 of every output locked at ``sha`` (and the raw data's ``.dvc`` file)."""
    lock = yaml.safe_load(_show(ws, sha, "dvc.lock"))
    outs = {o["path"]: o["md5"] for stage in lock["stages"].values() for o in stage.get("outs", [])}
    raw = yaml.safe_load(_show(ws, sha, "data/raw.csv.dvc"))
    outs["data/raw.csv"] = raw["outs"][0]["md5"]
    return outs


def _cached(ws: SampleWorkspace, md5: str) -> bytes:
    return (ws.repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]).read_bytes()


def _dir_file(ws: SampleWorkspace, dir_md5: str, relpath: str) -> bytes:
    listing = json.loads(_cached(ws, dir_md5))
    entry = next(e for e in listing if e["relpath"] == relpath)
    return _cached(ws, entry["md5"])
