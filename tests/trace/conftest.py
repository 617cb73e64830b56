"""Fixtures for registries, deployments, prediction logs and trace: real registry, real git, real DuckDB."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.lineage import Facts
from explorer.progress import NullProgress
from explorer.store import LineageStore
from tests.trace.registry import MISSING, Registry, start_registry


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    if MISSING:
        pytest.skip(f"needs {' and '.join(MISSING)} (scripts/ensure-system.sh installs them)")
    running = start_registry(tmp_path_factory.mktemp("registry"))
    yield running
    running.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LineageStore]:
    opened = LineageStore.open(f"sqlite:///{tmp_path / 'lineage.db'}")
    yield opened
    opened.close()


def git(repo: Path, *args: str, when: int = 1_767_225_600) -> str:
    """Run git with fixed identity and dates, so shas are reproducible."""
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="Ops",
        GIT_AUTHOR_EMAIL="ops@example.com",
        GIT_COMMITTER_NAME="Ops",
        GIT_COMMITTER_EMAIL="ops@example.com",
        GIT_AUTHOR_DATE=f"@{when} +0000",
        GIT_COMMITTER_DATE=f"@{when} +0000",
    )
    proc = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def commit_files(repo: Path, files: dict[str, str | None], message: str, when: int) -> str:
    """Write (or delete, for None) files and commit them at ``when``; returns the sha."""
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main", when=when)
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A", when=when)
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD", when=when)


def scan_into(store: LineageStore, source: object) -> list[object]:
    """Scan one source into the store the way ``mlprov scan`` does; returns the batches' gaps."""
    from explorer.scan import run_scan

    reports = run_scan(store, [source], NullProgress(), link=False)  # type: ignore[list-item]
    return reports  # type: ignore[return-value]


def write(store: LineageStore, facts: Facts) -> None:
    store.write_batch("test:facts", facts)
