"""``mlprov trace`` and ``mlprov diff`` end to end: real git, an image layout, a GitOps history, KServe logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from explorer.cli import main
from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind
from explorer.sources.deploy import GitOpsSource
from explorer.sources.git import GitSource
from explorer.sources.oci import OciSource
from explorer.store import LineageStore
from sample_data.oci_images import Layout
from tests.trace.conftest import commit_files, scan_into, write
from tests.trace.test_deploy import isvc
from tests.trace.test_predictions import kserve_event, write_jsonl

T0 = 1_767_225_600
DAY = 86_400
REPO = "registry.example.com/ml/app"


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, object]:
    train = tmp_path / "train"
    c1 = commit_files(train, {"params.yaml": "train:\n  n_estimators: 40\n", "src/train.py": "fit()\n"}, "first", T0)
    c2 = commit_files(
        train, {"params.yaml": "train:\n  n_estimators: 120\n", "data/README": "march\n"}, "tune", T0 + DAY
    )
    layout = Layout(tmp_path / "images")
    digests = []
    for n, sha in ((1, c1), (2, c2)):
        d = layout.image(
            {"srv/app.py": f"v{n}".encode()},
            {"org.opencontainers.image.revision": sha, "org.mlflow.model.uri": f"models:/churn/{n}"},
            "2026-01-01T00:00:00Z",
        )
        layout.tag(d, f"{REPO}:v{n}")
        digests.append(d["digest"])
    layout.save()
    gitops = tmp_path / "gitops"
    commit_files(gitops, {"envs/prod/churn.yaml": isvc(digests[0])}, "v1", T0 + DAY)
    canary = commit_files(
        gitops,
        {"envs/prod/churn.yaml": isvc(digests[0], canary=20).replace(digests[0], digests[1])},
        "canary v2",
        T0 + 3 * DAY,
    )
    logs = tmp_path / "logs"
    at = "2026-01-05T12:00:00Z"
    write_jsonl(
        logs / "date=2026-01-05" / "a.jsonl",
        [
            kserve_event("r-canary", "request", at),
            kserve_event("r-canary", "response", at),
            kserve_event("r-default", "request", at, "default"),
            kserve_event("r-default", "response", at, "default"),
            kserve_event("r-early", "response", "2026-01-01T06:00:00Z", "default"),
            kserve_event("r-dup", "response", at, "default"),
        ],
        extra_lines=("{oops",),
    )
    write_jsonl(logs / "date=2026-01-06" / "b.jsonl", [kserve_event("r-dup", "response", "2026-01-06T00:00:00Z")])
    (tmp_path / "mlprov.toml").write_text('[trace]\nlogs = ["logs/**/*.jsonl"]\n')
    store = LineageStore.open(f"sqlite:///{tmp_path / '.mlprov' / 'lineage.db'}")
    scan_into(store, GitSource(train))
    scan_into(store, OciSource(str(tmp_path / "images"), layout=True))
    scan_into(store, GitOpsSource(gitops))
    write(store, mlflow_facts(c1, c2))
    store.close()
    return {"root": tmp_path, "c1": c1, "c2": c2, "digests": digests, "canary_commit": canary}


def mlflow_facts(c1: str, c2: str) -> Facts:
    """What the MLflow source records for two registered versions (its property contract)."""
    facts = Facts()
    ev = Evidence("mlflow", "sqlite:///mlflow.db", "test")
    for n, sha, trees, auc, raw in ((1, c1, "40", 0.91, "aa"), (2, c2, "120", 0.88, "bb")):
        mv, model, run, data = f"model_version:churn/{n}", f"model:m-{n}", f"run:r{n}", f"data:md5:{raw * 16}"
        facts.add_node(
            Node(mv, NodeKind.MODEL_VERSION, f"churn v{n}", {"name": "churn", "version": str(n), "registry": "mlflow"})
        )
        facts.add_node(
            Node(
                model,
                NodeKind.MODEL,
                f"m-{n}",
                {"requirements": ["scikit-learn==1.5.0" if n == 1 else "scikit-learn==1.6.1", "pandas"]},
            )
        )
        facts.add_node(
            Node(run, NodeKind.RUN, f"train-{n}", {"params": {"n_estimators": trees}, "metrics": {"roc_auc": auc}})
        )
        facts.add_node(Node(data, NodeKind.DATA, "data/raw.csv", {"path": "data/raw.csv"}))
        facts.link(mv, model, EdgeKind.VERSION_OF, ev)
        facts.link(model, run, EdgeKind.GENERATED_BY, ev)
        facts.link(run, f"commit:{sha}", EdgeKind.RAN_AT, ev)
        facts.link(run, data, EdgeKind.USED, ev)
    return facts


def invoke(root: object, *args: str) -> object:
    return CliRunner().invoke(main, ["-w", str(root), *args])


def test_trace_json_walks_every_hop_with_evidence(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "trace", "r-canary", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    digest = workspace["digests"][1]  # type: ignore[index]
    assert doc["root"] == "prediction:r-canary"
    assert doc["chain"] == [
        f"deployment:prod/churn:canary@{workspace['canary_commit']}",
        f"image:{REPO}@{digest}",
        "model_version:churn/2",
        "model:m-2",
        "run:r2",
        f"commit:{workspace['c2']}",
    ]
    assert all(e["evidence"]["source"] and e["evidence"]["rule"] for e in doc["edges"])
    assert doc["record"]["role"] == "canary" and doc["record"]["outputs"]["outputs"][0]["data"] == [0.9]
    assert doc["stopped"] is None
    assert doc["training"]["params"] == {"n_estimators": "120"} and doc["training"]["metrics"] == {"roc_auc": 0.88}
    assert doc["training"]["data"]["data/raw.csv"] == "data:md5:" + "bb" * 16
    assert doc["logs"]["invalid_lines"] == 1
    assert {n["id"] for n in doc["nodes"]} >= set(doc["chain"])
    assert "skipped 1 log line" in result.stderr


def test_trace_text_is_a_readable_chain(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "trace", "r-default")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "prediction r-default" in text and "prod/churn (default)" in text
    assert "model_version:churn/1" in text and "train-1" in text and "n_estimators" in text
    assert text.index("deployment:prod/churn@") < text.index("model_version:churn/1") < text.index("run:r1")


def test_time_outside_every_deployment_stops_with_candidates(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "trace", "r-early", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["chain"] == [] and doc["stopped"]["kind"] == "no_deployment_at_time"
    assert "2026-01-01T06:00:00Z" in doc["stopped"]["reason"]
    assert any("2026-01-02T00:00:00Z .. now" in c for c in doc["stopped"]["candidates"])


def test_duplicate_request_id_lists_both(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "trace", "r-dup")
    assert result.exit_code == 2
    assert "logged 2 times" in result.stderr
    assert "date=2026-01-05" in result.stderr and "date=2026-01-06" in result.stderr


def test_unknown_request_exits_1_naming_the_logs(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "trace", "r-missing")
    assert result.exit_code == 1
    assert "request r-missing not found in 2 file(s) of:" in result.stderr and "logs/**/*.jsonl" in result.stderr
    other = invoke(workspace["root"], "trace", "r-canary", "--log", "nowhere/*.jsonl")
    assert other.exit_code == 1 and "nowhere/*.jsonl" in other.stderr


def test_diff_names_what_changed(workspace: dict[str, object]) -> None:
    result = invoke(workspace["root"], "diff", "models:/churn/1", "models:/churn/2", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["params"] == [{"name": "n_estimators", "old": "40", "new": "120"}]
    assert doc["metrics"] == [{"name": "roc_auc", "old": 0.91, "new": 0.88}]
    assert doc["data"] == [{"name": "data/raw.csv", "old": "data:md5:" + "aa" * 16, "new": "data:md5:" + "bb" * 16}]
    [commit] = doc["commits"]
    assert commit["sha"] == workspace["c2"] and commit["message"] == "tune"
    assert commit["committed_at"] == "2026-01-02T00:00:00Z"  # RFC 3339, as commit nodes have it
    assert {f["path"] for f in commit["files"]} == {"params.yaml", "data/README"}
    assert doc["dependencies"] == [{"name": "scikit-learn", "old": "==1.5.0", "new": "==1.6.1"}]
    assert ":v1" in doc["images"][0]["old"] and ":v2" in doc["images"][0]["new"]
    text = invoke(workspace["root"], "diff", "models:/churn/1", "models:/churn/2")
    assert "n_estimators" in text.stdout and "tune" in text.stdout
    bad = invoke(workspace["root"], "diff", "models:/churn/1", "models:/churn/9")
    assert bad.exit_code == 2 and "no version 9" in bad.stderr
