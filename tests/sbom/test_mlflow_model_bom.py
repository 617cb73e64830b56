"""A real MLflow model, trained and logged in the test: BOM from its directory, and the CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from explorer.cli import main
from sbom.generate import generate
from sbom.mlflow_dir import facts_from_model_dir
from tests.sbom.conftest import LoggedModel
from tests.sbom.lineage_builder import MV, RUN, BuiltLineage

pytestmark = pytest.mark.slow


def test_bom_from_model_directory(logged_model: LoggedModel) -> None:
    facts = facts_from_model_dir(logged_model.model_dir, name="iris-classifier", version="1")
    result = generate(facts)
    assert result.report.ok, result.report.errors
    model = result.document["metadata"]["component"]
    assert model["purl"] == (
        f"pkg:mlflow/iris-classifier@1?model_uuid={logged_model.model_id}&run_id={logged_model.run_id}"
    )
    on_disk = sorted(p for p in logged_model.model_dir.rglob("*") if p.is_file())
    hashed = {c["name"]: c["hashes"][0]["content"] for c in model["components"]}
    assert set(hashed) == {p.relative_to(logged_model.model_dir).as_posix() for p in on_disk}
    for path in on_disk:
        assert (
            hashed[path.relative_to(logged_model.model_dir).as_posix()] == hashlib.sha256(path.read_bytes()).hexdigest()
        )
    params = model["modelCard"]["modelParameters"]
    assert params["architectureFamily"] == "sklearn"
    assert params["modelArchitecture"] == "sklearn.linear_model.LogisticRegression"  # from skops' schema.json
    assert {"format": "petal width (cm): double"} in params["inputs"]
    libs = {c["name"]: c for c in result.document["components"] if c["type"] == "library"}
    assert libs["scikit-learn"]["purl"].startswith("pkg:pypi/scikit-learn@")
    requirements = (logged_model.model_dir / "requirements.txt").read_text().split()
    assert len(libs) == len([r for r in requirements if r.strip()])
    assert "formulation" not in result.document  # the directory records no training facts


def test_cli_model_directory_default_name(logged_model: LoggedModel, tmp_path: Path) -> None:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        args = ["bom", str(logged_model.model_dir), "--name", "iris-classifier", "--model-version", "1"]
        first = runner.invoke(main, [*args, "--json-summary"])
        assert first.exit_code == 0, first.output
        summary = json.loads(first.stdout)
        assert summary["path"] == "iris-classifier-1.cdx.json" and summary["valid"] is True
        written = Path("iris-classifier-1.cdx.json").read_bytes()
        again = runner.invoke(main, args)
        assert again.exit_code == 0 and Path("iris-classifier-1.cdx.json").read_bytes() == written
        checked = runner.invoke(main, ["bom", "--validate", "iris-classifier-1.cdx.json"])
        assert checked.exit_code == 0 and "valid CycloneDX 1.6" in checked.output


def test_cli_store_ref_alias_and_spdx(lineage: BuiltLineage, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", lineage.store.url]
    out = tmp_path / "churn.cdx.json"
    done = runner.invoke(main, [*db, "bom", "models:/churn@champion", "-o", str(out), "--spec-version", "1.7"])
    assert done.exit_code == 0, done.output
    doc = json.loads(out.read_text())
    assert doc["specVersion"] == "1.7" and doc["metadata"]["component"]["bom-ref"] == MV
    assert doc["formulation"][0]["workflows"][0]["uid"] == RUN
    spdx = tmp_path / "churn.spdx.json"
    done = runner.invoke(main, [*db, "bom", "models:/churn/3", "--format", "spdx3", "-o", str(spdx)])
    assert done.exit_code == 0, done.output
    assert any(e["type"] == "ai_AIPackage" for e in json.loads(spdx.read_text())["@graph"])


def test_cli_exit_codes(lineage: BuiltLineage, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", lineage.store.url]
    missing = runner.invoke(main, [*db, "bom", "models:/nope/1"])
    assert missing.exit_code == 2 and missing.stderr.startswith("mlprov: ")
    assert runner.invoke(main, [*db, "bom"]).exit_code == 2
    not_a_model = runner.invoke(main, [*db, "bom", "run:" + RUN])
    assert not_a_model.exit_code == 2 and "not a model version" in not_a_model.stderr
    bad = tmp_path / "bad.cdx.json"
    good = runner.invoke(main, [*db, "bom", MV, "-o", str(bad)])
    assert good.exit_code == 0
    doc = json.loads(bad.read_text())
    doc["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][0]["value"] = 1
    bad.write_text(json.dumps(doc))
    failed = runner.invoke(main, ["bom", "--validate", str(bad), "--json-summary"])
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)["valid"] is False
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    no_mlmodel = runner.invoke(main, ["bom", str(empty_dir)])
    assert no_mlmodel.exit_code == 2 and "no MLmodel file" in no_mlmodel.stderr
