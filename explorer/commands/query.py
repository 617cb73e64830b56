"""``mlprov ls / show / lineage / gaps``: answers from the store."""

from __future__ import annotations

import sys

import click
from rich.table import Table

from explorer.commands.common import EXIT_USAGE, emit_json, fail, open_store
from explorer.commands.render import console, edge_line, evidence_text, gap_lines, lineage_tree, node_panel
from explorer.graph import Direction, NodeNotFound
from explorer.graph import lineage as walk_lineage
from explorer.lineage import NodeKind
from explorer.resolve import RefError, resolve
from explorer.store import LineageStore

KIND_CHOICE = click.Choice([k.value for k in NodeKind])


def _resolve(store: LineageStore, ref: str) -> str:
    try:
        return resolve(store, ref)
    except RefError as exc:
        store.close()
        message = str(exc)
        if exc.candidates:
            message += " — candidates: " + ", ".join(exc.candidates[:10])
        fail(message)


@click.command()
@click.option("--kind", "kind", type=KIND_CHOICE, help="Only nodes of this kind.")
@click.option("--limit", type=int, default=None, help="At most this many nodes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of nodes.")
@click.pass_context
def ls(ctx: click.Context, kind: str | None, limit: int | None, as_json: bool) -> None:
    """List nodes in the store (all kinds, or one), or counts per kind with no --kind.

    \b
    Examples:
      mlprov ls                      counts per kind
      mlprov ls --kind model_version
      mlprov ls --kind data --json
    """
    store = open_store(ctx)
    if kind is None and not as_json and limit is None:
        counts = store.count_by_kind()
        table = Table(title=f"{sum(c.count for c in counts)} nodes, {store.count_edges()} edges")
        table.add_column("kind")
        table.add_column("nodes", justify="right")
        for c in counts:
            table.add_row(c.kind, str(c.count))
        console().print(table)
        store.close()
        return
    nodes = store.nodes(kind, limit=limit)
    store.close()
    if as_json:
        emit_json([n.to_dict() for n in nodes])
        return
    table = Table(show_header=True)
    table.add_column("id", overflow="fold")
    table.add_column("label", overflow="fold")
    for node in nodes:
        table.add_row(node.id, node.label)
    console().print(table)


@click.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print the node, its edges and gaps as JSON.")
@click.pass_context
def show(ctx: click.Context, ref: str, as_json: bool) -> None:
    """Show one node: its properties (params and metrics as tables), its edges with evidence, its gaps.

    REF is a canonical id, a unique id prefix, a commit sha prefix, models:/NAME/VERSION,
    models:/NAME@ALIAS, or PATH@REV for a DVC-tracked path at a git revision.
    """
    store = open_store(ctx)
    node_id = _resolve(store, ref)
    node = store.node(node_id)
    assert node is not None
    up = store.edges_from([node_id])
    down = store.edges_to([node_id])
    gaps = store.gaps([node_id])
    others = store.nodes_by_id([e.target for e in up] + [e.source for e in down])
    extras = _extras(store, node_id)
    store.close()
    if as_json:
        doc = node.to_dict()
        doc["upstream"] = [e.to_dict() for e in up]
        doc["downstream"] = [e.to_dict() for e in down]
        doc["gaps"] = [g.to_dict() for g in gaps]
        doc.update(extras)
        emit_json(doc)
        return
    out = console()
    out.print(node_panel(node))
    for key, value in extras.items():
        if key == "signatures" and isinstance(value, list):
            for sig in value:
                result = {True: "[green]verified[/]", False: "[red]FAILED[/]"}.get(sig["verified"], "not verified")
                who = sig["identity"] or "unknown signer"
                issuer = f" ({sig['issuer']})" if sig.get("issuer") else ""
                detail = f": {sig['detail']}" if sig.get("detail") else ""
                out.print(f"  signature [{sig['method']}] by {who}{issuer}: {result}{detail}")
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        out.print(f"[bold]{key}[/]: {shown or '-'}")
    if up:
        out.print("\n[bold]upstream[/]")
        for e in up:
            out.print(edge_line(e, others.get(e.target), e.target))
            out.print(evidence_text(e))
    if down:
        out.print("\n[bold]downstream[/]")
        for e in down[:50]:
            out.print(edge_line(e, others.get(e.source), e.source, arrow="←"))
            out.print(evidence_text(e))
        if len(down) > 50:
            out.print(f"… {len(down) - 50} more (mlprov lineage {node_id} --down)")
    for line in gap_lines(gaps):
        out.print(line)


def _extras(store: LineageStore, node_id: str) -> dict[str, object]:
    """Facts about a node that other capabilities add (signature status...), when they are installed."""
    try:
        from explorer.summaries import node_extras
    except ImportError:
        return {}
    extras: dict[str, object] = node_extras(store, node_id)
    return extras


@click.command()
@click.argument("ref")
@click.option("--up", "direction", flag_value="up", default=True, help="Where it came from (default).")
@click.option("--down", "direction", flag_value="down", help="What came from it.")
@click.option("--both", "direction", flag_value="both", help="Both ways.")
@click.option("--depth", type=click.IntRange(min=1), default=None, help="Stop after N hops.")
@click.option("--history", is_flag=True, help="Also follow commit parents (git history).")
@click.option("--no-evidence", is_flag=True, help="Hide the evidence line under each edge.")
@click.option("--json", "as_json", is_flag=True, help="Print {root, nodes, edges, gaps} as JSON.")
@click.pass_context
def lineage(
    ctx: click.Context, ref: str, direction: str, depth: int | None, history: bool, no_evidence: bool, as_json: bool
) -> None:
    """Show the lineage of REF: upstream (where it came from) or downstream (what used it).

    \b
    Examples:
      mlprov lineage models:/churn/3 --up
      mlprov lineage model.pkl@HEAD
      mlprov lineage data:md5:1a2b… --down --depth 2 --json
    """
    store = open_store(ctx)
    node_id = _resolve(store, ref)
    try:
        sub = walk_lineage(store, node_id, Direction(direction), depth, include_history=history)
    except NodeNotFound:
        store.close()
        fail(f"no node {node_id!r} in the store")
    store.close()
    if as_json:
        emit_json(sub.to_dict())
        return
    out = console()
    out.print(lineage_tree(sub, upstream=direction != "down", evidence=not no_evidence))
    shown = {g.subject for g in sub.gaps}
    orphan = [g for g in sub.gaps if g.subject not in sub.nodes or g.subject not in shown]
    for line in gap_lines(orphan):
        out.print(line)
    out.print(f"[dim]{len(sub.nodes)} nodes, {len(sub.edges)} edges, {len(sub.gaps)} gaps[/]")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print gaps as JSON.")
@click.option("--origin", default=None, help="Only gaps from this source (as `scan` names it).")
@click.pass_context
def gaps(ctx: click.Context, as_json: bool, origin: str | None) -> None:
    """List recorded gaps: links that should exist but could not be resolved, files that could not be read."""
    store = open_store(ctx)
    found = store.gaps(origin=origin)
    store.close()
    if as_json:
        emit_json([g.to_dict() for g in found])
        return
    out = console()
    for g in found:
        out.print(f"[yellow]{g.kind}[/] {g.reason}  [dim]{g.subject} {g.locator}[/]")
    out.print(f"[dim]{len(found)} gaps[/]")
    if not found:
        sys.exit(0)


_ = EXIT_USAGE
