"""Tests against the public Sigstore instances: deselected by default (``pytest -m online`` runs them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.signing.conftest import IBM_IDENTITY, IBM_ISSUER, Cli

pytestmark = pytest.mark.online


def test_refresh_trust_pins_the_current_production_root(cli: Cli, fixtures_dir: Path) -> None:
    model = fixtures_dir / "model-transparency" / "v1.1.0-sigstore"
    result = cli.run("verify", model, "--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER, "--refresh-trust")
    assert result.exit_code == 0, result.stderr
    pinned = cli.workspace / ".mlprov" / "trust" / "production.trust-config.json"
    document = json.loads(pinned.read_text())
    assert document["trustedRoot"]["tlogs"], "the refreshed root lists transparency logs"
    # Later runs use the pinned root, offline.
    assert cli.run("verify", model, "--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER).exit_code == 0


def _ambient_token() -> str | None:
    if os.environ.get("SIGSTORE_ID_TOKEN"):
        return os.environ["SIGSTORE_ID_TOKEN"]
    from sigstore.oidc import detect_credential

    return detect_credential()


def test_live_keyless_signing_on_staging(cli: Cli, model: Path) -> None:
    """Signs on Sigstore's staging instance with the CI's identity (GitHub Actions: id-token: write)."""
    token = _ambient_token()
    if not token:
        pytest.skip("no OIDC token: set SIGSTORE_ID_TOKEN or run in CI with ambient credentials")
    signed = cli.run("sign", model, "--staging", "--identity-token", token, "--json")
    assert signed.exit_code == 0, signed.stderr
    doc = json.loads(signed.stdout)
    assert doc["method"] == "sigstore" and doc["identity"] and doc["issuer"]
    verified = cli.run("verify", model, "--staging", "--identity", doc["identity"], "--issuer", doc["issuer"])
    assert verified.exit_code == 0, verified.stderr
    assert f"by {doc['identity']}" in verified.stdout
