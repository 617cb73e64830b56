"""Short facts about a node that `show` prints beside its properties: signed by whom, BOMs, deployments.

Derived from the graph (signature/bom/deployment nodes pointing at the node), never stored twice.
"""

from __future__ import annotations

from typing import Any

from explorer.lineage import EdgeKind, NodeKind
from explorer.store import LineageStore


def signature_status(store: LineageStore, node_id: str) -> dict[str, Any]:
    """Whether a model / model version is signed, by whom, and whether the signature verified last time."""
    subjects = [node_id]
    # a version is signed when its model's artifacts are: follow version_of one hop
    subjects += [e.target for e in store.edges_from([node_id], [EdgeKind.VERSION_OF])]
    signs = store.edges_to(subjects, [EdgeKind.SIGNS])
    nodes = store.nodes_by_id(e.source for e in signs)
    signatures = []
    for edge in signs:
        sig = nodes.get(edge.source)
        if sig is None or sig.kind != NodeKind.SIGNATURE:
            continue
        props = sig.properties
        signatures.append(
            {
                "id": sig.id,
                "method": props.get("method"),
                "identity": props.get("identity"),
                "issuer": props.get("issuer"),
                "verified": props.get("verified"),
                "verified_at": props.get("verified_at"),
                "detail": props.get("verification_detail"),
            }
        )
    if not signatures:
        state = "unsigned"
    elif any(s["verified"] is True for s in signatures):
        state = "verified"
    elif any(s["verified"] is False for s in signatures):
        state = "failed"
    else:
        state = "signed, not verified"
    return {"state": state, "signatures": signatures}


def node_extras(store: LineageStore, node_id: str) -> dict[str, object]:
    """Extra facts for `mlprov show`, by node kind."""
    kind = node_id.partition(":")[0]
    if kind not in (NodeKind.MODEL_VERSION, NodeKind.MODEL):
        return {}
    extras: dict[str, object] = {}
    status = signature_status(store, node_id)
    extras["signed"] = status["state"]
    if status["signatures"]:
        extras["signatures"] = status["signatures"]
    boms = [e.source for e in store.edges_to([node_id], [EdgeKind.DESCRIBES])]
    extras["boms"] = boms
    deployments = store.nodes_by_id(e.source for e in store.edges_to([node_id], [EdgeKind.SERVES]))
    live = [d.id for d in deployments.values() if not d.properties.get("until")]
    if live:
        extras["deployed"] = live
    return extras
