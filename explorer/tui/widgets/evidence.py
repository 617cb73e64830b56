"""What the focused edge rests on: which system said so, where, and by which rule."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from explorer.lineage import Edge, Evidence, Gap


class EvidencePanel(Static):
    """Shows the evidence of an edge, or the reason of a gap, wrapped (never cut)."""

    def show_edge(self, edge: Edge | None) -> None:
        if edge is None:
            self.show_text("Root node: move to an edge to see its evidence.")
            return
        self.show_evidence(str(edge.kind), edge.evidence, f"{edge.source} → {edge.target}")

    def show_evidence(self, kind: str, evidence: Evidence, ends: str) -> None:
        """An edge of any kind (trace documents may name kinds this version does not know)."""
        self.set_class(False, "-gap")
        text = Text()
        text.append(kind, style="bold")
        text.append(f" · said by {evidence.source}\n")
        text.append("where ", style="dim")
        text.append(f"{evidence.locator}\n")
        text.append("rule  ", style="dim")
        text.append(f"{evidence.rule}\n")
        text.append("edge  ", style="dim")
        text.append(ends)
        self.update(text)

    def show_gap(self, gap: Gap) -> None:
        self.set_class(True, "-gap")
        text = Text()
        text.append(f"gap: {gap.kind}\n", style="bold")
        text.append(f"{gap.reason}\n")
        if gap.locator:
            text.append("locator ", style="dim")
            text.append(f"{gap.locator}\n")
        if gap.candidates:
            text.append("candidates ", style="dim")
            text.append(", ".join(gap.candidates))
        self.update(text)

    def show_text(self, message: str) -> None:
        self.set_class(False, "-gap")
        self.update(Text(message, style="dim"))
