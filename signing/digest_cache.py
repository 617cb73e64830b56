"""A digest cache so re-signing a large model re-hashes only the files that changed.

An entry is keyed by the file's absolute path and remembers the size, ``mtime_ns``, ``ctime_ns``,
inode and device it had when hashed; any difference and the entry is not used. ``ctime`` is in the
key because, unlike ``mtime``, it cannot be set back by a user process. Still, an attacker with
write access could preserve all of these, so ``verify`` does not use the cache unless asked.

The cache is one JSON file, written atomically; a corrupt or foreign file is ignored (the cost
is a full re-hash, never a wrong digest).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_VERSION = 1


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What identifies one state of a file on disk."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileStamp:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def to_list(self) -> list[int]:
        return [self.size, self.mtime_ns, self.ctime_ns, self.inode, self.device]


class DigestCache:
    """Digests by (absolute path, hashing scheme), valid while the file's stamp is unchanged.

    ``scheme`` names how the digests were computed (``sha256`` or ``sha256-sharded-<size>``), so
    a cache filled for one scheme never answers for another. Thread-safe: the hashing workers
    record into it concurrently.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._dirty = False
        if path is not None:
            self._entries = _load(path)

    def lookup(self, file: str | Path, stamp: FileStamp, scheme: str) -> list[str] | None:
        entry = self._entries.get(str(file))
        if entry is None or entry.get("stamp") != stamp.to_list():
            return None
        digests = entry.get("digests", {}).get(scheme)
        return list(digests) if isinstance(digests, list) else None

    def record(self, file: str | Path, stamp: FileStamp, scheme: str, digests: list[str]) -> None:
        with self._lock:
            entry = self._entries.get(str(file))
            if entry is None or entry.get("stamp") != stamp.to_list():
                entry = {"stamp": stamp.to_list(), "digests": {}}
                self._entries[str(file)] = entry
            entry["digests"][scheme] = digests
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically (a temporary file renamed over the old one)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"version": CACHE_VERSION, "entries": self._entries}
        fd, tmp = tempfile.mkstemp(prefix=".digest-cache.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                # dumps, not dump: dump streams through the pure-Python encoder, 5x slower on big caches.
                fh.write(json.dumps(document, separators=(",", ":")))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._dirty = False


def _load(path: Path) -> dict[str, dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict) or document.get("version") != CACHE_VERSION:
        return {}
    entries = document.get("entries")
    return entries if isinstance(entries, dict) else {}
