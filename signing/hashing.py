"""Hash a model (a directory or one file) into an OMS manifest, fast and incrementally.

The digests are exactly those of upstream ``model_signing`` (``files``: sha256 of each file;
``shards``: sha256 of each ``shard_size`` slice), so bundles verify in both directions. What
differs is how the work is scheduled: files and shards are hashed on a thread pool largest-first
(``hashlib`` releases the GIL on large buffers, so threads use every core), small files are
batched to keep per-task overhead low, reads go into one reused buffer, and a
:class:`~signing.digest_cache.DigestCache` lets a re-sign skip files that did not change.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import blake3
from model_signing import manifest as oms_manifest
from model_signing._hashing import hashing as oms_hashing

from explorer.progress import Progress
from signing.digest_cache import DigestCache, FileStamp
from signing.errors import SigningInputError

# What upstream ignores by default when hashing a directory.
GIT_PATHS: tuple[str, ...] = (".git", ".gitattributes", ".github", ".gitignore")
# Manifest ``hash_type`` -> the digest name upstream records per resource, which is also the
# hashlib name (``memory.BLAKE2.digest_name`` is "blake2b"); blake3 is the `blake3` package (a
# dependency of model_signing). Upstream 1.1 writes `blake2b` as the hash_type of its blake2
# signatures (and then refuses them): the same hash, so it is read as blake2.
HASH_TYPES: dict[str, str] = {"sha256": "sha256", "blake2": "blake2b", "blake2b": "blake2b", "blake3": "blake3"}

_READ_SIZE = 1 << 20  # 1 MiB reads: big enough to amortise syscalls, small enough to stay in L2.
_BATCH_BYTES = 32 << 20  # small files are grouped into tasks of about this many bytes...
_BATCH_FILES = 256  # ...or this many files, so thousands of tiny files do not mean thousands of tasks.


class UnhashableEntry(SigningInputError):
    """The model holds something that cannot be hashed as configured (a symlink, a socket...).

    ``name`` is the entry's path relative to the model root.
    """

    def __init__(self, name: str, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.name = name


@dataclass(frozen=True, slots=True)
class HashingOptions:
    """How a model is serialized to a manifest; recorded in the signature's predicate."""

    hash_type: str = "sha256"
    shard_size: int | None = None
    allow_symlinks: bool = False
    ignore_paths: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.hash_type not in HASH_TYPES:
            raise SigningInputError(
                f"unsupported hash type {self.hash_type!r}", hint=f"use one of {', '.join(HASH_TYPES)}"
            )
        if self.shard_size is not None and self.shard_size <= 0:
            raise SigningInputError(f"shard size must be positive, got {self.shard_size}")

    @property
    def digest_name(self) -> str:
        """The ``algorithm`` each resource carries in the manifest."""
        base = HASH_TYPES[self.hash_type]
        return base if self.shard_size is None else f"{base}-sharded-{self.shard_size}"

    def serialization(self) -> dict[str, Any]:
        """The predicate's ``serialization`` block, as upstream writes it."""
        params: dict[str, Any] = {
            "method": "files" if self.shard_size is None else "shards",
            "hash_type": self.hash_type,
            "allow_symlinks": self.allow_symlinks,
        }
        if self.shard_size is not None:
            params["shard_size"] = self.shard_size
        if self.ignore_paths:
            params["ignore_paths"] = sorted(set(self.ignore_paths))
        return params

    @classmethod
    def from_serialization(cls, params: dict[str, Any], extra_ignores: Iterable[str] = ()) -> HashingOptions:
        """The options a signature was made with (from its predicate), plus local ignores.

        A bundle without ``ignore_paths`` predates their recording: like upstream, the git paths
        are then ignored by default.
        """
        method = params.get("method")
        if method not in ("files", "shards"):
            raise SigningInputError(f"the signature uses an unknown serialization method {method!r}")
        recorded = params.get("ignore_paths")
        ignores = list(GIT_PATHS) if recorded is None else [str(p) for p in recorded]
        return cls(
            hash_type=str(params.get("hash_type", "sha256")),
            shard_size=int(params["shard_size"]) if method == "shards" else None,
            allow_symlinks=_flag(params.get("allow_symlinks", False), "allow_symlinks"),
            ignore_paths=tuple(dict.fromkeys([*ignores, *extra_ignores])),
        )


