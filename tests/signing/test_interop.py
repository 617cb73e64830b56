"""Bundles cross between mlprov and the real upstream ``model_signing`` CLI, in both directions."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.signing.conftest import Cli, UpstreamRun
from tests.signing.pki import Chain, KeyPair, certificate_chain, ec_key_pair


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()], ids=lambda c: c.name)
def test_mlprov_key_bundle_verifies_with_upstream(
    cli: Cli, upstream: UpstreamRun, model: Path, tmp_path: Path, curve: ec.EllipticCurve
) -> None:
    keys = ec_key_pair(tmp_path / "keys", "k", curve)
    assert cli.run("sign", model, "--method", "key", "--private-key", keys.private).exit_code == 0
    done = upstream("verify", "key", model, "--signature", model / "model.sig", "--public_key", keys.public)
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stdout


def test_upstream_key_bundle_verifies_with_mlprov(
    cli: Cli, upstream: UpstreamRun, model: Path, keys: KeyPair, tmp_path: Path
) -> None:
    sig = tmp_path / "upstream.sig"
    done = upstream(
        "sign",
        "key",
        model,
        "--signature",
        sig,
        "--private_key",
        keys.private,
        "--ignore-paths",
        model / "tokenizer.txt",
    )
    assert done.returncode == 0, done.stderr
    result = cli.run("verify", model, "-s", sig, "--public-key", keys.public, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["files"] == 3  # tokenizer.txt was ignored by the signer, and the signature says so
    assert doc["subject_name"] == "fraud-detector"


def test_mlprov_certificate_bundle_verifies_with_upstream(
    cli: Cli, upstream: UpstreamRun, model: Path, chain: Chain
) -> None:
    signed = cli.run(
        "sign",
        model,
        "--private-key",
        chain.leaf_key,
        "--certificate",
        chain.leaf,
        "--cert-chain",
        chain.intermediate,
    )
    assert signed.exit_code == 0, signed.stderr
    done = upstream(
        "verify", "certificate", model, "--signature", model / "model.sig", "--certificate_chain", chain.root
    )
    assert done.returncode == 0, done.stderr


def test_upstream_certificate_bundle_verifies_with_mlprov(
    cli: Cli, upstream: UpstreamRun, model: Path, chain: Chain
) -> None:
    done = upstream(
        "sign",
        "certificate",
        model,
        "--signature",
        model / "model.sig",
        "--private_key",
        chain.leaf_key,
        "--signing_certificate",
        chain.leaf,
        "--certificate_chain",
        chain.intermediate,
    )
    assert done.returncode == 0, done.stderr
    result = cli.run("verify", model, "--cert-chain", chain.root, "--cert-identity", "release@example.com")
    assert result.exit_code == 0, result.stderr
    assert "4 files match the signature by release@example.com" in result.stdout


def test_upstream_sharded_bundle_verifies_with_mlprov(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    """Upstream's library signs with shards; mlprov verifies it (upstream itself cannot: it reads
    ``shard_size`` back as a float and fails with a TypeError, so mlprov signs ``files`` by default)."""
    import model_signing

    sig = tmp_path / "sharded.sig"
    hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=65536)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.private).set_hashing_config(hashing).sign(
        model, sig
    )
    payload = json.loads(sig.read_text())["dsseEnvelope"]["payload"]
    resources = [r["name"] for r in json.loads(base64.b64decode(payload))["predicate"]["resources"]]
    assert "weights/shard-00001.bin:262144:300000" in resources
    ok = cli.run("verify", model, "-s", sig, "--public-key", keys.public, "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["files"] == 4  # .gitattributes is a git path: ignored by default
    (model / "config.json").write_text("{}")
    bad = cli.run("verify", model, "-s", sig, "--public-key", keys.public)
    assert bad.exit_code == 1
    assert "'config.json' differs from the signed digest" in bad.stderr


def test_expired_certificate_upstream_accepts_mlprov_rejects(
    cli: Cli, upstream: UpstreamRun, model: Path, tmp_path: Path
) -> None:
    """Upstream ignores expiry (it checks the chain at the leaf's notBefore); mlprov does not."""
    expired = certificate_chain(tmp_path / "expired", leaf_not_after=datetime.now(UTC) - timedelta(days=2))
    refused = cli.run(
        "sign",
        model,
        "--private-key",
        expired.leaf_key,
        "--certificate",
        expired.leaf,
        "--cert-chain",
        expired.intermediate,
    )
    assert refused.exit_code == 2
    assert "expired on" in refused.stderr
    done = upstream(
        "sign",
        "certificate",
        model,
        "--signature",
        model / "model.sig",
        "--private_key",
        expired.leaf_key,
        "--signing_certificate",
        expired.leaf,
        "--certificate_chain",
        expired.intermediate,
    )
    assert done.returncode == 0, done.stderr
    assert (
        upstream(
            "verify",
            "certificate",
            model,
            "--signature",
            model / "model.sig",
            "--certificate_chain",
            expired.root,
        ).returncode
        == 0
    )
    result = cli.run("verify", model, "--cert-chain", expired.root, "--cert-identity", "release@example.com")
    assert result.exit_code == 1
    assert "the signing certificate O=mlprov tests,CN=ml-release expired on" in result.stderr


def test_upstream_certificate_check_ignores_identity_mlprov_does_not(
    cli: Cli, upstream: UpstreamRun, model: Path, chain: Chain
) -> None:
    """Any leaf under the root passes upstream; mlprov requires the named identity."""
    cli.run(
        "sign",
        model,
        "--private-key",
        chain.leaf_key,
        "--certificate",
        chain.leaf,
        "--cert-chain",
        chain.intermediate,
    )
    assert (
        upstream(
            "verify",
            "certificate",
            model,
            "--signature",
            model / "model.sig",
            "--certificate_chain",
            chain.root,
        ).returncode
        == 0
    )
    result = cli.run("verify", model, "--cert-chain", chain.root, "--cert-identity", "someone-else@example.com")
    assert result.exit_code == 1
    assert "not 'someone-else@example.com'" in result.stderr


def test_mlprov_sharded_bundle_verifies_with_upstream_library(cli: Cli, model: Path, keys: KeyPair) -> None:
    """mlprov writes ``shard_size`` as an integer, so upstream's library can verify its sharded bundles."""
    import model_signing

    assert cli.run("sign", model, "--private-key", keys.private, "--shard-size", "65536").exit_code == 0
    payload = json.loads((model / "model.sig").read_text())["dsseEnvelope"]["payload"]
    serialization = json.loads(base64.b64decode(payload))["predicate"]["serialization"]
    assert (serialization["method"], serialization["shard_size"]) == ("shards", 65536)
    verifier = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=keys.public)
    verifier.verify(model, model / "model.sig")  # raises ValueError on any mismatch
    (model / "tokenizer.txt").write_text("changed\n")
    with pytest.raises(ValueError, match=r"tokenizer\.txt"):
        verifier.verify(model, model / "model.sig")


