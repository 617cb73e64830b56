"""Images the registry tests push: built as OCI layouts by :mod:`sample_data.oci_images`."""

from __future__ import annotations

import json
from pathlib import Path

from sample_data.oci_images import Layout

REVISION_A = "a" * 40
REVISION_B = "b" * 40
MODEL_KEY = "m-0123456789abcdef0123456789abcdef"
RUN_IN_MLMODEL = "0f0e0d0c0b0a09080706050403020100"
RUN_IN_LABEL = "11112222333344445555666677778888"
MLMODEL = (
    f"artifact_path: model\nmodel_id: {MODEL_KEY}\nrun_id: {RUN_IN_MLMODEL}\n"
    "flavors:\n  sklearn:\n    sklearn_version: 1.5.0\nmlflow_version: 3.1.0\n"
).encode()


def build_layout(path: Path) -> dict[str, dict[str, object]]:
    """``app:v1`` a two-platform index (amd64: MLmodel in a layer, no model label; arm64: labels),
    ``app:v2`` a single image labelled with a models:/ URI and a run id. Returns descriptors by name."""
    layout = Layout(path)
    amd64 = layout.image(
        {
            "opt/model/MLmodel": MLMODEL,
            "opt/model/requirements.txt": b"scikit-learn==1.5.0\nnumpy<3\n",
            "opt/model/model.pkl": b"\x80\x04never unpickled",
        },
        {
            "org.opencontainers.image.revision": REVISION_A,
            "org.opencontainers.image.source": "https://git.example.com/app",
        },
        "2026-01-02T00:00:00Z",
    )
    arm64 = layout.image(
        {"srv/serve.py": b"print('hi')\n"},
        {"org.opencontainers.image.revision": REVISION_A, "org.mlflow.model.uri": "models:/churn/1"},
        "2026-01-02T00:00:00Z",
        arch="arm64",
    )
    index = layout.index([amd64, arm64])
    layout.tag(index, "v1")
    v2 = layout.image(
        {"srv/serve.py": b"print('v2')\n"},
        {
            "org.opencontainers.image.revision": REVISION_B,
            "org.mlflow.model.uri": "models:/churn/2",
            "org.mlflow.run.id": RUN_IN_LABEL,
        },
        "2026-01-10T00:00:00Z",
    )
    layout.tag(v2, "v2")
    layout.save()
    return {"amd64": amd64, "arm64": arm64, "index": index, "v2": v2}


SBOM = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
    "version": 1,
    "metadata": {"tools": {"components": [{"type": "application", "name": "syft"}]}},
}


def attach_by_fallback(registry: object, repo: str, subject: dict[str, object]) -> dict[str, str]:
    """Attach an SBOM through a ``sha256-<hex>`` referrers index and a signature through a cosign
    ``sha256-<hex>.sig`` tag, with the registry's own push API. Returns the digests pushed."""
    push_blob = registry.put_blob  # type: ignore[attr-defined]
    push_manifest = registry.put_manifest  # type: ignore[attr-defined]
    empty = push_blob(repo, b"{}")
    sbom_bytes = json.dumps(SBOM).encode()
    sbom_blob = push_blob(repo, sbom_bytes)
    subject_ref = {k: subject[k] for k in ("mediaType", "digest", "size")}
    sbom_manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": sbom_blob, "size": len(sbom_bytes)}],
        "subject": subject_ref,
    }
    sbom_digest = push_manifest(
        repo, _digest_of(sbom_manifest), sbom_manifest, "application/vnd.oci.image.manifest.v1+json"
    )
    tag = str(subject["digest"]).replace(":", "-")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": sbom_digest,
                "size": len(json.dumps(sbom_manifest).encode()),
                "artifactType": "application/vnd.cyclonedx+json",
            }
        ],
    }
    push_manifest(repo, tag, index, "application/vnd.oci.image.index.v1+json")
    payload = json.dumps(
        {
            "critical": {
                "image": {"docker-manifest-digest": subject["digest"]},
                "type": "cosign container image signature",
            }
        }
    ).encode()
    payload_blob = push_blob(repo, payload)
    config = json.dumps({"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_blob = push_blob(repo, config)
    sig_manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_blob, "size": len(config)},
        "layers": [
            {
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": payload_blob,
                "size": len(payload),
                "annotations": {"dev.cosignproject.cosign/signature": "MEUCIQD="},
            }
        ],
    }
    push_manifest(repo, f"{tag}.sig", sig_manifest, "application/vnd.oci.image.manifest.v1+json")
    return {"sbom_manifest": sbom_digest, "signature_layer": payload_blob}


def _digest_of(doc: dict[str, object]) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(json.dumps(doc).encode()).hexdigest()
