"""The sample workspace's serving story: scan, trace the planted incident, diff the versions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from explorer.cli import main

CORE = [
    "explorer.oci_client",
    "explorer.oci_layout",
    "explorer.oci_mlmodel",
    "explorer.oci_referrers",
    "explorer.sources.oci",
    "explorer.sources.deploy",
    "explorer.deploy_timeline",
    "explorer.k8s_manifests",
    "explorer.store_lookup",
    "explorer.predictions",
    "explorer.log_formats",
    "explorer.trace",
    "explorer.diff",
    "explorer.commands.trace",
]


def test_trace_modules_never_import_textual() -> None:
    code = f"import sys, importlib; [importlib.import_module(m) for m in {CORE!r}]; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_sample_incident_is_traced_and_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sample_data.build import build
    from sample_data.serving import INCIDENT_ID

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    ws = build(tmp_path / "ws")
    # MLflow exports the URI it logs to: left set, every later scan of this process (and of
    # `mlprov` run from it) would take the sample store for the user's MLFLOW_TRACKING_URI
    assert "MLFLOW_TRACKING_URI" not in os.environ and "MLFLOW_REGISTRY_URI" not in os.environ
    runner = CliRunner()
    scan = runner.invoke(main, ["-w", str(ws.root), "scan", "-q", "--json"])
    assert scan.exit_code == 0, scan.stderr
    origins = {s["origin"].split(":", 1)[0]: s for s in json.loads(scan.stdout)["sources"]}
    assert origins["oci-layout"]["error"] is None and origins["gitops"]["gaps"] == []
    traced = runner.invoke(main, ["-w", str(ws.root), "trace", INCIDENT_ID, "--json"])
    assert traced.exit_code == 0, traced.stderr
    doc = json.loads(traced.stdout)
    assert doc["stopped"] is None
    assert doc["chain"][0].startswith("deployment:prod/churn-model:canary@")
    assert doc["chain"][2] == "model_version:churn-model/4"
    assert doc["chain"][-1] == f"commit:{ws.commits[-1].sha}"
    assert doc["training"]["params"]["train.n_estimators"] == "120"
    assert doc["logs"]["invalid_lines"] == 1
    staging = runner.invoke(main, ["-w", str(ws.root), "ls", "--kind", "deployment", "--json"])
    ids = [n["id"] for n in json.loads(staging.stdout)]
    assert sum(i.startswith("deployment:prod/churn-model@") for i in ids) == 3
    assert any(i.startswith("deployment:staging/churn-batch@") for i in ids)
    diff = runner.invoke(main, ["-w", str(ws.root), "diff", "models:/churn-model/3", "models:/churn-model/4", "--json"])
    assert diff.exit_code == 0, diff.stderr
    changes = {c["name"]: (c["old"], c["new"]) for c in json.loads(diff.stdout)["params"]}
    assert changes["train.n_estimators"] == ("40", "120") and changes["train.max_depth"] == ("5", "9")
    assert [c["message"] for c in json.loads(diff.stdout)["commits"]] == ["Tune random forest: 120 trees, depth 9"]
