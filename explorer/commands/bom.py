"""``mlprov bom``: write an ML-BOM (CycloneDX 1.6/1.7 or SPDX 3.0.1) of a model, or validate any BOM."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, cast

import click

from explorer.commands.common import EXIT_CHECK_FAILED, emit_json, fail, open_store
from explorer.files import write_atomically
from explorer.lineage import NodeKind, kind_of
from explorer.resolve import RefError, resolve
from sbom.artifacts import ArtifactError
from sbom.facts import MLModelFacts
from sbom.generate import default_filename, generate
from sbom.validate import BomReadError, validate_file


@click.command("bom")
@click.argument("ref", required=False)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Where to write the BOM ('-' for stdout). Default: <name>-<version>.cdx.json (.spdx.json for SPDX).",
)
@click.option(
    "--spec-version",
    type=click.Choice(["1.6", "1.7"]),
    default="1.6",
    show_default=True,
    help="CycloneDX specification version.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclonedx", "spdx3"]),
    default="cyclonedx",
    show_default=True,
    help="cyclonedx (JSON) or spdx3 (SPDX 3.0.1 JSON-LD, AI and Dataset profiles).",
)
@click.option(
    "--json-summary", is_flag=True, help="Print a JSON summary (what was written, validity, notes)."
)
@click.option(
    "--validate",
    "validate_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Validate an existing CycloneDX JSON BOM (any tool's) instead of writing one.",
)
@click.option(
    "--name", help="Registered model name, for a model directory REF (the directory does not record it)."
)
@click.option("--model-version", help="Registered version, for a model directory REF.")
@click.pass_context
def bom(
    ctx: click.Context,
    ref: str | None,
    output: str | None,
    spec_version: str,
    fmt: str,
    json_summary: bool,
    validate_path: Path | None,
    name: str | None,
    model_version: str | None,
) -> None:
    """Write the ML-BOM of a model version, filled from recorded lineage; exit 0 only when it validates.

    \b
    REF is one of:
      models:/NAME/VERSION   models:/NAME@ALIAS   model_version:NAME/VERSION (from the store)
      a path to an MLflow model directory (no store needed)
    \b
    Examples:
      mlprov bom models:/churn/3
      mlprov bom models:/churn@champion --spec-version 1.7 -o churn.cdx.json
      mlprov bom ./mlruns/1/models/m-1234/artifacts --name churn --model-version 3
      mlprov bom --validate vendor-model.cdx.json
    \b
    Exit codes: 0 valid BOM written (or validated), 1 the BOM fails validation, 2 bad usage or input.
    """
    if validate_path is not None:
        if ref is not None:
            fail("give either REF or --validate FILE, not both")
        _validate(validate_path, json_summary)
        return
    if ref is None:
        fail("missing REF: a models:/ URI, a model_version id or an MLflow model directory (see --help)")
    facts = _facts(ctx, ref, name, model_version)
    out_fmt = cast(Literal["cyclonedx", "spdx3"], fmt)
    result = generate(facts, out_fmt, cast(Literal["1.6", "1.7"], spec_version))
    for note in facts.notes:
        click.echo(f"mlprov: note: {note}", err=True)
    target = output or default_filename(facts, out_fmt)
    if not result.report.ok:
        # an invalid BOM is not shipped: nothing is written, the reasons are
        for error in result.report.errors:
            click.echo(f"mlprov: invalid BOM: {error}", err=True)
        if json_summary:
            emit_json({**result.summary, "path": None})
        raise SystemExit(EXIT_CHECK_FAILED)
    if target == "-":
        click.echo(result.text, nl=False)
    else:
        _write_atomically(Path(target), result.text)
    if json_summary:
        emit_json({**result.summary, "path": None if target == "-" else str(Path(target))})
    elif target != "-":
        s = result.summary
        subject = " ".join(str(x) for x in (s["subject"]["name"], s["subject"]["version"]) if x)
        click.echo(
            f"wrote {target}: {fmt} {s['spec_version']} of {subject} ({s['model_files']} files,"
            f" {s['libraries']} libraries, {s['datasets']} datasets, {s['workflows']} workflows); valid"
        )


def _facts(ctx: click.Context, ref: str, name: str | None, version: str | None) -> MLModelFacts:
    path = Path(ref)
    if not ref.startswith("models:/") and ":" not in ref.split("/", 1)[0] and path.exists():
        if not path.is_dir():
            fail(f"{ref} is a file: give an MLflow model directory (the one holding MLmodel)")
        from sbom.mlflow_dir import facts_from_model_dir

        try:
            return facts_from_model_dir(path, name=name, version=version)
        except ArtifactError as exc:
            fail(str(exc))
    if name or version:
        fail("--name/--model-version apply to a model directory REF; the store knows a version's name")
    from sbom.lineage_facts import facts_from_store

    store = open_store(ctx, create=False)
    try:
        try:
            node_id = resolve(store, ref)
        except RefError as exc:
            message = str(exc)
            if exc.candidates:
                message += " — candidates: " + ", ".join(exc.candidates[:10])
            fail(message)
        if kind_of(node_id) not in (NodeKind.MODEL_VERSION, NodeKind.MODEL):
            fail(f"{ref} resolves to {node_id}, not a model version: give models:/NAME/VERSION")
        try:
            return facts_from_store(store, node_id)
        except ArtifactError as exc:
            fail(str(exc))
    finally:
        store.close()


def _validate(path: Path, json_summary: bool) -> None:
    try:
        report = validate_file(path)
    except BomReadError as exc:
        fail(str(exc))
    if json_summary:
        emit_json({"path": str(path), **report.to_dict()})
    elif report.ok:
        click.echo(f"{path}: valid CycloneDX {report.spec_version} (schema and every ref)")
    else:
        for error in report.errors:
            click.echo(f"{path}: {error}")
    if not report.ok:
        raise SystemExit(EXIT_CHECK_FAILED)


def _write_atomically(target: Path, text: str) -> None:
    """Write the BOM, or exit 2 naming the file: a failure never leaves half a BOM behind."""
    try:
        write_atomically(target, text)
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
