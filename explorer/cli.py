"""The ``mlprov`` command: a thin click group over the public modules.

Subcommands live in :mod:`explorer.commands` and are imported only when invoked, so ``mlprov``
(which opens the explorer) never pays for importing MLflow, sigstore or the CycloneDX library.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import click

from explorer.config import ConfigError, settings_for

# name -> "module:attribute" of a click command. Order is the order in --help.
COMMANDS: dict[str, str] = {
    "scan": "explorer.commands.scan:scan",
    "ls": "explorer.commands.query:ls",
    "show": "explorer.commands.query:show",
    "lineage": "explorer.commands.query:lineage",
    "gaps": "explorer.commands.query:gaps",
    "trace": "explorer.commands.trace:trace",
    "diff": "explorer.commands.trace:diff",
    "bom": "explorer.commands.bom:bom",
    "sign": "explorer.commands.signing:sign",
    "verify": "explorer.commands.signing:verify",
    "demo": "explorer.commands.demo:demo",
    "explore": "explorer.commands.explore:explore",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None

    @staticmethod
    def _available(name: str) -> bool:
        module_name = COMMANDS[name].partition(":")[0]
        return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="MLPROV_DB",
    metavar="URL",
    help="Lineage store: a SQLAlchemy URL (sqlite:///…, postgresql+psycopg://…). "
    "Default: .mlprov/lineage.db in the workspace.",
)
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Workspace directory (holds mlprov.toml and .mlprov/). Default: the current directory.",
)
@click.version_option(package_name="mlprov")
@click.pass_context
def main(ctx: click.Context, db: str | None, workspace: Path | None) -> None:
    """mlprov: where did this model, this prediction, come from, and can we prove it?

    Run without a command to open the explorer on the workspace's lineage store.

    \b
    Exit codes: 0 success, 1 a check failed (verification, policy, not found in logs),
                2 bad usage or unreadable input.
    """
    try:
        ctx.obj = settings_for(workspace, db)
    except ConfigError as exc:
        click.echo(f"mlprov: {exc}", err=True)
        ctx.exit(2)
    if ctx.invoked_subcommand is None:
        explore = LazyGroup().get_command(ctx, "explore")
        if explore is None:
            click.echo(ctx.get_help())
            return
        ctx.invoke(explore)


def run(argv: list[str] | None = None) -> Any:
    """Entry point for tests and ``python -m explorer``."""
    return main.main(args=argv, prog_name="mlprov", standalone_mode=False)
