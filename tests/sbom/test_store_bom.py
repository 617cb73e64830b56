"""ML-BOMs built from lineage written into a real store: content, golden file, reproducibility."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest

from sbom.cyclonedx import build_bom, dumps
from sbom.generate import generate
from sbom.lineage_facts import facts_from_store
from sbom.validate import validate_document
from tests.sbom.lineage_builder import (
    ARTIFACT_FILES,
    IMAGE,
    MV,
    PREPARED_MD5,
    RAW_MD5,
    RUN,
    SHA,
    TEST_MD5,
    TRAIN_MD5,
    BuiltLineage,
)

GOLDEN = Path(__file__).parent / "golden" / "churn-3.cdx.json"
UPDATE = os.environ.get("MLPROV_UPDATE_GOLDEN") == "1"


def _bom(lineage: BuiltLineage, spec: str = "1.6") -> tuple[dict, str]:
    facts = facts_from_store(lineage.store, MV)
    doc = build_bom(facts, spec)  # type: ignore[arg-type]
    return doc, dumps(doc)


def _normalise(text: str) -> str:
    """Only the mlprov version moves between releases; the serial number depends on it too."""
    doc = json.loads(text)
    for tool in doc["metadata"]["tools"]["components"]:
        tool["version"] = "<mlprov version>"
    doc["serialNumber"] = "<derived from content>"
    return dumps(doc)


def test_golden_file(lineage: BuiltLineage) -> None:
    """Regenerate with: MLPROV_UPDATE_GOLDEN=1 pytest tests/sbom/test_store_bom.py::test_golden_file"""
    _, text = _bom(lineage)
    if UPDATE:
        GOLDEN.write_text(_normalise(text), encoding="utf-8")
    assert _normalise(text) == GOLDEN.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", ["1.6", "1.7"])
def test_valid_strictly_and_every_ref_resolves(lineage: BuiltLineage, spec: str) -> None:
    doc, text = _bom(lineage, spec)
    report = validate_document(doc, text)
    assert report.ok, report.errors
    assert doc["specVersion"] == spec


def test_model_component(lineage: BuiltLineage) -> None:
    doc, _ = _bom(lineage)
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model"
    assert (model["name"], model["version"], model["bom-ref"]) == ("churn", "3", MV)
    assert model["purl"].startswith("pkg:mlflow/churn@3?")
    assert f"run_id={RUN}" in model["purl"]
    files = {c["name"]: c for c in model["components"]}
    assert set(files) == set(ARTIFACT_FILES)
    for name, text in ARTIFACT_FILES.items():
        assert files[name]["type"] == "file"
        assert files[name]["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(text.encode()).hexdigest()}]
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["cdx:ai-ml:model:hyperparameter:C"] == "1.0"
    assert props["cdx:ai-ml:model:hyperparameter:max_iter"] == "200"
    assert props["mlprov:mlflow:alias"] == "champion"
    commit = model["pedigree"]["commits"][0]
    assert commit["uid"] == SHA and commit["author"]["email"] == "ada@example.com"
    refs = {r["type"]: r for r in model["externalReferences"]}
    assert refs["vcs"]["url"] == "ssh://git@github.com/acme/churn.git"
    assert SHA in refs["vcs"]["comment"]
    assert refs["build-meta"]["url"] == f"runs:/{RUN}"
    # a local artifact path is machine-specific: it must not leak into the BOM
    assert str(lineage.artifact_dir) not in json.dumps(doc)


def test_model_card(lineage: BuiltLineage) -> None:
    doc, _ = _bom(lineage)
    card = doc["metadata"]["component"]["modelCard"]
    params = card["modelParameters"]
    assert params["architectureFamily"] == "sklearn"
    assert "approach" not in params and "task" not in params  # nothing recorded them: not invented
    assert [d["ref"] for d in params["datasets"]] == [f"data:md5:{TEST_MD5}", f"data:md5:{TRAIN_MD5}"]
    assert params["inputs"] == [{"format": "tenure: double"}, {"format": "plan: string (optional)"}]
    assert params["outputs"] == [{"format": "long"}]
    metrics = {m["type"]: m for m in card["quantitativeAnalysis"]["performanceMetrics"]}
    assert metrics["accuracy"] == {"type": "accuracy", "value": "0.9125"}
    assert metrics["roc_auc"] == {"type": "roc_auc", "value": "0.93", "slice": "evaluation"}
    assert all(isinstance(m["value"], str) for m in metrics.values())
    assert card["considerations"] == {
        "users": ["Retention analysts", "Customer success"],
        "technicalLimitations": ["Not calibrated for accounts younger than 30 days"],
    }


def test_data_components(lineage: BuiltLineage) -> None:
    doc, _ = _bom(lineage)
    data = {c["bom-ref"]: c for c in doc["components"] if c["type"] == "data"}
    assert set(data) == {f"data:md5:{d}" for d in (RAW_MD5, PREPARED_MD5, TRAIN_MD5, TEST_MD5)}
    raw = data[f"data:md5:{RAW_MD5}"]
    assert raw["name"] == "data/raw.csv"
    assert raw["hashes"] == [{"alg": "MD5", "content": RAW_MD5}]
    assert {"name": "mlprov:data:size", "value": "4096"} in raw["properties"]
    url = f"s3://acme-dvc/store/files/md5/{RAW_MD5[:2]}/{RAW_MD5[2:]}"
    assert raw["data"][0]["contents"]["url"] == url
    prepared = data[f"data:md5:{PREPARED_MD5}"]
    assert "hashes" not in prepared  # a .dir digest hashes DVC's listing, not the content
    assert [(f["name"], f["hashes"][0]["content"]) for f in prepared["components"]] == [
        ("test.csv", "1c3e1b8b2b4d3a7f5c6e9d0f1a2b3c4d"),
        ("train.csv", "0b2d0a7a1a3c2f6e4b5d8c9e0f1a2b3c"),
    ]
    assert data[f"data:md5:{TEST_MD5}"]["data"][0]["description"] == "used as evaluation data"


def test_formulation(lineage: BuiltLineage) -> None:
    doc, _ = _bom(lineage)
    (formula,) = doc["formulation"]
    (workflow,) = formula["workflows"]
    assert workflow["uid"] == RUN
    assert (workflow["timeStart"], workflow["timeEnd"]) == ("2025-03-01T10:00:00Z", "2025-03-01T10:04:30Z")
    kinds = [
        next(k for k in ("resource", "parameters", "environmentVars", "data") if k in i) for i in workflow["inputs"]
    ]
    assert kinds == ["resource", "resource", "parameters", "resource"]
    for item in workflow["inputs"]:
        assert len({"resource", "parameters", "environmentVars", "data"} & set(item)) == 1
    assert {"name": "C", "value": "1.0"} in workflow["inputs"][2]["parameters"]
    assert workflow["inputs"][3]["resource"]["externalReference"]["comment"] == f"commit {SHA}"
    assert workflow["outputs"] == [{"type": "artifact", "resource": {"ref": MV}}]
    tasks = {t["name"]: t for t in workflow["tasks"]}
    assert tasks["prepare"]["steps"][0]["commands"] == [{"executed": "python src/prepare.py data/raw.csv"}]
    assert {"name": "params.yaml:featurize.ngrams", "value": "[1, 2]"} in tasks["featurize"]["inputs"][1]["parameters"]
    assert workflow["taskDependencies"] == [
        {"ref": tasks["featurize"]["bom-ref"], "dependsOn": [tasks["prepare"]["bom-ref"]]}
    ]
    assert "environmentVars" not in json.dumps(doc)  # no environment dumps


def test_dependencies_and_container(lineage: BuiltLineage) -> None:
    doc, _ = _bom(lineage)
    libs = {c["purl"]: c for c in doc["components"] if c["type"] == "library"}
    assert set(libs) == {"pkg:pypi/mlflow@3.17.2", "pkg:pypi/scikit-learn@1.9.1", "pkg:pypi/numpy"}
    assert "version" not in libs["pkg:pypi/numpy"]  # numpy>=2 pins nothing: no version invented
    graph = {d["ref"]: d.get("dependsOn", []) for d in doc["dependencies"]}
    assert sorted(graph[MV]) == sorted(c["bom-ref"] for c in libs.values())
    (image,) = [c for c in doc["components"] if c["type"] == "container"]
    assert image["bom-ref"] == IMAGE
    assert graph[IMAGE] == [MV]


def test_reproducible_and_source_date_epoch(lineage: BuiltLineage, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = _bom(lineage)[1], _bom(lineage)[1]
    assert first == second
    doc = json.loads(first)
    assert doc["metadata"]["timestamp"] == "2025-03-01T11:00:00Z"  # the latest recorded time
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", doc["serialNumber"])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    pinned = json.loads(_bom(lineage)[1])
    assert pinned["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
    assert pinned["serialNumber"] != doc["serialNumber"]  # the serial follows the content


def test_spdx3_with_ai_and_dataset_profiles(lineage: BuiltLineage) -> None:
    facts = facts_from_store(lineage.store, MV)
    result = generate(facts, "spdx3")
    assert result.report.ok, result.report.errors
    graph = result.document["@graph"]
    by_id = {e.get("spdxId"): e for e in graph}
    (model,) = [e for e in graph if e["type"] == "ai_AIPackage"]
    assert model["software_packageVersion"] == "3"
    assert {"type": "DictionaryEntry", "key": "max_iter", "value": "200"} in model["ai_hyperparameter"]
    rels = {e["relationshipType"]: e for e in graph if e["type"] == "Relationship"}
    trained = [by_id[t]["name"] for t in rels["trainedOn"]["to"]]
    tested = [by_id[t]["name"] for t in rels["testedOn"]["to"]]
    assert (trained, tested) == (["features/train.pkl"], ["features/test.pkl"])
    assert all(by_id[t]["type"] == "dataset_DatasetPackage" for t in rels["trainedOn"]["to"])
    assert generate(facts, "spdx3").text == result.text
