"""ML-BOM files (``mlprov scan --bom FILE``): a ``bom`` node that ``describes`` its model."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from explorer.config import Settings
from explorer.progress import Progress
from explorer.sources.base import Batch, SourceError


class BomFileSource:
    """One CycloneDX BOM on disk, ours or a third party's; rescanned only when its bytes change."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()

    @property
    def origin(self) -> str:
        return f"bom:{self.path}"

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read BOM {self.path}: {exc.strerror}") from exc
        digest = hashlib.sha256(data).hexdigest()
        if cursor and cursor.get("sha256") == digest:
            return
        progress.start(f"read BOM {self.path.name}")
        from sbom.reader import bom_facts  # the CycloneDX library is slow to import
        from sbom.validate import BomReadError

        try:
            facts = bom_facts(self.path)
        except BomReadError as exc:
            raise SourceError(str(exc)) from exc
        yield Batch(facts, {"sha256": digest}, replace_gaps=True)


def source_for(location: str, settings: Settings) -> BomFileSource:
    path = Path(location).expanduser()
    return BomFileSource(path if path.is_absolute() else settings.workspace / path)
