"""Keyless signing end to end against a local Sigstore TEST DOUBLE (not the real Sigstore).

``sigstore_double/server.js`` serves Fulcio and Rekor v1 on 127.0.0.1 with the handlers of npm's
``@sigstore/mock`` and fresh keys; it prints the trust config for itself. The real sigstore-python
client signs against it (CSR, SCT check, transparency log entry) and the real verifiers (ours and
upstream's) check the bundle: certificate chain, SCT, signed entry timestamp, inclusion proof.
Live signing against public Sigstore is in ``test_online.py``.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.signing.conftest import Cli, UpstreamRun

DOUBLE_DIR = Path(__file__).resolve().parent / "sigstore_double"
IDENTITY = "https://ci.example.test/acme/models/.github/workflows/sign.yml@refs/heads/main"
ISSUER = "https://oidc.test-double.invalid"


@dataclass(frozen=True)
class SigstoreDouble:
    url: str
    trust_config: Path


def _install() -> str | None:
    """Install the double's npm dependencies once; the reason it cannot run, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the Sigstore test double (@sigstore/mock)"
    if (DOUBLE_DIR / "node_modules" / "@sigstore" / "mock").is_dir():
        return None
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"],
        cwd=DOUBLE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return None if done.returncode == 0 else f"npm ci failed for the Sigstore test double: {done.stderr[-300:]}"


@pytest.fixture(scope="module")
def sigstore_double(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigstoreDouble]:
    reason = _install()
    if reason:
        pytest.skip(reason)
    process = subprocess.Popen(
        ["node", str(DOUBLE_DIR / "server.js")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"the Sigstore test double did not start: {process.stderr.read() if process.stderr else ''}")
        started = json.loads(line)
        assert started["url"].startswith("http://127.0.0.1:")
        path = tmp_path_factory.mktemp("double") / "trust-config.json"
        path.write_text(json.dumps(started["trust_config"]))
        yield SigstoreDouble(started["url"], path)
    finally:
        process.terminate()  # our own child, by its handle
        process.wait(timeout=10)


def identity_token(*, sub: str = IDENTITY, iss: str = ISSUER, lifetime: int = 600) -> str:
    """An unsigned OIDC-shaped token: the test double (like any Fulcio) reads its claims."""

    def part(document: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"iss": iss, "sub": sub, "aud": "sigstore", "iat": now - 5, "exp": now + lifetime}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_keyless_sign_and_verify_end_to_end(cli: Cli, model: Path, sigstore_double: SigstoreDouble) -> None:
    signed = cli.run(
        "sign", model, "--identity-token", identity_token(), "--trust-config", sigstore_double.trust_config, "--json"
    )
    assert signed.exit_code == 0, signed.stderr
    doc = json.loads(signed.stdout)
    assert (doc["method"], doc["identity"], doc["issuer"]) == ("sigstore", IDENTITY, ISSUER)
    bundle = json.loads((model / "model.sig").read_text())
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    assert entry["kindVersion"] == {"kind": "dsse", "version": "0.0.1"}
    assert entry["inclusionProof"]["checkpoint"]["envelope"].startswith("127.0.0.1:")

    ok = cli.run(
        "verify", model, "--trust-config", sigstore_double.trust_config, "--identity", IDENTITY, "--issuer", ISSUER
    )
    assert ok.exit_code == 0, ok.stderr
    assert f"4 files match the signature by {IDENTITY} (issuer {ISSUER}) [sigstore]" in ok.stdout


def test_keyless_bundle_fails_for_another_identity_or_the_public_root(
    cli: Cli, model: Path, sigstore_double: SigstoreDouble
) -> None:
    assert (
        cli.run(
            "sign", model, "--identity-token", identity_token(), "--trust-config", sigstore_double.trust_config
        ).exit_code
        == 0
    )
    other = cli.run(
        "verify",
        model,
        "--trust-config",
        sigstore_double.trust_config,
        "--identity",
        IDENTITY.replace("main", "dev"),
        "--issuer",
        ISSUER,
    )
    assert other.exit_code == 1
    assert f"signed by {IDENTITY} (issuer {ISSUER}), not by" in other.stderr
    # Against the production root embedded in sigstore, the test double's CA is not trusted.
    public = cli.run("verify", model, "--identity", IDENTITY, "--issuer", ISSUER)
    assert public.exit_code == 1
    assert "Sigstore verification failed" in public.stderr


def test_keyless_regex_identity(cli: Cli, model: Path, sigstore_double: SigstoreDouble) -> None:
    assert (
        cli.run(
            "sign", model, "--identity-token", identity_token(), "--trust-config", sigstore_double.trust_config
        ).exit_code
        == 0
    )
    ok = cli.run(
        "verify",
        model,
        "--trust-config",
        sigstore_double.trust_config,
        "--identity-regex",
        r"https://ci\.example\.test/acme/.*@refs/heads/main",
        "--issuer",
        ISSUER,
    )
    assert ok.exit_code == 0, ok.stderr
    no = cli.run(
        "verify",
        model,
        "--trust-config",
        sigstore_double.trust_config,
        "--identity-regex",
        r"https://ci\.example\.test/other/.*",
        "--issuer",
        ISSUER,
    )
    assert no.exit_code == 1 and "not by /https://ci" in no.stderr


def test_keyless_token_from_environment(
    cli: Cli, model: Path, sigstore_double: SigstoreDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", identity_token(sub="https://ci.example.test/env"))
    signed = cli.run("sign", model, "--trust-config", sigstore_double.trust_config, "--json")
    assert signed.exit_code == 0, signed.stderr
    assert json.loads(signed.stdout)["identity"] == "https://ci.example.test/env"


def test_expired_token_is_refused_before_hashing(cli: Cli, model: Path, sigstore_double: SigstoreDouble) -> None:
    result = cli.run(
        "sign", model, "--identity-token", identity_token(lifetime=-60), "--trust-config", sigstore_double.trust_config
    )
    assert result.exit_code == 2
    assert "the identity token is not usable" in result.stderr
    assert not (model / "model.sig").exists()


def test_keyless_bundle_verifies_with_upstream(
    cli: Cli, upstream: UpstreamRun, model: Path, sigstore_double: SigstoreDouble
) -> None:
    assert (
        cli.run(
            "sign", model, "--identity-token", identity_token(), "--trust-config", sigstore_double.trust_config
        ).exit_code
        == 0
    )
    done = upstream(
        "verify",
        "sigstore",
        model,
        "--signature",
        model / "model.sig",
        "--identity",
        IDENTITY,
        "--identity_provider",
        ISSUER,
        "--trust_config",
        sigstore_double.trust_config,
    )
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stdout


def test_unreachable_sigstore_is_a_clear_failure(
    cli: Cli, model: Path, tmp_path: Path, sigstore_double: SigstoreDouble
) -> None:
    config = json.loads(sigstore_double.trust_config.read_text())
    for service in config["signingConfig"]["caUrls"]:
        service["url"] = "http://127.0.0.1:9"  # discard port: nothing listens
    dead = tmp_path / "dead.json"
    dead.write_text(json.dumps(config))
    result = cli.run("sign", model, "--identity-token", identity_token(), "--trust-config", dead)
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (model / "model.sig").exists()