def _flag(value: Any, name: str) -> bool:
    """A boolean serialization parameter. model_signing 0.2 payloads are read back (by upstream's
    compat parser) with ``allow_symlinks`` as the *string* ``"false"``, which ``bool()`` takes
    for True: symlinks would then be followed where the signer never allowed them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise SigningInputError(f"the signature's {name} is {value!r}, not a boolean")


@dataclass(frozen=True, slots=True)
class ModelFile:
    """One file of the model: its manifest name, its path on disk, and its state when listed.

    ``path`` is a plain string: a model may hold thousands of files and ``Path`` objects cost
    more to build than the stat that describes them.
    """

    name: str
    path: str
    stamp: FileStamp


@dataclass(slots=True)
class HashReport:
    """A model's digests (per file, one per shard) and what it cost to compute them."""

    model_name: str
    options: HashingOptions
    files: list[ModelFile] = field(default_factory=list)
    digests: list[list[str]] = field(default_factory=list)
    bytes_total: int = 0
    bytes_hashed: int = 0
    cache_hits: int = 0

    def by_file(self) -> dict[str, list[tuple[str, str]]]:
        """Manifest resources grouped by file: name -> [(resource name, digest hex)]."""
        shard = self.options.shard_size
        out: dict[str, list[tuple[str, str]]] = {}
        for mf, digests in zip(self.files, self.digests, strict=True):
            if shard is None:
                out[mf.name] = [(mf.name, digests[0])]
            else:
                out[mf.name] = [
                    (f"{mf.name}:{i * shard}:{min((i + 1) * shard, mf.stamp.size)}", d) for i, d in enumerate(digests)
                ]
        return out

    def resources(self) -> list[dict[str, str]]:
        """The predicate's ``resources``, in upstream's order (by path components, then shard offsets).

        Names are normalized POSIX paths, so splitting on "/" gives ``PurePosixPath.parts``.
        """
        algorithm = self.options.digest_name
        order = sorted(range(len(self.files)), key=lambda i: self.files[i].name.split("/"))
        grouped = self.by_file()
        return [
            {"name": name, "algorithm": algorithm, "digest": digest}
            for i in order
            for name, digest in grouped[self.files[i].name]
        ]

    def manifest(self) -> oms_manifest.Manifest:
        """The same digests as an upstream ``Manifest`` (for comparisons with upstream's hashing)."""
        serialization = oms_manifest.SerializationType.from_args(self.options.serialization())
        items = [
            serialization.new_item(r["name"], oms_hashing.Digest(r["algorithm"], bytes.fromhex(r["digest"])))
            for r in self.resources()
        ]
        return oms_manifest.Manifest(self.model_name, items, serialization)


def normalize_ignore(path: str) -> str:
    """An ignore path as a clean relative POSIX path (``./a/b/`` -> ``a/b``)."""
    parts = [p for p in PurePosixPath(path.replace(os.sep, "/")).parts if p not in (".", "")]
    return "/".join(parts)


def resolve_ignore_paths(model_path: Path, paths: Sequence[str | Path], cwd: Path | None = None) -> list[str]:
    """``--ignore-paths`` as paths relative to the model root.

    A path is taken relative to the current directory when that lands inside the model
    (upstream's rule), else relative to the model root (where upstream silently drops it).
    Paths outside the model are dropped: they could not be hashed anyway.
    """
    root = model_path.resolve()
    here = cwd or Path.cwd()
    out: list[str] = []
    for raw in paths:
        candidate = Path(raw)
        for base in [candidate] if candidate.is_absolute() else [here / candidate, root / candidate]:
            try:
                out.append(normalize_ignore(base.resolve().relative_to(root).as_posix()))
                break
            except ValueError:
                continue
    return [p for p in dict.fromkeys(out) if p]


