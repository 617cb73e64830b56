"""The footer of every screen, rebuilt only when the keys it shows change.

Textual's footer recomposes (unmounts and mounts a widget per key) on every bindings refresh: each
focus change, each ``refresh_bindings()``. On the node view that was most of a keypress's cost.
This one compares what it would show with what it has: keys it has but should not show now (the
model version actions on another kind of node) are hidden, others are enabled or disabled in place,
and only a key it does not have yet makes it recompose (with every key wanted then).

Hidden keys leave their width to a blank pad after the last key, so the footer's content keeps its
width: a changed content width would make Textual lay out the whole screen a second time, a frame
later (the footer is a scrolling container, and its virtual size is laid out). The pad shows the
footer's background, like the footer beyond its last key.

Keys that do not fit the footer's width (the node view's dozen keys at 80 columns) are hidden whole,
not cut mid-word, and the pad then starts with an ellipsis: ``?`` lists every key.

It hears of changed bindings at once, inside the ``refresh_bindings()`` call (Textual's footer hears
a message hop later): keys shown or hidden with the change that caused it are drawn in the same
frame, instead of in a frame of their own after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult, RenderResult
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen

HELP_ACTION = "help"  # the `?` key: kept in a footer too narrow for all its keys, since it lists them
Shape = tuple[tuple[str, str, str, str, str, object], ...]


class FooterPad(Widget):
    """Blank room standing in for the hidden keys (keeps the footer's content width); it starts with an
    ellipsis when keys were hidden for want of room."""

    DEFAULT_CSS = """
    FooterPad {
        width: 0;
        height: 1;
    }
    """

    overflowed = reactive(False, layout=False)

    def render(self) -> RenderResult:
        # a bare Widget renders its own class name: "FooterPad" showed in the footer
        return "…" if self.overflowed else ""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        # Textual lays the screen out again when a widget's virtual size changes (in case it scrolls
        # now); the pad has nothing in it to scroll, so its new width needs no second layout pass.
        return super()._size_updated(size, virtual_size, container_size, layout=False)


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

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if self._bindings_ready:
            yield FooterPad()

    def on_mount(self) -> None:
        self.call_next(self._listen_at_once)  # after Footer.on_mount, which subscribed for a later call

    def _listen_at_once(self) -> None:
        if not self.is_running or not self.is_attached:
            return  # removed meanwhile (a recompose, a screen closing)
        signal = self.screen.bindings_updated_signal
        signal.unsubscribe(self)
        signal.subscribe(self, self.bindings_changed, immediate=True)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._pending:
            return
        shape, enabled = self._wanted()
        if self._shape is not None and _subsequence(shape, self._shape):
            self._restyle(enabled)  # now, in the frame of the change that caused it: no frame of its own
            return
        self._pending = True  # several refreshes in one frame: one recompose after it
        # scheduled from the footer's own task (this may run in another widget's): the recompose binds
        # the keys' reactives to the footer it finds as the active message pump
        self.call_next(self.call_after_refresh, self._update_keys)

    async def _update_keys(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shape, enabled = self._wanted()
        if self._shape is None or not _subsequence(shape, self._shape):
            self._shape = shape
            await self.recompose()
            self._restyle(enabled)  # fitted before the new keys' first frame (a cut "q" flashed by)
            self.call_after_refresh(self._refit)  # and again with their laid-out widths
            return
        self._restyle(enabled)

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    def _refit(self) -> None:
        if self.is_attached and self._shape is not None:
            self._restyle(self._wanted()[1])

    def _restyle(self, enabled: dict[str, bool]) -> None:
        """Hide the keys not wanted now and those that do not fit, and enable or disable the others in place."""
        keys = [key for key in self.query(FooterKey) if not key.has_class("-command-palette")]
        wanted = [key for key in keys if f"{key.key}\0{key.action}" in enabled]
        shown = self._fitting(wanted)
        pad = 0
        for key in keys:
            state = enabled.get(f"{key.key}\0{key.action}")
            visible = key in shown
            if key.display != visible:
                key.display = visible
            if not visible:
                pad += _width(key)  # as wide as when it was last shown
            if state is not None and key._disabled == state:  # the footer keeps its state there
                key._disabled = not state
                key.set_class(not state, "-disabled")
        for filler in self.query(FooterPad):
            if filler.styles.width is None or filler.styles.width.value != pad:
                filler.styles.width = pad
            filler.overflowed = len(shown) < len(wanted)

    def _fitting(self, wanted: list[FooterKey]) -> set[FooterKey]:
        """The wanted keys that fit beside the palette key, in order; one cell is kept for an ellipsis
        when some do not, and the help key (which lists them all) is kept first. All of them before
        the footer is laid out (their widths are not known yet)."""
        room = self.size.width
        for key in self.query(FooterKey).filter(".-command-palette"):
            room -= _width(key) if key.display else 0
        widths = {key: _width(key) for key in wanted}
        if self.size.width == 0 or 0 in widths.values() or sum(widths.values()) <= room:
            return set(wanted)
        room -= 1
        shown = {key for key in wanted if key.action == HELP_ACTION and widths[key] <= room}
        used = sum(widths[key] for key in shown)
        for key in wanted:
            if key in shown:
                continue
            if used + widths[key] > room:
                break
            shown.add(key)
            used += widths[key]
        return shown


def _width(key: FooterKey) -> int:
    """The cells a key takes: as laid out, or (a key just composed, not laid out yet) as its text and
    padding measure, so a new set of keys is fitted before its first frame."""
    width = key.outer_size.width or key.get_content_width(Size(0, 0), Size(0, 0)) + key.styles.gutter.width
    return width + key.styles.margin.width


def _subsequence(part: Shape, whole: Shape) -> bool:
    """Whether ``part`` is ``whole`` with some keys left out (in the same order)."""
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)
