"""Reading DVC's files as data: ``dvc.lock``, ``.dvc`` files and ``dvc.yaml`` ``artifacts``.

Safe YAML only; ``dvc.yaml`` templates (``${...}``) are never evaluated: the lock already holds
the resolved commands. Every parser raises :class:`DvcFormatError` with a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from explorer.yaml12 import Yaml12SafeLoader

# DVC reads its files as YAML 1.2 (ruamel.yaml): `1e-05` is a float, `yes`/`on` are strings. A safe
# loader on libyaml's fast parser when present
_Loader: Any = Yaml12SafeLoader


class DvcFormatError(Exception):
    """A DVC file cannot be read: the message says why in one line."""


@dataclass(frozen=True, slots=True)
class HashedPath:
    """A dep or out as DVC locked it: a repo-relative path and its content hash."""

    path: str
    algorithm: str  # md5, md5-dos2unix (DVC 2 era entries), etag, checksum...
    digest: str
    size: int | None = None
    nfiles: int | None = None

    @property
    def data_key(self) -> tuple[str, str]:
        return self.algorithm, self.digest


@dataclass(slots=True)
class LockedStage:
    name: str  # name, or name@key for foreach/matrix, prefixed by the dvc.yaml dir when not at the root
    dvcfile: str
    cmd: str | list[str] | None
    params: dict[str, Any] = field(default_factory=dict)
    deps: list[HashedPath] = field(default_factory=list)
    outs: list[HashedPath] = field(default_factory=list)
    raw: Any = None  # the lock entry as written, to tell whether it changed
    frozen: bool = False
    imported: dict[str, Any] | None = None
    wdir: str | None = None  # the stage's `wdir` in dvc.yaml: its locked paths are relative to it


def load_yaml(text: bytes | str, what: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DvcFormatError(f"{what}: invalid YAML{where}: {problem}") from exc


def _join(base_dir: str, path: str) -> str:
    if "://" in path or path.startswith("remote://"):
        return path  # an external dependency (s3://, https://...): keep as written
    return posixpath.normpath(posixpath.join(base_dir, path)) if base_dir else posixpath.normpath(path)


def hashed_entry(entry: Any, base_dir: str, what: str) -> HashedPath | None:
    """A dep/out entry; ``None`` when DVC recorded no hash for it (e.g. a missing file)."""
    if not isinstance(entry, dict) or "path" not in entry:
        raise DvcFormatError(f"{what}: entry without a path")
    path = _join(base_dir, str(entry["path"]))
    declared = entry.get("hash")
    size = entry.get("size")
    nfiles = entry.get("nfiles")
    if entry.get("md5"):
        # DVC 3 writes `hash: md5`; an entry without it is DVC 2 era and DVC 3 reads its md5 as
        # md5-dos2unix, which differs from md5 for text files: keep the two apart.
        algorithm = "md5" if declared == "md5" else "md5-dos2unix"
        digest = str(entry["md5"])
    elif isinstance(entry.get("files"), list):
        # A directory pushed to a version-aware (or worktree) remote is locked as its list of files
        # instead of one `md5: ….dir`; DVC derives the directory's hash from that list.
        tree = tree_digest(entry["files"])
        if tree is None:
            return None
        algorithm = "md5" if declared == "md5" else "md5-dos2unix"
        digest, size, nfiles = tree
    else:
        for key in ("etag", "checksum", "version_id", "sha256"):
            if entry.get(key):
                algorithm, digest = key, str(entry[key])
                break
        else:
            return None
    return HashedPath(
        path,
        algorithm,
        digest,
        int(size) if isinstance(size, int) else None,
        int(nfiles) if isinstance(nfiles, int) else None,
    )


def tree_digest(files: list[Any]) -> tuple[str, int | None, int] | None:
    """The ``<md5>.dir`` hash DVC gives a directory locked as a ``files:`` list, with its size and
    file count; ``None`` unless every file carries its MD5 (without them DVC's hash would name the
    paths, not the content).

    DVC (dvc_data ``Tree.digest``) hashes the JSON of the files' ``{"md5", "relpath"}`` sorted by
    path, with sorted keys and json's default separators: the same ``.dir`` hash ``dvc add`` gives
    the directory, so both name one data version.
    """
    listing: list[dict[str, str]] = []
    size: int | None = 0
    for item in files:
        if not isinstance(item, dict):
            return None
        relpath, md5 = item.get("relpath"), item.get("md5")
        if not isinstance(relpath, str) or not isinstance(md5, str) or not md5:
            return None
        listing.append({"md5": md5, "relpath": relpath})
        file_size = item.get("size")
        size = size + file_size if size is not None and isinstance(file_size, int) else None
    listing.sort(key=lambda f: f["relpath"])
    text = json.dumps(listing, sort_keys=True).encode()
    return hashlib.md5(text, usedforsecurity=False).hexdigest() + ".dir", size, len(listing)


def parse_lock(text: bytes | str, lock_path: str, wdirs: Mapping[str, str] | None = None) -> dict[str, LockedStage]:
    """Stages of a ``dvc.lock`` (schema 2.0, or the DVC 1 layout without ``schema``).

    ``wdirs``: each stage's ``wdir`` from the ``dvc.yaml`` beside the lock (:func:`stage_wdirs`).
    """
    doc = load_yaml(text, lock_path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{lock_path}: expected a mapping at the top level")
    stages = doc.get("stages") if "schema" in doc or "stages" in doc else doc
    if stages is None:
        return {}
    if not isinstance(stages, dict):
        raise DvcFormatError(f"{lock_path}: 'stages' is not a mapping")
    return {stage.name: stage for stage in (locked_stage(n, e, lock_path, wdirs) for n, e in stages.items())}


def locked_stage(name: str, entry: Any, lock_path: str, wdirs: Mapping[str, str] | None = None) -> LockedStage:
    """One stage's lock entry (a mapping as YAML would load it) as a :class:`LockedStage`."""
    lock_dir = posixpath.dirname(lock_path)
    prefix = f"{lock_dir}/" if lock_dir else ""
    # DVC writes a stage's paths relative to its `wdir` (dvc.yaml's folder unless set); a foreach or
    # matrix stage `name@key` takes the wdir of `name`
    wdir = (wdirs or {}).get(str(name).partition("@")[0])
    base_dir = _join(lock_dir, wdir) if wdir else lock_dir
    base_dir = "" if base_dir == "." else base_dir
    where = f"{lock_path} stage {name}"
    if not isinstance(entry, dict):
        raise DvcFormatError(f"{where}: expected a mapping")
    stage = LockedStage(
        name=f"{prefix}{name}",
        dvcfile=posixpath.join(lock_dir, "dvc.yaml") if lock_dir else "dvc.yaml",
        cmd=entry.get("cmd"),
        params=entry.get("params") or {},
        raw=entry,
        frozen=bool(entry.get("frozen", False)),
        wdir=wdir,
    )
    if not isinstance(stage.params, dict):
        raise DvcFormatError(f"{where}: 'params' is not a mapping")
    for key, target in (("deps", stage.deps), ("outs", stage.outs)):
        items = entry.get(key) or []
        if not isinstance(items, list):
            raise DvcFormatError(f"{where}: '{key}' is not a list")
        for i, item in enumerate(items):
            hashed = hashed_entry(item, base_dir, f"{where} {key}[{i}]")
            if hashed is not None:
                target.append(hashed)
    return stage


