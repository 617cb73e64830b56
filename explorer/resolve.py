"""Turning what a user types into a node id: canonical ids, prefixes, commit shas, ``PATH@REV``, ``models:/``."""

from __future__ import annotations

import re
from pathlib import Path

from explorer.lineage import model_id, model_version_id
from explorer.store import LineageStore

_HEX = re.compile(r"^[0-9a-f]{4,64}$")
_KINDS = ("commit", "stage", "data", "run", "experiment", "model", "model_version", "dataset", "image",
          "deployment", "signature", "bom")


class RefError(LookupError):
    """A reference names nothing, or more than one thing: the message says which and lists candidates."""

    def __init__(self, message: str, candidates: list[str] | None = None, *, hint: str = "") -> None:
        super().__init__(f"{message} ({hint})" if hint else message)
        self.reason = message  # without the hint: a caller that takes fewer kinds of reference gives its own
        self.candidates = candidates or []


def resolve(store: LineageStore, ref: str) -> str:
    """The canonical id ``ref`` names, or :class:`RefError`.

    Accepted: a canonical id; a unique id prefix; a commit sha prefix (or run/model id); ``models:/NAME/VERSION``,
    ``models:/NAME@ALIAS``, ``models:/m-…``; ``NAME/VERSION`` of a registered version; ``PATH@REV`` for a
    DVC-tracked path at a git revision.
    """
    ref = ref.strip()
    if not ref:
        raise RefError("empty reference")
    if store.node(ref) is not None:
        return ref
    if ref.startswith("models:/"):
        return _model_uri(store, ref)
    if _HEX.match(ref.lower()):
        for kind in ("commit", "run", "signature"):
            hit = _unique_prefix(store, f"{kind}:{ref.lower()}", allow_none=True)
            if hit:
                return hit
    if ref.startswith("m-"):
        hit = _unique_prefix(store, model_id(ref), allow_none=True)
        if hit:
            return hit
    prefix, sep, _ = ref.partition(":")
    if sep and prefix in _KINDS:
        hit = _unique_prefix(store, ref, allow_none=True)
        if hit:
            return hit
        raise RefError(f"no node {ref!r} in the store")
    version = registered_version(store, ref)
    if version is not None:
        return version
    if "@" in ref:
        return _path_at_rev(store, ref)
    raise RefError(f"{ref!r} names no node in the store", hint="try `mlprov ls` or a canonical id such as commit:<sha>")


def registered_version(store: LineageStore, ref: str) -> str | None:
    """The ``model_version:`` id ``NAME/VERSION`` names (as the explorer's models home shows it), when
    the store has that version."""
    if "/" not in ref or "@" in ref:
        return None
    version = model_version_id(*ref.rsplit("/", 1))
    return version if store.node(version) is not None else None


def _unique_prefix(store: LineageStore, prefix: str, *, allow_none: bool = False) -> str | None:
    hits = store.ids_with_prefix(prefix, limit=11)
    if len(hits) == 1:
        return hits[0]
    if not hits:
        if allow_none:
            return None
        raise RefError(f"no node starts with {prefix!r}")
    shown = hits[:10]
    raise RefError(f"{prefix!r} is ambiguous: {len(hits)}{'+' if len(hits) > 10 else ''} nodes match", shown)


def _model_uri(store: LineageStore, uri: str) -> str:
    body = uri.removeprefix("models:/")
    if body.startswith("m-"):
        logged = model_id(body.split("/")[0])
        if store.node(logged) is None:
            raise RefError(f"{uri}: no logged model {body} in the store (scan the MLflow tracking server first)")
        return logged
    if "@" in body:
        name, _, alias = body.partition("@")
        candidates: list[str] = []
        for node in store.search(f"model_version:{name}/", limit=10_000, kinds=["model_version"]):
            if node.properties.get("name") == name and alias in (node.properties.get("aliases") or []):
                candidates.append(node.id)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise RefError(f"{uri}: no version of model {name!r} has alias {alias!r} in the store")
        raise RefError(f"{uri}: alias {alias!r} is on several versions", candidates)
    name, _, version = body.rpartition("/")
    if not name:
        raise RefError(f"{uri}: expected models:/NAME/VERSION or models:/NAME@ALIAS")
    version_node = model_version_id(name, version)
    if store.node(version_node) is None:
        raise RefError(f"{uri}: no version {version} of model {name!r} in the store")
    return version_node


def _path_at_rev(store: LineageStore, ref: str) -> str:
    """``PATH@REV``: read the DVC files at that revision in each scanned repository."""
    from explorer.sources.base import SourceError
    from explorer.sources.git import resolve_path_at

    # a revision may hold '@' itself (GTO tags: model@v1.0.0), a path rarely does: split at the first '@'
    path, _, rev = ref.partition("@")
    repos = [Path(c["path"]) for o, c in store.cursors().items() if o.startswith("git:") and "path" in c]
    if not repos:
        raise RefError(f"{ref}: no git repository has been scanned into this store")
    reasons: list[str] = []
    for repo in repos:
        try:
            _sha, hashed = resolve_path_at(repo, path, rev)
        except SourceError as exc:
            reasons.append(str(exc))
            continue
        node = f"data:{hashed.algorithm}:{hashed.digest}"
        if store.node(node) is None:
            raise RefError(f"{ref}: {node} is tracked at {rev} but not in the store yet (run `mlprov scan`)")
        return node
    if len(reasons) == 1:
        raise RefError(f"{ref}: {reasons[0]}")  # the one reason is the message: not repeated as a candidate
    raise RefError(f"{ref}: not tracked in any scanned repository", reasons)
