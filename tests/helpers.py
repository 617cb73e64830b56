"""Helpers for tests that build real git repositories (fixed identities and dates)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

BASE_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z


def venv_tool(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        raise RuntimeError(f"{name} not found next to {sys.executable} or on PATH")
    return exe


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Repo:
    """A real git repository in a temp dir; every commit gets the next fixed timestamp."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = BASE_TIME
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        stamp = f"@{self.clock} +0000"
        env.update(
            GIT_AUTHOR_NAME="Test Author",
            GIT_AUTHOR_EMAIL="author@example.com",
            GIT_COMMITTER_NAME="Test Author",
            GIT_COMMITTER_EMAIL="author@example.com",
            GIT_AUTHOR_DATE=stamp,
            GIT_COMMITTER_DATE=stamp,
            DVC_NO_ANALYTICS="1",
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        return env

    def run(self, *cmd: str) -> str:
        proc = subprocess.run(cmd, cwd=self.path, env=self.env(), capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed: {proc.stderr}\n{proc.stdout}")
        return proc.stdout

    def git(self, *args: str) -> str:
        return self.run("git", *args)

    def dvc(self, *args: str) -> str:
        return self.run(venv_tool("dvc"), *args)

    def write(self, rel: str, text: str) -> Path:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit(self, message: str) -> str:
        self.clock += 3600
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def tag(self, name: str, ref: str = "HEAD") -> None:
        self.clock += 60
        self.git("tag", "-a", name, "-m", f"tag {name}", ref)
