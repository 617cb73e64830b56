"""Generate a large git repository with a DVC pipeline history, fast, with ``git fast-import``.

``commits`` commits, of which every ``commits // lock_changes``-th rewrites ``dvc.lock`` (``stages``
stages with ``files`` deps+outs each, chained so outputs feed the next stage); the others touch a
source file. Deterministic: the same arguments give the same shas.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

BASE_TIME = 1_767_225_600


def _md5(*parts: object) -> str:
    return hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()


def lock_text(version: int, stages: int = 4, files: int = 10) -> str:
    lines = ["schema: '2.0'", "stages:"]
    for s in range(stages):
        # only one stage changes per lock version, like a real pipeline where one step is re-run
        stage_version = version if s == version % stages else version - (version % stages) + s - stages
        lines += [f"  stage{s}:", f"    cmd: python src/stage{s}.py --epochs {max(stage_version, 0)}", "    deps:"]
        half = files // 2
        for f in range(half):
            src = f"data/stage{s - 1}/out{f}.csv" if s else f"data/raw/part{f}.csv"
            lines += [f"    - path: {src}", "      hash: md5", f"      md5: {_md5('dep', s, f, stage_version)}",
                      f"      size: {1000 + f}"]
        lines += ["    params:", "      params.yaml:", f"        stage{s}.lr: {0.001 * (stage_version % 7 + 1):.3f}",
                  f"        stage{s}.epochs: {stage_version % 13}", "    outs:"]
        for f in range(files - half):
            lines += [f"    - path: data/stage{s}/out{f}.csv", "      hash: md5",
                      f"      md5: {_md5('out', s, f, stage_version)}", f"      size: {2000 + f}"]
    return "\n".join(lines) + "\n"


def generate(path: Path, commits: int = 5000, lock_changes: int = 1000, stages: int = 4, files: int = 10) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    every = max(commits // lock_changes, 1)
    out: list[bytes] = []
    lock_version = 0
    for i in range(commits):
        when = BASE_TIME + i * 600
        msg = f"commit {i}".encode()
        out.append(b"commit refs/heads/main\n")
        out.append(f"mark :{i + 1}\n".encode())
        out.append(f"committer Bench <bench@example.com> {when} +0000\n".encode())
        out.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if i:
            out.append(f"from :{i}\n".encode())
        if i % every == 0 and lock_version < lock_changes:
            blob = lock_text(lock_version, stages, files).encode()
            out.append(f"M 100644 inline dvc.lock\ndata {len(blob)}\n".encode() + blob + b"\n")
            lock_version += 1
        else:
            body = f"# revision {i}\nprint({i})\n".encode()
            out.append(f"M 100644 inline src/stage{i % stages}.py\ndata {len(body)}\n".encode() + body + b"\n")
        out.append(b"\n")
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=b"".join(out), check=True)
    subprocess.run(["git", "-C", str(path), "reset", "-q", "--hard", "main"], check=True)