def list_model_files(root: Path, options: HashingOptions) -> list[ModelFile]:
    """Every file of the model that will be hashed, in manifest-name order.

    Ignored subtrees are skipped without being walked (so a symlink inside ``.git`` is fine,
    unlike upstream, which rejects it). Raises :class:`UnhashableEntry` for a symlink when
    symlinks are not allowed, and for anything that is neither a file nor a directory.
    """
    try:
        st = root.lstat()
    except FileNotFoundError:
        raise SigningInputError(f"model path {root} does not exist") from None
    if stat.S_ISLNK(st.st_mode) and not options.allow_symlinks:
        raise UnhashableEntry(".", f"{root} is a symbolic link", hint="pass the real path or allow symlinks")
    st = root.stat()
    if stat.S_ISREG(st.st_mode):
        return [ModelFile(".", os.path.abspath(root), FileStamp.of(st))]
    if not stat.S_ISDIR(st.st_mode):
        raise UnhashableEntry(".", f"{root} is neither a file nor a directory")
    ignores = {normalize_ignore(p) for p in options.ignore_paths} - {""}
    # Absolute paths: they key the digest cache, which must not depend on the current directory.
    files = list(_walk(os.path.abspath(root), "", ignores, options.allow_symlinks))
    files.sort(key=lambda f: f.name)
    return files


def _walk(directory: str, prefix: str, ignores: set[str], allow_symlinks: bool) -> Iterator[ModelFile]:
    """Files under ``directory``; ``ignores`` holds only the ignore paths that lie below it, so a
    subtree without any (the common case) costs one set lookup per entry."""
    with os.scandir(directory) as entries:
        for entry in entries:
            name = f"{prefix}{entry.name}"
            if name in ignores:  # a whole ignored subtree is pruned here, never walked
                continue
            if entry.is_symlink():
                if not allow_symlinks:
                    raise UnhashableEntry(
                        name,
                        f"{name!r} is a symbolic link (to {os.readlink(entry.path)!r})",
                        hint="symlinks are not allowed by this signature's serialization",
                    )
                try:
                    st = os.stat(entry.path)
                except OSError:
                    raise UnhashableEntry(name, f"{name!r} is a broken symbolic link") from None
            else:
                st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                below = {ig for ig in ignores if ig.startswith(name + "/")} if ignores else ignores
                yield from _walk(entry.path, name + "/", below, allow_symlinks)
            elif stat.S_ISREG(st.st_mode):
                yield ModelFile(name, entry.path, FileStamp.of(st))
            else:
                raise UnhashableEntry(name, f"{name!r} is neither a regular file nor a directory")


# --- hashing ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    """A piece of work: a whole file (``end`` is None) or one shard of it."""

    file_index: int
    shard_index: int
    start: int
    end: int | None
    size: int


def hash_model(
    root: Path,
    options: HashingOptions,
    *,
    model_name: str | None = None,
    cache: DigestCache | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    files: list[ModelFile] | None = None,
) -> HashReport:
    """Hash the model at ``root`` as the OMS serialization ``options`` describes.

    ``cache`` answers for files whose stamp did not change and learns the others. ``progress``
    hears the bytes to hash, then each slice done (from the worker threads). ``files``
    may be given when the caller already listed the model (verification lists it once).
    """
    listed = files if files is not None else list_model_files(root, options)
    scheme = options.digest_name
    per_file: list[list[str] | None] = [None] * len(listed)
    units: list[_Unit] = []
    hashed: list[int] = []
    report = HashReport(model_name or root.resolve().name, options, listed)
    for index, mf in enumerate(listed):
        report.bytes_total += mf.stamp.size
        cached = cache.lookup(mf.path, mf.stamp, scheme) if cache is not None else None
        if cached is not None and len(cached) == _shard_count(mf.stamp.size, options.shard_size):
            per_file[index] = cached
            report.cache_hits += 1
            continue
        per_file[index] = [""] * _shard_count(mf.stamp.size, options.shard_size)
        hashed.append(index)
        units.extend(_units_of(index, mf.stamp.size, options.shard_size))
        report.bytes_hashed += mf.stamp.size

    algorithm = HASH_TYPES[options.hash_type]
    if progress is not None:
        progress.start("hashing", total=report.bytes_hashed)
    for unit, digest in _run(listed, units, algorithm, workers, progress):
        slot = per_file[unit.file_index]
        assert slot is not None
        slot[unit.shard_index] = digest

    report.digests = [digests or [] for digests in per_file]
    if cache is not None:
        for index in hashed:
            cache.record(listed[index].path, listed[index].stamp, scheme, report.digests[index])
        cache.save()
    return report


