"""What a Kubernetes manifest file says is served: Deployments, StatefulSets, KServe, Seldon.

Pure parsing (safe YAML, every document of a multi-document file); the deployment source turns
these workloads into a timeline across git history.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

import yaml

# Folder names under which the next folder is the environment (envs/prod/app.yaml -> prod).
ENV_PARENTS = ("envs", "environments", "env", "overlays", "clusters")
KSERVE_FRAMEWORKS = ("model", "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "onnx", "triton",
                     "mlflow", "huggingface", "pmml", "paddle", "custom")


@dataclass(frozen=True, slots=True)
class Workload:
    """One serving slot a manifest declares."""

    environment: str
    endpoint: str
    role: str  # "default", "canary", or a Seldon predictor name
    kind: str
    path: str
    images: tuple[str, ...] = ()
    storage_uri: str | None = None
    traffic: int | None = None
    canary_percent: int | None = None  # KServe: canaryTrafficPercent on the predictor

    @property
    def serving(self) -> tuple[tuple[str, ...], str | None]:
        return self.images, self.storage_uri


class ManifestError(Exception):
    """A manifest file is not valid YAML: names the file."""


def environment_for(path: str, namespace: str | None) -> str:
    """The namespace when the manifest sets one; else the folder after envs/ (overlays/, clusters/…);
    else the manifest's top folder; else ``default``."""
    if namespace:
        return namespace
    parts = posixpath.dirname(path).split("/") if "/" in path else []
    for i, part in enumerate(parts[:-1]):
        if part in ENV_PARENTS:
            return parts[i + 1]
    return parts[0] if parts and parts[0] else "default"


def parse_manifests(text: bytes, path: str) -> list[Workload]:
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}{where}: not valid YAML") from exc
    found: list[Workload] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        kind = str(doc.get("kind") or "")
        meta = doc.get("metadata") or {}
        name = str(meta.get("name") or "")
        if not name:
            continue
        env = environment_for(path, meta.get("namespace"))
        spec = doc.get("spec") or {}
        if kind in ("Deployment", "StatefulSet"):
            pod = ((spec.get("template") or {}).get("spec")) or {}
            found.append(Workload(env, name, "default", kind, path, _images(pod.get("containers"))))
        elif kind == "InferenceService":
            found.append(_inference_service(spec, env, name, path))
        elif kind == "SeldonDeployment":
            found.extend(_seldon_deployment(spec, env, name, path))
        elif kind == "Model" and str(doc.get("apiVersion", "")).startswith("mlops.seldon.io"):
            found.append(Workload(env, name, "default", "SeldonModel", path, (), spec.get("storageUri")))
    return found


def _inference_service(spec: dict[str, Any], env: str, name: str, path: str) -> Workload:
    predictor = spec.get("predictor") or {}
    storage = None
    for framework in KSERVE_FRAMEWORKS:
        block = predictor.get(framework)
        if isinstance(block, dict) and block.get("storageUri"):
            storage = str(block["storageUri"])
            break
    images = _images(predictor.get("containers"))
    if isinstance(predictor.get("model"), dict) and predictor["model"].get("image"):
        images += (str(predictor["model"]["image"]),)
    percent = predictor.get("canaryTrafficPercent")
    return Workload(env, name, "default", "InferenceService", path, images, storage,
                    canary_percent=int(percent) if isinstance(percent, int) else None)


def _seldon_deployment(spec: dict[str, Any], env: str, name: str, path: str) -> list[Workload]:
    out: list[Workload] = []
    for predictor in spec.get("predictors") or []:
        if not isinstance(predictor, dict):
            continue
        images: list[str] = []
        for component in predictor.get("componentSpecs") or []:
            pod = (component or {}).get("spec") or {}
            images += _images(pod.get("containers"))
        graph = predictor.get("graph") or {}
        traffic = predictor.get("traffic")
        out.append(Workload(env, name, str(predictor.get("name") or "default"), "SeldonDeployment", path,
                            tuple(images), graph.get("modelUri"), int(traffic) if isinstance(traffic, int) else None))
    return out


def _images(containers: Any) -> tuple[str, ...]:
    return tuple(str(c["image"]) for c in containers or [] if isinstance(c, dict) and c.get("image"))
