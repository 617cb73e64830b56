"""Kustomize ``images:`` overrides: what a GitOps repository's committed manifests do not say.

``kustomize edit set image`` and Argo CD Image Updater change only ``kustomization.yaml``
(``images: [{name, newName, newTag, digest}]``); the Deployment keeps the image as first written.
mlprov reads manifests as committed and does not render kustomizations, so a workload whose image
such an override names is not what the cluster ran: the deployment source records a gap saying so
instead of silently reporting the committed image. Safe YAML only; nothing is built or run.
"""

from __future__ import annotations

import posixpath

import yaml

from explorer.yaml12 import SAFE_LOADER

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_kustomization(path: str) -> bool:
    return posixpath.basename(path) in KUSTOMIZATION_NAMES


def image_overrides(text: bytes) -> dict[str, str]:
    """Image name -> what the override sets (``newTag v2``, ``digest sha256:…``), for each entry of
    ``images:``; empty when the file is no mapping or does not parse (kustomize would refuse it)."""
    try:
        doc = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return {}
    images = doc.get("images") if isinstance(doc, dict) else None
    out: dict[str, str] = {}
    for entry in images if isinstance(images, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        sets = [f"{key} {entry[key]}" for key in ("newName", "newTag", "digest") if entry.get(key) is not None]
        if sets:
            out[entry["name"]] = ", ".join(sets)
    return out


def image_name(ref: str) -> str:
    """An image reference as kustomize matches it: without its tag or digest."""
    name = ref.strip().partition("@")[0]
    head, sep, last = name.rpartition("/")
    return f"{head}{sep}{last.partition(':')[0]}"
