"""The path walked in the node view, newest on the right; cut on the left with an ellipsis."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Static

from explorer.tui.data.text import ELLIPSIS

SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "


class Breadcrumb(Static):
    """Labels of the visited nodes; the current one in bold."""

    DEFAULT_CSS = """
    Breadcrumb {
        height: 1;  /* one line always: a new trail repaints it without re-laying out the screen */
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._labels: list[str] = []
        self._drawn = Text()

    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    def show(self, labels: list[str]) -> None:
        self._labels = list(labels)
        self._draw()

    def on_resize(self, _event: events.Resize) -> None:
        self._draw()

    def _draw(self) -> None:
        width = max(10, self.size.width or 80)
        parts = list(self._labels)
        # drop the oldest crumbs until the trail fits, then say something was dropped
        dropped = False
        while len(parts) > 1 and len(SEPARATOR.join(parts)) + (2 if dropped else 0) > width:
            parts.pop(0)
            dropped = True
        text = Text(f"{ELLIPSIS}{SEPARATOR}" if dropped else "", style="dim")
        for index, label in enumerate(parts):
            last = index == len(parts) - 1
            if last and len(label) > width - len(text):
                label = label[: max(1, width - len(text) - 1)] + ELLIPSIS
            text.append(label, style="bold" if last else "")
            if not last:
                text.append(SEPARATOR, style="dim")
        if text != self._drawn:
            self._drawn = text
            self.update(text, layout=False)
