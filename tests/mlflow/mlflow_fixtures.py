"""A real git + DVC repository and a real MLflow tracking store (SQLite) filled by real logging.

Built once per session (MLflow's import and a few dvc calls cost seconds); tests scan it into
their own lineage stores and never modify it. The bad inputs live in it from the start: a deleted
experiment, a registered version whose run was deleted, a model whose MLmodel is malformed and one
whose files are gone, a run logged with no git commit.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sample_data.build import generate_customers

MODEL = "churn"
BIN = Path(sys.executable).parent


@dataclass(slots=True)
class Tracking:
    """What the fixture logged, for tests to assert against."""

    root: Path
    repo: Path
    uri: str
    commit: str
    raw_md5: str
    model_md5: str
    run_id: str = ""
    model_id: str = ""
    eval_run_id: str = ""
    untagged_run_id: str = ""
    deleted_experiment_id: str = ""
    orphan_version: str = ""
    broken_model_id: str = ""
    lost_model_id: str = ""
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    dataset_digest: str = ""


def _run(cmd: list[str], cwd: Path) -> str:
    env = dict(
        os.environ,
        DVC_NO_ANALYTICS="1",
        GIT_AUTHOR_NAME="T",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="T",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{cmd}: {proc.stderr[-500:]}"
    return proc.stdout


def _dvc() -> str:
    return str(BIN / "dvc") if (BIN / "dvc").exists() else "dvc"


def _md5_from_dvcfile(path: Path) -> str:
    import yaml

    return str(yaml.safe_load(path.read_text())["outs"][0]["md5"])


def _build_repo(repo: Path) -> tuple[str, str, str]:
    """A repo with DVC-tracked data/raw.csv and models/model.pkl, a GTO version tag: (sha, raw md5, model md5)."""
    from sklearn.linear_model import LogisticRegression

    repo.mkdir(parents=True)
    _run(["git", "init", "-q", "-b", "main"], repo)
    _run([_dvc(), "init", "-q"], repo)
    generate_customers(repo / "data/raw.csv", 300, seed=3)
    import pandas as pd

    frame = pd.read_csv(repo / "data/raw.csv")
    features = frame[["tenure_months", "monthly_charges", "support_calls", "contract_monthly"]]
    model = LogisticRegression(C=0.5, max_iter=200).fit(features, frame["churned"])
    (repo / "models").mkdir()
    (repo / "models/model.pkl").write_bytes(pickle.dumps(model, protocol=4))
    (repo / "dvc.yaml").write_text(f"artifacts:\n  {MODEL}:\n    path: models/model.pkl\n    type: model\n")
    _run([_dvc(), "add", "-q", "data/raw.csv", "models/model.pkl"], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "data and model"], repo)
    sha = _run(["git", "rev-parse", "HEAD"], repo).strip()
    _run(["git", "tag", "-a", f"{MODEL}@v1.0.0", "-m", "register"], repo)
    return sha, _md5_from_dvcfile(repo / "data/raw.csv.dvc"), _md5_from_dvcfile(repo / "models/model.pkl.dvc")


def _log(t: Tracking) -> None:
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    from sample_data.mlflow_runs import _PipelinePickle

    client = MlflowClient(t.uri, registry_uri=t.uri)
    mlflow.set_tracking_uri(t.uri)
    mlflow.set_registry_uri(t.uri)
    exp = client.create_experiment("churn", artifact_location=(t.root / "mlartifacts").as_uri())
    mlflow.set_experiment(experiment_id=exp)
    frame = pd.read_csv(t.repo / "data/raw.csv")
    features = frame.drop(columns=["customer_id", "churned"])
    pickled = (t.repo / "models/model.pkl").read_bytes()
    model = pickle.loads(pickled)  # the fixture's own model, made above
    t.params = {"C": "0.5", "max_iter": "200"}
    t.metrics = {"accuracy": round(float(model.score(features, frame["churned"])), 4)}
    tags = {"mlflow.source.git.commit": t.commit, "mlflow.source.git.repoURL": t.repo.as_uri()}
    with mlflow.start_run(run_name="train", tags=tags) as run:
        mlflow.log_params(t.params)
        mlflow.log_metric("accuracy", 0.1, step=0)
        mlflow.log_metric("accuracy", t.metrics["accuracy"], step=1)  # latest value wins
        dataset = mlflow.data.from_pandas(frame, source="data/raw.csv", name="customers", targets="churned")
        mlflow.log_input(dataset, context="training")
        info = mlflow.models.Model.log(
            artifact_path=None,
            name="model",
            flavor=_PipelinePickle(pickled),
            sk_model=model,
            serialization_format="pickle",
            registered_model_name=MODEL,
            input_example=features.head(2),
            pip_requirements=["scikit-learn"],
        )
    t.run_id, t.model_id, t.dataset_digest = run.info.run_id, info.model_id, dataset.digest
    client.set_registered_model_alias(MODEL, "champion", "1")
    with mlflow.start_run(run_name="notebook") as run:
        mlflow.log_param("C", "2.0")
    t.untagged_run_id = run.info.run_id
    # a version whose run is later deleted
    other = LogisticRegression(C=2.0, max_iter=200).fit(features, frame["churned"])
    with mlflow.start_run(run_name="doomed", tags=tags) as run:
        orphan = mlflow.sklearn.log_model(
            other, name="model", registered_model_name=MODEL, serialization_format="pickle"
        )
    t.orphan_version = str(orphan.registered_model_version)
    client.delete_run(run.info.run_id)
    # models whose files are broken or gone
    with mlflow.start_run(run_name="broken-files", tags=tags):
        broken = mlflow.sklearn.log_model(model, name="broken", serialization_format="pickle")
        lost = mlflow.sklearn.log_model(model, name="lost", serialization_format="pickle")
    t.broken_model_id, t.lost_model_id = broken.model_id, lost.model_id
    (_local(broken.artifact_path) / "MLmodel").write_text("flavors: [unclosed\n  : :\n")
    shutil.rmtree(_local(lost.artifact_path))
    # a deleted experiment that still holds a run
    gone = client.create_experiment("abandoned", artifact_location=(t.root / "mlartifacts-abandoned").as_uri())
    client.set_terminated(client.create_run(gone, run_name="old").info.run_id)
    client.delete_experiment(gone)
    t.deleted_experiment_id = gone
    reset_mlflow_uris()  # nothing later in the session logs here by accident


def reset_mlflow_uris() -> None:
    """Forget the tracking and registry URIs a test set. ``mlflow.set_tracking_uri``/``set_registry_uri``
    also export ``MLFLOW_TRACKING_URI``/``MLFLOW_REGISTRY_URI`` for subprocesses, and ``set_registry_uri("")``
    leaves the variable as it was: a later subprocess (the BOM tests' training script) then registered
    its model in this store, or failed on a tracking server stopped since."""
    import mlflow

    mlflow.set_tracking_uri("")
    mlflow.set_registry_uri("")
    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(variable, None)


def _local(uri: str) -> Path:
    from explorer.sources.mlflow_uri import local_path

    path = local_path(uri)
    assert path is not None, uri
    return path


@pytest.fixture(scope="session")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Tracking:
    root = tmp_path_factory.mktemp("mlflow-ws")
    repo = root / "repo"
    sha, raw_md5, model_md5 = _build_repo(repo)
    t = Tracking(
        root=root,
        repo=repo,
        uri=f"sqlite:///{root / 'mlflow.db'}",
        commit=sha,
        raw_md5=raw_md5,
        model_md5=model_md5,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _log(t)
    return t


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(backend_uri: str, artifacts: list[str], log_path: Path) -> Iterator[str]:
    """A real ``mlflow server`` on ``backend_uri`` (``artifacts``: its artifact options), in its own
    process group, stopped as a group; yields its URL once ``/health`` answers."""
    import requests

    port = free_port()
    exe = str(BIN / "mlflow") if (BIN / "mlflow").exists() else "mlflow"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            exe,
            "server",
            "--backend-store-uri",
            backend_uri,
            *artifacts,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=log_path.parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start: {log_path.read_text()[-800:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def mlflow_server(tracking: Tracking) -> Iterator[str]:
    """A real ``mlflow server`` over the session's store."""
    artifacts = ["--default-artifact-root", (tracking.root / "mlartifacts").as_uri()]
    with running_server(tracking.uri, artifacts, tracking.root / "server.log") as url:
        yield url


def log_one_training(
    t: Tracking, uri: str, name: str, *, c: str, artifact_location: str | None = None
) -> tuple[str, str]:
    """One real training run logged to ``uri`` by MLflow (params C/max_iter, accuracy at two steps,
    the DVC-tracked CSV as input, a model registered as ``name`` version 1 with alias ``champion``).
    Returns (run id, model id). Uses no process-global experiment, and resets the tracking URI."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = MlflowClient(uri, registry_uri=uri)
        experiment = client.create_experiment(name, artifact_location=artifact_location)
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            frame = pd.read_csv(t.repo / "data/raw.csv")
            features, target = frame.drop(columns=["customer_id", "churned"]), frame["churned"]
            model = LogisticRegression(C=float(c), max_iter=250).fit(features, target)
            tags = {"mlflow.source.git.commit": t.commit}
            with mlflow.start_run(experiment_id=experiment, run_name=f"{name}-train", tags=tags) as run:
                mlflow.log_params({"C": c, "max_iter": "250"})
                mlflow.log_metric("accuracy", 0.5, step=0)
                mlflow.log_metric("accuracy", 0.9, step=1)
                dataset = mlflow.data.from_pandas(frame, source="data/raw.csv", name="customers", targets="churned")
                mlflow.log_input(dataset, context="training")
                info = mlflow.sklearn.log_model(
                    model, name="model", registered_model_name=name, serialization_format="pickle"
                )
            client.set_registered_model_alias(name, "champion", "1")
        finally:
            reset_mlflow_uris()
    return run.info.run_id, str(info.model_id)
