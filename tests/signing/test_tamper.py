"""The tamper matrix: every change to a signed model or its signature fails, naming what changed."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.signing.conftest import Cli, make_model
from tests.signing.pki import KeyPair, certificate_chain, ec_key_pair


def _flip_bit(model: Path) -> None:
    path = model / "weights" / "shard-00002.bin"
    data = bytearray(path.read_bytes())
    data[123_456] ^= 0x10
    path.write_bytes(bytes(data))


def _append_byte(model: Path) -> None:
    with (model / "config.json").open("ab") as fh:
        fh.write(b"\n")


def _extra_file(model: Path) -> None:
    (model / "weights" / "backdoor.py").write_text("import os\n")


def _missing_file(model: Path) -> None:
    (model / "tokenizer.txt").unlink()


def _renamed_file(model: Path) -> None:
    (model / "tokenizer.txt").rename(model / "vocab.txt")


def _symlink_swapped(model: Path) -> None:
    target = model / "weights" / "shard-00001.bin"
    evil = model.parent / "evil.bin"
    evil.write_bytes(target.read_bytes())
    target.unlink()
    target.symlink_to(evil)


TAMPERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "flipped bit": (_flip_bit, "'weights/shard-00002.bin' differs from the signed digest"),
    "appended byte": (_append_byte, "'config.json' differs from the signed digest"),
    "extra file": (_extra_file, "extra file 'weights/backdoor.py' is not covered by the signature"),
    "missing file": (_missing_file, "'tokenizer.txt' is missing (it was signed)"),
    "renamed file": (_renamed_file, "'tokenizer.txt' was renamed to 'vocab.txt'"),
    "symlink swapped": (_symlink_swapped, "'weights/shard-00001.bin' is a symbolic link"),
}


@pytest.fixture(params=["key", "certificate"])
def signed(
    request: pytest.FixtureRequest, cli: Cli, model: Path, keys: KeyPair, tmp_path: Path
) -> tuple[Path, list[str]]:
    """The model signed with one method, and the verify options that accept it."""
    if request.param == "key":
        result = cli.run("sign", model, "--private-key", keys.private)
        verify = ["--public-key", str(keys.public)]
    else:
        chain = certificate_chain(tmp_path / "pki")
        result = cli.run(
            "sign",
            model,
            "--private-key",
            chain.leaf_key,
            "--certificate",
            chain.leaf,
            "--cert-chain",
            chain.intermediate,
        )
        verify = ["--cert-chain", str(chain.root), "--cert-identity", "release@example.com"]
    assert result.exit_code == 0, result.stderr
    assert cli.run("verify", model, *verify).exit_code == 0
    return model, verify


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_tampered_model_fails_naming_the_file(cli: Cli, signed: tuple[Path, list[str]], tamper: str) -> None:
    model, verify = signed
    change, expected = TAMPERS[tamper]
    change(model)
    result = cli.run("verify", model, *verify)
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.startswith("mlprov: verification of")


def test_several_changes_are_all_listed(cli: Cli, signed: tuple[Path, list[str]]) -> None:
    model, verify = signed
    _flip_bit(model)
    _extra_file(model)
    _missing_file(model)
    result = cli.run("verify", model, *verify, "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    assert doc["verified"] is False and doc["reason"] == "digest-mismatch"
    assert doc["problems"] == [
        "'weights/shard-00002.bin' differs from the signed digest (signed " + doc["problems"][0].split("(signed ")[1],
        "'tokenizer.txt' is missing (it was signed)",
        "extra file 'weights/backdoor.py' is not covered by the signature",
    ]


def test_wrong_key(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    other = ec_key_pair(tmp_path / "other", "other")
    result = cli.run("verify", model, "--public-key", other.public)
    assert result.exit_code == 1
    assert "signed by key sha256:" in result.stderr
    assert f"not by {other.public}" in result.stderr


def test_wrong_certificate_identity(cli: Cli, model: Path, chain: object) -> None:
    c = chain
    assert (
        cli.run(
            "sign",
            model,
            "--private-key",
            c.leaf_key,
            "--certificate",
            c.leaf,  # type: ignore[attr-defined]
            "--cert-chain",
            c.intermediate,
        ).exit_code
        == 0
    )  # type: ignore[attr-defined]
    result = cli.run("verify", model, "--cert-chain", c.root, "--cert-identity", "mallory@example.com")  # type: ignore[attr-defined]
    assert result.exit_code == 1
    assert "the signing certificate names 'release@example.com', not 'mallory@example.com'" in result.stderr


def test_wrong_certificate_issuer(cli: Cli, model: Path, chain: object, tmp_path: Path) -> None:
    """Same identity, another CA: the chain check names the failure."""
    c = chain
    other = certificate_chain(tmp_path / "other-pki", prefix="other ")
    assert (
        cli.run(
            "sign",
            model,
            "--private-key",
            c.leaf_key,
            "--certificate",
            c.leaf,  # type: ignore[attr-defined]
            "--cert-chain",
            c.intermediate,
        ).exit_code
        == 0
    )  # type: ignore[attr-defined]
    result = cli.run("verify", model, "--cert-chain", other.root, "--cert-identity", "release@example.com")
    assert result.exit_code == 1
    assert "does not chain to certificate naming 'release@example.com'" in result.stderr


def test_edited_payload(cli: Cli, model: Path, keys: KeyPair) -> None:
    """Rewriting a digest inside the signed statement breaks the signature, not just the files."""
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    bundle_path = model / "model.sig"
    bundle = json.loads(bundle_path.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "00" * 32
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    bundle_path.write_text(json.dumps(bundle))
    result = cli.run("verify", model, "--public-key", keys.public)
    assert result.exit_code == 1
    assert "the signature does not verify with" in result.stderr
    assert "the bundle or its payload was altered" in result.stderr


def test_signature_of_model_a_for_model_b(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    other = make_model(tmp_path / "churn-model")
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    result = cli.run("verify", other, "-s", model / "model.sig", "--public-key", keys.public)
    assert result.exit_code == 1
    assert "differs from the signed digest" in result.stderr
    assert "the signature is for model 'fraud-detector'" in result.stderr


def test_signature_outside_model_is_not_confused_with_content(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path
) -> None:
    sig = tmp_path / "sigs" / "fraud.sig"
    assert cli.run("sign", model, "--private-key", keys.private, "-o", sig).exit_code == 0
    result = cli.run("verify", model, "-s", sig, "--public-key", keys.public, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"] == 4


def test_unchanged_mtime_does_not_hide_a_change_from_verify(cli: Cli, model: Path, keys: KeyPair) -> None:
    """verify re-hashes by default even when size and mtime were preserved by the attacker."""
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    target = model / "tokenizer.txt"
    before = target.stat()
    target.write_text("x\ny\nz\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = cli.run("verify", model, "--public-key", keys.public)
    assert result.exit_code == 1
    assert "'tokenizer.txt' differs" in result.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["x509CertificateChain"].update(certificates=[]), "the bundle's certificate chain is empty"),
        (
            lambda m: m["x509CertificateChain"]["certificates"][0].pop("rawBytes"),
            "unreadable signing certificate (no 'rawBytes' field)",
        ),
    ],
    ids=["empty-chain", "no-raw-bytes"],
)
def test_broken_certificate_material_is_named(
    cli: Cli, model: Path, chain: object, edit: Callable[[dict[str, Any]], object], message: str
) -> None:
    """A certificate bundle whose chain was emptied or cut: one line naming the bundle, exit 2 (was
    'unreadable signing certificate (list index out of range)')."""
    c = chain
    signed = cli.run(
        "sign", model, "--private-key", c.leaf_key, "--certificate", c.leaf, "--cert-chain", c.intermediate  # type: ignore[attr-defined]
    )
    assert signed.exit_code == 0, signed.stderr
    sig = model / "model.sig"
    bundle = json.loads(sig.read_text())
    assert bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
    edit(bundle["verificationMaterial"])
    sig.write_text(json.dumps(bundle))
    result = cli.run("verify", model, "--cert-chain", c.root, "--cert-identity", "release@example.com")  # type: ignore[attr-defined]
    assert result.exit_code == 2
    assert f"{sig}: {message}" in result.stderr and "Traceback" not in result.stderr
