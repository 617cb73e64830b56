"""Signature lineage facts and finding bundles beside model artifacts (what the MLflow scanner calls)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from explorer.lineage import EdgeKind, NodeKind, signature_id
from signing.lineage import find_signatures, signature_facts
from signing.sign import KeySigning, sign_model
from signing.verify import KeySigner, verify_model
from tests.signing.pki import KeyPair


def test_find_signatures_keeps_only_sigstore_bundles(model: Path, keys: KeyPair) -> None:
    sign_model(model, KeySigning(keys.private))
    (model / "weights" / "notes.sig").write_text("not json")
    (model / "other.sigstore.json").write_text(json.dumps({"mediaType": "application/json"}))
    nested = model / "weights" / "model.sig"
    sign_model(model / "weights" / "shard-00001.bin", KeySigning(keys.private), signature_path=nested)
    assert find_signatures(model) == [model / "model.sig", nested]
    assert find_signatures(model / "missing") == []


def test_scanned_signature_has_no_verdict(model: Path, keys: KeyPair) -> None:
    result = sign_model(model, KeySigning(keys.private))
    facts = signature_facts(model / "model.sig", "model_version:fraud/3")
    (node,) = facts.nodes
    assert node.id == signature_id(result.bundle_sha256)
    assert node.kind is NodeKind.SIGNATURE
    assert node.properties == {
        "method": "key",
        "bundle_path": str(model / "model.sig"),
        "identity": result.identity,
        "subject_name": "fraud-detector",
    }
    (edge,) = facts.edges
    assert (edge.source, edge.target, edge.kind) == (node.id, "model_version:fraud/3", EdgeKind.SIGNS)
    assert edge.evidence.rule == "Sigstore bundle stored beside the model artifacts"


def test_verified_signature_carries_the_result(model: Path, keys: KeyPair) -> None:
    sign_model(model, KeySigning(keys.private))
    result = verify_model(model, model / "model.sig", [KeySigner(keys.public)])
    (node,) = signature_facts(model / "model.sig", "model:m-1", result).nodes
    assert node.properties["verified"] is True
    assert node.properties["verified_at"] == result.checked_at
    assert node.properties["verification_detail"] == f"4 files match the signature of {result.identity}"


def test_unreadable_bundle_is_a_gap(tmp_path: Path) -> None:
    bad = tmp_path / "model.sig"
    bad.write_text("{")
    facts = signature_facts(bad, "model:m-1")
    assert facts.nodes == [] and facts.edges == []
    assert [(g.subject, g.kind, g.locator) for g in facts.gaps] == [("model:m-1", "signature_unreadable", str(bad))]


def test_lineage_module_stays_light() -> None:
    """The scanner imports signing.lineage: it must not drag in sigstore or model_signing."""
    code = (
        "import sys, signing.lineage; "
        "heavy = [m for m in ('sigstore', 'model_signing', 'textual') if m in sys.modules]; "
        "sys.exit(1 if heavy else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
