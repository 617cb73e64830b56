"""Benchmark: scanning a 5,000-commit repository whose dvc.lock changes 1,000 times.

Measured in one run, against the lower bound of reading the same git data with git itself:
``git log`` listing the commits plus ``git cat-file --batch`` reading the same blobs.

    python -m benchmarks.bench_git [--commits 5000] [--lock-changes 1000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.floors import store_floors
from benchmarks.gen_repo import generate
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore

# the CLI installed beside this interpreter (the venv's), whether or not the venv is activated
MLPROV = str(Path(sys.executable).with_name("mlprov"))


def lower_bound(repo: Path) -> float:
    started = time.perf_counter()
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--format=%H %P %an %at %s"], capture_output=True, check=True
    )
    raw = subprocess.run(
        ["git", "-C", str(repo), "log", "--all", "--format=", "--raw", "--no-abbrev", "--", "dvc.lock"],
        capture_output=True,
        text=True,
        check=True,
    )
    blobs = {line.split()[3] for line in raw.stdout.splitlines() if line.startswith(":")}
    subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="\n".join(sorted(blobs)).encode() + b"\n",
        capture_output=True,
        check=True,
    )
    assert log.stdout
    return time.perf_counter() - started


def timed_scan(repo: Path, db: Path) -> tuple[float, int]:
    store = LineageStore.open(f"sqlite:///{db}")
    started = time.perf_counter()
    report = run_scan(store, [GitSource(repo)])[0]
    elapsed = time.perf_counter() - started
    store.close()
    assert report.error is None, report.error
    return elapsed, report.nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=5000)
    parser.add_argument("--lock-changes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        generate(repo, args.commits, args.lock_changes)
        bounds, floors, keyed_floors, fulls, noops, clis = [], [], [], [], [], []
        for i in range(args.repeat):
            bounds.append(lower_bound(repo))
            db = Path(tmp) / f"lineage{i}.db"
            full, nodes = timed_scan(repo, db)
            fulls.append(full)
            plain, keyed = store_floors(db, Path(tmp))
            floors.append(plain)
            keyed_floors.append(keyed)
            noop, written = timed_scan(repo, db)
            assert written == 0
            noops.append(noop)
            started = time.perf_counter()
            subprocess.run(
                [MLPROV, "--db", f"sqlite:///{db}", "scan", "--git", str(repo), "-q"], check=True, capture_output=True
            )
            clis.append(time.perf_counter() - started)
        bound, floor, keyed, full, noop, cli = (
            statistics.median(x) for x in (bounds, floors, keyed_floors, fulls, noops, clis)
        )
        print(f"repository: {args.commits} commits, {args.lock_changes} dvc.lock changes (4 stages x 10 deps/outs)")
        print(f"nodes written by a full scan: {nodes}")
        print(f"| measure | median of {args.repeat} (s) | ratio to lower bound |")
        print("|---|---|---|")
        print(f"| lower bound: git log + git cat-file --batch | {bound:.3f} | 1.0x |")
        print(f"| SQLite floor: the rows into tables without keys or indexes | {floor:.3f} | {floor / bound:.1f}x |")
        print(f"| SQLite floor: the store tables, indexes built after the rows | {keyed:.3f} | {keyed / bound:.1f}x |")
        print(f"| lower bound + that floor | {bound + keyed:.3f} | {(bound + keyed) / bound:.1f}x |")
        print(f"| full scan (in-process, SQLite) | {full:.3f} | {full / bound:.1f}x |")
        print(f"| no-op rescan (in-process) | {noop:.3f} | {noop / bound:.2f}x |")
        print(f"| no-op rescan (`mlprov scan` CLI, incl. start-up) | {cli:.3f} | {cli / bound:.1f}x |")


if __name__ == "__main__":
    main()
