"""MLflow scan benchmark: 10,000 runs (5 params, 3 metrics, 4 tags each) and 100 registered versions.

The tracking database is created by MLflow's own schema code (``SqlAlchemyStore`` runs its alembic
migrations), then filled by SQL inserts (logging 10,000 runs through the client would take minutes
and measure nothing of mlprov). Each of the 100 versions registers a LoggedModel whose directory
holds a real MLmodel, requirements.txt and python_env.yaml, so the scan reads 100 model directories.

Measured in one process, after ``import mlflow`` (its few seconds are not counted), each the median
of 5 runs (``search_runs``: one run):
full scan (source + store writes + linkers), the source alone, a no-op rescan,
``MlflowClient.search_runs`` listing the same runs, and a plain SQL read of the same facts.

Run: ``python -m benchmarks.bench_mlflow [--runs N] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

PARAMS = ("lr", "depth", "n_estimators", "seed", "optimizer")
METRICS = ("accuracy", "f1", "loss")
MLMODEL = """artifact_path: {loc}
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.7
  sklearn:
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: 1.9.1
mlflow_version: 3.17.2
model_id: {mid}
model_uuid: {mid}
run_id: {run}
utc_time_created: '2026-01-01 00:00:00.000000'
"""


def build_store(root: Path, runs: int, versions: int) -> str:
    """A tracking DB with MLflow's schema, filled by SQL; returns its URI."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    db = root / "mlflow.db"
    uri = f"sqlite:///{db}"
    SqlAlchemyStore(uri, (root / "artifacts").as_uri())  # creates and migrates the schema
    con = sqlite3.connect(db)
    t0 = 1_767_225_600_000
    art = (root / "artifacts").as_uri()
    con.execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,"
        " last_update_time) VALUES (1, 'bench', ?, 'active', ?, ?)",
        (art, t0, t0),
    )
    run_ids = [uuid.UUID(int=i + 1).hex for i in range(runs)]
    con.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, user_id, status, start_time, end_time, lifecycle_stage,"
        " artifact_uri, experiment_id) VALUES (?, ?, 'LOCAL', 'bench', 'FINISHED', ?, ?, 'active', ?, 1)",
        [(r, f"run-{i}", t0 + i * 1000, t0 + i * 1000 + 500, f"{art}/{r}/artifacts") for i, r in enumerate(run_ids)],
    )
    con.executemany(
        "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
        [(k, str(i % 97 + j), r) for i, r in enumerate(run_ids) for j, k in enumerate(PARAMS)],
    )
    metric_rows = [(k, (i % 100) / 100 + j, t0 + i * 1000, r, 0, 0) for i, r in enumerate(run_ids)
                   for j, k in enumerate(METRICS)]
    con.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)",
                    metric_rows)
    con.executemany("INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan)"
                    " VALUES (?,?,?,?,?,?)", metric_rows)
    con.executemany(
        "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
        [(k, v, r) for i, r in enumerate(run_ids) for k, v in (
            ("mlflow.user", "bench"), ("mlflow.runName", f"run-{i}"),
            ("mlflow.source.git.commit", f"{i:040x}"), ("team", "churn"))],
    )
    con.execute("INSERT INTO registered_models (name, creation_time, last_updated_time) VALUES ('bench-model', ?, ?)",
                (t0, t0))
    for v in range(1, versions + 1):
        run = run_ids[-v]
        mid = f"m-{uuid.UUID(int=v).hex}"
        loc = root / "artifacts" / "models" / mid / "artifacts"
        loc.mkdir(parents=True)
        (loc / "MLmodel").write_text(MLMODEL.format(loc=loc.as_uri(), mid=mid, run=run))
        (loc / "requirements.txt").write_text("mlflow==3.17.2\nscikit-learn==1.9.1\n")
        (loc / "python_env.yaml").write_text("python: 3.11.7\ndependencies:\n- -r requirements.txt\n")
        (loc / "model.pkl").write_bytes(mid.encode() * 64)
        con.execute(
            "INSERT INTO logged_models (model_id, experiment_id, name, artifact_location, creation_timestamp_ms,"
            " last_updated_timestamp_ms, status, lifecycle_stage, source_run_id) VALUES (?,1,'model',?,?,?,2,"
            "'active',?)",
            (mid, loc.as_uri(), t0, t0, run),
        )
        con.execute(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, current_stage, source,"
            " run_id, status, storage_location) VALUES ('bench-model', ?, ?, ?, 'None', ?, ?, 'READY', ?)",
            (v, t0 + v, t0 + v, f"models:/{mid}", run, loc.as_uri()),
        )
    con.execute("INSERT INTO registered_model_aliases (alias, version, name) VALUES ('champion', ?, 'bench-model')",
                (versions,))
    con.commit()
    con.close()
    return uri


