"""Key remapping from ``mlprov.toml``::

    [keys]
    open-trace = "ctrl+t"
    node-back = "left,backspace"

Every binding has an id; users remap by id (Textual's keymap). :func:`keymap` validates the section.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding, BindingType

from explorer.config import Settings


def keymap(settings: Settings | None, known_ids: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """The ``[keys]`` section as a keymap, and one warning per entry that names no binding."""
    if settings is None:
        return {}, []
    known = set(known_ids)
    mapping: dict[str, str] = {}
    warnings: list[str] = []
    for binding_id, keys in settings.section("keys").items():
        if binding_id not in known:
            warnings.append(f"mlprov.toml [keys]: no binding with id {binding_id!r}")
        elif not isinstance(keys, str) or not keys.strip():
            warnings.append(f'mlprov.toml [keys]: {binding_id} must be a string of keys such as "ctrl+t"')
        else:
            mapping[binding_id] = keys
    return mapping, warnings


def bindings_of(bindings: Iterable[BindingType]) -> list[Binding]:
    """Only the :class:`Binding` objects of a BINDINGS list (tuples are not used in this app)."""
    return [b for b in bindings if isinstance(b, Binding)]


def effective_key(binding: Binding, mapping: dict[str, str]) -> str:
    """The key(s) a binding answers to after remapping, for the help screen."""
    return mapping.get(binding.id or "", binding.key)
