"""Facts about a model read straight from an MLflow model directory, with no store and no MLflow.

For pipelines that just built a model: the MLmodel file gives the flavors, signature, run and
model ids; requirements.txt / conda.yaml / python_env.yaml give the environment; every file is
hashed. Training facts (data, metrics, formulation) are only known to the lineage store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sbom.artifacts import (
    ArtifactError,
    hash_files,
    parse_signature,
    read_mlmodel,
    read_text,
    skops_estimator_class,
)
from sbom.facts import MLModelFacts
from sbom.requirements import declared_environment
from sbom.times import rfc3339


def facts_from_model_dir(model_dir: Path, *, name: str | None = None, version: str | None = None) -> MLModelFacts:
    """Read an MLflow model directory. ``name``/``version`` are the registry's, when the caller knows them.

    Raises :class:`sbom.artifacts.ArtifactError` when the directory holds no readable MLmodel.
    """
    if not model_dir.is_dir():
        raise ArtifactError(f"{model_dir} is not a directory")
    mlmodel = read_mlmodel(model_dir)
    model_id = _str(mlmodel.get("model_id"))
    model_uuid = _str(mlmodel.get("model_uuid"))
    facts = MLModelFacts(
        name=name or model_id or model_uuid or model_dir.resolve().name,
        version=version,
        registry="mlflow" if name else None,
        model_id=model_id,
        model_uuid=model_uuid,
        run_id=_str(mlmodel.get("run_id")),
        created=rfc3339(mlmodel.get("utc_time_created")),
        mlflow_version=_str(mlmodel.get("mlflow_version")),
    )
    fill_from_mlmodel(facts, mlmodel, model_dir)
    facts.files = hash_files(model_dir)
    return facts


def fill_from_mlmodel(facts: MLModelFacts, mlmodel: dict[str, Any], model_dir: Path) -> None:
    """Flavors, signature, task and environment, from MLmodel and the files beside it."""
    flavors = mlmodel.get("flavors")
    facts.flavors = (
        {k: v if isinstance(v, dict) else {} for k, v in flavors.items()} if isinstance(flavors, dict) else {}
    )
    facts.signature = parse_signature(mlmodel.get("signature"))
    metadata = mlmodel.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("task"), str):
        facts.task = metadata["task"]  # transformers/LLM flavors record it, e.g. llm/v1/chat
    facts.estimator_class = skops_estimator_class(model_dir, facts.flavors)
    requirements = read_text(model_dir / "requirements.txt")
    conda = read_text(model_dir / "conda.yaml")
    facts.requirements = declared_environment(requirements.splitlines() if requirements else None, conda)
    facts.python_version = _python_version(model_dir, facts.flavors)


def _python_version(model_dir: Path, flavors: dict[str, dict[str, Any]]) -> str | None:
    text = read_text(model_dir / "python_env.yaml")
    if text:
        try:
            env = yaml.safe_load(text)
        except yaml.YAMLError:
            env = None
        if isinstance(env, dict) and env.get("python"):
            return str(env["python"])
    return _str(flavors.get("python_function", {}).get("python_version"))


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
