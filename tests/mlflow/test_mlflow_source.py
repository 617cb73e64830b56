"""Scanning a real MLflow store: facts, cross-source links, gaps, incremental rescans, the CLI answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mlflow_fixtures import MODEL, Tracking, free_port

from explorer.cli import main
from explorer.lineage import Edge, EdgeKind, NodeKind
from explorer.scan import SourceReport, run_scan
from explorer.sources.git import GitSource
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


def scan(db: Path, *sources: Any) -> tuple[LineageStore, list[SourceReport]]:
    store = LineageStore.open(f"sqlite:///{db}")
    return store, run_scan(store, list(sources))


def edge(store: LineageStore, source: str, kind: EdgeKind, target: str) -> Edge:
    found = [e for e in store.edges_from([source], [kind]) if e.target == target]
    assert found, f"no {kind} edge {source} -> {target}; have {store.edges_from([source])}"
    return found[0]


@pytest.fixture(scope="module")
def scanned(tracking: Tracking, tmp_path_factory: pytest.TempPathFactory) -> LineageStore:
    db = tmp_path_factory.mktemp("lineage") / "lineage.db"
    store, reports = scan(db, GitSource(tracking.repo), MlflowSource(tracking.uri))
    assert all(r.error is None for r in reports), [r.error for r in reports]
    return store


def test_runs_datasets_models_and_versions_are_recorded(scanned: LineageStore, tracking: Tracking) -> None:
    run = scanned.node(f"run:{tracking.run_id}")
    assert run is not None and run.kind == NodeKind.RUN
    p = run.properties
    assert p["params"] == tracking.params
    assert p["metrics"] == tracking.metrics  # the latest value, not the first
    assert p["status"] == "FINISHED" and p["experiment_name"] == "churn" and p["name"] == "train"
    assert p["tags"]["mlflow.source.git.commit"] == tracking.commit
    assert p["start_time"].endswith("Z") and p["end_time"] >= p["start_time"]
    dataset = f"dataset:mlflow:customers@{tracking.dataset_digest}"
    assert p["inputs"] == [
        {
            "dataset": dataset,
            "name": "customers",
            "digest": tracking.dataset_digest,
            "source": {"uri": "data/raw.csv"},
            "context": "training",
            "data": None,
        }
    ]
    ds = scanned.node(dataset)
    assert ds is not None and ds.properties["source_type"] == "local" and ds.properties["profile"]["num_rows"] == 300

    model = scanned.node(f"model:{tracking.model_id}")
    assert model is not None
    mp = model.properties
    assert mp["source_run_id"] == tracking.run_id and mp["mlmodel_run_id"] == tracking.run_id
    assert set(mp["flavors"]) == {"python_function", "sklearn"}
    assert mp["requirements"][-1] == "scikit-learn" and mp["requirements"][0].startswith("mlflow==")
    assert mp["python_env"]["python"] == f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    assert {"name": "tenure_months", "type": "long", "required": True} in mp["signature"]["inputs"]
    assert {"path": "model.pkl", "md5": tracking.model_md5} in [{k: f[k] for k in ("path", "md5")} for f in mp["files"]]

    mv = scanned.node(f"model_version:{MODEL}/1")
    assert mv is not None
    assert mv.properties["aliases"] == ["champion"] and mv.properties["registry"] == "mlflow"
    assert mv.properties["model_id"] == tracking.model_id and mv.properties["run_id"] == tracking.run_id
    assert mv.properties["source"] == f"models:/{tracking.model_id}"


def test_edges_carry_evidence(scanned: LineageStore, tracking: Tracking) -> None:
    rid, mid = f"run:{tracking.run_id}", f"model:{tracking.model_id}"
    ran_at = edge(scanned, rid, EdgeKind.RAN_AT, f"commit:{tracking.commit}")
    assert "tags.mlflow.source.git.commit" in ran_at.evidence.locator and ran_at.evidence.source == "mlflow"
    assert "source_run_id" in edge(scanned, mid, EdgeKind.GENERATED_BY, rid).evidence.locator
    version_of = edge(scanned, f"model_version:{MODEL}/1", EdgeKind.VERSION_OF, mid)
    assert f"source models:/{tracking.model_id}" in version_of.evidence.locator
    exp = scanned.node(f"experiment:{scanned.node(rid).properties['experiment_id']}")  # type: ignore[union-attr]
    assert exp is not None and exp.properties["name"] == "churn"
    edge(scanned, rid, EdgeKind.IN_EXPERIMENT, exp.id)
    used = edge(scanned, rid, EdgeKind.USED, f"dataset:mlflow:customers@{tracking.dataset_digest}")
    assert "context training" in used.evidence.locator


def test_dataset_resolves_to_the_dvc_version_at_the_runs_commit(scanned: LineageStore, tracking: Tracking) -> None:
    data = f"data:md5:{tracking.raw_md5}"
    used = edge(scanned, f"run:{tracking.run_id}", EdgeKind.USED, data)
    assert used.evidence.rule == "dataset source path is DVC-tracked at the run's commit"
    assert tracking.commit in used.evidence.locator and "data/raw.csv" in used.evidence.locator
    same = edge(scanned, f"dataset:mlflow:customers@{tracking.dataset_digest}", EdgeKind.SAME_AS, data)
    assert same.evidence.source == "mlflow+dvc"


def test_gto_and_mlflow_versions_of_the_same_file_are_tied(scanned: LineageStore, tracking: Tracking) -> None:
    tie = edge(scanned, f"model_version:{MODEL}/1", EdgeKind.SAME_AS, f"model_version:{MODEL}/v1.0.0")
    assert tie.evidence.rule == "same artifact content (md5)" and tracking.model_md5 in tie.evidence.locator
    # the orphan version registered a model trained differently: other bytes, no tie
    assert not scanned.edges_from([f"model_version:{MODEL}/{tracking.orphan_version}"], [EdgeKind.SAME_AS])


def test_bad_inputs_are_named_gaps_and_the_rest_is_recorded(scanned: LineageStore, tracking: Tracking) -> None:
    gaps = {(g.subject, g.kind): g for g in scanned.gaps()}
    assert (f"run:{tracking.untagged_run_id}", "no_commit_tag") in gaps
    deleted = gaps[(f"model_version:{MODEL}/{tracking.orphan_version}", "deleted_run")]
    assert "was deleted" in deleted.reason
    broken = gaps[(f"model:{tracking.broken_model_id}", "malformed_mlmodel")]
    assert broken.reason.startswith("malformed MLmodel at file://") and "\n" not in broken.reason
    lost = gaps[(f"model:{tracking.lost_model_id}", "missing_artifact")]
    assert "missing" in lost.reason
    assert (f"experiment:{tracking.deleted_experiment_id}", "deleted_experiment") in gaps
    # and everything else from those runs and models is still there
    assert scanned.node(f"model:{tracking.broken_model_id}") is not None
    assert scanned.node(f"model:{tracking.lost_model_id}") is not None
    assert scanned.node(f"model_version:{MODEL}/{tracking.orphan_version}") is not None
    untagged = scanned.node(f"run:{tracking.untagged_run_id}")
    assert untagged is not None and untagged.properties["params"] == {"C": "2.0"}


def test_client_path_yields_the_same_facts_as_sql(tracking: Tracking, tmp_path: Path, scanned: LineageStore) -> None:
    store, reports = scan(tmp_path / "client.db", GitSource(tracking.repo), MlflowSource(tracking.uri, fast_path=False))
    assert all(r.error is None for r in reports), [r.error for r in reports]
    assert _facts(store) == _facts(scanned)


def _facts(
    store: LineageStore,
) -> tuple[dict[str, Any], set[tuple[str, str, str, str]], set[tuple[str, str]]]:
    """Nodes, edges and gaps with the tracking URI taken out (it names the way in, not the facts)."""
    nodes = {}
    for node in store.nodes():
        props = {k: v for k, v in node.properties.items() if k != "tracking_uri"}
        nodes[node.id] = json.loads(json.dumps(props, sort_keys=True))
    uri = store.node(next(n.id for n in store.nodes(NodeKind.RUN))).properties["tracking_uri"]  # type: ignore[union-attr]
    edges = {
        (e.source, e.target, str(e.kind), e.evidence.locator.replace(uri, "URI"))
        for n in store.nodes()
        for e in store.edges_from([n.id])
    }
    gaps = {(g.subject, g.kind) for g in store.gaps()}
    return nodes, edges, gaps


@pytest.mark.slow
def test_tracking_server_yields_the_same_facts(
    tracking: Tracking, mlflow_server: str, tmp_path: Path, scanned: LineageStore
) -> None:
    store, reports = scan(tmp_path / "http.db", GitSource(tracking.repo), MlflowSource(mlflow_server))
    assert all(r.error is None for r in reports), [r.error for r in reports]
    assert reports[1].origin == f"mlflow:{mlflow_server}"
    assert _facts(store) == _facts(scanned)


def test_unreachable_server_fails_in_one_line_and_keeps_the_store(tracking: Tracking, tmp_path: Path) -> None:
    db = tmp_path / "lineage.db"
    store, _ = scan(db, MlflowSource(tracking.uri))
    before = {n.id for n in store.nodes()}
    dead = f"http://alice:s3cret@127.0.0.1:{free_port()}"
    started = time.perf_counter()
    reports = run_scan(store, [MlflowSource(dead), GitSource(tracking.repo)])
    assert time.perf_counter() - started < 20
    failed = reports[0]
    assert failed.error is not None and "cannot reach the MLflow tracking server" in failed.error
    assert "s3cret" not in failed.error and "s3cret" not in failed.origin and "\n" not in failed.error
    assert reports[1].error is None and store.node(f"commit:{tracking.commit}") is not None
    assert before <= {n.id for n in store.nodes()}


def test_missing_database_is_a_one_line_error(tmp_path: Path) -> None:
    store = LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}")
    [report, *_] = run_scan(store, [MlflowSource(f"sqlite:///{tmp_path / 'nope.db'}")])
    assert (
        report.error == f"cannot open the MLflow tracking database sqlite:///{tmp_path / 'nope.db'}: "
        f"no MLflow tracking database at {tmp_path / 'nope.db'}"
    )
    assert not (tmp_path / "nope.db").exists()  # never created


def test_incremental_rescan_reads_only_what_changed(tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    exp = client.create_experiment("inc", artifact_location=(tmp_path / "art").as_uri())
    first = client.create_run(exp, run_name="first").info.run_id
    client.log_param(first, "lr", "0.1")
    client.set_terminated(first)
    store = LineageStore.open(f"sqlite:///{tmp_path / 'lineage.db'}")
    [report] = run_scan(store, [MlflowSource(uri)], link=False)
    assert report.nodes == 3  # two experiments (Default, inc) and the run

    started = time.perf_counter()
    [noop] = run_scan(store, [MlflowSource(uri)], link=False)
    assert noop.unchanged and time.perf_counter() - started < 0.5

    second = client.create_run(exp, run_name="second").info.run_id
    client.log_metric(second, "loss", 0.25)
    client.set_terminated(second)
    [again] = run_scan(store, [MlflowSource(uri)], link=False)
    assert again.nodes == 1 and again.edges == 1  # the new run and its experiment edge; nothing else re-read
    assert store.node(f"run:{second}").properties["metrics"] == {"loss": 0.25}  # type: ignore[union-attr]

    assert [g.kind for g in store.gaps([f"run:{first}"])] == ["no_commit_tag"]
    client.set_tag(first, "reviewed", "yes")  # a change to an old run is seen too
    client.set_tag(first, "mlflow.source.git.commit", "a" * 40)
    [changed] = run_scan(store, [MlflowSource(uri)], link=False)
    assert changed.nodes == 1
    assert store.node(f"run:{first}").properties["tags"]["reviewed"] == "yes"  # type: ignore[union-attr]
    # the problem was fixed: the re-read run's old gap is gone, the untouched run keeps its own
    assert store.gaps([f"run:{first}"]) == []
    assert [g.kind for g in store.gaps([f"run:{second}"])] == ["no_commit_tag"]
    mlflow.set_tracking_uri("")


def test_alias_moves_are_reflected(tmp_path: Path, tracking: Tracking) -> None:
    """A moved alias leaves the old version: lists of present state are replaced, not merged."""
    import shutil

    from mlflow import MlflowClient

    db = tmp_path / "copy.db"
    shutil.copy(tracking.root / "mlflow.db", db)
    uri = f"sqlite:///{db}"
    store, _ = scan(tmp_path / "lineage.db", MlflowSource(uri))
    MlflowClient(uri, registry_uri=uri).set_registered_model_alias(MODEL, "champion", tracking.orphan_version)
    run_scan(store, [MlflowSource(uri)], link=False)
    assert store.node(f"model_version:{MODEL}/1").properties["aliases"] == []  # type: ignore[union-attr]
    moved = store.node(f"model_version:{MODEL}/{tracking.orphan_version}")
    assert moved is not None and moved.properties["aliases"] == ["champion"]


def test_cli_lineage_of_an_alias_answers_version_model_run_commit_data(tracking: Tracking, tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    (tmp_path / "mlprov.toml").write_text(f'[scan]\ngit = ["{tracking.repo}"]\nmlflow = ["{tracking.uri}"]\n')
    result = runner.invoke(main, ["-w", str(tmp_path), "--db", db, "scan", "-q"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["-w", str(tmp_path), "--db", db, "lineage", f"models:/{MODEL}@champion", "--up", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    ids = {n["id"] for n in doc["nodes"]}
    assert doc["root"] == f"model_version:{MODEL}/1"
    assert {
        f"model:{tracking.model_id}",
        f"run:{tracking.run_id}",
        f"commit:{tracking.commit}",
        f"data:md5:{tracking.raw_md5}",
    } <= ids
    run = next(n for n in doc["nodes"] if n["id"] == f"run:{tracking.run_id}")
    assert run["properties"]["params"] == tracking.params and run["properties"]["metrics"] == tracking.metrics
    text = runner.invoke(main, ["-w", str(tmp_path), "--db", db, "lineage", f"models:/{MODEL}/1", "--up"]).output
    assert "params: C=0.5, max_iter=200" in text and f"accuracy={tracking.metrics['accuracy']}" in text
    shown = runner.invoke(main, ["-w", str(tmp_path), "--db", db, "show", f"run:{tracking.run_id}"])
    assert shown.exit_code == 0
    assert "params" in shown.output and "max_iter" in shown.output and "200" in shown.output
    assert "metrics" in shown.output and "accuracy" in shown.output


def test_explorer_start_up_does_not_import_mlflow() -> None:
    code = (
        "import sys, explorer.cli, explorer.scan, explorer.linking, explorer.sources.mlflow, "
        "explorer.sources.mlflow_sql, explorer.commands.query; "
        "sys.exit(1 if any(m == 'mlflow' or m.startswith('mlflow.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_scan_with_no_options_reads_mlflow_tracking_uri(
    tracking: Tracking, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    missing = runner.invoke(main, ["-w", str(tmp_path), "--db", db, "scan", "-q", "--mlflow", ""])
    assert missing.exit_code == 2
    assert "no MLflow tracking URI given and MLFLOW_TRACKING_URI is not set" in missing.output
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.uri)
    result = runner.invoke(main, ["-w", str(tmp_path), "--db", db, "scan", "--json"])
    assert result.exit_code == 0, result.output
    [report] = [s for s in json.loads(result.output)["sources"] if s["origin"].startswith("mlflow:")]
    assert report["origin"] == f"mlflow:{tracking.uri}" and report["nodes"] > 0
    store = LineageStore.open(db)
    assert store.node(f"run:{tracking.run_id}") is not None


def test_model_metrics_keep_their_dataset(tmp_path: Path) -> None:
    """MLflow 3 logs a model's metrics against a dataset: kept as `metric_records`, the BOM's slices."""
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    exp = client.create_experiment("slices", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp).info.run_id
    model = client.create_logged_model(exp, name="clf", source_run_id=run)
    client.log_metric(run, "accuracy", 0.8, model_id=model.model_id, dataset_name="holdout", dataset_digest="1a2b3c4d")
    client.log_metric(run, "accuracy", 0.9, model_id=model.model_id, dataset_name="holdout", dataset_digest="1a2b3c4d")
    client.log_metric(run, "accuracy", 0.7, model_id=model.model_id, dataset_name="drift", dataset_digest="99aa88bb")
    client.set_terminated(run)
    for reader_uri in (uri,):
        store = LineageStore.open(f"sqlite:///{tmp_path / 'lineage.db'}")
        run_scan(store, [MlflowSource(reader_uri)], link=False)
        node = store.node(f"model:{model.model_id}")
        assert node is not None
        assert node.properties["metric_records"] == [
            {"key": "accuracy", "value": 0.7, "dataset_name": "drift", "dataset_digest": "99aa88bb"},
            {"key": "accuracy", "value": 0.9, "dataset_name": "holdout", "dataset_digest": "1a2b3c4d"},
        ]
    mlflow.set_tracking_uri("")
