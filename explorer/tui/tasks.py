"""Long work the explorer runs in worker threads: scan, ML-BOM, signature verification.

One task runs at a time; it shows in every screen's task bar and ``x`` cancels it. A cancelled scan
stops between batches (what was written stays); BOM and verification results are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import get_current_worker

from explorer.config import Settings
from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind, bom_id
from explorer.scan import SourceReport
from explorer.store import LineageStore
from explorer.tui.data import capabilities
from explorer.tui.data.text import plural
from explorer.tui.progress import PostingProgress

if TYPE_CHECKING:
    from textual.app import App

TASK_GROUP = "task"


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """How a task ended: a one-line summary, whether it went wrong, and whether the store changed."""

    summary: str
    failed: bool = False
    store_changed: bool = False


class TaskDone(Message):
    """A long task finished (or could not run): the app shows the summary and refreshes if needed."""

    def __init__(self, outcome: TaskOutcome) -> None:
        super().__init__()
        self.outcome = outcome


def scan(app: App[Any], store: LineageStore, settings: Settings) -> TaskOutcome:
    """Scan the configured sources with progress; a summary of what each source did."""
    reports: list[SourceReport] = capabilities.scan(store, settings, PostingProgress(app, get_current_worker()))
    errors = [r for r in reports if r.error]
    written = sum(r.nodes + r.edges for r in reports)
    gaps = sum(len(r.gaps) for r in reports)
    sources = sum(1 for r in reports if not r.origin.startswith("link:"))  # the linking passes are no source
    summary = f"scan: {plural(sources, 'source')}, {plural(written, 'fact')} written, {plural(gaps, 'gap')}"
    if errors:
        summary += "; " + "; ".join(f"{r.origin}: {r.error}" for r in errors)
    return TaskOutcome(summary, failed=bool(errors), store_changed=True)


def bom(store: LineageStore, version_id: str, path: Path) -> TaskOutcome:
    """Generate and save a version's ML-BOM, and record it in the store as a ``bom`` node."""
    saved = capabilities.save_bom(store, version_id, path)
    serial = saved.summary.get("serial_number")
    if serial:
        facts = Facts()
        node = facts.add_node(
            Node(
                bom_id(str(serial)),
                NodeKind.BOM,
                path.name,
                {
                    "serial_number": serial,
                    "spec_version": saved.summary.get("spec_version"),
                    "path": str(path),
                    "generator": "mlprov explorer",
                    "subject": version_id,
                },
            )
        )
        facts.link(
            node.id, version_id, EdgeKind.DESCRIBES, Evidence("sbom", str(path), "ML-BOM written by the explorer")
        )
        store.write_batch("sbom:explorer", facts)
    state = "valid" if saved.valid else "INVALID (see mlprov bom for the errors)"
    return TaskOutcome(f"ML-BOM saved to {path} ({state})", failed=not saved.valid, store_changed=bool(serial))


def verify(store: LineageStore, settings: Settings | None, version_id: str) -> TaskOutcome:
    """Verify a version's signatures; the result of each bundle in one line."""
    results = capabilities.verify(store, settings, version_id)
    lines = [
        f"{'verified' if r.verified else 'FAILED'}: {r.bundle.name} signed by {r.signer} ({r.detail})" for r in results
    ]
    return TaskOutcome("; ".join(lines), failed=not all(r.verified for r in results), store_changed=True)