# DVC's own layout of a lock: the schema line, `stages:`, then each stage as `  name:` followed by
# lines indented four or more (or empty). Checked whole by one regular expression, then cut at each
# stage header: both run in C, where a Python loop over the lines was a tenth of a history scan.
_LOCK_LAYOUT = re.compile(
    r"""(?:schema: '2\.0'|schema: "2\.0"|schema: 2\.0)\nstages:\n((?:  [^ \n\-#'"][^\n]*:\n(?:(?:    [^\n]*)?\n)*)*)"""
)
_STAGE_HEADER = re.compile(r"^  (?=[^ ])", re.M)


def split_lock(text: bytes | str) -> dict[str, str] | None:
    """A DVC-written ``dvc.lock`` cut into each stage's text, without parsing YAML.

    DVC writes locks in one layout (``schema``, then ``stages:`` with each stage at two spaces).
    Comparing stage texts tells which stages changed at a commit, so only those are parsed: YAML
    parsing is what dominates a history scan. ``None`` when the text is not in that layout (the
    caller then parses the whole file).
    """
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError:
            return None
    if not text.endswith("\n"):
        text += "\n"
    layout = _LOCK_LAYOUT.fullmatch(text)
    if layout is None:
        return None
    sections: dict[str, str] = {}
    for part in _STAGE_HEADER.split(layout.group(1))[1:]:
        header, _, _ = part.partition("\n")
        sections[header[:-1]] = "  " + part  # a section is its header line and its body, as in the file
    return sections


