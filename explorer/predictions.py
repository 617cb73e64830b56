"""Find one request in prediction logs where they lie: DuckDB over JSONL, CSV and Parquet files.

Nothing is copied into the store. Parquet and CSV are filtered by DuckDB on the request-id
column (partition folders such as ``date=2026-03-01/`` are read as columns); JSONL is scanned
as text lines, so one malformed line is skipped and counted instead of failing the file, and only
lines that contain the id are parsed. Log sets come from ``--log`` and ``mlprov.toml``::

    [trace]
    logs = ["logs/kserve/**/*.jsonl", "staging_batch"]   # globs, or names of [predictions.*] tables

    [predictions.staging_batch]
    paths = ["logs/batch/**/*.parquet"]
    format = "generic"            # auto | kserve | mlserver | databricks | sagemaker | generic
    request_id = "req_id"         # field (dotted path into JSON) per record property
    time = "ts"
    time_unit = "ms"              # epoch unit when the time is a number (default: by magnitude)
    model_version = "model_version"
    [predictions.staging_batch.set]
    endpoint = "churn-batch"      # constants for what the log does not carry
    environment = "staging"
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from explorer.log_formats import FORMATS, PredictionRecord, read_record

ID_COLUMNS = {
    "databricks": ("databricks_request_id", "client_request_id"),
    "sagemaker": (),
    "auto": ("request_id", "requestId", "id", "inference_id"),
}
_SEP = chr(31)  # a unit separator cannot occur raw in valid JSON: each line reads as one column


class LogConfigError(Exception):
    """``[trace]`` or ``[predictions.*]`` in mlprov.toml is wrong: names the key."""


@dataclass(slots=True)
class LogSet:
    """Files of one format: a ``[predictions.<name>]`` table or a ``--log`` glob (format detected)."""

    name: str
    patterns: list[str]
    format: str = "auto"
    mapping: dict[str, Any] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)

    def files(self, con: duckdb.DuckDBPyConnection) -> list[str]:
        """Files the patterns match (DuckDB's glob: several times faster than Python's on ``**``)."""
        found: list[str] = []
        for pattern in self.patterns:
            if Path(pattern).is_dir():
                pattern = str(Path(pattern) / "**" / "*")
            try:
                found.extend(str(row[0]) for row in con.execute("SELECT file FROM glob(?)", [pattern]).fetchall())
            except duckdb.Error:
                continue
        return sorted(f for f in dict.fromkeys(found) if Path(f).is_file())


@dataclass(slots=True)
class SearchResult:
    records: list[PredictionRecord]
    searched: list[str]  # the patterns searched, as given
    files: int = 0
    invalid_lines: int = 0
    problems: list[str] = field(default_factory=list)


def log_sets(config: dict[str, Any], workspace: Path, cli_logs: tuple[str, ...] = ()) -> list[LogSet]:
    """The log sets to search: ``--log`` values when given, else ``[trace] logs``, else every table."""
    tables = config.get("predictions") or {}
    if not isinstance(tables, dict):
        raise LogConfigError("mlprov.toml: [predictions] must be a table of named log sets")
    named = {name: _table(name, spec, workspace) for name, spec in tables.items()}
    wanted = list(cli_logs) or list((config.get("trace") or {}).get("logs") or []) or list(named)
    sets: list[LogSet] = []
    for item in wanted:
        if item in named:
            sets.append(named[item])
        else:
            sets.append(LogSet(item, [_absolute(item, workspace)]))
    return sets


def _table(name: str, spec: Any, workspace: Path) -> LogSet:
    if not isinstance(spec, dict):
        raise LogConfigError(f"mlprov.toml: [predictions.{name}] must be a table")
    paths = spec.get("paths") or spec.get("path")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise LogConfigError(f"mlprov.toml: [predictions.{name}] needs paths = [\"glob\", ...]")
    fmt = str(spec.get("format", "auto"))
    if fmt not in FORMATS:
        raise LogConfigError(f"mlprov.toml: [predictions.{name}] format {fmt!r}: expected one of {', '.join(FORMATS)}")
    mapping = {k: v for k, v in spec.items() if k not in ("paths", "path", "format", "set")}
    if fmt == "generic" and not mapping.get("request_id"):
        raise LogConfigError(f"mlprov.toml: [predictions.{name}] format generic needs request_id = \"<field>\"")
    constants = spec.get("set") or {}
    return LogSet(name, [_absolute(str(p), workspace) for p in paths], fmt, mapping, dict(constants))


def _absolute(pattern: str, workspace: Path) -> str:
    path = Path(pattern).expanduser()
    return str(path if path.is_absolute() else workspace / path)


def find_request(request_id: str, sets: list[LogSet]) -> SearchResult:
    """Every record of ``request_id`` in the log sets (request/response events joined)."""
    result = SearchResult([], [s.name for s in sets])
    con = _engine().cursor()  # a cursor per search: the explorer may search from a worker thread
    try:
        found: list[PredictionRecord] = []
        for log in sets:
            files = log.files(con)
            result.files += len(files)
            if not files:
                result.problems.append(f"{log.name}: no files match")
                continue
            by_type: dict[str, list[str]] = defaultdict(list)
            for f in files:
                by_type[_file_type(f)].append(f)
            for kind, group in by_type.items():
                try:
                    if kind == "parquet" or kind == "csv":
                        found.extend(_search_table(con, kind, group, request_id, log, result))
                    else:
                        found.extend(_search_lines(con, group, request_id, log, result))
                except duckdb.Error as exc:
                    result.problems.append(f"{log.name}: {str(exc).splitlines()[0]}")
        result.records = join_events(found)
    finally:
        con.close()
    return result


_ENGINE: list[duckdb.DuckDBPyConnection] = []


def _engine() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process: opening one costs more than a lookup in a small log."""
    if not _ENGINE:
        _ENGINE.append(duckdb.connect())
    return _ENGINE[0]


