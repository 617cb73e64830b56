"""``mlprov explore`` (and ``mlprov`` alone): open the explorer on the workspace's lineage store."""

from __future__ import annotations

import click

from explorer.commands.common import open_store, settings


@click.command()
@click.option(
    "--theme",
    type=click.Choice(["dark", "light"]),
    default=None,
    help="Colour theme (default: [explorer] theme in mlprov.toml, else dark).",
)
@click.pass_context
def explore(ctx: click.Context, theme: str | None) -> None:
    """Open the explorer: models, lineage, trace, diff, ML-BOMs and signatures, keyboard first.

    Press ? inside for every key; Ctrl+P jumps to any node.
    """
    from explorer.tui.app import ExplorerApp  # Textual is imported only when the explorer opens

    cfg = settings(ctx)
    store = open_store(ctx)
    try:
        ExplorerApp(store, cfg, theme=theme).run()
    finally:
        store.close()
