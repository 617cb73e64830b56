"""The workspace and its ``mlprov.toml``: which sources to scan, which store to use, key maps."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.store import default_url

CONFIG_NAME = "mlprov.toml"


class ConfigError(Exception):
    """``mlprov.toml`` cannot be read: the message names the file and the problem."""


@dataclass(slots=True)
class Settings:
    """Everything a command needs to know about where it runs."""

    workspace: Path
    db_url: str
    config: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        return value if isinstance(value, dict) else {}

    def scan_sources(self, kind: str) -> list[str]:
        """Locations listed under ``[scan] <kind> = [...]``, relative paths taken from the workspace."""
        raw = self.section("scan").get(kind, [])
        items = [raw] if isinstance(raw, str) else list(raw)
        return [str(item) for item in items]


def load_config(workspace: Path) -> dict[str, Any]:
    path = workspace / CONFIG_NAME
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def settings_for(workspace: Path | None = None, db: str | None = None) -> Settings:
    """Resolve the workspace (``-w``, else the current directory) and the store URL.

    The store is, in order: ``--db``, ``MLPROV_DB``, ``[store] db`` in ``mlprov.toml``,
    ``.mlprov/lineage.db`` in the workspace.
    """
    ws = (workspace or Path.cwd()).resolve()
    config = load_config(ws)
    url = db or os.environ.get("MLPROV_DB") or config.get("store", {}).get("db") or default_url(ws)
    if url and "://" not in url:
        url = f"sqlite:///{(ws / url).resolve()}"
    return Settings(workspace=ws, db_url=url, config=config)
