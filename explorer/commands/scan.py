"""``mlprov scan``: read sources into the lineage store."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console
from rich.markup import escape

from explorer.commands.common import EXIT_USAGE, emit_json, open_store, settings
from explorer.commands.richprogress import RichProgress
from explorer.scan import build_sources, configured_sources, run_scan


@click.command()
@click.option("--git", "git_paths", multiple=True, metavar="PATH",
              help="A git repository (with DVC or not). Repeatable.")
@click.option("--mlflow", "mlflow_uris", multiple=True, metavar="URI",
              help="An MLflow tracking URI (mlruns dir, sqlite:///…, postgresql://…, http(s)://…). Repeatable.")
@click.option("--registry", "registries", multiple=True, metavar="REF",
              help="A registry repository host:port/repo, or an OCI image layout directory. Repeatable.")
@click.option("--deployments", "deployments", multiple=True, metavar="PATH",
              help="A GitOps repository of Kubernetes manifests, or a JSONL deploy-event log. Repeatable.")
@click.option("--bom", "boms", multiple=True, metavar="FILE", help="A CycloneDX ML-BOM to record. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def scan(
    ctx: click.Context,
    git_paths: tuple[str, ...],
    mlflow_uris: tuple[str, ...],
    registries: tuple[str, ...],
    deployments: tuple[str, ...],
    boms: tuple[str, ...],
    as_json: bool,
    quiet: bool,
) -> None:
    """Scan sources into the lineage store (incremental: only what is new since the last scan).

    With no source options, scans what mlprov.toml lists under [scan]:

    \b
      [scan]
      git = ["."]
      mlflow = ["sqlite:///mlflow.db"]

    \b
    Examples:
      mlprov scan --git .
      mlprov scan --git ../models-repo --mlflow http://127.0.0.1:5000
    """
    cfg = settings(ctx)
    requested = {"git": git_paths, "mlflow": mlflow_uris, "registry": registries, "deployments": deployments,
                 "bom": boms}
    if not any(requested.values()):
        requested = {kind: tuple(locations) for kind, locations in configured_sources(cfg).items()}
        if not requested["mlflow"] and os.environ.get("MLFLOW_TRACKING_URI"):
            requested["mlflow"] = ("",)  # as MLflow itself does: the tracking URI of the environment
        if not any(requested.values()):
            click.echo("mlprov: nothing to scan: give --git PATH (or another source), or list sources under "
                       "[scan] in mlprov.toml", err=True)
            sys.exit(EXIT_USAGE)
    try:
        sources = build_sources(dict(requested), cfg)
    except KeyError as exc:
        click.echo(f"mlprov: scanning {exc.args[0]} sources is not available in this installation", err=True)
        sys.exit(EXIT_USAGE)
    store = open_store(ctx)
    with RichProgress(quiet=quiet or as_json) as progress:
        reports = run_scan(store, sources, progress)
    failed = [r for r in reports if r.error]
    if as_json:
        emit_json({
            "store": store.url.split("://", 1)[0],
            "sources": [
                {"origin": r.origin, "nodes": r.nodes, "edges": r.edges, "gaps": [g.to_dict() for g in r.gaps],
                 "unchanged": r.unchanged, "error": r.error, "notes": r.notes, "seconds": round(r.seconds, 3)}
                for r in reports
            ],
        })
    else:
        out = Console(highlight=False)
        for r in reports:
            if r.error or (r.unchanged and r.origin.startswith("link:")):
                continue
            state = "up to date" if r.unchanged else f"{r.nodes} nodes, {r.edges} edges, {len(r.gaps)} gaps"
            out.print(f"[bold]{r.origin}[/]: {state} ({r.seconds:.2f} s)")
            for note in r.notes:
                out.print(f"  [cyan]note[/] {escape(note)}")
            for gap in r.gaps[:20]:
                out.print(f"  [yellow]gap[/] {gap.reason}")
            if len(r.gaps) > 20:
                out.print(f"  … and {len(r.gaps) - 20} more gaps (mlprov gaps)")
        for r in failed:
            click.echo(f"mlprov: {r.origin}: {r.error}", err=True)
    store.close()
    if failed:
        sys.exit(EXIT_USAGE)
