"""Turning property values into one-line cells (with an ellipsis) and into their full text."""

from __future__ import annotations

import json
from typing import Any

ELLIPSIS = "…"


def one_line(value: Any) -> str:
    """A value as one line: strings as they are, everything else as compact JSON."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value.replace("\n", " ⏎ ")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, sort_keys=True, default=str)


def plural(count: int, noun: str) -> str:
    """``1 model version``, ``3 model versions`` (the nouns shown here all take an s)."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def full_text(value: Any) -> str:
    """A value in full, for the value viewer: strings verbatim, structures as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, ending with an ellipsis when anything was cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS


def clip_middle(text: str, width: int) -> str:
    """``text`` cut in the middle: its start and its end stay (a path's file name, a data version's
    ``@digest``, the ``dir:name`` of a GTO artifact are what tells one line from the next)."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    tail = width // 2
    head = width - 1 - tail
    return text[:head] + ELLIPSIS + text[len(text) - tail :]


def clip_left(text: str, width: int) -> str:
    """``text`` cut from the left (for breadcrumbs: the newest part matters)."""
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - max(0, width - 1) :]


def short_id(node_id: str) -> str:
    """A canonical id shortened for tables: long hex digests cut to 12 characters."""
    kind, _, rest = node_id.partition(":")
    if kind in ("commit", "signature", "run") and len(rest) > 12:
        return f"{kind}:{rest.removeprefix('sha256:')[:12]}"
    return node_id


def tab_labels(room: int, params: int, metrics: int, gaps: int) -> tuple[str, str, str, str]:
    """The node view's four tab labels, the longest set that fits ``room`` cells (a tab pads its label
    with a cell each side). The counts stay in every set: a cut one read "Gaps" for "Gaps 1"."""
    choices = (
        ("Properties", f"Params {params}", f"Metrics {metrics}", f"Gaps {gaps}"),
        ("Props", f"Params {params}", f"Metrics {metrics}", f"Gaps {gaps}"),
        ("Props", f"Par {params}", f"Met {metrics}", f"Gaps {gaps}"),
    )
    for labels in choices:
        if sum(len(label) + 2 for label in labels) <= room:
            return labels
    return ("P", f"Pa {params}", f"Me {metrics}", f"G {gaps}")
