"""The model artifact on disk: per-file SHA-256, and the MLmodel/environment files read safely.

Nothing here imports MLflow or the model's framework: the MLmodel file is YAML read with
``safe_load``, and a model is never loaded (pickle/skops can execute code). The only peek
inside a serialised model is the JSON ``schema.json`` member of a skops zip, which names the
estimator class as data.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import yaml

from sbom.facts import ArtifactFile

_CHUNK = 1 << 20
_SKOPS_SCHEMA_LIMIT = 64 << 20  # a schema.json larger than this is not a plain estimator description


class ArtifactError(Exception):
    """The artifact cannot be read: the message names the path."""


def local_path(location: str) -> Path | None:
    """A local directory for a plain path or ``file://`` URI; ``None`` for remote stores (s3://...)."""
    parsed = urlparse(location)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(location)
    return None


def hash_files(root: Path) -> list[ArtifactFile]:
    """SHA-256 and size of every regular file below ``root``, sorted by relative path.

    Symbolic links are not followed: a link could point outside the artifact, and what ships is
    the link, not its target.
    """
    files: list[ArtifactFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            files.append(_hash_one(root, path))
    return sorted(files, key=lambda f: f.path)


def _hash_one(root: Path, path: Path) -> ArtifactFile:
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError as exc:
        raise ArtifactError(f"cannot read {path}: {exc.strerror}") from exc
    return ArtifactFile(path.relative_to(root).as_posix(), digest.hexdigest(), size)


def read_mlmodel(model_dir: Path) -> dict[str, Any]:
    """The MLmodel file as a dict; :class:`ArtifactError` when absent or not a YAML mapping."""
    path = model_dir / "MLmodel"
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(f"{model_dir} is not an MLflow model directory (no MLmodel file)") from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ArtifactError(f"cannot read {path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ArtifactError(f"{path} is not a YAML mapping")
    return doc


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def parse_signature(raw: Any) -> dict[str, Any]:
    """MLmodel stores ``inputs``/``outputs``/``params`` as JSON strings: parse each one."""
    if not isinstance(raw, dict):
        return {}
    out: dict[str, Any] = {}
    for key in ("inputs", "outputs", "params"):
        value = raw.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                continue
        if value:
            out[key] = value
    return out


def skops_estimator_class(model_dir: Path, flavors: dict[str, Any]) -> str | None:
    """``module.Class`` of an sklearn model saved with skops, read from the zip's schema.json."""
    sk = flavors.get("sklearn")
    if not isinstance(sk, dict) or sk.get("serialization_format") != "skops":
        return None
    member = sk.get("pickled_model")
    if not isinstance(member, str):
        return None
    try:
        with zipfile.ZipFile(model_dir / member) as zf:
            info = zf.getinfo("schema.json")
            if info.file_size > _SKOPS_SCHEMA_LIMIT:
                return None
            schema = json.loads(zf.read(info))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError):
        return None
    module, cls = schema.get("__module__"), schema.get("__class__")
    if isinstance(module, str) and isinstance(cls, str):
        # sklearn's private module paths (sklearn.linear_model._logistic) are not its public names
        public = ".".join(p for p in module.split(".") if not p.startswith("_"))
        return f"{public}.{cls}"
    return None
