"""bom-refs, purls and URLs shared by the CycloneDX and SPDX writers.

bom-refs are the lineage ids (``model_version:iris/3``, ``data:md5:…``, ``run:…``): stable for
the same lineage, and a reader maps them straight back to graph nodes.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from sbom.facts import ContainerImage, DataVersion, MLModelFacts, Requirement
from sbom.requirements import pypi_name

_SCP_LIKE = re.compile(r"^(?P<user>[^@/]+)@(?P<host>[^:/]+):(?P<path>[^/].*)$")


def model_ref(facts: MLModelFacts) -> str:
    if facts.ref:
        return facts.ref
    if facts.version is not None:
        return f"model_version:{facts.name}/{facts.version}"
    return f"model:{facts.model_id or facts.model_uuid or facts.name}"


def file_ref(parent: str, path: str) -> str:
    return f"{parent}#file:{path}"


def formula_ref(facts: MLModelFacts) -> str:
    return f"formula:{model_ref(facts)}"


def model_purl(facts: MLModelFacts) -> PackageURL | None:
    """``pkg:mlflow/NAME@VERSION`` (purl-spec ``mlflow`` type) for a model in an MLflow registry.

    The type's name is the *registered* model name, so a model known only by its LoggedModel id
    (or a GTO/DVC registry entry) gets no purl rather than a wrong one.
    """
    if facts.registry != "mlflow" or facts.version is None:
        return None
    qualifiers: dict[str, str] = {}
    if facts.model_uuid or facts.model_id:
        qualifiers["model_uuid"] = str(facts.model_uuid or facts.model_id)
    if facts.registry_url:
        qualifiers["repository_url"] = facts.registry_url
    if facts.run_id:
        qualifiers["run_id"] = facts.run_id
    # Databricks registries are case-insensitive and want the name lowercased; others keep it as-is.
    name = facts.name.lower() if facts.registry_url and "databricks" in facts.registry_url else facts.name
    return PackageURL(type="mlflow", name=name, version=facts.version, qualifiers=qualifiers or None)


def requirement_purl(req: Requirement) -> PackageURL:
    if req.ecosystem == "pypi":
        return PackageURL(type="pypi", name=pypi_name(req.name), version=req.version)
    return PackageURL(type="conda", name=req.name, version=req.version)


def image_purl(image: ContainerImage) -> PackageURL:
    """``pkg:oci/NAME@sha256:…?repository_url=REGISTRY/REPO`` per the purl-spec ``oci`` type."""
    name = image.repository.rsplit("/", 1)[-1].lower()
    qualifiers = {"repository_url": image.repository}
    if len(image.tags) == 1:
        qualifiers["tag"] = image.tags[0]
    return PackageURL(type="oci", name=name, version=image.digest, qualifiers=qualifiers)


def repository_url(remote: str) -> str:
    """A git remote as a URL: ``git@host:org/repo.git`` (scp syntax is no URL) becomes ssh://."""
    match = _SCP_LIKE.match(remote)
    if match and "://" not in remote:
        return f"ssh://{match['user']}@{match['host']}/{match['path']}"
    return remote


def remote_object_url(data: DataVersion) -> str | None:
    """Where a DVC remote keeps this content: ``files/md5/ab/cdef…`` (DVC 3) or ``ab/cdef…`` (DVC 2)."""
    if not data.remote or not data.digest or data.algorithm not in ("md5", "md5-dos2unix"):
        return None
    prefix = "files/md5/" if data.algorithm == "md5" else ""
    return f"{data.remote.rstrip('/')}/{prefix}{data.digest[:2]}/{data.digest[2:]}"


def run_url(facts: MLModelFacts, run_id: str, experiment_id: str | None) -> str:
    """The run's page when the tracking server is known, else MLflow's own ``runs:/`` URI."""
    base = facts.registry_url or ""
    if base.startswith(("http://", "https://")) and experiment_id:
        return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"
    return f"runs:/{run_id}"
