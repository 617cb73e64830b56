"""A small lineage store with fixed ids, times and values: what the SVG snapshots show.

The sample workspace's MLflow part carries the build's clock time and random run ids, so snapshots
use this store instead; it covers every column of the models home (signed, failed, BOM, deployed, gaps).
"""

from __future__ import annotations

from explorer.lineage import EdgeKind, Evidence, Facts, Gap, Node, NodeKind
from explorer.store import LineageStore

SHA = ["1" * 40, "2" * 40]
RUNS = ["a1" * 16, "b2" * 16, "c3" * 16]


def fill(store: LineageStore) -> None:
    """Write the snapshot lineage into an empty store."""
    f = Facts()
    ev = Evidence

    for i, sha in enumerate(SHA):
        f.add_node(
            Node(
                f"commit:{sha}",
                NodeKind.COMMIT,
                f"{sha[:8]} Train churn model, step {i + 1}",
                {
                    "sha": sha,
                    "repo": "churn-repo",
                    "author": "Dana Data",
                    "committed_at": f"2026-01-0{i + 1}T00:00:00Z",
                    "message": f"Train churn model, step {i + 1}",
                },
            )
        )
    f.add_node(
        Node(
            "data:md5:" + "d" * 32 + ".dir",
            NodeKind.DATA,
            "data/prepared",
            {"path": "data/prepared", "digest": "d" * 32 + ".dir", "algorithm": "md5", "nfiles": 2},
        )
    )
    f.add_node(
        Node(
            "data:md5:" + "e" * 32,
            NodeKind.DATA,
            "data/raw.csv",
            {"path": "data/raw.csv", "digest": "e" * 32, "algorithm": "md5", "size": 48213},
        )
    )
    f.add_node(
        Node(
            "dataset:mlflow:customers-train@" + "f" * 8,
            NodeKind.DATASET,
            "customers-train",
            {"name": "customers-train", "digest": "f" * 8, "source": "data/prepared/train.csv"},
        )
    )
    for i, run in enumerate(RUNS):
        f.add_node(
            Node(
                f"run:{run}",
                NodeKind.RUN,
                f"train-{i + 1}",
                {
                    "run_id": run,
                    "name": f"train-{i + 1}",
                    "status": "FINISHED",
                    "experiment_name": "churn",
                    "start_time": f"2026-01-0{i + 1}T00:10:00Z",
                    "params": {"n_estimators": str(100 * (i + 1)), "max_depth": str(4 + i), "class_weight": "balanced"},
                    "metrics": {"accuracy": 0.80 + i / 50, "f1": 0.82 + i / 40, "roc_auc": 0.88 + i / 100},
                    "tags": {"mlflow.source.git.commit": SHA[min(i, 1)], "note": "a long tag value " * 6},
                },
            )
        )
        f.link(
            f"run:{run}",
            f"commit:{SHA[min(i, 1)]}",
            EdgeKind.RAN_AT,
            ev("mlflow", f"run {run} tag mlflow.source.git.commit", "run recorded its git commit"),
        )
        f.link(
            f"run:{run}",
            "dataset:mlflow:customers-train@" + "f" * 8,
            EdgeKind.USED,
            ev("mlflow", f"run {run} inputs", "MLflow dataset input"),
        )
        f.add_node(Node(f"model:m-{i + 1:04d}", NodeKind.MODEL, f"model m-{i + 1:04d}", {"model_id": f"m-{i + 1:04d}"}))
        f.link(
            f"model:m-{i + 1:04d}",
            f"run:{run}",
            EdgeKind.GENERATED_BY,
            ev("mlflow", f"logged_models.source_run_id of m-{i + 1:04d}", "logged model's source run"),
        )
        version = f"model_version:churn-model/{i + 1}"
        aliases = [["legacy"], ["challenger"], ["champion"]][i]
        f.add_node(
            Node(
                version,
                NodeKind.MODEL_VERSION,
                f"churn-model {i + 1}",
                {
                    "name": "churn-model",
                    "version": str(i + 1),
                    "registry": "mlflow",
                    "aliases": aliases,
                    "created": f"2026-01-0{i + 1}T01:00:00Z",
                    "run_id": run,
                    "model_id": f"m-{i + 1:04d}",
                    "source": f"models:/m-{i + 1:04d}",
                    "status": "READY",
                },
            )
        )
        f.link(
            version,
            f"model:m-{i + 1:04d}",
            EdgeKind.VERSION_OF,
            ev("mlflow", f"model_versions.source = models:/m-{i + 1:04d}", "registered from a logged model"),
        )
    f.link(
        "dataset:mlflow:customers-train@" + "f" * 8,
        "data:md5:" + "d" * 32 + ".dir",
        EdgeKind.SAME_AS,
        ev("link", "data/prepared/train.csv in dvc.lock", "dataset source resolved against DVC"),
    )
    f.link(
        "data:md5:" + "d" * 32 + ".dir",
        "data:md5:" + "e" * 32,
        EdgeKind.GENERATED_BY,
        ev("dvc", "dvc.lock stage prepare", "DVC output of a stage"),
    )

    image = "image:registry.example.com/churn@sha256:" + "9" * 64
    f.add_node(
        Node(image, NodeKind.IMAGE, "registry.example.com/churn:3", {"tags": ["3"], "created": "2026-01-04T00:00:00Z"})
    )
    f.link(
        image,
        "model_version:churn-model/3",
        EdgeKind.CONTAINS,
        ev("oci", "label org.mlflow.model-version=3", "image label names the model version"),
    )
    live = "deployment:prod/churn@2026-01-05T00:00:00Z"
    old = "deployment:prod/churn@2026-01-02T00:00:00Z"
    f.add_node(
        Node(
            live,
            NodeKind.DEPLOYMENT,
            "prod/churn since 2026-01-05",
            {"environment": "prod", "endpoint": "churn", "since": "2026-01-05T00:00:00Z"},
        )
    )
    f.add_node(
        Node(
            old,
            NodeKind.DEPLOYMENT,
            "prod/churn 2026-01-02..05",
            {
                "environment": "prod",
                "endpoint": "churn",
                "since": "2026-01-02T00:00:00Z",
                "until": "2026-01-05T00:00:00Z",
            },
        )
    )
    f.link(
        live, image, EdgeKind.SERVES, ev("gitops", "deploy/prod/churn.yaml@" + SHA[1][:8], "Deployment image digest")
    )
    f.link(
        old,
        "model_version:churn-model/2",
        EdgeKind.SERVES,
        ev("gitops", "deploy/prod/churn.yaml@" + SHA[0][:8], "InferenceService storageUri"),
    )

    good, bad = "signature:sha256:" + "5" * 64, "signature:sha256:" + "6" * 64
    f.add_node(
        Node(
            good,
            NodeKind.SIGNATURE,
            "sigstore: release@example.com",
            {"method": "sigstore", "verified": True, "identity": "release@example.com"},
        )
    )
    f.add_node(Node(bad, NodeKind.SIGNATURE, "key: unknown", {"method": "key", "verified": False}))
    f.link(good, "model_version:churn-model/3", EdgeKind.SIGNS, ev("signing", "model.sig", "verified by mlprov verify"))
    f.link(bad, "model_version:churn-model/2", EdgeKind.SIGNS, ev("signing", "model.sig", "bundle beside the model"))
    serial = "urn:uuid:00000000-0000-4000-8000-000000000003"
    f.add_node(Node(f"bom:{serial}", NodeKind.BOM, "churn-model-3.cdx.json", {"serial_number": serial}))
    f.link(
        f"bom:{serial}",
        "model_version:churn-model/3",
        EdgeKind.DESCRIBES,
        ev("sbom", "boms/churn-model-3.cdx.json", "BOM written"),
    )
    f.gap(
        Gap(
            "model_version:churn-model/1",
            "dataset_unresolved",
            "run a1a1… logged dataset customers-old digest 0badc0de matching no known data version",
            "run a1a1… inputs",
            ("data:md5:" + "e" * 32,),
        )
    )
    store.write_batch("snapshot", f)
