"""What every source shares: the batch it yields and the error it raises."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from explorer.lineage import Facts
from explorer.progress import Progress


class SourceError(Exception):
    """A source cannot be read at all (not a repository, server down): one line naming it."""


class ScanCancelled(Exception):
    """The user cancelled the scan; what was committed before stays."""


@dataclass(slots=True)
class Batch:
    """Facts to write in one transaction, and the cursor that is true once they are written."""

    facts: Facts
    cursor: dict[str, Any]
    replace_gaps: bool = False
    notes: list[str] = field(default_factory=list)
    # subjects this batch re-read: their earlier gaps from this source are dropped (the batch's own
    # gaps say what is still wrong), so a problem fixed since the last scan stops being reported
    recheck: list[str] = field(default_factory=list)


class Source(Protocol):
    """A system mlprov reads lineage from. It yields facts; it never writes the store."""

    @property
    def origin(self) -> str:
        """A stable name for this source's cursor and gaps, e.g. ``git:/path/to/repo``."""
        ...

    def scan(self, cursor: dict[str, Any] | None, progress: Progress) -> Iterator[Batch]:
        """Yield batches of new facts since ``cursor`` (``None``: never scanned)."""
        ...
