"""Back/forward history of the node view, like a browser's, and the trail its breadcrumb shows."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class History:
    """Visited node ids; ``current`` is the one shown."""

    back_stack: list[str] = field(default_factory=list)
    forward_stack: list[str] = field(default_factory=list)
    current: str | None = None

    def visit(self, node_id: str) -> None:
        """Go to a new node: the current one goes on the back stack, forward is forgotten."""
        if node_id == self.current:
            return
        if self.current is not None:
            self.back_stack.append(self.current)
        self.current = node_id
        self.forward_stack.clear()

    def back(self) -> str | None:
        """Step back; returns the new current id, or None when there is nothing behind."""
        if not self.back_stack or self.current is None:
            return None
        self.forward_stack.append(self.current)
        self.current = self.back_stack.pop()
        return self.current

    def forward(self) -> str | None:
        """Step forward again after :meth:`back`."""
        if not self.forward_stack or self.current is None:
            return None
        self.back_stack.append(self.current)
        self.current = self.forward_stack.pop()
        return self.current

    @property
    def trail(self) -> list[str]:
        """The path walked up to the current node, oldest first."""
        return [*self.back_stack, *([self.current] if self.current else [])]
