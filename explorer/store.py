"""Persistence of the lineage graph: SQLModel tables over SQLite (default) or PostgreSQL.

The tables stay inside this module; callers get :mod:`explorer.lineage` values back. Every
source batch is written in one transaction together with that source's cursor, so a crash or a
kill mid-scan leaves the store exactly as it was before the batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Column, Text, event, func, or_, select, text
from sqlalchemy import delete as sa_delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlmodel import Field, SQLModel, create_engine

from explorer.lineage import Edge, EdgeKind, Evidence, Facts, Gap, Node, NodeKind, merge_properties
from explorer.memory import gc_paused

DEFAULT_DB_RELPATH = Path(".mlprov") / "lineage.db"
SCHEMA_VERSION = 1
_CHUNK = 500


class StoreError(Exception):
    """The store cannot be opened or read: the message names the URL or file."""


class NodeRow(SQLModel, table=True):
    __tablename__ = "nodes"
    id: str = Field(primary_key=True)
    kind: str = Field(index=True)
    label: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    properties: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))


class EdgeRow(SQLModel, table=True):
    __tablename__ = "edges"
    key: str = Field(primary_key=True)
    source: str = Field(index=True)
    target: str = Field(index=True)
    kind: str
    ev_source: str
    ev_locator: str = Field(sa_column=Column(Text, nullable=False))
    ev_rule: str


class GapRow(SQLModel, table=True):
    __tablename__ = "gaps"
    key: str = Field(primary_key=True)
    origin: str = Field(index=True)
    subject: str = Field(index=True)
    kind: str
    reason: str = Field(sa_column=Column(Text, nullable=False))
    locator: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    candidates: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))


class CursorRow(SQLModel, table=True):
    """Where a source's last committed batch ended (last commit tips, last run update time...)."""

    __tablename__ = "cursors"
    origin: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


# Column namespaces for Core queries (typed as SQLAlchemy columns, unlike the model attributes).
NODES: Any = NodeRow.__table__.c  # type: ignore[attr-defined]
EDGES: Any = EdgeRow.__table__.c  # type: ignore[attr-defined]
GAPS: Any = GapRow.__table__.c  # type: ignore[attr-defined]
CURSORS: Any = CursorRow.__table__.c  # type: ignore[attr-defined]
META: Any = MetaRow.__table__.c  # type: ignore[attr-defined]
# Indexes a store made by an earlier version had and this one drops: each one slowed every edge insert.
_OBSOLETE_INDEXES = ("ix_edges_kind_target",)
# A batch this large into an empty SQLite table is loaded before that table's indexes are built:
# building an index once, sorted, is ~2x faster than growing it row by row (a first history scan).
_DEFERRED_INDEX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class KindCount:
    kind: str
    count: int


def default_url(workspace: Path) -> str:
    """The store a command uses: ``MLPROV_DB``, else ``.mlprov/lineage.db`` in the workspace."""
    env = os.environ.get("MLPROV_DB")
    if env:
        return env
    return f"sqlite:///{(workspace / DEFAULT_DB_RELPATH).resolve()}"


