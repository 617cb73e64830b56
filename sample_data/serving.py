"""Sample workspace step: serving images, a GitOps history, prediction logs and one planted incident.

- ``oci-layout/churn-serving``: an OCI image layout with one serving image per model version
  (tags v1..v4), labelled with the training commit, the ``models:/churn-model/<n>`` URI and the
  MLflow run id, holding the MLmodel file of that version; v4 has a CycloneDX SBOM attached.
- ``gitops-repo``: KServe InferenceService ``churn-model`` in ``envs/prod`` rolled v1 -> v2 -> v3,
  then v4 as a 20 % canary; a staging Deployment ``churn-batch`` that names v4 by tag.
- ``logs/kserve/date=YYYY-MM-DD/part-0.jsonl``: KServe logger CloudEvents (request and response
  per prediction, one truncated line); ``logs/batch/date=YYYY-MM-DD/scores.parquet``: the staging
  batch scorer's output, a generic table mapped in ``mlprov.toml``.
- The incident: request ``req-7f3a9c2e`` — a long-tenure, low-charge customer scored 0.93 churn —
  was served by the v4 canary. ``mlprov trace req-7f3a9c2e`` names it, and
  ``mlprov diff models:/churn-model/3 models:/churn-model/4`` shows the deeper, larger forest.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sample_data.build import DAY, EPOCH, MODEL, SampleWorkspace, run
from sample_data.oci_images import Layout

REGISTRY_REPO = "registry.example.com/ml/churn-serving"
INCIDENT_ID = "req-7f3a9c2e"
INCIDENT_TIME = EPOCH + 50 * DAY + 9 * 3600 + 17 * 60
DEPLOYED = [EPOCH + 1 * DAY, EPOCH + 15 * DAY, EPOCH + 36 * DAY]  # v1, v2, v3 to prod
CANARY_AT = EPOCH + 46 * DAY + 3600
LOGS_UNTIL = EPOCH + 55 * DAY
CANARY_PERCENT = 20


def add_serving(ws: SampleWorkspace) -> dict[str, list[str]]:
    versions = _mlflow_versions(ws)
    digests = _images(ws, versions)
    _gitops(ws, digests)
    served = _kserve_logs(ws)
    _batch_logs(ws)
    ws.config_sections.append(CONFIG)
    ws.notes.append(f"serving: 4 images, GitOps history, {served} logged predictions; incident {INCIDENT_ID}")
    return {"registry": ["oci-layout/churn-serving"], "deployments": ["gitops-repo"]}


CONFIG = """
[trace]
logs = ["logs/kserve/**/*.jsonl", "staging_batch"]

[predictions.staging_batch]
paths = ["logs/batch/**/*.parquet"]
format = "generic"
request_id = "req_id"
time = "ts"
time_unit = "ms"
model_name = "model"
outputs = "score"
inputs = "customer_id"

