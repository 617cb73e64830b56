"""Times as the store and the JSON output write them: RFC 3339 in UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_seconds(ts: int) -> str:
    """Epoch seconds (git's commit times) as RFC 3339 UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def iso(value: datetime) -> str:
    """A datetime as RFC 3339 UTC (a naive one is taken as local time, as :meth:`datetime.astimezone` does)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
