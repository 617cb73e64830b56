"""What a Kubernetes manifest file says is served: Deployments, StatefulSets, Argo Rollouts, KServe, Seldon.

Pure parsing (safe YAML, every document of a multi-document file); the deployment source turns
these workloads into a timeline across git history.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import yaml

from explorer.yaml12 import SAFE_LOADER

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
    # further model URIs of the same slot: a Seldon inference graph (combiner, router, transformer) holds
    # one model per graph node, and a request passes through all of them
    more_uris: tuple[str, ...] = ()

    @property
    def storage_uris(self) -> tuple[str, ...]:
        return ((self.storage_uri,) if self.storage_uri else ()) + self.more_uris

    @property
    def serving(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return self.images, self.storage_uris


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


# A workload document has a top-level `kind:` line (column 0: a CRD's `spec.names.kind` is indented)
# naming one of the kinds read here. Only such documents are
# parsed: CRDs, configs and charts are most of the YAML in a repository's history (a KServe release
# manifest is megabytes of CRDs around one Deployment), and building them with the YAML loader was
# 85% of scanning a real GitOps history.
_KIND_VALUE = (rb"""["']?kind["']?[ \t]*:[ \t]*["']?"""
               rb"""(?:Deployment|StatefulSet|Rollout|InferenceService|SeldonDeployment|Model|List)""")
_KIND_END = rb"""["']?[ \t]*,?[ \t]*(?:#[^\n]*)?\r?(?:\n|$)"""
# searched as "newline, then kind": a literal first character lets the regex engine skip ahead (15x
# faster than `^` in multi-line mode on megabyte CRDs); the first line is matched on its own
_KIND_LINE = re.compile(rb"\n" + _KIND_VALUE + _KIND_END)
_KIND_FIRST_LINE = re.compile(_KIND_VALUE + _KIND_END)
# a document marker at the start of a line always ends a YAML document (it cannot occur in content)
_DOCUMENT_START = re.compile(rb"^---(?:[ \t].*)?\r?$", re.M)
# JSON manifests (kubectl and Argo CD apply *.json as they apply YAML) are indented wherever `kind` is:
# any "kind": "<workload kind>" member makes the file worth parsing
_JSON_KIND = re.compile(rb'"kind"[ \t\r\n]*:[ \t\r\n]*"(?:Deployment|StatefulSet|Rollout|InferenceService|'
                        rb'SeldonDeployment|Model|List)"')


def parse_manifests(text: bytes, path: str, *, every_document: bool = True) -> list[Workload]:
    """The serving workloads a manifest file declares.

    A template (Helm's ``{{ }}``: not a manifest until rendered) declares none. Raises
    :class:`ManifestError` naming the file (and the document) when the YAML does not parse or a
    workload's structure is not what Kubernetes accepts. Scanned content is never evaluated:
    safe YAML only, templates are not rendered. With ``every_document`` false, only the documents
    with a workload ``kind:`` line are parsed (and only their errors are found).
    """
    try:
        if is_json(path) and text.lstrip()[:1] == b"{":
            # as kubectl's YAMLOrJSONDecoder: JSON when it opens with `{`, else YAML (real *.json files
            # hold YAML, or JSON after a `---` line)
            return _workloads_in(_json_documents(text, path), path)
        return _workloads(text, path, every_document)
    except ManifestError:
        if b"{{" in text and b"}}" in text:
            return []  # a template (Helm, Jsonnet-ish): no manifest until rendered
        raise


def may_hold_workloads(text: bytes, path: str = "") -> bool:
    """False when no line of the text is a workload ``kind:`` (for JSON: no ``"kind"`` member names
    one): parsing it would find none."""
    if is_json(path) and _JSON_KIND.search(text) is not None:
        return True
    return _KIND_FIRST_LINE.match(text) is not None or _KIND_LINE.search(text) is not None


def is_json(path: str) -> bool:
    return path.lower().endswith(".json")


def _json_documents(text: bytes, path: str) -> list[Any]:
    """The JSON objects of a manifest: one, or several one after another (kubectl reads such a stream)."""
    try:
        body = text.decode("utf-8-sig")
        decoder = json.JSONDecoder()
        docs: list[Any] = []
        at = len(body) - len(body.lstrip())
        while at < len(body):
            doc, end = decoder.raw_decode(body, at)
            docs.append(doc)
            at = end + len(body[end:]) - len(body[end:].lstrip())
        return docs
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not valid JSON (not UTF-8)") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise ManifestError(f"{path}: not valid JSON (nested too deeply)") from exc


def _documents(text: bytes, path: str, every_document: bool) -> list[Any]:
    line = 0
    try:
        if every_document:
            return _compose_then_build(text)
        docs: list[Any] = []
        line = 0  # where the document being read starts in the file
        for part in _DOCUMENT_START.split(text):
            docs.append(yaml.load(part, Loader=SAFE_LOADER) if may_hold_workloads(part, path) else None)
            line += part.count(b"\n")  # the next part starts with the rest of its `---` line
        return docs
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        offset = 0 if every_document else line
        where = f" line {mark.line + 1 + offset}" if mark is not None else ""
        raise ManifestError(f"{path}{where}: not valid YAML") from exc


def _compose_then_build(text: bytes) -> list[Any]:
    """Every document checked (composed: libyaml's C code), but only workload documents built into
    Python values (the slow part), other documents as None."""
    loader = SAFE_LOADER(text)
    try:
        docs: list[Any] = []
        while loader.check_node():
            node = loader.get_node()
            docs.append(loader.construct_document(node) if _is_workload_node(node) else None)
        return docs
    finally:
        loader.dispose()


def _is_workload_node(node: Any) -> bool:
    if not isinstance(node, yaml.MappingNode):
        return False
    return any(
        isinstance(key, yaml.ScalarNode) and key.value == "kind"
        and isinstance(value, yaml.ScalarNode) and (value.value in WORKLOAD_KINDS or value.value.endswith("List"))
        for key, value in node.value
    )


def _workloads(text: bytes, path: str, every_document: bool) -> list[Workload]:
    return _workloads_in(_documents(text, path, every_document), path)


def _with_list_items(docs: list[Any]) -> list[tuple[str, Any]]:
    """Each document with its place in the file; a ``List`` (what ``kubectl get -o yaml`` writes, and
    ``kind: DeploymentList`` and the like) stands for its ``items``, each a manifest of its own."""
    out: list[tuple[str, Any]] = []
    for index, doc in enumerate(docs):
        kind = doc.get("kind") if isinstance(doc, dict) else None
        items = doc.get("items") if isinstance(doc, dict) else None
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            out.extend((f"document {index + 1} item {n + 1}", item) for n, item in enumerate(items))
        else:
            out.append((f"document {index + 1}", doc))
    return out


def _workloads_in(docs: list[Any], path: str) -> list[Workload]:
    found: list[Workload] = []
    for place, doc in _with_list_items(docs):
        if not isinstance(doc, dict):
            continue
        kind = doc.get("kind")
        if not isinstance(kind, str) or kind not in WORKLOAD_KINDS:
            continue
        if kind == "Model" and not str(doc.get("apiVersion", "")).startswith("mlops.seldon.io"):
            continue
        if kind == "Rollout" and not str(doc.get("apiVersion", "")).startswith("argoproj.io"):
            continue
        where = f"{path}: {place} ({kind})"
        meta, spec = doc.get("metadata"), doc.get("spec") or {}
        if not isinstance(meta, dict) or not isinstance(spec, dict):
            raise ManifestError(f"{where}: metadata and spec must be mappings")
        name, namespace = meta.get("name"), meta.get("namespace")
        if name is None or name == "":
            continue  # a nameless fragment (a patch, generateName): no endpoint to follow
        if not isinstance(name, str) or not (namespace is None or isinstance(namespace, str)):
            raise ManifestError(f"{where}: metadata.name and metadata.namespace must be strings")
        env = environment_for(path, namespace)
        if kind in ("Deployment", "StatefulSet", "Rollout"):
            # an Argo Rollout's pod template is a Deployment's; its canary steps shift traffic at run time,
            # which the repository does not record: the new interval opens at the commit, as for a Deployment
            pod = _mapping(_mapping(spec.get("template")).get("spec"))
            found.append(Workload(env, name, "default", kind, path, _images(pod.get("containers"))))
        elif kind == "InferenceService":
            found.append(_inference_service(spec, env, name, path))
        elif kind == "SeldonDeployment":
            found.extend(_seldon_deployment(spec, env, name, path))
        else:
            storage = spec.get("storageUri")
            uri = storage if isinstance(storage, str) else None
            found.append(Workload(env, name, "default", "SeldonModel", path, (), uri))
    return found


WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "Rollout", "InferenceService", "SeldonDeployment", "Model"})


