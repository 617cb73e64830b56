"""Validation of any BOM (negative mutations of ours, the spec's own examples) and reading BOMs back."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom

from explorer.lineage import EdgeKind, NodeKind
from sbom.cyclonedx import build_bom
from sbom.lineage_facts import facts_from_store
from sbom.reader import bom_facts, read_bom
from sbom.validate import BomReadError, reference_errors, validate_document, validate_file
from tests.sbom.conftest import SPEC_EXAMPLES
from tests.sbom.lineage_builder import MODEL, MV, BuiltLineage

needs_examples = pytest.mark.skipif(not SPEC_EXAMPLES.is_dir(), reason=f"spec examples absent: {SPEC_EXAMPLES}")


@pytest.fixture
def valid_doc(lineage: BuiltLineage) -> dict:
    doc = build_bom(facts_from_store(lineage.store, MV))
    assert validate_document(doc).ok
    return doc


def test_metric_value_as_number_fails(valid_doc: dict) -> None:
    doc = copy.deepcopy(valid_doc)
    doc["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][0]["value"] = 0.9125
    report = validate_document(doc)
    assert not report.ok
    assert any("performanceMetrics/0/value" in e and "not of type 'string'" in e for e in report.schema_errors)


def test_dangling_ref_fails(valid_doc: dict) -> None:
    doc = copy.deepcopy(valid_doc)
    doc["metadata"]["component"]["modelCard"]["modelParameters"]["datasets"].append({"ref": "data:md5:nowhere"})
    report = validate_document(doc)
    assert report.schema_errors == []  # the schema cannot see it...
    assert report.reference_errors == [  # ...the reference check does
        "/metadata/component/modelCard/modelParameters/datasets/2/ref:"
        " ref 'data:md5:nowhere' matches no bom-ref in this BOM"
    ]


def test_two_input_kinds_in_one_formulation_input_fails(valid_doc: dict) -> None:
    doc = copy.deepcopy(valid_doc)
    inputs = doc["formulation"][0]["workflows"][0]["inputs"]
    inputs[0]["parameters"] = [{"name": "lr", "value": "0.1"}]  # now resource AND parameters
    report = validate_document(doc)
    assert any("formulation/0/workflows/0/inputs/0" in e for e in report.schema_errors), report.schema_errors


def test_duplicate_bom_ref_fails(valid_doc: dict) -> None:
    doc = copy.deepcopy(valid_doc)
    doc["components"][1]["bom-ref"] = doc["components"][0]["bom-ref"]
    assert any("already defined" in e for e in reference_errors(doc))


def test_validate_file_rejects_non_bom(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(BomReadError, match="not a CycloneDX JSON BOM"):
        validate_file(path)


@needs_examples
@pytest.mark.parametrize("name", sorted(p.name for p in SPEC_EXAMPLES.glob("*.json")) if SPEC_EXAMPLES.is_dir() else [])
def test_spec_examples_read_back_without_loss(name: str) -> None:
    path = SPEC_EXAMPLES / name
    original = json.loads(path.read_text())
    doc = read_bom(path)
    assert doc.raw == original  # nothing dropped, modelCard/data/formulation included
    report = validate_file(path)
    assert report.schema_errors == []
    assert report.spec_version == "1.6"


@needs_examples
def test_library_drops_what_the_reader_keeps() -> None:
    path = SPEC_EXAMPLES / "valid-machine-learning-1.6.json"
    doc = read_bom(path)
    card = doc.model_cards()["component-a"]
    assert card["modelParameters"]["approach"] == {"type": "supervised"}
    assert card["quantitativeAnalysis"]["performanceMetrics"][0]["value"] == "The value of the performance metric"
    from cyclonedx.output import OutputFormat, make_outputter
    from cyclonedx.schema import SchemaVersion

    lib = Bom.from_json(json.loads(path.read_text()))  # type: ignore[attr-defined]
    relisted = make_outputter(lib, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    assert "modelCard" not in relisted


@needs_examples
def test_spec_data_and_formulation_examples() -> None:
    data = read_bom(SPEC_EXAMPLES / "valid-component-data-1.6.json").data()
    assert [d["name"] for d in data["my-configs"]] == ["app.ini", ".env"]
    formula = read_bom(SPEC_EXAMPLES / "valid-formulation-1.6.json")
    assert formula.formulation[0]["workflows"][0]["uid"] == "8edb2b08-e2c7-11ed-b5ea-0242ac120002"
    # the spec's formulation example is schema-valid but refers to components it never defines
    errors = validate_file(SPEC_EXAMPLES / "valid-formulation-1.6.json").reference_errors
    assert any("'component-a' matches no bom-ref" in e for e in errors)


def test_bom_facts_of_our_bom(lineage: BuiltLineage, tmp_path: Path) -> None:
    doc = build_bom(facts_from_store(lineage.store, MV))
    path = tmp_path / "churn-3.cdx.json"
    path.write_text(json.dumps(doc))
    facts = bom_facts(path)
    (bom,) = [n for n in facts.nodes if n.kind == NodeKind.BOM]
    assert bom.id == f"bom:{doc['serialNumber']}"
    assert bom.properties["spec_version"] == "1.6" and bom.properties["subject"] == MV
    assert bom.properties["generator"].startswith("mlprov")
    described = {e.target for e in facts.edges if e.kind == EdgeKind.DESCRIBES and e.source == bom.id}
    assert described == {MV, f"model:{MODEL}"}
    assert facts.gaps == []


@needs_examples
def test_bom_facts_of_third_party_bom_without_mlflow_identity() -> None:
    facts = bom_facts(SPEC_EXAMPLES / "valid-machine-learning-considerations-env-1.6.json")
    (bom,) = facts.nodes
    assert bom.id == "bom:urn:uuid:ed5c5ba0-2be6-4b58-ac29-01a7fd375123"
    assert facts.edges == []  # a Hugging Face model mlprov cannot tie to a lineage node: no edge invented
    assert facts.gaps[0].kind == "unresolved_bom_subject" and "Llama-2-7b" in facts.gaps[0].reason


def test_sbom_never_imports_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, sbom.cyclonedx, sbom.validate, sbom.reader, sbom.spdx, sbom.lineage_facts, sbom.generate;"
        "print('textual' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