[predictions.staging_batch.set]
endpoint = "churn-batch"
environment = "staging"
"""


def _mlflow_versions(ws: SampleWorkspace) -> dict[int, dict[str, str]]:
    """Registered versions of the model by number: run id and model id, when the MLflow step ran."""
    db = ws.root / "mlflow.db"
    if not db.is_file():
        return {}
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT version, run_id, source FROM model_versions WHERE name = ?", (MODEL,)).fetchall()
    out: dict[int, dict[str, str]] = {}
    for version, run_id, source in rows:
        model_key = str(source or "").removeprefix("models:/") if str(source or "").startswith("models:/m-") else ""
        out[int(version)] = {"run_id": str(run_id or ""), "model_id": model_key}
    return out


def _mlmodel_files(ws: SampleWorkspace, model_key: str) -> dict[str, bytes]:
    """The MLmodel and requirements MLflow wrote for that model (the image's /opt/model)."""
    files: dict[str, bytes] = {}
    if not model_key:
        return files
    for mlmodel in sorted((ws.root / "mlartifacts").glob(f"*/models/{model_key}/artifacts/MLmodel")):
        files["opt/model/MLmodel"] = mlmodel.read_bytes()
        req = mlmodel.with_name("requirements.txt")
        if req.is_file():
            files["opt/model/requirements.txt"] = req.read_bytes()
    return files


def _images(ws: SampleWorkspace, versions: dict[int, dict[str, str]]) -> dict[int, str]:
    layout = Layout(ws.root / "oci-layout" / "churn-serving")
    digests: dict[int, str] = {}
    for number, commit in enumerate(ws.commits, start=1):
        known = versions.get(number, {})
        labels = {
            "org.opencontainers.image.revision": commit.sha,
            "org.opencontainers.image.source": "https://git.example.com/ml/churn-repo",
            "org.opencontainers.image.created": _iso(commit.when + 7200),
            "org.opencontainers.image.title": "churn-serving",
            "org.mlflow.model.uri": f"models:/{MODEL}/{number}",
        }
        if known.get("run_id"):
            labels["org.mlflow.run.id"] = known["run_id"]
        files = {"srv/serve.py": b"# KServe custom predictor: loads /opt/model with mlflow.pyfunc\n"}
        files.update(_mlmodel_files(ws, known.get("model_id", "")))
        descriptor = layout.image(files, labels, _iso(commit.when + 7200))
        layout.tag(descriptor, f"{REGISTRY_REPO}:v{number}")
        digests[number] = descriptor["digest"]
        if number == len(ws.commits):
            bom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                   "serialNumber": "urn:uuid:5d1c0a52-1f0e-4c55-9a9e-0c4d2b7e4a01",
                   "metadata": {"component": {"type": "container", "name": "churn-serving", "version": "v4"}}}
            sbom = layout.attach(descriptor, "application/vnd.cyclonedx+json", json.dumps(bom).encode(),
                                 "application/vnd.cyclonedx+json")
            layout.tag(sbom)
    layout.save()
    return digests


def _isvc(digest: str, canary: str | None = None) -> str:
    lines = [
        "apiVersion: serving.kserve.io/v1beta1",
        "kind: InferenceService",
        "metadata:",
        "  name: churn-model",
        "spec:",
        "  predictor:",
        "    logger:",
        "      mode: all",
        "      url: http://prediction-logger.observability/",
    ]
    if canary:
        lines.append(f"    canaryTrafficPercent: {CANARY_PERCENT}")
    lines += ["    containers:", "      - name: kserve-container", f"        image: {REGISTRY_REPO}@{canary or digest}"]
    return "\n".join(lines) + "\n"


STAGING = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn-batch
spec:
  replicas: 1
  selector:
    matchLabels: {{app: churn-batch}}
  template:
    metadata:
      labels: {{app: churn-batch}}
    spec:
      containers:
        - name: scorer
          image: {REGISTRY_REPO}:v4
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: churn-batch-schedule
data:
  cron: "0 * * * *"
