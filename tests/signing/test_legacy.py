"""Signatures in model_signing's pre-1.0 (v0.2) format, which upstream still verifies.

model_signing 0.2 signed a statement with predicate ``https://model_signing/Digests/v0.1`` (one
subject per file) over a buggy DSSE encoding, and with SHA-256 whatever the curve. No 0.2 release is
installed here, so the bundle is rebuilt from a real upstream 1.x certificate bundle: its payload is
replaced by a 0.2 statement and re-signed over upstream's own ``pae_compat`` encoding with the leaf
key, as upstream's fixture ``scripts/tests/v0.2.0-certificate`` was.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing._signing import sign_sigstore_pb as oms_pb

from tests.signing.conftest import Cli
from tests.signing.pki import Chain, KeyPair, ec_key_pair

IDENTITY = "release@example.com"


def _legacy_bundle(model: Path, chain: Chain, sig: Path) -> None:
    import model_signing

    model_signing.signing.Config().use_certificate_signer(
        private_key=chain.leaf_key, signing_certificate=chain.leaf, certificate_chain=[chain.intermediate]
    ).sign(model, sig)
    bundle = json.loads(sig.read_text())
    subjects = [
        {
            "name": path.relative_to(model).as_posix(),
            "digest": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
            "annotations": {"actual_hash_algorithm": "file-sha256"},
        }
        for path in sorted(model.rglob("*"))
        if path.is_file() and path != sig and not path.name.startswith(".git")
    ]
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "https://model_signing/Digests/v0.1",
        "predicate": {"unused": "Unused, just passed due to API requirements"},
    }
    payload = json.dumps(statement).encode()
    key = serialization.load_pem_private_key(chain.leaf_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(oms_pb.pae_compat(payload), ec.ECDSA(hashes.SHA256()))
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    bundle["dsseEnvelope"]["signatures"] = [{"sig": base64.b64encode(signature).decode()}]
    sig.write_text(json.dumps(bundle))


@pytest.fixture
def legacy(model: Path, chain: Chain, tmp_path: Path) -> Path:
    sig = tmp_path / "legacy.sig"
    _legacy_bundle(model, chain, sig)
    return sig


def test_v02_signature_verifies_like_upstream(cli: Cli, model: Path, chain: Chain, legacy: Path) -> None:
    import model_signing

    # upstream accepts it (it ignores the identity and, like mlprov, takes the chain it is given)
    model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[chain.root]).verify(model, legacy)
    result = cli.run("verify", model, "-s", legacy, "--cert-chain", chain.root, "--cert-identity", IDENTITY, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["verified"], doc["identity"], doc["files"]) == (True, IDENTITY, 4)
    # a 0.2 statement names files, not the model: no subject is invented from its first file
    assert doc["subject_name"] is None and doc["subject_digest"] is None


def test_v02_signature_still_detects_a_changed_file(cli: Cli, model: Path, chain: Chain, legacy: Path) -> None:
    (model / "tokenizer.txt").write_text("a\nb\nX\n")
    result = cli.run("verify", model, "-s", legacy, "--cert-chain", chain.root, "--cert-identity", IDENTITY)
    assert result.exit_code == 1
    assert "'tokenizer.txt' differs from the signed digest" in result.stderr
    assert "signature is for model" not in result.stderr


def test_v02_signature_with_an_edited_payload_is_rejected(cli: Cli, model: Path, chain: Chain, legacy: Path) -> None:
    bundle = json.loads(legacy.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "00" * 32
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    legacy.write_text(json.dumps(bundle))
    result = cli.run("verify", model, "-s", legacy, "--cert-chain", chain.root, "--cert-identity", IDENTITY)
    assert result.exit_code == 1
    assert "the signature does not verify with the signing certificate's key" in result.stderr


def test_v02_signature_does_not_allow_symlinks(
    cli: Cli, model: Path, chain: Chain, legacy: Path, tmp_path: Path
) -> None:
    """Upstream reads a 0.2 payload back with ``allow_symlinks`` as the string "false"; taken as
    true, a signed file swapped for a symlink to identical bytes elsewhere passed verification."""
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes((model / "tokenizer.txt").read_bytes())
    os.remove(model / "tokenizer.txt")
    os.symlink(outside, model / "tokenizer.txt")
    result = cli.run("verify", model, "-s", legacy, "--cert-chain", chain.root, "--cert-identity", IDENTITY)
    assert result.exit_code == 1
    assert "'tokenizer.txt' is a symbolic link" in result.stderr


def test_key_bundle_without_hint_names_the_verifying_key(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """model_signing 0.3 and 1.0.0 key bundles carry the PEM key but no ``hint`` (upstream's fixtures
    ``v0.3.1-elliptic-key``, ``v1.0.0-elliptic-key``). mlprov reported them as signed "by None", and a
    wrong key as "the bundle or its payload was altered"."""
    import model_signing

    sig = tmp_path / "model.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.private).sign(model, sig)
    bundle = json.loads(sig.read_text())
    pem = keys.public.read_bytes()
    bundle["verificationMaterial"]["publicKey"] = {
        "rawBytes": base64.b64encode(pem).decode(),
        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
    }
    sig.write_text(json.dumps(bundle))
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keys.public).verify(model, sig)
    assert "older verification material format" in capsys.readouterr().out  # upstream's warning

    key_id = hashlib.sha256(
        serialization.load_pem_public_key(pem).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()
    result = cli.run("verify", model, "-s", sig, "--public-key", keys.public)
    assert result.exit_code == 0, result.stderr
    assert f"4 files match the signature by key:sha256:{key_id} [key]" in result.stdout

    other = ec_key_pair(tmp_path / "other", "other")
    wrong = cli.run("verify", model, "-s", sig, "--public-key", other.public)
    assert wrong.exit_code == 1
    assert (
        f"the signature does not verify with {other.public}: it was made with another key, "
        "or the bundle or its payload was altered (the bundle names no key)"
    ) in wrong.stderr
