"""Fixtures for the explorer's tests: the sample workspace scanned once, a private store copy per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from explorer.config import Settings, settings_for
from explorer.scan import run_scan
from explorer.store import LineageStore
from explorer.tui.data.capabilities import configured_sources


@pytest.fixture(scope="session")
def scanned_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample workspace built with the real tools (once per session) and scanned into its own store."""
    from sample_data.build import build

    root = tmp_path_factory.mktemp("tui") / "workspace"
    build(root, force=True)
    settings = settings_for(root, f"sqlite:///{root / '.mlprov' / 'lineage.db'}")
    with LineageStore.open(settings.db_url) as store:
        reports = run_scan(store, configured_sources(settings))
    failed = [r for r in reports if r.error]
    assert not failed, failed
    return root


@pytest.fixture()
def workspace_settings(scanned_workspace: Path, tmp_path: Path) -> Settings:
    """Settings over a copy of the scanned store, so a test that writes (scan, BOM) changes no other test."""
    db = tmp_path / "lineage.db"
    shutil.copyfile(scanned_workspace / ".mlprov" / "lineage.db", db)
    return settings_for(scanned_workspace, f"sqlite:///{db}")


@pytest.fixture()
def store(workspace_settings: Settings) -> Iterator[LineageStore]:
    with LineageStore.open(workspace_settings.db_url) as opened:
        yield opened


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots differ from run to run."""
    monkeypatch.setattr(Input.cursor_blink, "_default", False)
