"""Command palette providers: jump to any node (fuzzy, by name, id or id prefix) and run any action."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from explorer.lineage import Node
from explorer.store import LineageStore

if TYPE_CHECKING:
    from explorer.tui.app import ExplorerApp

LIMIT = 40
# actions the palette lists by name already (the model version ones with the version's name), or that
# Textual's own commands list (quit), or the palette itself
_LISTED_ACTIONS = frozenset(
    {"go_home", "open_trace", "open_diff", "scan", "toggle_theme", "help", "bom", "verify", "diff_previous"}
    | {"quit", "command_palette"}
)


def find_nodes(store: LineageStore, query: str) -> list[Node]:
    """Candidates for a palette query, for the palette's fuzzy matcher to rank: id prefix hits; nodes
    holding the whole query; nodes holding every one of its words (``train v2``); and, while there are
    few, nodes holding its characters in order (``trainv2`` finds ``train-v2.0.0``).

    Only 40 hits of a common word (``train``) came back in id order: the node meant by the rest of
    the query was often not among them.
    """
    query = query.strip()
    if not query:
        return []
    found = store.nodes_by_id(store.ids_with_prefix(query, limit=LIMIT))
    words = query.split()
    searches: list[tuple[str | list[str], bool]] = [(query, False)]
    if len(words) > 1:
        searches.append((words, False))
    searches.append(("".join(words), True))
    for needle, subsequence in searches:
        if subsequence and len(found) >= LIMIT:
            break
        for node in store.search(needle, limit=LIMIT * 4 if subsequence else LIMIT, subsequence=subsequence):
            found.setdefault(node.id, node)
    return list(found.values())


def _names_by_prefix(node: Node, query: str) -> bool:
    """Whether ``query`` starts the node's id, with or without its ``kind:`` (``afdf89`` names
    ``commit:afdf89…``; a merge commit whose message mentions it does not)."""
    needle = query.strip().lower()
    if not needle:
        return False
    node_id = node.id.lower()
    return node_id.startswith(needle) or node_id.partition(":")[2].startswith(needle)


class NodeProvider(Provider):
    """Every node of the store, found through the store's search (in a thread: the UI never waits)."""

    @property
    def explorer(self) -> ExplorerApp:
        return cast("ExplorerApp", self.app)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        words = query.lower().split()
        # "train v2": Textual's matcher wants the space itself; a node holding every word ranks as if
        # the words had been typed together
        joined = self.matcher("".join(words)) if len(words) > 1 else None
        nodes = await asyncio.to_thread(find_nodes, self.explorer.store, query)
        scored = []
        for node in nodes:
            text = f"{node.label} {node.id}"
            low = text.lower()
            score = max(matcher.match(text), 0.5 if query.lower() in low else 0.0)
            if joined is not None and all(word in low for word in words):
                score = max(score, joined.match(text))
            if score > 0:
                scored.append((score, node))
        if scored:
            # a typed id or sha prefix means that node: above any other node whose text holds it
            # (stages locked at a commit carry its sha, merge messages mention it)
            top = max(score for score, _ in scored)
            scored = [(top + 1 if _names_by_prefix(node, query) else score, node) for score, node in scored]
        scored.sort(key=lambda item: (-item[0], item[1].id))
        for score, node in scored[:LIMIT]:
            display = Content.assemble(matcher.highlight(node.label or node.id), (f"  [{node.kind}]", "dim"))
            yield Hit(score, display, partial(self.explorer.open_node, node.id), text=node.label, help=node.id)


class ActionProvider(Provider):
    """The explorer's actions, including those on the model version in view."""

    @property
    def explorer(self) -> ExplorerApp:
        return cast("ExplorerApp", self.app)

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.explorer
        commands: list[tuple[str, Callable[[], object], str]] = [
            ("Models home", app.action_go_home, "Every registered model version"),
            ("Trace a prediction", app.action_open_trace, "Request id or log line → training"),
            ("Diff two model versions", app.action_open_diff, "Params, metrics, data, commits, image"),
            ("Scan sources", app.action_scan, "Scan what mlprov.toml lists, then refresh"),
            ("Toggle light/dark theme", app.action_toggle_theme, "mlprov-dark ↔ mlprov-light"),
            ("Show keys", app.action_help, "Every key and its id"),
        ]
        version = app.focused_model_version(self.screen)  # the screen under the palette
        if version is not None:
            short = version.removeprefix("model_version:")
            commands += [
                (f"Generate ML-BOM of {short}", partial(app.generate_bom, version), "CycloneDX 1.6, saved to a file"),
                (f"Verify signatures of {short}", partial(app.verify_signatures, version), "Against signers.yaml"),
                (f"Diff {short} against the version before", partial(app.open_diff_previous, version), ""),
            ]
        return commands + self._key_commands()

    def _key_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        """Every other key that applies on the screen under the palette (sort, back, expand, cancel...),
        named by its tooltip, run as the key would run it."""
        app = self.explorer
        out: list[tuple[str, Callable[[], object], str]] = []
        seen: set[str] = set()
        for key, (node, binding, enabled, tooltip) in self.screen.active_bindings.items():
            action = binding.action
            # only mlprov's own keys (they have ids): not the widgets' cursor and page keys
            if not binding.id or not enabled or action in _LISTED_ACTIONS or action in seen:
                continue
            seen.add(action)
            name = tooltip or binding.tooltip or binding.description or action
            out.append((name, partial(app.run_action, action, node), f"key {app.get_key_display(binding) or key}"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