def _shard_count(size: int, shard_size: int | None) -> int:
    if shard_size is None:
        return 1
    return -(-size // shard_size)  # upstream records no shard for an empty file


def _units_of(index: int, size: int, shard_size: int | None) -> Iterator[_Unit]:
    if shard_size is None:
        yield _Unit(index, 0, 0, None, size)
        return
    for shard, start in enumerate(range(0, size, shard_size)):
        end = min(start + shard_size, size)
        yield _Unit(index, shard, start, end, end - start)


def _run(
    files: list[ModelFile],
    units: list[_Unit],
    algorithm: str,
    workers: int | None,
    progress: Progress | None,
) -> Iterator[tuple[_Unit, str]]:
    """Hash ``units`` on a thread pool, largest first, small ones batched."""
    if not units:
        return
    units.sort(key=lambda u: u.size, reverse=True)
    batches: list[list[_Unit]] = []
    current: list[_Unit] = []
    current_bytes = 0
    for unit in units:
        if unit.size >= _BATCH_BYTES:
            batches.append([unit])
            continue
        current.append(unit)
        current_bytes += unit.size
        if current_bytes >= _BATCH_BYTES or len(current) >= _BATCH_FILES:
            batches.append(current)
            current, current_bytes = [], 0
    if current:
        batches.append(current)

    def work(batch: list[_Unit]) -> list[tuple[_Unit, str]]:
        buffer = bytearray(_READ_SIZE)
        out = []
        for unit in batch:
            out.append((unit, _digest(files[unit.file_index].path, unit, algorithm, buffer)))
            if progress is not None:
                progress.advance(unit.size)
        return out

    pool_size = workers or (os.cpu_count() or 1)
    if pool_size == 1 or len(batches) == 1:
        for batch in batches:
            yield from work(batch)
        return
    with ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="mlprov-hash") as pool:
        for done in pool.map(work, batches):
            yield from done


def _new_hasher(algorithm: str) -> hashlib._Hash | blake3.blake3:
    return blake3.blake3() if algorithm == "blake3" else hashlib.new(algorithm)


def _digest(path: str, unit: _Unit, algorithm: str, buffer: bytearray) -> str:
    hasher: hashlib._Hash | blake3.blake3 = _new_hasher(algorithm)
    view = memoryview(buffer)
    remaining = None if unit.end is None else unit.end - unit.start
    with open(path, "rb", buffering=0) as fh:
        if hasattr(os, "posix_fadvise"):
            # Tell the kernel we read straight through: a bigger read-ahead on a cold cache.
            os.posix_fadvise(fh.fileno(), unit.start, remaining or 0, os.POSIX_FADV_SEQUENTIAL)
        if unit.start:
            fh.seek(unit.start)
        while remaining is None or remaining > 0:
            want = _READ_SIZE if remaining is None else min(_READ_SIZE, remaining)
            got = fh.readinto(view[:want])
            if not got:
                break
            hasher.update(view[:got])
            if remaining is not None:
                remaining -= got
    return hasher.hexdigest()
