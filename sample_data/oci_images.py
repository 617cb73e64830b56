"""Write OCI image layouts in pure Python, byte-for-byte reproducible (the sample and the tests use it).

Not a container builder: images hold a few files (an MLmodel directory, a serving script) in one
gzip layer, with fixed times and owners, so the same inputs always give the same digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass(slots=True)
class Layout:
    """An OCI image layout being written: blobs land as they are added, index.json on :meth:`save`."""

    path: Path
    entries: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.path / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    def blob(self, data: bytes, media_type: str, **extra: Any) -> dict[str, Any]:
        hexdigest = hashlib.sha256(data).hexdigest()
        (self.path / "blobs" / "sha256" / hexdigest).write_bytes(data)
        return {"mediaType": media_type, "digest": f"sha256:{hexdigest}", "size": len(data), **extra}

    def image(
        self, files: dict[str, bytes], labels: dict[str, str], created: str, arch: str = "amd64"
    ) -> dict[str, Any]:
        """One single-platform image; returns its manifest descriptor."""
        layer_tar = _tar(files)
        layer = self.blob(_gzip(layer_tar), OCI_LAYER)
        config = {
            "architecture": arch,
            "os": "linux",
            "created": created,
            "config": {"Labels": labels, "Cmd": ["python", "/srv/serve.py"]},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
            "history": [{"created": created, "created_by": "mlprov sample builder"}],
        }
        config_desc = self.blob(_canonical(config), OCI_CONFIG)
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": [layer]}
        return self.blob(_canonical(manifest), OCI_MANIFEST, platform={"architecture": arch, "os": "linux"})

    def index(self, children: list[dict[str, Any]]) -> dict[str, Any]:
        """A multi-platform index over image descriptors (their ``platform`` kept)."""
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}
        return self.blob(_canonical(doc), OCI_INDEX)

    def attach(
        self,
        subject: dict[str, Any],
        artifact_type: str,
        payload: bytes,
        payload_type: str,
        annotations: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An OCI 1.1 artifact manifest whose ``subject`` is ``subject`` (an SBOM, a signature)."""
        empty = self.blob(b"{}", "application/vnd.oci.empty.v1+json")
        layer = self.blob(payload, payload_type)
        doc: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": empty,
            "layers": [layer],
            "subject": {k: subject[k] for k in ("mediaType", "digest", "size")},
        }
        if annotations:
            doc["annotations"] = annotations
        return self.blob(_canonical(doc), OCI_MANIFEST, artifactType=artifact_type)

    def tag(self, descriptor: dict[str, Any], ref_name: str | None = None) -> None:
        entry = {k: v for k, v in descriptor.items() if k in ("mediaType", "digest", "size", "artifactType")}
        if ref_name:
            entry["annotations"] = {REF_NAME: ref_name}
        self.entries.append(entry)

    def save(self) -> None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.entries}
        (self.path / "index.json").write_bytes(_canonical(index))


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(files[name])
            info.mtime = 0
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def _gzip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz:
        gz.write(data)
    return buffer.getvalue()
