"""What every subcommand shares: settings from the click context, opening the store, exits."""

from __future__ import annotations

import json
import math
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
    """``--json`` output: standard JSON, which has no NaN or Infinity (a locked `.nan` param, a NaN
    metric); those are written as null, as JavaScript's JSON does, so jq and strict readers accept it."""
    click.echo(json.dumps(_finite(document), indent=2, sort_keys=False, default=str, allow_nan=False))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
