"""The footer of every screen, rebuilt only when the keys it shows change.

Textual's footer recomposes (unmounts and mounts a widget per key) on every bindings refresh: each
focus change, each ``refresh_bindings()``. On the node view that was most of a keypress's cost.
This one compares what it would show with what it has: keys it has but should not show now (the
model version actions on another kind of node) are hidden, others are enabled or disabled in place,
and only a key it does not have yet makes it recompose (with every key wanted then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

Shape = tuple[tuple[str, str, str, str, str, object], ...]


class ExplorerFooter(Footer):
    """A :class:`Footer` that recomposes only when its set of keys changes."""

    def __init__(self) -> None:
        super().__init__()
        self._shape: Shape | None = None
        self._pending = False

    def _wanted(self) -> tuple[Shape, dict[str, bool]]:
        """The keys the footer would show now (what decides its widgets) and whether each is enabled."""
        shape: list[tuple[str, str, str, str, str, object]] = []
        enabled: dict[str, bool] = {}
        palette = self.app.COMMAND_PALETTE_BINDING
        for key, (_, binding, is_enabled, tooltip) in self.screen.active_bindings.items():
            if not binding.show and key != palette:
                continue
            shape.append(
                (key, binding.action, binding.description, self.app.get_key_display(binding), tooltip, binding.group)
            )
            enabled[f"{binding.key}\0{binding.action}"] = is_enabled
        return tuple(shape), enabled

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._pending:
            return
        shape, enabled = self._wanted()
        if self._shape is not None and _subsequence(shape, self._shape):
            self._restyle(enabled)  # now, in the frame of the change that caused it: no frame of its own
            return
        self._pending = True  # several refreshes in one frame: one recompose after it
        self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shape, enabled = self._wanted()
        if self._shape is None or not _subsequence(shape, self._shape):
            self._shape = shape
            await self.recompose()
            return
        self._restyle(enabled)

    def _restyle(self, enabled: dict[str, bool]) -> None:
        """Hide the keys not wanted now, and enable or disable the others in place."""
        for key in self.query(FooterKey):
            state = enabled.get(f"{key.key}\0{key.action}")
            visible = state is not None or key.has_class("-command-palette")
            if key.display != visible:
                key.display = visible
            if state is not None and key._disabled == state:  # the footer keeps its state there
                key._disabled = not state
                key.set_class(not state, "-disabled")


def _subsequence(part: Shape, whole: Shape) -> bool:
    """Whether ``part`` is ``whole`` with some keys left out (in the same order)."""
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)