def plain_sql_read(db: Path) -> int:
    """The same facts by plain SQL (sqlite3, no ORM): what the source reads from the database, into dicts.

    Experiments; runs with params, latest metrics, tags and dataset inputs (with their context);
    logged models with tags, params and metrics; versions with tags and aliases.
    """
    con = sqlite3.connect(db)
    experiments = con.execute("SELECT * FROM experiments").fetchall()
    runs: dict[str, dict[str, Any]] = {}
    for row in con.execute("SELECT run_uuid, name, status, user_id, start_time, end_time, lifecycle_stage,"
                           " artifact_uri, experiment_id, deleted_time FROM runs"):
        runs[row[0]] = {"info": row, "params": {}, "metrics": {}, "tags": {}, "inputs": []}
    for table, bucket in (("params", "params"), ("tags", "tags")):
        for key, value, run in con.execute(f"SELECT key, value, run_uuid FROM {table}"):
            runs[run][bucket][key] = value
    for key, value, run in con.execute("SELECT key, value, run_uuid FROM latest_metrics"):
        runs[run]["metrics"][key] = value
    for row in con.execute(
        "SELECT i.destination_id, d.name, d.digest, d.dataset_source_type, d.dataset_source, t.value"
        " FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id LEFT JOIN input_tags t"
        " ON t.input_uuid = i.input_uuid AND t.name = 'mlflow.data.context'"
        " WHERE i.source_type = 'DATASET' AND i.destination_type = 'RUN'"
    ):
        runs[row[0]]["inputs"].append(row[1:])
    models = {row[0]: {"row": row, "tags": {}, "params": {}, "metrics": {}}
              for row in con.execute("SELECT * FROM logged_models")}
    for table, columns, bucket in (("logged_model_tags", "tag_key, tag_value", "tags"),
                                   ("logged_model_params", "param_key, param_value", "params"),
                                   ("logged_model_metrics", "metric_name, metric_value", "metrics")):
        for model, key, value in con.execute(f"SELECT model_id, {columns} FROM {table}"):
            models[model][bucket][key] = value
    versions = {(row[0], row[1]): {"row": row, "tags": {}, "aliases": []}
                for row in con.execute("SELECT * FROM model_versions")}
    for name, version, key, value in con.execute("SELECT name, version, key, value FROM model_version_tags"):
        versions[(name, version)]["tags"][key] = value
    for alias, version, name in con.execute("SELECT alias, version, name FROM registered_model_aliases"):
        versions[(name, version)]["aliases"].append(alias)
    con.close()
    return len(experiments) + len(runs) + len(versions) + len(models)


def search_runs(uri: str) -> int:
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    client = MlflowClient(uri)
    runs = client.search_runs(["1"], run_view_type=ViewType.ALL, max_results=50_000)
    return len(runs)


REPEAT = 5


def timed(fn: Callable[[], Any], repeat: int = REPEAT) -> tuple[float, Any]:
    """Median of ``repeat`` wall-clock seconds (the machine is shared and noisy)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--keep", type=Path, default=None, help="build the store here and keep it")
    args = parser.parse_args(argv)

    import warnings

    warnings.simplefilter("ignore")
    import mlflow  # noqa: F401  (its import cost is not what is measured)

    from explorer.lineage import Facts
    from explorer.progress import NullProgress
    from explorer.scan import run_scan
    from explorer.sources.mlflow import MlflowSource
    from explorer.store import LineageStore

    root = args.keep or Path(tempfile.mkdtemp(prefix="mlprov-bench-mlflow-"))
    if args.keep and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    uri = build_store(root, args.runs, args.versions)
    print(f"built {args.runs} runs, {args.versions} versions in {time.perf_counter() - started:.1f} s at {root}")

    sql_s, n_sql = timed(lambda: plain_sql_read(root / "mlflow.db"))
    search_s, n_search = timed(lambda: search_runs(uri), repeat=1)

    def source_only() -> int:
        facts = Facts()
        for batch in MlflowSource(uri).scan(None, NullProgress()):
            facts.extend(batch.facts)
        return len(facts.nodes)

    source_s, n_nodes = timed(source_only)

    def full_scan() -> float:
        db = root / "lineage.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        store = LineageStore.open(f"sqlite:///{db}")
        start = time.perf_counter()
        [report, *_] = run_scan(store, [MlflowSource(uri)])
        elapsed = time.perf_counter() - start
        assert report.error is None, report.error
        store.close()
        return elapsed

    full_s = statistics.median(full_scan() for _ in range(REPEAT))
    from benchmarks.floors import store_floors

    floors = [store_floors(root / "lineage.db", root) for _ in range(REPEAT)]
    bare_s = statistics.median(f[0] for f in floors)
    keyed_s = statistics.median(f[1] for f in floors)
    store = LineageStore.open(f"sqlite:///{root / 'lineage.db'}")

    def noop() -> bool:
        [report, *_] = run_scan(store, [MlflowSource(uri)])
        return report.unchanged

    noop_s, unchanged = timed(noop)
    assert unchanged
    counts = {c.kind: c.count for c in store.count_by_kind()}
    store.close()

    rows = [
        ("plain SQL read of the same facts", sql_s, f"{n_sql} runs+versions+models"),
        ("`MlflowClient.search_runs` (runs only)", search_s, f"{n_search} runs"),
        ("mlprov MLflow source alone (facts built, no store)", source_s, f"{n_nodes} nodes"),
        ("SQLite floor: the scan's rows into tables without keys or indexes", bare_s, "one transaction"),
        ("SQLite floor: the store's tables, indexes built after the rows", keyed_s, "one transaction"),
        ("plain SQL read + that floor", sql_s + keyed_s, "what any scan that stores these rows costs"),
        ("full scan (source + store writes + linkers)", full_s, ", ".join(f"{v} {k}" for k, v in counts.items())),
        ("no-op rescan", noop_s, "up to date"),
    ]
    print("\n| measurement | seconds | x SQL | what |\n|---|---:|---:|---|")
    for name, seconds, what in rows:
        print(f"| {name} | {seconds:.3f} | {seconds / sql_s:.1f} | {what} |")
    if not args.keep:
        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