def parse_lock_sections(
    sections: dict[str, str], names: list[str], lock_path: str, wdirs: Mapping[str, str] | None = None
) -> dict[str, LockedStage]:
    """Parse only some stages of a lock cut by :func:`split_lock`."""
    out: dict[str, LockedStage] = {}
    slow: list[str] = []
    for name in names:
        entry = fast_entry(sections[name])
        if entry is None:
            slow.append(name)
        else:
            stage = locked_stage(name, entry, lock_path, wdirs)
            out[stage.name] = stage
    if slow:
        body = "\n".join(sections[n] for n in slow)
        out.update(parse_lock(f"schema: '2.0'\nstages:\n{body}\n", lock_path, wdirs))
    return out


_PLAIN_START = set("'\"{[&*!|>%@`#")
_HASH_FIELDS = {"path", "hash", "md5", "size", "nfiles", "etag", "checksum", "version_id"}


def fast_entry(section: str) -> dict[str, Any] | None:
    """A stage section in DVC's own layout read without YAML for its deps and outs.

    The hash lists are most of a lock's lines and DVC writes them in one plain shape
    (``- path: x`` then ``hash``/``md5``/``size``/``nfiles``); ``cmd``, ``params`` and anything else
    still go through the safe YAML loader. ``None`` for anything outside that shape: the caller
    falls back to YAML for the whole section, so this only ever speeds up, never changes, a result.
    """
    lines = section.split("\n")[1:]
    rest: list[str] = []
    entry: dict[str, Any] = {}
    current: list[dict[str, Any]] | None = None
    for line in lines:
        if not line:
            continue
        if line.startswith("    - "):
            if current is None:
                return None
            key, sep, value = line[6:].partition(": ")
            if not sep or key != "path" or not value or value[0] in _PLAIN_START or value.endswith(":"):
                return None
            current.append({"path": value})
        elif line.startswith("      ") and current is not None:
            if line[6] == " " or not current:
                return None
            key, sep, value = line[6:].partition(": ")
            if not sep or key not in _HASH_FIELDS or not value or value[0] in _PLAIN_START:
                return None
            current[-1][key] = int(value) if key in ("size", "nfiles") and value.isdigit() else value
        elif line in ("    deps:", "    outs:"):
            current = entry.setdefault(line.strip()[:-1], [])
        elif line.startswith("    ") and line[4] != " ":
            current = None
            rest.append(line[4:])
        elif current is None and rest and line.startswith("      "):
            rest.append(line[4:])
        else:
            return None
    if rest:
        other = plain_mapping(rest)
        if other is None:
            try:
                other = yaml.load("\n".join(rest), Loader=_Loader)  # _Loader is a safe loader
            except yaml.YAMLError:
                return None
        if not isinstance(other, dict) or "deps" in other or "outs" in other:
            return None
        entry.update(other)
    return entry


# --- the block mappings DVC writes for `cmd` and `params`, without YAML ------------------------------
# A lock's `cmd` and `params` are a small block mapping of plain or simply quoted scalars. Reading
# those by hand is ~10x faster than the YAML loader, but only values whose YAML 1.2 type is certain
# are read here (what DVC's YAML 1.2 reading resolves them to); anything else returns None and the
# caller uses YAML, so this can only speed up, never change, a result.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+")
# a plain scalar that YAML reads as a string: starts with a letter, `_` or `/` (so no number, date,
# `~`, `<<`, `=` or indicator) and holds only characters with no meaning in a block plain scalar
_PLAIN_STR = re.compile(r"[A-Za-z_/][A-Za-z0-9_./=,+\- ]*")
# YAML 1.2 booleans only, as DVC reads them: `yes`/`no`/`on`/`off` are strings (see explorer.yaml12)
_BOOLS = ("true", "false")  # and their Capitalised and UPPER forms
_WORDS: dict[str, Any] = {w: None for w in ("null", "Null", "NULL")} | {
    form: word == "true" for word in _BOOLS for form in (word, word.capitalize(), word.upper())
}


