"""Fixtures for the signing tests: models on disk, keys, certificate chains, the CLI, upstream's CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from explorer.cli import main
from tests.signing.pki import Chain, KeyPair, certificate_chain, ec_key_pair

# ../shared beside the checkout (the project's convention), never an absolute machine path.
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
SIGNING_FIXTURES = SHARED / "fixtures" / "signing"
MODEL_TRANSPARENCY = SIGNING_FIXTURES / "model-transparency"
SIGSTORE_PYTHON = SIGNING_FIXTURES / "sigstore-python"

# The identities fixtures/README.md documents for the real signed fixtures.
IBM_IDENTITY = "stefanb@us.ibm.com"
IBM_ISSUER = "https://sigstore.verify.ibm.com/oauth2"
GITHUB_IDENTITY = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


@pytest.fixture
def fixtures_dir() -> Path:
    if not MODEL_TRANSPARENCY.is_dir() or not SIGSTORE_PYTHON.is_dir():
        pytest.skip(f"the shared signing fixtures are absent ({SIGNING_FIXTURES.resolve()})")
    return SIGNING_FIXTURES.resolve()


def make_model(root: Path) -> Path:
    """A small model directory: weights in a subfolder, a config, a tokenizer, git files to ignore."""
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "shard-00001.bin").write_bytes(os.urandom(300_000))
    (root / "weights" / "shard-00002.bin").write_bytes(os.urandom(200_001))
    (root / "config.json").write_text('{"hidden": 64, "layers": 2}\n')
    (root / "tokenizer.txt").write_text("a\nb\nc\n")
    (root / ".gitattributes").write_text("*.bin filter=lfs\n")
    return root


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path / "fraud-detector")


@pytest.fixture
def keys(tmp_path: Path) -> KeyPair:
    return ec_key_pair(tmp_path / "keys", "signer")


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return certificate_chain(tmp_path / "pki")


@dataclass
class Cli:
    """``mlprov`` run in-process in a workspace; ``run`` returns click's result (stdout, stderr, code)."""

    workspace: Path

    def run(self, *args: str | Path) -> Result:
        runner = CliRunner()
        return runner.invoke(main, ["-w", str(self.workspace), *map(str, args)], catch_exceptions=False)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    monkeypatch.delenv("MLPROV_DB", raising=False)
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    return Cli(workspace)


UpstreamRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def upstream() -> UpstreamRun:
    """The real upstream ``model_signing`` CLI, as a subprocess of this interpreter."""

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "model_signing", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


def copy_tree(src: Path, dst: Path) -> Path:
    """A writable copy of a (read-only) fixture folder."""
    shutil.copytree(src, dst)
    for path in [dst, *dst.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dst
