"""What every subcommand shares: settings from the click context, opening the store, exits."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from explorer.config import Settings
from explorer.store import LineageStore, StoreError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2


def settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if not isinstance(obj, Settings):
        raise click.UsageError("internal: settings missing from the context")
    return obj


def open_store(ctx: click.Context, *, create: bool = True) -> LineageStore:
    """Open the workspace's store or exit 2 with a one-line reason."""
    try:
        return LineageStore.open(settings(ctx).db_url, create=create)
    except StoreError as exc:
        fail(str(exc))


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line on stderr and exit with ``code`` (2: bad usage or input)."""
    click.echo(f"mlprov: {message}", err=True)
    sys.exit(code)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, sort_keys=False, default=str))
