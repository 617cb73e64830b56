"""The least SQLite does to keep what a scan wrote: a floor measured in the same run as the scan."""

from __future__ import annotations

import time
from pathlib import Path

from explorer.store import LineageStore


def store_floors(scanned: Path, tmp: Path) -> tuple[float, float]:
    """The least SQLite does to keep what a scan stored: its rows, already encoded and sorted, inserted in
    one transaction (WAL, like the store) and committed: (a) into tables without keys or indexes, and
    (b) into the store's own tables, their indexes built after the rows (how a first scan loads)."""
    import sqlite3

    with sqlite3.connect(scanned) as src:
        nodes = src.execute("SELECT id, kind, label, properties FROM nodes ORDER BY id").fetchall()
        edges = src.execute(
            "SELECT key, source, target, kind, ev_source, ev_locator, ev_rule FROM edges ORDER BY key"
        ).fetchall()
    times = []
    for keyed in (False, True):
        db = tmp / "floor.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        indexes: list[str] = []
        if keyed:
            LineageStore.open(f"sqlite:///{db}").close()
            with sqlite3.connect(db) as conn:
                indexes = [
                    r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
                ]
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if not keyed:
            conn.execute("CREATE TABLE nodes (id, kind, label, properties)")
            conn.execute("CREATE TABLE edges (key, source, target, kind, ev_source, ev_locator, ev_rule)")
        started = time.perf_counter()
        conn.execute("BEGIN")
        for sql in indexes:
            conn.execute("DROP INDEX " + sql.split()[2])
        conn.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?)", nodes)
        conn.executemany("INSERT INTO edges VALUES (?, ?, ?, ?, ?, ?, ?)", edges)
        for sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.close()
        times.append(time.perf_counter() - started)
    return times[0], times[1]
