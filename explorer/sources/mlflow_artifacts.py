"""A model's ``MLmodel`` and environment files, read from the artifact store without loading the model.

Local stores (``file:`` URIs, plain paths) are read in place and every file is hashed with md5 (the
digest DVC uses, so a GTO/DVC version of the same file can be tied to it); other stores
(``mlflow-artifacts:``, s3...) go through MLflow's artifact repository, for the small text files only.
YAML is parsed with the safe loader; nothing is unpickled or imported from the model.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from explorer.sources.mlflow_uri import is_http, local_path, redact

# libyaml's safe loader when present: same safety, ~10x faster on 100s of MLmodel files
_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MLMODEL = "MLmodel"
ENV_FILES = ("requirements.txt", "conda.yaml", "python_env.yaml")
MAX_HASHED_BYTES = 4 << 30  # larger files are listed with their size but not hashed
_TEXT_LIMIT = 1 << 20
# ``mlflow server`` (with artifact serving, its default) hands out this scheme and keeps the files in
# ``./mlartifacts`` where it runs
SERVER_ARTIFACTS = "mlflow-artifacts:"
SERVER_ARTIFACTS_DIR = "mlartifacts"


@dataclass(slots=True)
class ModelFiles:
    """What the model directory says; ``problem`` is set (with ``problem_kind``) when it could not."""

    mlmodel: dict[str, Any] | None = None
    requirements: list[str] | None = None
    conda: str | None = None
    python_env: dict[str, Any] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None
    problem_kind: str | None = None
    signatures: list[Path] = field(default_factory=list)  # OMS Sigstore bundles in or beside the model
    read_from: str | None = None  # where the files were found when not at their recorded location


def read_model_files(location: str, tracking_uri: str) -> ModelFiles:
    """Read the model directory at ``location`` (an artifact URI). Never raises for bad content."""
    local = local_path(location)
    if local is not None:
        moved = None if local.exists() else moved_store_path(local, tracking_uri)
        if moved is not None:
            found = _read_dir(moved, location)
            found.read_from = str(moved)
            return found
        return _read_dir(local, location)
    if location.startswith(SERVER_ARTIFACTS) and not is_http(tracking_uri):
        return _served_artifacts(location, tracking_uri)
    try:
        fetched = _download(location, tracking_uri)
    except _DownloadError as exc:
        return ModelFiles(problem=str(exc), problem_kind="missing_artifact")
    with fetched as directory:
        return _read_dir(Path(directory), location, hash_files=False)


def moved_store_path(recorded: Path, tracking_uri: str) -> Path | None:
    """Where a local artifact is now when the file store was moved or cloned since it was logged.

    A file store records absolute artifact paths (``/home/alice/proj/mlruns/1/<run>/artifacts/model``);
    an ``mlruns`` committed to git and cloned elsewhere keeps them. The same tail under the store now
    being read (``<store>/1/<run>/artifacts/model``) is that artifact: experiment, run (or model) and
    ``artifacts`` must all match, so an unrelated folder is never taken for it. A SQLite store cloned with
    its artifact folder is looked up the same way under the database's folder (``<db folder>/mlruns/1/…``).
    """
    root = store_folder(tracking_uri)
    if root is None:
        return None
    # a store logged on Windows records ``file:C:\\Users\\...\\mlruns/1``: its parts are split at both separators
    parts = PurePosixPath(str(recorded).replace("\\", "/")).parts
    for start in range(1, len(parts) - 2):
        tail = parts[start:]
        # <experiment>/<run>/artifacts/... or, for MLflow 3 logged models, <experiment>/models/<m-id>/artifacts/...
        # (under a SQLite store's folder the tail starts with its artifact root: mlruns/<experiment>/...)
        if "artifacts" not in tail[2:5]:
            continue
        candidate = root.joinpath(*tail)
        if candidate.exists():
            return candidate
    return None


def store_folder(tracking_uri: str) -> Path | None:
    """The local folder an artifact root recorded elsewhere is looked for in: a file store itself, or the
    folder holding a SQLite store (``mlflow ui --backend-store-uri sqlite:///mlflow.db`` keeps its
    artifacts in ``./mlruns`` and ``mlflow server`` in ``./mlartifacts``, beside the database)."""
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        return db.parent if db.is_file() else None
    root = local_path(tracking_uri)
    return root if root is not None and root.is_dir() else None


def _served_artifacts(location: str, tracking_uri: str) -> ModelFiles:
    """A ``mlflow-artifacts:/…`` location read from a store that is not the server which served it.

    Only a tracking server resolves that scheme (MLflow's client refuses it for any other tracking URI).
    The server's default destination is ``./mlartifacts`` where it ran, usually beside its database: a
    repository that commits ``mlflow.db`` commits it too. Read there when present, else say where to look.
    """
    root = store_folder(tracking_uri)
    relative = location.removeprefix(SERVER_ARTIFACTS).lstrip("/")
    where = redact(location)
    if root is not None and relative:
        for candidate in (root / SERVER_ARTIFACTS_DIR / relative, root.parent / SERVER_ARTIFACTS_DIR / relative):
            if candidate.is_dir():
                found = _read_dir(candidate, location)
                found.read_from = str(candidate)
                return found
    looked = f" (not under {root / SERVER_ARTIFACTS_DIR} either)" if root is not None else ""
    return ModelFiles(
        problem=f"model files at {where} are kept by a tracking server's artifact store, which only the server "
        f"serves{looked}: scan the tracking server (http://…) to read them",
        problem_kind="missing_artifact",
    )


def _read_dir(directory: Path, location: str, *, hash_files: bool = True) -> ModelFiles:
    where = redact(location)
    mlmodel_path = directory / MLMODEL
    if not mlmodel_path.is_file():
        what = "model directory" if not directory.is_dir() else "MLmodel file"
        return ModelFiles(
            problem=f"{what} missing at {where}/{MLMODEL if directory.is_dir() else ''}".rstrip("/"),
            problem_kind="missing_artifact",
        )
    out = ModelFiles()
    try:
        loaded = yaml.load(mlmodel_path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        out.problem, out.problem_kind = f"malformed MLmodel at {where}: {first}", "malformed_mlmodel"
    else:
        if isinstance(loaded, dict) and isinstance(loaded.get("flavors"), dict):
            out.mlmodel = loaded
        else:
            out.problem = f"malformed MLmodel at {where}: not a mapping with 'flavors'"
            out.problem_kind = "malformed_mlmodel"
    requirements = _text(directory / "requirements.txt")
    if requirements is not None:
        out.requirements = [line.strip() for line in requirements.splitlines() if line.strip()]
    out.conda = _text(directory / "conda.yaml")
    env_text = _text(directory / "python_env.yaml")
    if env_text is not None:
        try:
            env = yaml.load(env_text, Loader=_SAFE_LOADER)
        except yaml.YAMLError:
            env = None
        if isinstance(env, dict):
            out.python_env = env
    if hash_files:
        out.signatures = _signatures(directory)
        bundles = {str(p.relative_to(directory)) for p in out.signatures if p.is_relative_to(directory)}
        out.files = [f for f in _hash_tree(directory) if f["path"] not in bundles]
        missing = declared_missing(directory, out.mlmodel or {})
        if missing and out.problem is None:
            out.problem = (
                f"the MLmodel at {where} names {', '.join(missing)}, which the artifacts do not hold: "
                "the model's weights are not recorded (not yet uploaded, or not checked out)"
            )
            out.problem_kind = "missing_artifact"
    return out


# Flavor keys naming the file or folder that holds the model itself (sklearn's pickled_model, xgboost's
# and keras' data, pytorch's model_data, tensorflow's saved_model_dir, transformers' model_binary).
_MODEL_FILE_KEYS = ("pickled_model", "data", "model_data", "saved_model_dir", "model_binary", "model_path")


def declared_missing(directory: Path, mlmodel: dict[str, Any]) -> list[str]:
    """The files the MLmodel's flavors name as the model that are not in ``directory`` ("flavor: path")."""
    missing: list[str] = []
    flavors = mlmodel.get("flavors")
    for flavor, conf in (flavors.items() if isinstance(flavors, dict) else []):
        if not isinstance(conf, dict):
            continue
        for key in _MODEL_FILE_KEYS:
            value = conf.get(key)
            inside = isinstance(value, str) and value and not value.startswith("/") and ".." not in value.split("/")
            if inside and not (directory / str(value)).exists():
                missing.append(f"{flavor}: {value}")
    return sorted(set(missing))


def _signatures(directory: Path) -> list[Path]:
    """Bundles in the model directory (``model.sig`` as upstream writes it) or in the folder holding it."""
    from signing.lineage import find_signatures

    beside = find_signatures(directory.parent, max_depth=0) if directory.name == "artifacts" else []
    return sorted({*find_signatures(directory), *beside})


def _text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > _TEXT_LIMIT:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _hash_tree(directory: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        size = path.stat().st_size
        entry: dict[str, Any] = {"path": path.relative_to(directory).as_posix(), "size": size}
        if size <= MAX_HASHED_BYTES:
            entry["md5"] = _md5(path)
        out.append(entry)
    return out


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class _DownloadError(Exception):
    pass


def _download(location: str, tracking_uri: str) -> tempfile.TemporaryDirectory[str]:
    """Fetch MLmodel and the environment files of a remote model directory into a temporary directory."""
    import mlflow.artifacts  # slow import: only for remote artifact stores

    tmp = tempfile.TemporaryDirectory(prefix="mlprov-model-")
    got_mlmodel = False
    for name in (MLMODEL, *ENV_FILES):
        try:
            mlflow.artifacts.download_artifacts(
                artifact_uri=f"{location.rstrip('/')}/{name}", dst_path=tmp.name, tracking_uri=tracking_uri
            )
            got_mlmodel = got_mlmodel or name == MLMODEL
        except Exception as exc:
            if name == MLMODEL:
                tmp.cleanup()
                first = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
                raise _DownloadError(f"MLmodel file missing at {redact(location)}: {first}") from exc
    return tmp


def parse_signature(raw: Any) -> dict[str, Any] | None:
    """MLmodel keeps each part of the signature as a JSON string: parse them, keep text that is not JSON."""
    if not isinstance(raw, dict):
        return None
    out: dict[str, Any] = {}
    for key in ("inputs", "outputs", "params"):
        value = raw.get(key)
        if isinstance(value, str):
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
        elif value is not None:
            out[key] = value
    return out
