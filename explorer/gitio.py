"""Git plumbing for the scanners: history with changed files, refs, blobs in bulk.

One ``git log`` and one ``git cat-file --batch`` per scan: spawning git per commit is what makes
history scanners slow. GitPython is used where one call per repository is cheap (opening,
resolving a revision); the bulk paths speak git's own machine formats.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

NULL_SHA = "0" * 40
_RS, _US, _GS = "\x1e", "\x1f", "\x1d"


class GitError(Exception):
    """A git call failed: the message names the repository and what was asked."""


@dataclass(frozen=True, slots=True)
class FileChange:
    """One changed path in a commit, compared with its first parent."""

    path: str
    old_blob: str  # NULL_SHA when the file was added
    new_blob: str  # NULL_SHA when the file was deleted
    status: str


@dataclass(slots=True)
class CommitRecord:
    sha: str
    parents: list[str]
    author: str
    author_email: str
    authored_at: int
    committed_at: int
    message: str
    changes: list[FileChange] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RefRecord:
    name: str  # refs/heads/main, refs/tags/model@v1.0.0, refs/exps/...
    target: str  # the commit the ref resolves to (tags peeled)
    tagger_time: int | None  # annotated tags: when they were made


class GitRepo:
    """A local git repository, addressed by its working-tree or bare path."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        if not self.path.exists():
            raise GitError(f"not a git repository: {path} (no such directory)")
        try:
            out = self._run(["rev-parse", "--git-dir"], check=True)
        except GitError as exc:
            raise GitError(f"not a git repository: {path}") from exc
        self.git_dir = (self.path / out.strip()).resolve()

    def _run(self, args: list[str], *, check: bool = True, stdin: str | None = None) -> str:
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.path), *args],
                input=stdin,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed (needed to scan repositories)") from exc
        if check and proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["failed"])[0]
            raise GitError(f"git {args[0]} in {self.path}: {first}")
        return proc.stdout

    @property
    def name(self) -> str:
        """A short, machine-independent name: the origin remote's last segment, else the folder name."""
        url = self.remote_url()
        if url:
            tail = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
            return tail.removesuffix(".git") or self.path.name
        return self.path.name

    def remote_url(self) -> str | None:
        out = self._run(["config", "--get", "remote.origin.url"], check=False).strip()
        return out or None

    def rev_parse(self, rev: str) -> str:
        """The commit a revision names; ``GitError`` naming the revision when unknown."""
        out = self._run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], check=False).strip()
        if not out:
            raise GitError(f"unknown revision {rev!r} in {self.path}")
        return out

    def refs(self) -> list[RefRecord]:
        fmt = f"%(refname){_US}%(objectname){_US}%(objecttype){_US}%(*objectname){_US}%(taggerdate:unix)"
        out = self._run(["for-each-ref", f"--format={fmt}"])
        refs: list[RefRecord] = []
        for line in out.splitlines():
            name, obj, otype, peeled, tagger = line.split(_US)
            if otype == "tag":
                if not peeled:
                    continue
                target = peeled
            elif otype == "commit":
                target = obj
            else:
                continue
            refs.append(RefRecord(name, target, int(tagger) if tagger else None))
        return refs

    def head(self) -> str | None:
        out = self._run(["rev-parse", "--verify", "--quiet", "HEAD"], check=False).strip()
        return out or None

    def log(self, include: Iterable[str], exclude: Iterable[str] = ()) -> Iterator[CommitRecord]:
        """Commits reachable from ``include`` and not from ``exclude``, with changed files.

        Changes are against the first parent (merges included), with blob ids, so a caller can
        read the old and new version of a file without another git call.
        """
        revs = "\n".join([*include, *(f"^{sha}" for sha in exclude)]) + "\n"
        fmt = f"{_RS}%H{_US}%P{_US}%an{_US}%ae{_US}%at{_US}%ct{_US}%B{_GS}"
        args = [
            "log",
            "--stdin",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "--diff-merges=first-parent",
            "--topo-order",
            "--reverse",
            f"--format={fmt}",
        ]
        out = self._run(args, stdin=revs)
        for record in out.split(_RS)[1:]:
            head, _, raw = record.partition(_GS)
            sha, parents, author, email, at, ct, message = head.split(_US, 6)
            commit = CommitRecord(sha, parents.split(), author, email, int(at), int(ct), message.strip())
            for line in raw.splitlines():
                if not line.startswith(":"):
                    continue
                meta, _, path = line.partition("\t")
                parts = meta.split()
                commit.changes.append(FileChange(path, parts[2], parts[3], parts[4]))
            yield commit

    def read_blobs(self, names: Iterable[str]) -> dict[str, bytes | None]:
        """Read many objects in one ``git cat-file --batch``: blob ids or ``<rev>:<path>`` names.

        A name git cannot find maps to ``None``.
        """
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return {}
        payload = ("\n".join(wanted) + "\n").encode()
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.path), "cat-file", "--batch"],
                input=payload,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError as exc:
            raise GitError("git is not installed (needed to scan repositories)") from exc
        if proc.returncode != 0:
            raise GitError(f"git cat-file in {self.path}: {proc.stderr.decode(errors='replace').strip()}")
        data = proc.stdout
        out: dict[str, bytes | None] = {}
        pos = 0
        for name in wanted:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode(errors="replace")
            pos = end + 1
            if header.endswith(" missing") or header.endswith(" ambiguous"):
                out[name] = None
                continue
            size = int(header.rsplit(" ", 1)[1])
            otype = header.split(" ")[1]
            out[name] = data[pos : pos + size] if otype == "blob" else None
            pos += size + 1
        return out

    def commit_times(self, shas: list[str]) -> dict[str, int]:
        """Committer time (unix seconds) of each commit, in one call."""
        if not shas:
            return {}
        out = self._run(["log", "--no-walk=unsorted", "--stdin", "--format=%H %ct"], stdin="\n".join(shas) + "\n")
        times: dict[str, int] = {}
        for line in out.splitlines():
            sha, _, ct = line.partition(" ")
            times[sha] = int(ct)
        return times

    def list_files(self, rev: str) -> list[str]:
        """Every path in a commit's tree."""
        out = self._run(["ls-tree", "-r", "--name-only", "-z", rev])
        return [p for p in out.split("\0") if p]

    def changed_files(self, old: str, new: str) -> list[tuple[str, str]]:
        """(status, path) of files that differ between two commits."""
        out = self._run(["diff", "--name-status", "--no-renames", old, new])
        pairs: list[tuple[str, str]] = []
        for line in out.splitlines():
            status, _, path = line.partition("\t")
            pairs.append((status, path))
        return pairs

    def commits_between(self, old: str, new: str) -> list[str]:
        """Commits reachable from ``new`` and not from ``old``, oldest first."""
        out = self._run(["rev-list", "--reverse", f"{old}..{new}"])
        return out.split()

    def is_ancestor(self, old: str, new: str) -> bool:
        proc = subprocess.run(
            ["git", "-C", str(self.path), "merge-base", "--is-ancestor", old, new], capture_output=True, check=False
        )
        return proc.returncode == 0