def redact_url(url: str) -> str:
    """The URL with any password removed, for messages: credentials are never printed."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def edge_key(edge: Edge) -> str:
    raw = "\x1f".join(
        (edge.source, edge.target, str(edge.kind), edge.evidence.source, edge.evidence.locator, edge.evidence.rule)
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


_STDLIB_JSON = json.JSONEncoder(sort_keys=True, default=str)
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _orjson_default(value: Any) -> Any:
    # what the stdlib encoder does with these: a float subclass (numpy.float64) is a number, the rest str()
    if isinstance(value, float):
        return float(value)
    return str(value)


def properties_json(properties: Mapping[str, Any]) -> str:
    """A node's properties as stored: what ``json.dumps(sort_keys=True, default=str)`` gives, read back.

    Encoded with orjson (~9x faster; a scan writes one per node). Where orjson would say something
    else the stdlib encodes: anything orjson refuses (non-string keys, integers beyond 64 bits, lone
    surrogates), and NaN or infinities, which orjson writes as ``null`` but the stdlib keeps.
    """
    try:
        out = orjson.dumps(properties, default=_orjson_default, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return _STDLIB_JSON.encode(properties)
    if b"null" in out and _has_non_finite(properties):
        return _STDLIB_JSON.encode(properties)
    return out.decode()


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_non_finite(v) for v in value)
    return False


class LineageStore:
    """The lineage graph as stored. Open with :meth:`open`; close with :meth:`close`."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, create: bool = True) -> LineageStore:
        """Open (and create when ``create``) the store at a SQLAlchemy URL.

        Raises :class:`StoreError` with a one-line reason when the URL is invalid, the file is not
        a database, or the server is unreachable.
        """
        if url.startswith("sqlite:///") and create:
            path = Path(url.removeprefix("sqlite:///"))
            if str(path) not in ("", ":memory:"):
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the store directory {path.parent}: {exc.strerror}") from exc
        try:
            engine = create_engine(url, future=True)
        except (ArgumentError, ImportError, ValueError) as exc:
            raise StoreError(f"invalid store URL {redact_url(url)}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        store = cls(engine, url)
        try:
            if create:
                SQLModel.metadata.create_all(engine)
                with engine.begin() as conn:
                    for name in _OBSOLETE_INDEXES:
                        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
            with engine.connect() as conn:
                conn.execute(select(func.count()).select_from(MetaRow))
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise StoreError(f"cannot open the store {redact_url(url)}: {reason}") from exc
        return store

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> LineageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return str(self._engine.dialect.name)

    # --- writing ---------------------------------------------------------------------------

    def write_batch(
        self,
        origin: str,
        facts: Facts,
        cursor: dict[str, Any] | None = None,
        *,
        replace_gaps: bool = False,
        recheck: Iterable[str] = (),
    ) -> None:
        """Write one source batch and its cursor in a single transaction.

        Nodes seen before are merged (see :func:`explorer.lineage.merge_properties`); edges and
        gaps already stored are kept. ``replace_gaps`` first drops the origin's earlier gaps, for
        sources that recompute all their gaps on every scan.
        """
        try:
            with gc_paused(), self._engine.begin() as conn:
                self._upsert_nodes(conn, facts.nodes)
                self._insert_edges(conn, facts.edges)
                if replace_gaps:
                    conn.execute(sa_delete(GapRow).where(GAPS.origin == origin))
                # replace_gaps dropped all the origin's gaps already, the rechecked subjects' too
                for chunk in _chunks([] if replace_gaps else list(dict.fromkeys(recheck))):
                    conn.execute(sa_delete(GapRow).where(GAPS.origin == origin, GAPS.subject.in_(chunk)))
                self._insert_gaps(conn, origin, facts.gaps)
                if cursor is not None:
                    # a cursor can hold a fingerprint per run (10,000s): the fast encoder, like properties
                    self._upsert(conn, CursorRow, [{"origin": origin, "value": properties_json(cursor)}], ["origin"])
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise StoreError(f"cannot write to the store {redact_url(self.url)}: {reason}") from exc

    def _insert_stmt(self, table: type[SQLModel]) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table.__table__)  # type: ignore[attr-defined]

    def _upsert(self, conn: Connection, table: type[SQLModel], rows: list[dict[str, Any]], keys: list[str]) -> None:
        if not rows:
            return
        stmt = self._insert_stmt(table)
        update = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update), rows)

    def _upsert_nodes(self, conn: Connection, nodes: Sequence[Node]) -> None:
        # id -> (kind, label, properties); the caller's dicts are read, never changed (merges make new ones)
        merged: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for node in nodes:
            seen = merged.get(node.id)
            if seen is None:
                merged[node.id] = (node.kind, node.label, node.properties)
            elif seen[2] == node.properties:  # a source reporting one node many times (a data version per stage)
                merged[node.id] = (seen[0], node.label or seen[1], seen[2])
            else:
                merged[node.id] = (seen[0], node.label or seen[1], merge_properties(seen[2], node.properties))
        # Only what is already stored needs merging: the SELECT goes through the driver (SQLAlchemy's
        # statement building was most of its cost), and into an empty table there is nothing to find.
        empty = self._is_empty(conn, "nodes")
        for chunk in _chunks([] if empty else list(merged)):
            sql = f"SELECT id, label, properties FROM nodes WHERE id IN ({', '.join([self._mark] * len(chunk))})"
            for node_id, label, props in conn.exec_driver_sql(sql, tuple(chunk)):
                kind, new_label, new_props = merged[node_id]
                merged[node_id] = (kind, new_label or label, merge_properties(json.loads(props), new_props))
        # in key order: SQLite appends to its B-trees instead of splitting pages all over them
        payload = [
            (node_id, str(kind), label, properties_json(props))
            for node_id, (kind, label, props) in sorted(merged.items())
        ]
        self._bulk(conn, "nodes", ("id", "kind", "label", "properties"), payload, "id", update=True, empty=empty)

    def _insert_edges(self, conn: Connection, edges: Sequence[Edge]) -> None:
        rows: dict[str, tuple[str, ...]] = {}
        sha256 = hashlib.sha256
        for e in edges:
            ev = e.evidence
            kind = str(e.kind)
            # edge_key(e), inlined: 20,000 edges a batch is common
            raw = "\x1f".join((e.source, e.target, kind, ev.source, ev.locator, ev.rule))
            key = sha256(raw.encode()).hexdigest()[:40]
            rows[key] = (key, e.source, e.target, kind, ev.source, ev.locator, ev.rule)
        columns = ("key", "source", "target", "kind", "ev_source", "ev_locator", "ev_rule")
        payload = [rows[key] for key in sorted(rows)]  # key order, as for nodes
        self._bulk(conn, "edges", columns, payload, "key", update=False, empty=self._is_empty(conn, "edges"))

    def _is_empty(self, conn: Connection, table: str) -> bool:
        return conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None

    @property
    def _mark(self) -> str:
        """The driver's placeholder: psycopg's ``%s``, sqlite3's ``?``."""
        return "%s" if self.dialect == "postgresql" else "?"

    def _bulk(
        self,
        conn: Connection,
        table: str,
        columns: tuple[str, ...],
        rows: list[tuple[Any, ...]],
        key: str,
        *,
        update: bool,
        empty: bool = False,
    ) -> None:
        """Insert many rows with one prepared statement through the driver.

        A history scan writes tens of thousands of rows per batch; SQLAlchemy's per-row parameter
        processing cost more than SQLite's own work. ``ON CONFLICT`` is the same in SQLite and
        PostgreSQL; only the placeholder differs. A large batch into an ``empty`` SQLite table
        builds the table's secondary indexes after the rows, in the same transaction.
        """
        if not rows:
            return
        rebuild: list[str] = []
        if empty and self.dialect == "sqlite" and len(rows) >= _DEFERRED_INDEX_ROWS:
            found = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            ).all()
            for name, sql in found:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                rebuild.append(sql)
        mark = self._mark
        conflict = (
            "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in columns if c != key) if update else "DO NOTHING"
        )
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
            f"ON CONFLICT ({key}) {conflict}"
        )
        for chunk in _chunks(rows, 5000):
            conn.exec_driver_sql(sql, chunk)
        for index_sql in rebuild:
            conn.exec_driver_sql(index_sql)

    def _insert_gaps(self, conn: Connection, origin: str, gaps: Sequence[Gap]) -> None:
        rows = {
            g.key: {
                "key": g.key,
                "origin": origin,
                "subject": g.subject,
                "kind": g.kind,
                "reason": g.reason,
                "locator": g.locator,
                "candidates": json.dumps(list(g.candidates)),
            }
            for g in gaps
        }
        stmt = self._insert_stmt(GapRow).on_conflict_do_nothing(index_elements=["key"])
        for chunk in _chunks(list(rows.values())):
            conn.execute(stmt, chunk)

    def delete_gaps(self, origin: str, subjects: Iterable[str] | None = None, kind: str | None = None) -> None:
        """Drop gaps an origin recorded (for some subjects or kind): a later scan resolved them."""
        with self._engine.begin() as conn:
            stmt = sa_delete(GapRow).where(GAPS.origin == origin)
            if kind is not None:
                stmt = stmt.where(GAPS.kind == kind)
            if subjects is None:
                conn.execute(stmt)
                return
            for chunk in _chunks(list(subjects)):
                conn.execute(stmt.where(GAPS.subject.in_(chunk)))

    # --- cursors and metadata --------------------------------------------------------------

    def cursor(self, origin: str) -> dict[str, Any] | None:
        with self._engine.connect() as conn:
            value = conn.execute(select(CURSORS.value).where(CURSORS.origin == origin)).scalar()
        return None if value is None else dict(json.loads(value))

    def cursors(self) -> dict[str, dict[str, Any]]:
        with self._engine.connect() as conn:
            return {o: json.loads(v) for o, v in conn.execute(select(CURSORS.origin, CURSORS.value))}

    def set_meta(self, key: str, value: Any) -> None:
        with self._engine.begin() as conn:
            self._upsert(conn, MetaRow, [{"key": key, "value": json.dumps(value)}], ["key"])

    def meta(self, key: str) -> Any:
        with self._engine.connect() as conn:
            value = conn.execute(select(META.value).where(META.key == key)).scalar()
        return None if value is None else json.loads(value)

    # --- reading ---------------------------------------------------------------------------

    def node(self, node_id: str) -> Node | None:
        found = self.nodes_by_id([node_id])
        return found.get(node_id)

    def nodes_by_id(self, ids: Iterable[str]) -> dict[str, Node]:
        out: dict[str, Node] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                rows = conn.execute(select(NodeRow).where(NODES.id.in_(chunk)))
                for row in rows:
                    node = _node(row)
                    out[node.id] = node
        return out

    def nodes(self, kind: NodeKind | str | None = None, *, limit: int | None = None, offset: int = 0) -> list[Node]:
        stmt = select(NodeRow).order_by(NODES.id).offset(offset)
        if kind is not None:
            stmt = stmt.where(NODES.kind == str(kind))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._engine.connect() as conn:
            return [_node(row) for row in conn.execute(stmt)]

    def iter_nodes(self, kind: NodeKind | str | None = None) -> Iterator[Node]:
        offset = 0
        while True:
            batch = self.nodes(kind, limit=2000, offset=offset)
            yield from batch
            if len(batch) < 2000:
                return
            offset += len(batch)

    def count_by_kind(self) -> list[KindCount]:
        stmt = select(NODES.kind, func.count()).group_by(NODES.kind).order_by(NODES.kind)
        with self._engine.connect() as conn:
            return [KindCount(str(k), int(c)) for k, c in conn.execute(stmt)]

    def count_edges(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(EdgeRow)).scalar() or 0)

    def ids_with_prefix(self, prefix: str, limit: int = 20) -> list[str]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = select(NODES.id).where(NODES.id.like(f"{escaped}%", escape="\\")).order_by(NODES.id).limit(limit)
        with self._engine.connect() as conn:
            return [str(r) for r in conn.execute(stmt).scalars()]

    def search(
        self,
        needle: str | Sequence[str],
        limit: int = 50,
        kinds: Sequence[str] | None = None,
        *,
        subsequence: bool = False,
    ) -> list[Node]:
        """Nodes whose id or label contains ``needle`` (case-insensitive; each of several needles),
        ordered by kind and id. ``subsequence``: holds the needle's characters in order, with anything
        between (``trainv2`` finds ``train-v2.0.0``), for a fuzzy finder to rank."""
        needles = [needle] if isinstance(needle, str) else list(needle)
        conditions = []
        for one in needles:
            escaped = [c.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for c in one.lower()]
            pattern = "%" + ("%".join(escaped) if subsequence else "".join(escaped)) + "%"
            conditions.append(
                or_(
                    func.lower(NODES.id).like(pattern, escape="\\"),
                    func.lower(NODES.label).like(pattern, escape="\\"),
                )
            )
        stmt = select(NodeRow).where(*conditions).order_by(NODES.kind, NODES.id).limit(limit)
        if kinds:
            stmt = stmt.where(NODES.kind.in_(list(kinds)))
        with self._engine.connect() as conn:
            return [_node(row) for row in conn.execute(stmt)]

    def edges_from(self, ids: Iterable[str], kinds: Sequence[EdgeKind] | None = None) -> list[Edge]:
        """Edges whose source is one of ``ids``: the way upstream."""
        return self._edges(EDGES.source, ids, kinds)

    def edges_to(self, ids: Iterable[str], kinds: Sequence[EdgeKind] | None = None) -> list[Edge]:
        """Edges whose target is one of ``ids``: the way downstream."""
        return self._edges(EDGES.target, ids, kinds)

    def _edges(self, column: Any, ids: Iterable[str], kinds: Sequence[EdgeKind] | None) -> list[Edge]:
        out: list[Edge] = []
        with self._engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(ids))):
                stmt = select(EdgeRow).where(column.in_(chunk)).order_by(EDGES.source, EDGES.kind, EDGES.target)
                if kinds:
                    stmt = stmt.where(EDGES.kind.in_(sorted({str(k) for k in kinds})))
                out.extend(_edge(row) for row in conn.execute(stmt))
        return out

    def gaps(self, subjects: Iterable[str] | None = None, origin: str | None = None) -> list[Gap]:
        out: list[Gap] = []
        with self._engine.connect() as conn:
            base = select(GapRow).order_by(GAPS.subject, GAPS.kind, GAPS.locator)
            if origin is not None:
                base = base.where(GAPS.origin == origin)
            if subjects is None:
                out.extend(_gap(row) for row in conn.execute(base))
                return out
            for chunk in _chunks(list(dict.fromkeys(subjects))):
                stmt = base.where(GAPS.subject.in_(chunk))
                out.extend(_gap(row) for row in conn.execute(stmt))
        return out

    def gap_counts(self) -> dict[str, int]:
        """Number of gaps per subject id."""
        with self._engine.connect() as conn:
            stmt = select(GAPS.subject, func.count()).group_by(GAPS.subject)
            return {str(s): int(c) for s, c in conn.execute(stmt)}

    def ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(text("SELECT 1"))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        # WAL lets the explorer read while a scan writes; NORMAL sync is still crash-safe in WAL mode.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
    except Exception as exc:  # a file that is not a database fails here with a clear sqlite error
        raise OperationalError("PRAGMA journal_mode", {}, exc) from exc
    finally:
        cur.close()


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# Rows come from Core selects (fast, no ORM identity map): read them by column name.


def _node(row: Any) -> Node:
    m = row._mapping
    return Node(m["id"], NodeKind(m["kind"]), m["label"], json.loads(m["properties"]))


def _edge(row: Any) -> Edge:
    m = row._mapping
    return Edge(m["source"], m["target"], EdgeKind(m["kind"]), Evidence(m["ev_source"], m["ev_locator"], m["ev_rule"]))


def _gap(row: Any) -> Gap:
    m = row._mapping
    return Gap(m["subject"], m["kind"], m["reason"], m["locator"], tuple(json.loads(m["candidates"])))
