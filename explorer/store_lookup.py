"""Answers from an existing lineage store for sources that meet references by tag or URI.

The deployment source gets this through its factory, so the source itself never opens the store;
the store is opened lazily, when a manifest first needs it, and read once.
"""

from __future__ import annotations

from explorer.lineage import Node
from explorer.store import LineageStore, StoreError


class StoreLookup:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        self._images: list[Node] | None = None
        self._models: list[Node] | None = None

    def _load(self) -> None:
        if self._images is not None:
            return
        try:
            store = LineageStore.open(self.db_url, create=False)
        except StoreError:
            self._images, self._models = [], []
            return
        try:
            self._images = store.nodes("image")
            self._models = store.nodes("model") + store.nodes("model_version")
        finally:
            store.close()

    def images_with_tag(self, repository: str, tag: str) -> list[str]:
        """Images of ``repository`` that carried ``tag`` (platform children excluded)."""
        self._load()
        return [n.id for n in self._images or []
                if n.properties.get("repository") == repository and tag in (n.properties.get("tags") or [])]

    def models_at_uri(self, uri: str) -> list[str]:
        """Models whose artifact location, or model versions whose source, is ``uri``."""
        self._load()
        wanted = uri.rstrip("/")
        hits = []
        for node in self._models or []:
            props = node.properties
            places = [props.get("artifact_location"), props.get("source"), props.get("storage_location")]
            if any(isinstance(p, str) and p.rstrip("/") == wanted for p in places):
                hits.append(node.id)
        return hits
