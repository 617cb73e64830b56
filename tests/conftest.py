"""Shared fixtures: a real PostgreSQL server on loopback, stores, the sample workspace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.store import LineageStore
from tests.helpers import free_port

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server on 127.0.0.1 and a free port, stopped by its process id at the end."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not initdb or not postgres:
        pytest.skip("PostgreSQL server binaries not installed (make test installs them)")
    # outside pytest's 0700 temp root, so the postgres system user can reach it
    data = Path(tempfile.mkdtemp(prefix="mlprov-pg-"))
    port = free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as the postgres system user
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        shutil.chown(data, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
        check=True,
        capture_output=True,
    )
    proc = subprocess.Popen(
        [
            *prefix,
            postgres,
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    deadline = time.time() + 30
    while True:
        try:
            store = LineageStore.open(url)
            store.close()
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
            time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture()
def pg_store_url(postgres_url: str) -> Iterator[str]:
    """A fresh database on the session's server for one test."""
    import psycopg

    name = f"t{time.time_ns()}"
    base = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture()
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lineage.db'}"


@pytest.fixture(scope="session")
def sample_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's sample workspace, built once per test session with the real tools."""
    from sample_data.build import build

    dest = tmp_path_factory.mktemp("sample") / "workspace"
    build(dest, force=True)
    return dest
