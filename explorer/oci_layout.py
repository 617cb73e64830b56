"""An OCI image layout directory read like a registry repository (same calls as RegistryClient).

Tags are the ``org.opencontainers.image.ref.name`` annotations of ``index.json``. When a ref name
is a full reference (``registry.example.com/team/app:v1``) the images are named after that
repository, so a layout exported from a registry keeps the ids the registry scan would give;
otherwise the repository is ``oci-layout/<directory name>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from explorer.oci_client import MAX_MANIFEST_BYTES, Fetched, RegistryError, media_type_of, sha256_digest

REF_NAME = "org.opencontainers.image.ref.name"
_FULL_REF = re.compile(r"^(?P<repo>[a-z0-9.-]+(?::\d+)?/[a-z0-9._/-]+):(?P<tag>[\w][\w.-]{0,127})$")


def is_layout(path: Path) -> bool:
    return (path / "oci-layout").is_file() and (path / "index.json").is_file()


class LayoutRepository:
    """One OCI image layout directory, read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        if not is_layout(self.path):
            raise RegistryError(f"not an OCI image layout: {path} (no oci-layout and index.json)")
        try:
            self._index = json.loads((self.path / "index.json").read_text())
        except (OSError, ValueError) as exc:
            raise RegistryError(f"OCI layout {path}: index.json unreadable: {exc}") from exc
        entries = self._index.get("manifests") if isinstance(self._index, dict) else None
        self._entries: list[dict[str, Any]] = [e for e in entries or [] if isinstance(e, dict)]
        self._tags: dict[str, str] = {}
        repos: list[str] = []
        for entry in self._entries:
            ref = str((entry.get("annotations") or {}).get(REF_NAME, ""))
            if not ref:
                continue
            match = _FULL_REF.match(ref)
            if match:
                repos.append(match["repo"])
                ref = match["tag"]
            self._tags[ref] = str(entry.get("digest", ""))
        self.name = repos[0] if repos else f"oci-layout/{self.path.name}"

    def tags(self) -> list[str]:
        return list(self._tags)

    def _blob_path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        if not re.fullmatch(r"[a-f0-9]{32,128}", hexdigest) or not algorithm.isalnum():
            raise RegistryError(f"OCI layout {self.path}: invalid digest {digest!r}")
        return self.path / "blobs" / algorithm / hexdigest

    def manifest(self, reference: str) -> Fetched:
        digest = reference if ":" in reference else self._tags.get(reference, "")
        if not digest:
            raise RegistryError(f"OCI layout {self.path}: no tag {reference!r}", 404)
        body = self.blob(digest, MAX_MANIFEST_BYTES)
        declared = next((str(e.get("mediaType", "")) for e in self._entries if e.get("digest") == digest), "")
        return Fetched(body, media_type_of(body, declared), digest)

    def blob(self, digest: str, limit: int) -> bytes:
        path = self._blob_path(digest)
        try:
            if path.stat().st_size > limit:
                raise RegistryError(
                    f"OCI layout {self.path}: blob {digest[:19]} is larger than {limit} bytes"
                )
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise RegistryError(f"OCI layout {self.path}: blob {digest[:19]} missing", 404) from exc
        if digest.startswith("sha256:") and sha256_digest(data) != digest:
            raise RegistryError(f"OCI layout {self.path}: blob {digest[:19]} does not match its digest")
        return data

    def open_blob(self, digest: str) -> Iterator[bytes]:
        try:
            with self._blob_path(digest).open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    yield chunk
        except FileNotFoundError as exc:
            raise RegistryError(f"OCI layout {self.path}: blob {digest[:19]} missing", 404) from exc

    def referrers(self, digest: str) -> list[dict[str, Any]] | None:
        """Manifests of the index whose ``subject`` is ``digest`` (how oras/skopeo store referrers)."""
        found: list[dict[str, Any]] = []
        for entry in self._entries:
            try:
                doc = json.loads(self.blob(str(entry.get("digest", "")), MAX_MANIFEST_BYTES))
            except (RegistryError, ValueError):
                continue
            subject = doc.get("subject") if isinstance(doc, dict) else None
            if isinstance(subject, dict) and subject.get("digest") == digest:
                found.append(
                    {
                        "mediaType": doc.get("mediaType", entry.get("mediaType")),
                        "digest": entry.get("digest"),
                        "artifactType": doc.get("artifactType") or (doc.get("config") or {}).get("mediaType"),
                        "annotations": doc.get("annotations") or {},
                    }
                )
        return found