def test_verify_ignore_paths_relative_to_the_current_directory(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upstream's test scripts verify its v1.0.1 fixtures with ``--ignore-paths ./MODEL/ignore-me``
    from the model's parent folder (those bundles do not record the ignored paths). mlprov took the
    path as relative to the model, so the file counted as extra and a valid signature failed."""
    import model_signing

    sig = tmp_path / "upstream.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.private).sign(model, sig)
    (model / "ignore-me").write_text("added after signing\n")
    monkeypatch.chdir(model.parent)

    plain = cli.run("verify", model.name, "-s", sig, "--public-key", keys.public)
    assert plain.exit_code == 1
    assert "extra file 'ignore-me' is not covered by the signature" in plain.stderr
    for given in (f"./{model.name}/ignore-me", "ignore-me", str(model / "ignore-me")):
        result = cli.run(
            "verify", model.name, "-s", sig, "--public-key", keys.public, "--ignore-paths", given, "--json"
        )
        assert result.exit_code == 0, (given, result.stderr)
        assert json.loads(result.stdout)["files"] == 4


def test_sharded_bundles_of_a_model_with_an_empty_file_verify(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path
) -> None:
    """The shards serialization records no resource for an empty file (``__init__.py``, a
    ``.keep``): mlprov reported it as an extra file, for upstream's sharded bundles and its own."""
    import model_signing

    (model / "empty.txt").write_bytes(b"")
    sig = tmp_path / "upstream-sharded.sig"
    hashing = model_signing.hashing.Config().use_shard_serialization(shard_size=65536)
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.private).set_hashing_config(hashing).sign(
        model, sig
    )
    payload = json.loads(sig.read_text())["dsseEnvelope"]["payload"]
    resources = [r["name"] for r in json.loads(base64.b64decode(payload))["predicate"]["resources"]]
    assert not any(name.startswith("empty.txt") for name in resources)
    upstream_signed = cli.run("verify", model, "-s", sig, "--public-key", keys.public, "--json")
    assert upstream_signed.exit_code == 0, upstream_signed.stderr
    assert json.loads(upstream_signed.stdout)["files"] == 5

    assert cli.run("sign", model, "--private-key", keys.private, "--shard-size", "65536").exit_code == 0
    own = cli.run("verify", model, "--public-key", keys.public)
    assert own.exit_code == 0, own.stderr
    (model / "empty.txt").write_text("not empty any more\n")
    changed = cli.run("verify", model, "--public-key", keys.public)
    assert changed.exit_code == 1
    assert "extra file 'empty.txt' is not covered by the signature" in changed.stderr


@pytest.mark.parametrize("algorithm", ["blake3", "blake2"])
def test_upstream_blake_bundles_verify_with_mlprov(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path, algorithm: str
) -> None:
    """Upstream signs with blake3 or blake2 on request; mlprov refused both as unsupported hash types
    (and upstream 1.1 records blake2 as `blake2b`, a name its own verifier then refuses)."""
    import model_signing

    sig = tmp_path / f"{algorithm}.sig"
    hashing = model_signing.hashing.Config().use_file_serialization(hashing_algorithm=algorithm)  # type: ignore[arg-type]
    model_signing.signing.Config().use_elliptic_key_signer(private_key=keys.private).set_hashing_config(hashing).sign(
        model, sig
    )
    payload = json.loads(base64.b64decode(json.loads(sig.read_text())["dsseEnvelope"]["payload"]))
    recorded = payload["predicate"]["serialization"]["hash_type"]
    assert recorded in ({"blake3"} if algorithm == "blake3" else {"blake2", "blake2b"})
    digest_name = "blake3" if algorithm == "blake3" else "blake2b"
    assert {r["algorithm"] for r in payload["predicate"]["resources"]} == {digest_name}
    ok = cli.run("verify", model, "-s", sig, "--public-key", keys.public, "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["files"] == 4
    (model / "weights" / "shard-00001.bin").write_bytes(b"changed")
    bad = cli.run("verify", model, "-s", sig, "--public-key", keys.public)
    assert bad.exit_code == 1
    assert "'weights/shard-00001.bin' differs from the signed digest" in bad.stderr
