"""``mlprov demo``: build the sample workspace, scan it, and open the explorer on it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from explorer.commands.richprogress import RichProgress
from explorer.config import settings_for
from explorer.scan import build_sources, configured_sources, run_scan
from explorer.store import LineageStore, StoreError


@click.command()
@click.option("--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("sample_workspace"),
              show_default=True, help="Where to build the sample workspace.")
@click.option("--rebuild", is_flag=True, help="Rebuild the workspace even when it exists.")
@click.option("--no-explorer", is_flag=True, help="Print a summary instead of opening the explorer.")
@click.pass_context
def demo(ctx: click.Context, dest: Path, rebuild: bool, no_explorer: bool) -> None:
    """Build the sample workspace with real git, DVC and MLflow, scan it, and open the explorer."""
    from sample_data.build import BuildError, build

    out = Console(stderr=True, highlight=False)
    if rebuild or not (dest / "mlprov.toml").exists():
        out.print(f"building the sample workspace in {dest} (real git, dvc repro, MLflow)…")
        try:
            build(dest, force=True)
        except BuildError as exc:
            click.echo(f"mlprov: sample build failed: {exc}", err=True)
            sys.exit(2)
    cfg = settings_for(dest, None if ctx.find_root().params.get("db") is None else ctx.find_root().params["db"])
    sources = build_sources(configured_sources(cfg), cfg)
    try:
        store = LineageStore.open(cfg.db_url)
    except StoreError as exc:
        click.echo(f"mlprov: {exc}", err=True)
        sys.exit(2)
    with RichProgress() as progress:
        reports = run_scan(store, sources, progress)
    for r in reports:
        status = r.error or ("up to date" if r.unchanged else f"{r.nodes} nodes, {r.edges} edges, {len(r.gaps)} gaps")
        out.print(f"[bold]{r.origin}[/]: {status}")
    ctx.find_root().obj = cfg
    if not no_explorer and sys.stdin.isatty() and sys.stdout.isatty():
        from explorer.commands.explore import explore  # imports Textual only now

        store.close()
        ctx.invoke(explore)
        return
    _summary(store)  # --no-explorer, or not a terminal (CI, a pipe): the summary instead
    store.close()


def _summary(store: LineageStore) -> None:
    from explorer.graph import lineage

    out = Console(highlight=False)
    counts = ", ".join(f"{c.count} {c.kind}" for c in store.count_by_kind())
    out.print(f"[bold]store[/]: {counts}; {store.count_edges()} edges")
    for node in store.nodes("model_version"):
        props = node.properties
        sub = lineage(store, node.id)
        commits = [n for n in sub.nodes.values() if n.kind == "commit"]
        data = [n for n in sub.nodes.values()
                if n.kind == "data" and str(n.properties.get("path", "")).startswith("data/")]
        stages = ",".join(props.get("stages") or []) or "-"
        out.print(
            f"[bold]{props.get('name')} {props.get('version')}[/] ({props.get('registry')}, stages: {stages}) "
            f"commit {commits[0].id[7:15] if commits else '?'}; data "
            + ", ".join(f"{d.properties.get('path')}={d.properties.get('digest', '')[:8]}" for d in data)
        )