def _mapping(value: Any) -> dict[str, Any]:
    """A mapping as written, or empty: a list or scalar where a mapping belongs declares nothing."""
    return value if isinstance(value, dict) else {}


def _inference_service(spec: dict[str, Any], env: str, name: str, path: str) -> Workload:
    # v1beta1 `spec.predictor`; KFServing's v1alpha2 (serving.kubeflow.org) nested it in `spec.default`
    predictor = _mapping(spec.get("predictor")) or _mapping(_mapping(spec.get("default")).get("predictor"))
    storage = None
    for framework in KSERVE_FRAMEWORKS:
        block = predictor.get(framework)
        if isinstance(block, dict) and block.get("storageUri"):
            storage = str(block["storageUri"])
            break
    images = _images(predictor.get("containers"))
    if isinstance(predictor.get("model"), dict) and isinstance(predictor["model"].get("image"), str):
        images += (str(predictor["model"]["image"]),)
    percent = predictor.get("canaryTrafficPercent")
    return Workload(env, name, "default", "InferenceService", path, images, storage,
                    canary_percent=int(percent) if isinstance(percent, int) else None)


def _seldon_deployment(spec: dict[str, Any], env: str, name: str, path: str) -> list[Workload]:
    out: list[Workload] = []
    predictors = spec.get("predictors")
    for predictor in predictors if isinstance(predictors, list) else []:
        if not isinstance(predictor, dict):
            continue
        images: list[str] = []
        components = predictor.get("componentSpecs")
        for component in components if isinstance(components, list) else []:
            images += _images(_mapping(_mapping(component).get("spec")).get("containers"))
        uris = _graph_model_uris(predictor.get("graph"))
        traffic = predictor.get("traffic")
        out.append(Workload(env, name, str(predictor.get("name") or "default"), "SeldonDeployment", path,
                            tuple(images), uris[0] if uris else None,
                            int(traffic) if isinstance(traffic, int) else None, more_uris=tuple(uris[1:])))
    return out


def _graph_model_uris(graph: Any) -> list[str]:
    """Every ``modelUri`` of a Seldon inference graph, root first then its ``children`` depth-first:
    a combiner or transformer at the root serves the models below it (their URIs were lost when only
    the root was read)."""
    found: list[str] = []
    pending = [graph]
    seen = 0
    while pending and seen < 10_000:  # a YAML alias can make the tree a cycle: stop rather than loop
        node = _mapping(pending.pop())
        seen += 1
        uri = node.get("modelUri")
        if isinstance(uri, str) and uri and uri not in found:
            found.append(uri)
        children = node.get("children")
        pending.extend(reversed(children) if isinstance(children, list) else ())
    return found


def _images(containers: Any) -> tuple[str, ...]:
    listed = containers if isinstance(containers, list) else []
    return tuple(c["image"] for c in listed if isinstance(c, dict) and isinstance(c.get("image"), str) and c["image"])
