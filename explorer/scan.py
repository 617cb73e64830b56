"""Run sources against the store: one transaction per source batch, cursors kept with the facts.

Sources yield facts and never touch the store; this module writes them. A source that cannot be
read at all is reported with its one-line reason and the other sources still run; what the store
held before is never lost, because a batch either commits whole or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from explorer.config import Settings
from explorer.lineage import Facts, Gap
from explorer.memory import gc_paused
from explorer.progress import NullProgress, Progress
from explorer.sources.base import ScanCancelled, Source, SourceError
from explorer.store import LineageStore, StoreError


@dataclass(slots=True)
class SourceReport:
    """What one source's scan did: counts of what it wrote, the gaps it found, or why it failed."""

    origin: str
    nodes: int = 0
    edges: int = 0
    gaps: list[Gap] = field(default_factory=list)
    batches: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unchanged(self) -> bool:
        return self.error is None and self.batches == 0


# A linker joins what different sources recorded (e.g. an MLflow dataset to a DVC data version).
# It runs after the sources, reads the store, and returns facts written as their own batch.
Linker = Callable[[LineageStore, Progress], tuple[str, Facts]]
LINKERS: list[Linker] = []


def linkers() -> list[Linker]:
    """Registered linkers plus those of :mod:`explorer.linking` (cross-source rules), when present."""
    import importlib.util

    found = list(LINKERS)
    if importlib.util.find_spec("explorer.linking") is not None:
        import importlib

        found.extend(getattr(importlib.import_module("explorer.linking"), "LINKERS", []))
    return found


def source_factories() -> dict[str, Callable[[str, Settings], Source]]:
    """Source kinds ``scan`` knows, by option name. Imported lazily: MLflow is slow to import."""

    def git(location: str, settings: Settings) -> Source:
        from explorer.sources.git import GitSource

        return GitSource(_path(location, settings))

    factories: dict[str, Callable[[str, Settings], Source]] = {"git": git}
    from explorer.sources import catalog

    factories.update(catalog.extra_factories())
    return factories


def build_sources(requested: Mapping[str, Iterable[str]], settings: Settings) -> list[Source]:
    """Sources for ``{kind: [location, ...]}``; ``KeyError`` naming a kind this installation cannot scan."""
    factories = source_factories()
    sources: list[Source] = []
    for kind, locations in requested.items():
        for location in locations:
            if kind not in factories:
                raise KeyError(kind)
            sources.append(factories[kind](location, settings))
    return sources


def configured_sources(settings: Settings) -> dict[str, list[str]]:
    """What ``[scan]`` in ``mlprov.toml`` lists, by kind."""
    return {kind: settings.scan_sources(kind) for kind in ("git", "mlflow", "registry", "deployments", "bom")}


def _path(location: str, settings: Settings) -> Path:
    path = Path(location).expanduser()
    return path if path.is_absolute() else settings.workspace / path


def run_scan(
    store: LineageStore,
    sources: Iterable[Source],
    progress: Progress | None = None,
    *,
    link: bool = True,
) -> list[SourceReport]:
    """Scan each source into the store; returns one report per source (and per linker)."""
    observer = progress or NullProgress()
    reports: list[SourceReport] = []
    for source in sources:
        report = SourceReport(source.origin)
        started = time.perf_counter()
        try:
            cursor = store.cursor(source.origin)
            # A batch is ~10^5 small acyclic objects built and written at once: the cyclic collector
            # would re-scan all of them again and again while they pile up (~40% of a history scan).
            with gc_paused():
                for batch in source.scan(cursor, observer):
                    if observer.cancelled():
                        raise ScanCancelled()
                    store.write_batch(
                        source.origin, batch.facts, batch.cursor, replace_gaps=batch.replace_gaps, recheck=batch.recheck
                    )
                    report.batches += 1
                    report.nodes += _distinct_nodes(batch.facts)
                    report.edges += len(batch.facts.edges)
                    report.gaps.extend(batch.facts.gaps)
                    report.notes.extend(batch.notes)
                    for gap in batch.facts.gaps:
                        observer.note(gap.reason)
        except (SourceError, StoreError) as exc:
            report.error = str(exc)
        except ScanCancelled:
            report.error = "cancelled; what was written before is kept"
        report.seconds = time.perf_counter() - started
        reports.append(report)
    if link:
        for linker in linkers():
            started = time.perf_counter()
            try:
                origin, facts = linker(store, observer)
            except (SourceError, StoreError) as exc:
                reports.append(SourceReport(getattr(linker, "__name__", "linker"), error=str(exc)))
                continue
            store.write_batch(origin, facts, None, replace_gaps=True)
            reports.append(
                SourceReport(
                    origin,
                    nodes=_distinct_nodes(facts),
                    edges=len(facts.edges),
                    gaps=list(facts.gaps),
                    batches=1 if len(facts) else 0,
                    seconds=time.perf_counter() - started,
                )
            )
    return reports


def _distinct_nodes(facts: Facts) -> int:
    """Nodes a batch wrote: a source reports a node once per mention (a data version per stage using it)."""
    return len({node.id for node in facts.nodes})
