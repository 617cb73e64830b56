"""The file listing of a DVC directory version, read from a local DVC cache when it holds it.

A ``.dir`` digest is the md5 of a JSON listing ``[{"relpath", "md5", ...}]`` that DVC keeps in its
cache; the listing is what a multi-file dataset is made of. Without a local cache the BOM keeps
the directory's digest, size and file count only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sbom.facts import DataFile

_LISTING_LIMIT = 256 << 20


def dir_listing(props: dict[str, Any], repo_paths: Iterable[Path]) -> list[DataFile]:
    """Files of a ``data:md5:<hex>.dir`` node, or ``[]`` when no cache beside the repos has the listing."""
    files = props.get("files")
    if isinstance(files, list):  # a source that recorded the listing itself
        return sorted(
            (
                DataFile(str(f["path"]), f.get("md5"), f.get("size"))
                for f in files
                if isinstance(f, dict) and "path" in f
            ),
            key=lambda f: f.path,
        )
    digest = str(props.get("digest") or "")
    if not digest.endswith(".dir"):
        return []
    for repo in repo_paths:
        for cache in (repo / ".dvc" / "cache" / "files" / "md5", repo / ".dvc" / "cache"):  # DVC 3, DVC 2
            listing = _read_listing(cache / digest[:2] / digest[2:])
            if listing is not None:
                return listing
    return []


def _read_listing(path: Path) -> list[DataFile] | None:
    try:
        if not path.is_file() or path.stat().st_size > _LISTING_LIMIT:
            return None
        entries = json.loads(path.read_bytes())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(entries, list):
        return None
    out = [
        DataFile(str(e["relpath"]), e.get("md5"), e.get("size") if isinstance(e.get("size"), int) else None)
        for e in entries
        if isinstance(e, dict) and "relpath" in e
    ]
    return sorted(out, key=lambda f: f.path)
