"""A lineage store holding one trained, registered and shipped model, written as the sources write it.

Node properties follow docs/properties.md. Every value is fixed, so the BOM built from it is
byte-for-byte stable (the golden file). The model artifact and a DVC cache listing live in
``root``: their paths never reach the BOM (local paths name no shared location).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind
from explorer.store import LineageStore

SHA = "3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a"
RUN = "9cec5722b37e4754bf39bd953d0f64d7"
MODEL = "m-5fcbbd68f23b472a8f12449051f3cb9e"
MV = "model_version:churn/3"
RAW_MD5 = "22a1a2931c8370d3aeedd7183606fd7f"
PREPARED_MD5 = "3863d0e317dee0a55c4e59d2ec0eef33.dir"
TRAIN_MD5 = "a304afb96060aad90176268345e10355"
TEST_MD5 = "b6b1d1ea9ee6b0d5f5b5c7a1f1c0e3a9"
IMAGE = "image:registry.example.com/acme/churn@sha256:" + "ab" * 32
REMOTE = "s3://acme-dvc/store"

ARTIFACT_FILES = {
    "MLmodel": "artifact_path: model\nflavors:\n  sklearn:\n    pickled_model: model.pkl\n",
    "model.pkl": "not a real pickle: the BOM only hashes it",
    "requirements.txt": "mlflow==3.17.2\nscikit-learn==1.9.1\nnumpy>=2\n",
    "conda.yaml": "dependencies:\n- python=3.11.7\n- pip:\n  - mlflow==3.17.2\n",
    "python_env.yaml": "python: 3.11.7\n",
}
PREPARED_LISTING = [
    {"md5": "0b2d0a7a1a3c2f6e4b5d8c9e0f1a2b3c", "relpath": "train.csv", "size": 1200},
    {"md5": "1c3e1b8b2b4d3a7f5c6e9d0f1a2b3c4d", "relpath": "test.csv", "size": 300},
]


@dataclass(frozen=True, slots=True)
class BuiltLineage:
    store: LineageStore
    artifact_dir: Path
    repo_dir: Path


def ev(rule: str) -> Evidence:
    return Evidence("test", "tests/sbom/lineage_builder.py", rule)


def write_artifacts(root: Path) -> tuple[Path, Path]:
    artifact_dir = root / "mlruns" / "1" / "models" / MODEL / "artifacts"
    artifact_dir.mkdir(parents=True)
    for name, text in ARTIFACT_FILES.items():
        (artifact_dir / name).write_text(text, encoding="utf-8")
    repo = root / "repo"
    digest = PREPARED_MD5.removesuffix(".dir")
    listing = repo / ".dvc" / "cache" / "files" / "md5" / PREPARED_MD5[:2] / PREPARED_MD5[2:]
    listing.parent.mkdir(parents=True)
    listing.write_text(json.dumps(PREPARED_LISTING), encoding="utf-8")
    assert digest  # the .dir digest names the listing file
    return artifact_dir, repo


def lineage_facts(artifact_dir: Path, repo: Path) -> Facts:
    f = Facts()
    f.add_node(
        Node(
            f"commit:{SHA}",
            NodeKind.COMMIT,
            "train churn model",
            {
                "sha": SHA,
                "repo": "churn",
                "repo_path": str(repo),
                "remote_url": "git@github.com:acme/churn.git",
                "author": "Ada Lovelace",
                "author_email": "ada@example.com",
                "authored_at": "2025-03-01T09:00:00Z",
                "committed_at": "2025-03-01T09:05:00Z",
                "message": "Train churn model on March data",
                "parents": [],
                "refs": ["refs/heads/main"],
            },
        )
    )
    data = {
        RAW_MD5: ("data/raw.csv", 4096, None),
        PREPARED_MD5: ("data/prepared", 1500, 2),
        TRAIN_MD5: ("features/train.pkl", 2048, None),
        TEST_MD5: ("features/test.pkl", 512, None),
    }
    for digest, (path, size, nfiles) in data.items():
        props = {
            "algorithm": "md5",
            "digest": digest,
            "path": path,
            "paths": [path],
            "size": size,
            "repo": "churn",
            "remote": REMOTE,
        }
        if nfiles is not None:
            props["nfiles"] = nfiles
        f.add_node(Node(f"data:md5:{digest}", NodeKind.DATA, path, props))
    stages = {
        "prepare": (
            "python src/prepare.py data/raw.csv",
            {"params.yaml": {"prepare.split": 0.2, "prepare.seed": 42}},
            [RAW_MD5],
            [PREPARED_MD5],
        ),
        "featurize": (
            "python src/featurize.py data/prepared features",
            {"params.yaml": {"featurize": {"max_features": 100, "ngrams": [1, 2]}}},
            [PREPARED_MD5],
            [TRAIN_MD5, TEST_MD5],
        ),
    }
    for name, (cmd, params, deps, outs) in stages.items():
        sid = f"stage:churn:{name}@{SHA}"
        f.add_node(
            Node(
                sid,
                NodeKind.STAGE,
                name,
                {
                    "name": name,
                    "repo": "churn",
                    "commit": SHA,
                    "dvcfile": "dvc.yaml",
                    "cmd": cmd,
                    "params": params,
                    "deps": [{"path": data[d][0], "data": f"data:md5:{d}"} for d in deps],
                    "outs": [{"path": data[o][0], "data": f"data:md5:{o}"} for o in outs],
                },
            )
        )
        f.link(sid, f"commit:{SHA}", EdgeKind.RAN_AT, ev("stage locked at commit"))
        for d in deps:
            f.link(sid, f"data:md5:{d}", EdgeKind.USED, ev("locked dependency"))
        for o in outs:
            f.link(f"data:md5:{o}", sid, EdgeKind.GENERATED_BY, ev("locked output"))
    datasets = {"train": ("1a2b3c4d", TRAIN_MD5, "training"), "test": ("5e6f7a8b", TEST_MD5, "evaluation")}
    inputs = []
    for name, (digest, data_md5, context) in datasets.items():
        did = f"dataset:mlflow:{name}@{digest}"
        source = f"features/{name}.pkl"
        f.add_node(
            Node(
                did,
                NodeKind.DATASET,
                name,
                {"name": name, "digest": digest, "source_type": "local", "source": {"uri": source}},
            )
        )
        f.link(did, f"data:md5:{data_md5}", EdgeKind.SAME_AS, ev("dataset source resolved to DVC data"))
        f.link(f"run:{RUN}", did, EdgeKind.USED, ev("run dataset input"))
        inputs.append(
            {
                "dataset": did,
                "name": name,
                "digest": digest,
                "source": source,
                "context": context,
                "data": f"data:md5:{data_md5}",
            }
        )
    f.add_node(
        Node(
            f"run:{RUN}",
            NodeKind.RUN,
            "churn-train",
            {
                "run_id": RUN,
                "experiment_id": "1",
                "experiment_name": "churn",
                "name": "churn-train",
                "status": "FINISHED",
                "user": "ada",
                "start_time": "2025-03-01T10:00:00Z",
                "end_time": "2025-03-01T10:04:30Z",
                "params": {"C": "1.0", "max_iter": "200"},
                "metrics": {"accuracy": 0.9125, "f1": 0.875},
                "tags": {"mlflow.source.git.commit": SHA, "mlflow.user": "ada", "mlflow.source.name": "train.py"},
                "artifact_uri": f"file://{artifact_dir.parent.parent}/{RUN}/artifacts",
                "lifecycle_stage": "active",
                "inputs": inputs,
            },
        )
    )
    f.link(f"run:{RUN}", f"commit:{SHA}", EdgeKind.RAN_AT, ev("mlflow.source.git.commit tag"))
    f.add_node(
        Node(
            f"model:{MODEL}",
            NodeKind.MODEL,
            "model",
            {
                "model_id": MODEL,
                "name": "model",
                "source_run_id": RUN,
                "artifact_location": artifact_dir.as_uri(),
                "created": "2025-03-01T10:04:00Z",
                "utc_time_created": "2025-03-01 10:04:00.000000",
                "flavors": {
                    "python_function": {"loader_module": "mlflow.sklearn"},
                    "sklearn": {
                        "pickled_model": "model.pkl",
                        "sklearn_version": "1.9.1",
                        "serialization_format": "cloudpickle",
                    },
                },
                "signature": {
                    "inputs": [
                        {"type": "double", "name": "tenure", "required": True},
                        {"type": "string", "name": "plan", "required": False},
                    ],
                    "outputs": [{"type": "long", "required": True}],
                },
                "mlflow_version": "3.17.2",
                "model_uuid": MODEL,
                "artifact_path": "model",
                "requirements": ARTIFACT_FILES["requirements.txt"].splitlines(),
                "conda": ARTIFACT_FILES["conda.yaml"],
                "python_env": {"python": "3.11.7"},
                "tags": {
                    "model_card.users": "Retention analysts\nCustomer success",
                    "model_card.technical_limitations": "Not calibrated for accounts younger than 30 days",
                },
                # MLflow 3 model metrics carry the dataset they were computed on: that gives the slice
                "metrics": [{"key": "roc_auc", "value": 0.93, "dataset_name": "test", "dataset_digest": "5e6f7a8b"}],
            },
        )
    )
    f.link(f"model:{MODEL}", f"run:{RUN}", EdgeKind.GENERATED_BY, ev("logged_models.source_run_id"))
    f.add_node(
        Node(
            MV,
            NodeKind.MODEL_VERSION,
            "churn 3",
            {
                "name": "churn",
                "version": "3",
                "registry": "mlflow",
                "source": f"models:/{MODEL}",
                "run_id": RUN,
                "model_id": MODEL,
                "aliases": ["champion"],
                "stages": [],
                "tags": {"team": "retention"},
                "status": "READY",
                "created": "2025-03-01T11:00:00Z",
                "description": "Churn classifier, March retrain",
            },
        )
    )
    f.link(MV, f"model:{MODEL}", EdgeKind.VERSION_OF, ev("model_versions.source"))
    f.add_node(
        Node(
            IMAGE,
            NodeKind.IMAGE,
            "churn serving",
            {
                "repository": "registry.example.com/acme/churn",
                "digest": "sha256:" + "ab" * 32,
                "tags": ["3"],
            },
        )
    )
    f.link(IMAGE, MV, EdgeKind.CONTAINS, ev("image label models:/churn/3"))
    return f


def build_store(root: Path) -> BuiltLineage:
    artifact_dir, repo = write_artifacts(root)
    store = LineageStore.open(f"sqlite:///{root / 'lineage.db'}")
    store.write_batch("test", lineage_facts(artifact_dir, repo))
    return BuiltLineage(store, artifact_dir, repo)
