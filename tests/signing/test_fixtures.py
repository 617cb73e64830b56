"""The real third-party signed fixtures verify offline with their documented identities, and only then."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.signing.conftest import (
    GITHUB_IDENTITY,
    GITHUB_ISSUER,
    IBM_IDENTITY,
    IBM_ISSUER,
    Cli,
    copy_tree,
)


def _mt(fixtures_dir: Path) -> Path:
    return fixtures_dir / "model-transparency"


def test_keyless_fixture_verifies_with_its_identity(cli: Cli, fixtures_dir: Path) -> None:
    model = _mt(fixtures_dir) / "v1.1.0-sigstore"
    result = cli.run("verify", model, "--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER, "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verified"] is True
    assert (doc["method"], doc["identity"], doc["issuer"]) == ("sigstore", IBM_IDENTITY, IBM_ISSUER)
    assert doc["subject_name"] == "v1.1.0-sigstore"
    assert doc["subject_digest"] == "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226"
    assert doc["files"] == 2  # signme-1 and signme-2; ignore-me and model.sig are not signed


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [
        ("stefanb@example.com", IBM_ISSUER),
        (IBM_IDENTITY, "https://accounts.google.com"),
    ],
)
def test_keyless_fixture_fails_with_another_identity_or_issuer(
    cli: Cli, fixtures_dir: Path, identity: str, issuer: str
) -> None:
    model = _mt(fixtures_dir) / "v1.1.0-sigstore"
    result = cli.run("verify", model, "--identity", identity, "--issuer", issuer)
    assert result.exit_code == 1
    assert f"signed by {IBM_IDENTITY} (issuer {IBM_ISSUER}), not by {identity} (issuer {issuer})" in result.stderr


def test_key_fixture_verifies_with_its_public_key(cli: Cli, fixtures_dir: Path) -> None:
    mt = _mt(fixtures_dir)
    result = cli.run("verify", mt / "v1.1.0-elliptic-key", "--public-key", mt / "keys" / "signing-key-pub.pem")
    assert result.exit_code == 0, result.stderr
    assert "2 files match" in result.stdout
    assert "key:sha256:e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" in result.stdout


def test_certificate_fixture_needs_the_identity_its_subject_names(cli: Cli, fixtures_dir: Path) -> None:
    """The leaf has no SAN and the subject CN=intermediate-ca: the identity check uses the subject."""
    mt = _mt(fixtures_dir)
    ok = cli.run(
        "verify",
        mt / "v1.1.0-certificate",
        "--cert-chain",
        mt / "keys" / "ca-cert.pem",
        "--cert-identity",
        "intermediate-ca",
    )
    assert ok.exit_code == 0, ok.stderr
    assert "signature by intermediate-ca" in ok.stdout
    wrong = cli.run(
        "verify",
        mt / "v1.1.0-certificate",
        "--cert-chain",
        mt / "keys" / "ca-cert.pem",
        "--cert-identity",
        "release-bot",
    )
    assert wrong.exit_code == 1
    assert "names 'CN=intermediate-ca', 'intermediate-ca', not 'release-bot'" in wrong.stderr


def test_certificate_fixture_never_falls_back_to_web_roots(cli: Cli, fixtures_dir: Path) -> None:
    result = cli.run("verify", _mt(fixtures_dir) / "v1.1.0-certificate", "--cert-identity", "intermediate-ca")
    assert result.exit_code == 2
    assert "needs both --cert-chain" in result.stderr


def test_certificate_fixture_fails_under_another_root(cli: Cli, fixtures_dir: Path, chain: object) -> None:
    other_root = chain.root  # type: ignore[attr-defined]
    result = cli.run(
        "verify",
        _mt(fixtures_dir) / "v1.1.0-certificate",
        "--cert-chain",
        other_root,
        "--cert-identity",
        "intermediate-ca",
    )
    assert result.exit_code == 1
    assert "does not chain to" in result.stderr
    assert "unable to get local issuer certificate" in result.stderr


@pytest.mark.parametrize("folder", ["v1.1.0-sigstore", "v1.1.0-elliptic-key", "v1.1.0-certificate"])
def test_any_changed_byte_fails(cli: Cli, fixtures_dir: Path, tmp_path: Path, folder: str) -> None:
    mt = _mt(fixtures_dir)
    model = copy_tree(mt / folder, tmp_path / folder)
    data = bytearray((model / "signme-2").read_bytes())
    data[3] ^= 0x01
    (model / "signme-2").write_bytes(bytes(data))
    options = {
        "v1.1.0-sigstore": ["--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER],
        "v1.1.0-elliptic-key": ["--public-key", str(mt / "keys" / "signing-key-pub.pem")],
        "v1.1.0-certificate": [
            "--cert-chain",
            str(mt / "keys" / "ca-cert.pem"),
            "--cert-identity",
            "intermediate-ca",
        ],
    }[folder]
    result = cli.run("verify", model, *options)
    assert result.exit_code == 1
    assert "'signme-2' differs from the signed digest (signed 32dcb1f8e1ae52d5" in result.stderr
    assert re.search(r"\(signed [0-9a-f]{64}, found [0-9a-f]{64}\)", result.stderr)  # whole, not cut with …


def test_signed_wheel_verifies_as_a_plain_artifact(cli: Cli, fixtures_dir: Path) -> None:
    sp = fixtures_dir / "sigstore-python"
    wheel = sp / "bundle_v3_github.whl"
    ok = cli.run(
        "verify",
        wheel,
        "-s",
        sp / "bundle_v3_github.whl.sigstore",
        "--identity",
        GITHUB_IDENTITY,
        "--issuer",
        GITHUB_ISSUER,
        "--json",
    )
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["subject_digest"] == "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
    other = cli.run(
        "verify",
        wheel,
        "-s",
        sp / "bundle_v3_github.whl.sigstore",
        "--identity",
        GITHUB_IDENTITY.replace("v0.1.2", "v0.1.3"),
        "--issuer",
        GITHUB_ISSUER,
    )
    assert other.exit_code == 1
    assert f"signed by {GITHUB_IDENTITY}" in other.stderr


def test_staging_bundle_needs_the_staging_root(cli: Cli, fixtures_dir: Path) -> None:
    sp = fixtures_dir / "sigstore-python"
    args = [
        "verify",
        sp / "bundle_v3.txt",
        "-s",
        sp / "bundle_v3.txt.sigstore",
        "--identity",
        "william@yossarian.net",
        "--issuer",
        "https://github.com/login/oauth",
    ]
    assert cli.run(*args, "--staging").exit_code == 0
    production = cli.run(*args)
    assert production.exit_code == 1
    assert "Sigstore verification failed" in production.stderr


def test_malicious_cve_bundle_is_rejected(cli: Cli, fixtures_dir: Path) -> None:
    sp = fixtures_dir / "sigstore-python"
    result = cli.run(
        "verify",
        sp / "bundle_cve_2022_36056.txt",
        "-s",
        sp / "bundle_cve_2022_36056.txt.sigstore",
        "--identity",
        "william@yossarian.net",
        "--issuer",
        "https://github.com/login/oauth",
        "--staging",
    )
    assert result.exit_code == 1
    assert "transparency log entry is inconsistent with other materials" in result.stderr


def _unshare_available() -> bool:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False
    probe = subprocess.run([unshare, "--net", "--map-root-user", "true"], capture_output=True, check=False)
    return probe.returncode == 0


def test_verification_needs_no_network(fixtures_dir: Path, tmp_path: Path) -> None:
    """Run the real CLI in a network namespace without interfaces: all three methods still verify."""
    if not _unshare_available():
        pytest.skip("unshare --net is not available here (no user namespaces)")
    model = fixtures_dir / "model-transparency" / "v1.1.0-sigstore"
    home = tmp_path / "home"  # an empty home: no TUF cache that could stand in for the network
    home.mkdir()
    code = "import sys; from explorer.cli import main; sys.exit(main())"
    base = ["unshare", "--net", "--map-root-user", sys.executable, "-c", code, "-w", str(tmp_path)]
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    mt = fixtures_dir / "model-transparency"
    checks = {
        "v1.1.0-sigstore": ["--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER],
        "v1.1.0-elliptic-key": ["--public-key", str(mt / "keys" / "signing-key-pub.pem")],
        "v1.1.0-certificate": ["--cert-chain", str(mt / "keys" / "ca-cert.pem"), "--cert-identity", "intermediate-ca"],
    }
    for folder, options in checks.items():
        ok = subprocess.run(
            [*base, "verify", mt / folder, *options], capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert ok.returncode == 0, ok.stderr
        assert "2 files match the signature by" in ok.stdout
    # The namespace really is offline: refreshing trust over TUF fails there.
    refresh = subprocess.run(
        [*base, "verify", model, "--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER, "--refresh-trust"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert refresh.returncode == 2
    assert "cannot refresh the production trust root" in refresh.stderr
