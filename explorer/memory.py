"""Memory-management helpers for bulk work (a scan batch builds and writes ~10^5 small objects)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that allocates many short-lived, acyclic objects.

    Building or writing a batch allocates tens of containers per record and no cycles; the collector
    would otherwise scan every live object several times over meanwhile (~15% of a scan). Reference
    counting still frees everything; the collector is restored as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