"""


def _gitops(ws: SampleWorkspace, digests: dict[int, str]) -> None:
    repo = ws.root / "gitops-repo"
    prod = repo / "envs" / "prod" / "churn-model.yaml"
    prod.parent.mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], repo, DEPLOYED[0])
    steps: list[tuple[int, str, Path, str]] = [
        (DEPLOYED[0], "prod: serve churn-model v1", prod, _isvc(digests[1])),
        (DEPLOYED[1], "prod: roll out churn-model v2 (charge_per_month feature)", prod, _isvc(digests[2])),
        (DEPLOYED[2], "prod: roll out churn-model v3 (March data refresh)", prod, _isvc(digests[3])),
        (CANARY_AT - 3600, "staging: batch scorer on churn-serving:v4", repo / "envs/staging/churn-batch.yaml",
         STAGING),
        (CANARY_AT, f"prod: canary churn-model v4 at {CANARY_PERCENT}%", prod, _isvc(digests[3], digests[4])),
    ]
    for when, message, path, text in steps:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        run(["git", "add", "-A"], repo, when)
        run(["git", "commit", "-q", "-m", message], repo, when)


def _score(version: int, tenure: int, charges: float, calls: int) -> float:
    """A plausible churn probability; the v4 forest overreacts to support calls (the incident)."""
    base = 0.15 + 0.05 * calls + charges / 400 - tenure / 200
    if version == 4:
        base += 0.12 * max(calls - 2, 0)
    return round(min(max(base, 0.01), 0.99), 3)


def _kserve_logs(ws: SampleWorkspace) -> int:
    rng = random.Random(4)
    by_day: dict[str, list[str]] = {}
    count = 0
    when = DEPLOYED[0] + 600
    while when < LOGS_UNTIL:
        when += rng.randint(600, 1800)
        rid = f"req-{rng.getrandbits(32):08x}"
        tenure, charges, calls = rng.randint(1, 72), round(rng.uniform(18, 120), 2), rng.randint(0, 9)
        version = 1 + sum(when >= t for t in DEPLOYED[1:])
        role = "default"
        if when >= CANARY_AT and rng.random() < CANARY_PERCENT / 100:
            version, role = 4, "canary"
        _log(by_day, rid, when, role, [tenure, charges, calls], _score(version, tenure, charges, calls))
        count += 1
    # the planted incident: a loyal, cheap customer the v4 canary scores as almost certain to churn
    _log(by_day, INCIDENT_ID, INCIDENT_TIME, "canary", [61, 24.5, 7], 0.93)
    for day, lines in sorted(by_day.items()):
        path = ws.root / "logs" / "kserve" / f"date={day}" / "part-0.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        if day == "2026-02-02":
            lines = [*lines[:5], lines[5][: len(lines[5]) // 2], *lines[5:]]  # a logger cut mid-write
        path.write_text("\n".join(lines) + "\n")
    return count + 1


def _log(by_day: dict[str, list[str]], rid: str, when: int, role: str, features: list[Any], score: float) -> None:
    day = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d")
    by_day.setdefault(day, []).extend(_events(rid, when, role, features, score))


def _events(rid: str, when: int, role: str, features: list[Any], score: float) -> list[str]:
    common = {"specversion": "1.0", "id": rid, "source": "http://churn-model-predictor.prod/",
              "inferenceservicename": "churn-model", "namespace": "prod", "component": "predictor",
              "endpoint": role, "datacontenttype": "application/json"}
    request = {**common, "type": "org.kubeflow.serving.inference.request", "time": _iso(when),
               "data": {"inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32", "data": features}]}}
    response = {**common, "type": "org.kubeflow.serving.inference.response", "time": _iso(when),
                "data": {"model_name": "churn-model", "outputs": [
                    {"name": "churn_probability", "shape": [1], "datatype": "FP32", "data": [score]}]}}
    return [json.dumps(request, sort_keys=True), json.dumps(response, sort_keys=True)]


def _batch_logs(ws: SampleWorkspace) -> None:
    """Hourly batch scores from the staging Deployment (v4), one Parquet file per day."""
    import duckdb

    rng = random.Random(7)
    rows = []
    start = CANARY_AT
    for hour in range(0, int((LOGS_UNTIL - start) / 3600), 6):
        ts = start + hour * 3600
        for _ in range(20):
            calls = rng.randint(0, 9)
            rows.append((f"batch-{rng.getrandbits(32):08x}", ts * 1000, MODEL, f"C{rng.randint(0, 99999):05d}",
                         _score(4, rng.randint(1, 72), rng.uniform(18, 120), calls)))
    con = duckdb.connect()
    con.execute("CREATE TABLE scores (req_id VARCHAR, ts BIGINT, model VARCHAR, customer_id VARCHAR, score DOUBLE)")
    con.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?)", rows)
    out = ws.root / "logs" / "batch"
    out.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT *, strftime(to_timestamp(ts / 1000), '%Y-%m-%d') AS date FROM scores ORDER BY ts) "
                f"TO '{out}' (FORMAT parquet, PARTITION_BY (date), FILENAME_PATTERN 'scores', OVERWRITE_OR_IGNORE)")
    con.close()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
