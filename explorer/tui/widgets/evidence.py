"""What the focused edge rests on: which system said so, where, and by which rule."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from explorer.lineage import Edge, Evidence, Gap


class EvidencePanel(Static):
    """Shows the evidence of an edge, or the reason of a gap, wrapped (never cut)."""

    _shown: tuple[bool, Text] | None = None

    @property
    def shown_text(self) -> str:
        """What the panel shows, whole (the panel's height is fixed: a long locator can push lines out)."""
        return self._shown[1].plain if self._shown is not None else ""

    def _put(self, gap: bool, text: Text) -> None:
        """Show ``text``; the same text again (one key can highlight the same line twice) costs nothing."""
        if self._shown == (gap, text):
            return
        fitted = self._fits(text) and (self._shown is None or self._fits(self._shown[1]))
        self._shown = (gap, text)
        self.set_class(gap, "-gap")
        self.update(text, layout=not fitted)  # the panel's height is fixed: text that fits only repaints it

    def _fits(self, text: Text) -> bool:
        """Whether ``text`` surely fits the panel without scrolling (counted generously: words wrap)."""
        width, height = self.content_region.width, self.content_region.height
        if width < 10 or height < 1:
            return False
        lines = sum(line.cell_len // (width - 8) + 1 for line in text.split("\n", allow_blank=True))
        return lines <= height

    def show_edge(self, edge: Edge | None, also: tuple[Evidence, ...] = ()) -> None:
        if edge is None:
            self.show_text("Root node: move to an edge to see its evidence.")
            return
        self.show_evidence(str(edge.kind), edge.evidence, f"{edge.source} → {edge.target}", also)

    def show_evidence(self, kind: str, evidence: Evidence, ends: str, also: tuple[Evidence, ...] = ()) -> None:
        """An edge of any kind (trace documents may name kinds this version does not know), and the
        other evidence of the same edge."""
        text = Text()
        text.append(kind, style="bold")
        text.append(f" · said by {evidence.source}" + (f" (and {len(also)} more)" if also else "") + "\n")
        text.append("where ", style="dim")
        text.append(f"{evidence.locator}\n")
        text.append("rule  ", style="dim")
        text.append(f"{evidence.rule}\n")
        text.append("edge  ", style="dim")
        text.append(ends)
        for other in also:
            text.append(f"\nalso said by {other.source}: ", style="dim")
            text.append(f"{other.locator} ({other.rule})")
        self._put(False, text)

    def show_gap(self, gap: Gap) -> None:
        text = Text()
        text.append(f"gap: {gap.kind}\n", style="bold")
        text.append(f"{gap.reason}\n")
        if gap.locator:
            text.append("locator ", style="dim")
            text.append(f"{gap.locator}\n")
        if gap.candidates:
            text.append("candidates ", style="dim")
            text.append(", ".join(gap.candidates))
        self._put(True, text)

    def show_text(self, message: str) -> None:
        self._put(False, Text(message, style="dim"))