def _file_type(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".parquet"):
        return "parquet"
    if lower.endswith((".csv", ".tsv")):
        return "csv"
    return "jsonl"


def _search_lines(con: duckdb.DuckDBPyConnection, files: list[str], request_id: str, log: LogSet,
                  result: SearchResult) -> list[PredictionRecord]:
    sql = (
        "SELECT filename, line, json_valid(line) AS ok FROM read_csv(?, columns={'line': 'VARCHAR'}, "
        f"header=false, delim='{_SEP}', quote='', escape='', filename=true, auto_detect=false, "
        "strict_mode=false, max_line_size=67108864) "
        "WHERE contains(line, ?) OR (NOT json_valid(line) AND trim(line) <> '')"
    )
    records: list[PredictionRecord] = []
    for filename, line, ok in con.execute(sql, [files, request_id]).fetchall():
        if not ok:
            result.invalid_lines += 1
            continue
        doc = json.loads(line)
        if not isinstance(doc, dict):
            continue
        record = read_record(doc, log.format, filename, log.mapping, log.constants)
        if record is not None and request_id in record.ids.values():
            records.append(record)
    return records


def _search_table(con: duckdb.DuckDBPyConnection, kind: str, files: list[str], request_id: str, log: LogSet,
                  result: SearchResult) -> list[PredictionRecord]:
    reader = "read_parquet" if kind == "parquet" else "read_csv"
    # filename as a virtual column: the filename=true option costs as much again as the lookup
    options = "hive_partitioning=true, union_by_name=true"
    # the schema of one file says which columns hold ids: reading every footer first would double the work
    columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}(?, {options})", [files[:1]]).fetchall()]
    candidates = [str(log.mapping["request_id"]).split(".")[0]] if log.mapping.get("request_id") else [
        c for c in (*ID_COLUMNS["databricks"], *ID_COLUMNS["auto"]) if c in columns]
    candidates = [c for c in candidates if c in columns]
    if not candidates:
        result.problems.append(f"{log.name}: no request-id column in {Path(files[0]).name} (columns: "
                               f"{', '.join(columns[:12])}); map it in [predictions.<name>] request_id")
        return []
    where = " OR ".join(f'CAST("{c}" AS VARCHAR) = ?' for c in candidates)
    params = [files, *[request_id] * len(candidates)]
    cursor = con.execute(f"SELECT *, filename FROM {reader}(?, {options}) WHERE {where}", params)
    names = [d[0] for d in cursor.description or []]
    records: list[PredictionRecord] = []
    for row in cursor.fetchall():
        doc = dict(zip(names, row, strict=True))
        filename = str(doc.pop("filename", files[0]))
        fmt = log.format
        if fmt == "auto":
            fmt = "databricks" if "databricks_request_id" in doc else "generic"
        mapping = log.mapping or {"request_id": candidates[0], "time": _first(doc, ("time", "timestamp", "ts")),
                                  "endpoint": _first(doc, ("endpoint", "endpoint_name")),
                                  "model_version": _first(doc, ("model_version",)),
                                  "model_name": _first(doc, ("model_name", "model"))}
        record = read_record(doc, fmt, filename, {k: v for k, v in mapping.items() if v}, log.constants)
        if record is not None:
            records.append(record)
    return records


def _first(doc: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in doc), None)


def join_events(records: list[PredictionRecord]) -> list[PredictionRecord]:
    """Join a request event with its response event (KServe, MLServer): one prediction, not two."""
    out: list[PredictionRecord] = []
    pending: dict[tuple[str, str, str | None], PredictionRecord] = {}
    for record in sorted(records, key=lambda r: (r.file, r.phase)):
        if record.phase == "both":
            out.append(record)
            continue
        key = (record.request_id, record.format, record.endpoint)
        other = pending.get(key)
        if other is not None and other.phase != record.phase:
            del pending[key]
            request, response = (other, record) if other.phase == "request" else (record, other)
            response.inputs = request.inputs
            response.time = request.time or response.time
            response.role = response.role or request.role
            response.raw = request.raw + response.raw
            response.phase = "both"
            out.append(response)
        elif other is not None:
            out.append(record)  # a second event of the same phase: a duplicate, kept visible
        else:
            pending[key] = record
    out.extend(pending.values())
    return out
