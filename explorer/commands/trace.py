"""``mlprov trace`` (a logged prediction back to code, data and hyperparameters) and ``mlprov diff``."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from explorer.commands.common import EXIT_CHECK_FAILED, EXIT_USAGE, emit_json, fail, open_store, settings
from explorer.commands.render import console, kv_table, scalar
from explorer.diff import DiffError, ModelDiff, diff_models
from explorer.lineage import EdgeKind
from explorer.log_formats import PredictionRecord
from explorer.predictions import LogConfigError, SearchResult
from explorer.times import iso
from explorer.trace import DuplicateRequest, Trace, TraceError, trace_request


@click.command()
@click.argument("request_id")
@click.option("--log", "logs", multiple=True, metavar="GLOB|NAME",
              help="Prediction logs to search: a glob (format detected) or a [predictions.NAME] table. Repeatable. "
                   "Default: [trace] logs in mlprov.toml, else every [predictions.*] table.")
@click.option("--json", "as_json", is_flag=True, help="Print {root, nodes, edges, gaps, chain, stopped, record}.")
@click.pass_context
def trace(ctx: click.Context, request_id: str, logs: tuple[str, ...], as_json: bool) -> None:
    """Trace logged prediction REQUEST_ID to the deployment, image, model version, run, commit and data
    that produced it.

    \b
    Exit codes: 0 traced (a hop that cannot be resolved is shown as a gap), 1 the request id is in
    no log searched, 2 bad usage, or the id is found more than once.

    \b
    Examples:
      mlprov trace req-7f3a9c
      mlprov trace 3b1f… --log 'logs/kserve/**/*.jsonl' --json
    """
    cfg = settings(ctx)
    if not logs and not cfg.section("trace").get("logs") and not cfg.section("predictions"):
        fail("no prediction logs to search: give --log GLOB, or list them under [trace] logs in mlprov.toml")
    store = open_store(ctx)
    try:
        found = trace_request(store, cfg, request_id, logs)
    except LogConfigError as exc:
        fail(str(exc))
    except TraceError as exc:
        _warn(exc.search)
        click.echo(f"mlprov: {exc}", err=True)
        for record in exc.search.records:
            click.echo(f"  {_record_line(record)}", err=True)
        sys.exit(EXIT_USAGE if isinstance(exc, DuplicateRequest) else EXIT_CHECK_FAILED)
    finally:
        store.close()
    if found.search is not None:
        _warn(found.search)
    if as_json:
        emit_json(found.to_dict())
        return
    render_trace(found, console())


def _warn(search: SearchResult) -> None:
    for problem in search.problems:
        click.echo(f"mlprov: warning: {problem}", err=True)
    if search.invalid_lines:
        click.echo(f"mlprov: skipped {search.invalid_lines} log line(s) that are not valid JSON", err=True)


def _record_line(record: PredictionRecord) -> str:
    when = iso(record.time) if record.time else "no time"
    where = "/".join(p for p in (record.environment, record.endpoint) if p) or "unknown endpoint"
    role = f" ({record.role})" if record.role else ""
    return f"{when}  {where}{role}  [{record.format}]  {record.file}"


def render_trace(found: Trace, out: Console) -> None:
    record = found.record
    out.print(Text.assemble(("prediction ", "bold"), (record.request_id, "bold cyan"), "  ", _record_line(record)))
    if record.outputs is not None:
        out.print(Text(f"  output: {_short(record.outputs)}", style="dim"))
    for edge in found.hops:
        node = found.nodes.get(edge.target)
        label = node.label if node and node.label else edge.target
        kind = f"[{node.kind}]" if node else ""
        out.print(Text.assemble("  → ", (f"{edge.kind} ", "magenta"), (label, "bold"), f" {kind} ",
                                (edge.target, "dim")))
        out.print(Text(f"      evidence: {edge.evidence.source} · {edge.evidence.locator} · {edge.evidence.rule}",
                       style="dim"))
    if found.stopped is not None:
        stop = found.stopped
        out.print(Text.assemble(("  ✗ stopped: ", "bold red"), stop.reason, (f"  [{stop.kind}]", "dim")))
        for candidate in found.stopped.candidates[:10]:
            out.print(Text(f"      candidate: {candidate}", style="yellow"))
    for edge in found.side:
        if edge.kind in (EdgeKind.BUILT_FROM, EdgeKind.REGISTERED_AT):
            out.print(Text(f"  · {edge.source.rsplit('@', 1)[0]} {edge.kind} {edge.target}  "
                           f"({edge.evidence.rule})", style="dim"))
    for gap in found.gaps:
        if gap is not found.stopped:
            out.print(Text.assemble(("  gap ", "yellow"), gap.reason, (f"  [{gap.kind}]", "dim")))
    _summary(found, out)


def _summary(found: Trace, out: Console) -> None:
    out.print()
    commit = found.commit()
    if commit is not None:
        p = commit.properties
        subject = str(p.get("message", "")).splitlines()[0] if p.get("message") else ""
        out.print(Text.assemble(("commit ", "bold"), str(p.get("sha", commit.id))[:12], "  ", subject,
                                (f"  {p.get('author', '')} {p.get('committed_at', '')}", "dim")))
    training = found.training or {}
    if training.get("params"):
        out.print(kv_table("hyperparameters", dict(training["params"])))
    if training.get("metrics"):
        out.print(kv_table("metrics", dict(training["metrics"])))
    if training.get("data"):
        out.print(kv_table("data versions", dict(training["data"])))


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


@click.command()
@click.argument("ref_a")
@click.argument("ref_b")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
@click.pass_context
def diff(ctx: click.Context, ref_a: str, ref_b: str, as_json: bool) -> None:
    """What changed from REF_A to REF_B (model versions, models or runs): params, metrics, data versions,
    commits between them with files changed, images and dependencies.

    \b
    Examples:
      mlprov diff models:/churn-model/3 models:/churn-model/4
      mlprov diff run:1a2b… run:3c4d… --json
    """
    store = open_store(ctx)
    try:
        result = diff_models(store, ref_a, ref_b)
    except DiffError as exc:
        fail(str(exc))
    finally:
        store.close()
    if as_json:
        emit_json(result.to_dict())
        return
    render_diff(result, console())


def render_diff(result: ModelDiff, out: Console) -> None:
    out.print(Text.assemble(("diff ", "bold"), result.a.node.label or result.a.ref, " → ",
                            result.b.node.label or result.b.ref))
    for title, rows in (("params", result.params), ("metrics", result.metrics), ("data versions", result.data),
                        ("images", result.images), ("dependencies", result.dependencies)):
        if not rows:
            out.print(Text(f"{title}: unchanged", style="dim"))
            continue
        table = Table(title=title, title_justify="left", title_style="bold")
        table.add_column("name")
        table.add_column("old", overflow="fold")
        table.add_column("new", overflow="fold")
        for change in rows:
            table.add_row(change.name, scalar(change.old), scalar(change.new))
        out.print(table)
    if result.commits:
        out.print(Text(f"commits between ({len(result.commits)})", style="bold"))
        for commit in result.commits:
            out.print(Text.assemble("  ", (commit.sha[:12], "cyan"), f"  {commit.message}  ", (commit.author, "dim")))
            for status, path in commit.files[:30]:
                out.print(Text(f"      {status} {path}", style="dim"))
    for note in result.notes:
        out.print(Text(f"note: {note}", style="yellow"))
