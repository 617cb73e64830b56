"""Timestamps as the BOM writes them: RFC 3339 in UTC, whatever shape the source recorded."""

from __future__ import annotations

import os
from datetime import UTC, datetime


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from RFC 3339 text, MLflow's ``utc_time_created`` or epoch millis."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value  # MLflow keeps epoch milliseconds
        return datetime.fromtimestamp(seconds, UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # MLmodel's utc_time_created has no offset but is UTC by name
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def rfc3339(value: object) -> str | None:
    parsed = parse_time(value)
    if parsed is None:
        return None
    text = parsed.isoformat(timespec="microseconds" if parsed.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def source_date_epoch() -> datetime | None:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org), when set to an integer."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw.isdigit():
        return None
    return datetime.fromtimestamp(int(raw), UTC)
