"""Find MLflow ``MLmodel`` files inside image layers: streamed tar, small files only, nothing executed.

A layer is decompressed as it streams; only regular files named ``MLmodel`` or
``requirements.txt`` under 1 MiB are read, and the YAML is parsed with the safe loader.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from explorer.lineage import mlmodel_key

MAX_SMALL_FILE = 1 << 20
WANTED = ("MLmodel", "requirements.txt")
TAR_TYPES = (
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.oci.image.layer.v1.tar+zstd",
)


@dataclass(slots=True)
class FoundModel:
    """An MLmodel file in a layer, with the requirements beside it when present."""

    path: str
    layer: str
    meta: dict[str, Any]
    requirements: list[str] = field(default_factory=list)

    @property
    def model_key(self) -> str | None:
        """The key of the model, as the tracking store's scan knows it (:func:`mlmodel_key`)."""
        return mlmodel_key(self.meta)


class _ChunkReader(io.RawIOBase):
    """A file object over an iterator of byte chunks, so tarfile can stream a layer."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


def scan_layer(chunks: Iterator[bytes], media_type: str, layer: str) -> tuple[list[FoundModel], str | None]:
    """MLmodel files in one layer, and a one-line reason when the layer could not be read."""
    if media_type not in TAR_TYPES:
        return [], f"layer {layer[:19]} has media type {media_type}: not scanned for MLmodel"
    gzip = "gzip" in media_type
    small: dict[str, bytes] = {}
    try:
        stream: Any = io.BufferedReader(_ChunkReader(chunks), 1 << 20)
        if media_type.endswith("+zstd"):  # zstd layers (containerd, podman --compression-format zstd)
            import zstandard

            stream = zstandard.ZstdDecompressor().stream_reader(stream)
        with tarfile.open(fileobj=stream, mode="r|gz" if gzip else "r|") as tar:
            for member in tar:
                name = posixpath.basename(member.name)
                if name in WANTED and member.isfile() and member.size <= MAX_SMALL_FILE:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        small[posixpath.normpath("/" + member.name)] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        return [], f"layer {layer[:19]} is not a readable tar: {exc}"
    except Exception as exc:  # zstandard.ZstdError: a corrupt zstd frame (imported lazily, so named here)
        if type(exc).__name__ != "ZstdError":
            raise
        return [], f"layer {layer[:19]} is not a readable zstd tar: {exc}"
    found: list[FoundModel] = []
    for path, data in sorted(small.items()):
        if posixpath.basename(path) != "MLmodel":
            continue
        try:
            meta = yaml.safe_load(data)
        except yaml.YAMLError:
            continue
        if not isinstance(meta, dict):
            continue
        req = small.get(posixpath.join(posixpath.dirname(path), "requirements.txt"), b"")
        lines = [ln.strip() for ln in req.decode(errors="replace").splitlines()]
        found.append(FoundModel(path, layer, meta, [ln for ln in lines if ln and not ln.startswith("#")]))
    return found, None