def plain_scalar(value: str) -> tuple[bool, Any]:
    """(True, what YAML's safe loader reads) for a scalar whose type is certain; (False, None) otherwise."""
    if value in _WORDS:
        return True, _WORDS[value]
    if _PLAIN_STR.fullmatch(value):
        return (not value.endswith(" ")), value
    if _INT.fullmatch(value):
        return True, int(value)
    if _FLOAT.fullmatch(value):
        return True, float(value)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        if "'" not in inner and '"' not in inner and "\\" not in inner:
            return True, inner
    return False, None


def plain_mapping(lines: list[str]) -> dict[str, Any] | None:
    """A block mapping of mappings and scalars (two-space indents), as the safe YAML loader would read it."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]
    opened: tuple[dict[str, Any], str] | None = None  # a `key:` whose value the next line decides
    for line in lines:
        text = line.lstrip(" ")
        indent = len(line) - len(text)
        if opened is not None:
            parent, key = opened
            opened = None
            if indent > stack[-1][0]:
                if indent != stack[-1][0] + 2:
                    return None
                child: dict[str, Any] = {}
                parent[key] = child
                stack.append((indent, child))
            else:
                parent[key] = None  # `key:` with nothing under it
        while indent < stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0]:
            return None
        key, sep, value = text.partition(":")
        if not _KEY.fullmatch(key) or key in _WORDS or key in stack[-1][1]:
            return None
        if not sep:
            return None
        if not value:
            opened = (stack[-1][1], key)
            continue
        if value[0] != " ":
            return None
        ok, scalar = plain_scalar(value[1:])
        if not ok:
            return None
        stack[-1][1][key] = scalar
    if opened is not None:
        opened[0][opened[1]] = None
    return root


def parse_dvcfile(text: bytes | str, path: str) -> LockedStage:
    """A ``.dvc`` file as a stage: its outs (paths relative to the file), and for imports the source.

    The top-level ``md5`` of a ``.dvc`` file is the *stage* hash, not the data's: never used as data.
    """
    doc = load_yaml(text, path)
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{path}: expected a mapping at the top level")
    base_dir = posixpath.dirname(path)
    wdir = doc.get("wdir")
    if isinstance(wdir, str) and wdir not in ("", "."):
        base_dir = _join(base_dir, wdir)  # DVC 0.x wrote `wdir:` in .dvc files: outs are relative to it
        base_dir = "" if base_dir == "." else base_dir
    outs_raw = doc.get("outs") or []
    if not isinstance(outs_raw, list):
        raise DvcFormatError(f"{path}: 'outs' is not a list")
    stage = LockedStage(name=path, dvcfile=path, cmd=doc.get("cmd"), raw=doc, frozen=bool(doc.get("frozen", False)))
    for i, item in enumerate(outs_raw):
        hashed = hashed_entry(item, base_dir, f"{path} outs[{i}]")
        if hashed is not None:
            stage.outs.append(hashed)
    deps_raw = doc.get("deps") or []
    if not isinstance(deps_raw, list):
        raise DvcFormatError(f"{path}: 'deps' is not a list")
    for i, item in enumerate(deps_raw):
        if isinstance(item, dict) and isinstance(item.get("repo"), dict):
            repo = item["repo"]
            stage.imported = {
                "url": repo.get("url"),
                "rev_lock": repo.get("rev_lock"),
                "rev": repo.get("rev"),
                "path": item.get("path"),
            }
            continue
        hashed = hashed_entry(item, base_dir, f"{path} deps[{i}]")
        if hashed is not None:
            stage.deps.append(hashed)
    return stage


@dataclass(frozen=True, slots=True)
class ArtifactDecl:
    name: str
    path: str
    type: str | None
    description: str | None
    labels: tuple[str, ...]


def parse_artifacts(text: bytes | str, dvc_yaml_path: str) -> dict[str, ArtifactDecl]:
    """The ``artifacts:`` section of a ``dvc.yaml`` (the model registry's metadata)."""
    doc = load_yaml(text, dvc_yaml_path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{dvc_yaml_path}: expected a mapping at the top level")
    section = doc.get("artifacts") or {}
    if not isinstance(section, dict):
        raise DvcFormatError(f"{dvc_yaml_path}: 'artifacts' is not a mapping")
    return _artifact_decls(section, dvc_yaml_path)


def parse_gto_artifacts_yaml(text: bytes | str, path: str) -> dict[str, ArtifactDecl]:
    """GTO's own registry file before 0.3 (``artifacts.yaml`` at the root): ``name: {path, type, …}``."""
    doc = load_yaml(text, path)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise DvcFormatError(f"{path}: expected a mapping of artifacts at the top level")
    return _artifact_decls(doc, path)


def _artifact_decls(section: dict[Any, Any], path: str) -> dict[str, ArtifactDecl]:
    base_dir = posixpath.dirname(path)
    out: dict[str, ArtifactDecl] = {}
    for name, entry in section.items():
        if not isinstance(entry, dict) or "path" not in entry:
            raise DvcFormatError(f"{path}: artifact {name!r} has no path")
        labels = entry.get("labels") or []
        out[str(name)] = ArtifactDecl(
            name=str(name),
            path=_join(base_dir, str(entry["path"])),
            type=entry.get("type"),
            description=entry.get("desc") or entry.get("description"),
            labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
        )
    return out


def check_dvc_yaml(text: bytes | str, path: str) -> None:
    """Raise when a ``dvc.yaml`` cannot be read (recorded as a gap at that commit)."""
    doc = load_yaml(text, path)
    if doc is not None and not isinstance(doc, dict):
        raise DvcFormatError(f"{path}: expected a mapping at the top level")
    if isinstance(doc, dict):
        stages = doc.get("stages")
        if stages is not None and not isinstance(stages, dict):
            raise DvcFormatError(f"{path}: 'stages' is not a mapping")


def is_dvc_path(path: str) -> bool:
    base = posixpath.basename(path)
    return base in ("dvc.lock", "dvc.yaml") or (base.endswith(".dvc") and base != ".dvc")


def stage_wdirs(text: bytes | str, dvc_yaml_path: str) -> tuple[dict[str, str], list[str]]:
    """Each stage's ``wdir`` in a ``dvc.yaml``, as written (relative to the file's folder).

    DVC locks a stage's deps and outs relative to its ``wdir``, which only ``dvc.yaml`` holds: the
    lock beside it cannot be read right without it. Returns the wdirs, and a one-line reason for
    each wdir that is a template (``${...}`` is never evaluated). A ``dvc.yaml`` that cannot be read
    gives none: its own gap says why.
    """
    if (b"wdir" not in text) if isinstance(text, bytes) else ("wdir" not in text):
        return {}, []  # most dvc.yaml files: no YAML parse needed
    try:
        doc = load_yaml(text, dvc_yaml_path)
    except DvcFormatError:
        return {}, []
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return {}, []
    wdirs: dict[str, str] = {}
    problems: list[str] = []
    for name, body in stages.items():
        if not isinstance(body, dict):
            continue
        wdir = body.get("wdir")
        if wdir is None and isinstance(body.get("do"), dict):
            wdir = body["do"].get("wdir")  # foreach stages declare it in their `do` template
        if wdir is None or str(wdir) in ("", "."):
            continue
        if "${" in str(wdir):
            folder = posixpath.dirname(dvc_yaml_path) or "the repository root"
            problems.append(
                f"{dvc_yaml_path} stage {name}: wdir {wdir} is a template (never evaluated): "
                f"its locked paths are read relative to {folder}"
            )
            continue
        wdirs[str(name)] = str(wdir)
    return wdirs, problems
