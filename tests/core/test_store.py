"""The store: merging, crash safety under SIGKILL, SQLite and a real PostgreSQL server alike."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.gen_repo import generate
from explorer.lineage import EdgeKind, Evidence, Facts, Gap, Node, NodeKind
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore, StoreError, properties_json


def dump(store: LineageStore) -> tuple[dict[str, object], set[tuple[str, str, str, str]], set[str]]:
    nodes = {n.id: (n.kind, n.label, n.properties) for n in store.iter_nodes()}
    edges = {(e.source, e.target, str(e.kind), e.evidence.locator) for e in store.edges_from(nodes)}
    gaps = {g.key for g in store.gaps()}
    return nodes, edges, gaps


def test_merge_keeps_what_each_source_said(sqlite_url: str) -> None:
    store = LineageStore.open(sqlite_url)
    ev = Evidence("test", "here", "rule")
    first = Facts([Node("data:md5:aa", NodeKind.DATA, "a.csv", {"paths": ["a.csv"], "size": 1})])
    first.link("data:md5:aa", "commit:" + "1" * 40, EdgeKind.GENERATED_BY, ev)
    store.write_batch("one", first, {"at": 1})
    second = Facts([Node("data:md5:aa", NodeKind.DATA, "", {"paths": ["b.csv"], "remote": "s3://x"})])
    second.link("data:md5:aa", "commit:" + "1" * 40, EdgeKind.GENERATED_BY, ev)
    second.gap(Gap("data:md5:aa", "test", "something missing"))
    store.write_batch("two", second, {"at": 2})
    node = store.node("data:md5:aa")
    assert node is not None
    assert node.label == "a.csv"
    assert node.properties == {"paths": ["a.csv", "b.csv"], "size": 1, "remote": "s3://x"}
    assert len(store.edges_from(["data:md5:aa"])) == 1  # same edge, same evidence: stored once
    assert store.cursor("one") == {"at": 1} and store.cursor("two") == {"at": 2}
    assert [g.reason for g in store.gaps(["data:md5:aa"])] == ["something missing"]
    store.write_batch("two", Facts(), {"at": 3}, replace_gaps=True)
    assert store.gaps() == []


def test_merge_within_a_batch_and_with_what_is_stored(sqlite_url: str) -> None:
    store = LineageStore.open(sqlite_url)
    store.write_batch("one", Facts([Node("run:r1", NodeKind.RUN, "old", {"tags": {"a": "1"}, "kept": True})]))
    caller = {"tags": {"b": "2"}, "stages": ["x"]}
    batch = Facts(
        [
            Node("run:r1", NodeKind.RUN, "", caller),
            Node("run:r1", NodeKind.RUN, "new", {"tags": {"c": "3"}, "stages": ["y"]}),
            Node("run:r2", NodeKind.RUN, "only", {"n": 1}),
        ]
    )
    store.write_batch("two", batch)
    r1, r2 = store.node("run:r1"), store.node("run:r2")
    assert r1 is not None and r2 is not None
    assert r1.label == "new"
    assert r1.properties == {"tags": {"a": "1", "b": "2", "c": "3"}, "kept": True, "stages": ["y"]}
    assert (r2.label, r2.properties) == ("only", {"n": 1})
    assert caller == {"tags": {"b": "2"}, "stages": ["x"]}  # the caller's facts are not changed


def _indexes(url: str) -> set[str]:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}


def test_bulk_load_into_an_empty_store_rebuilds_its_indexes(tmp_path: Path) -> None:
    """A batch past the bulk-load size into empty tables builds the indexes after the rows: same graph, same indexes."""
    ev = Evidence("test", "generated", "rule")

    def facts(n: int) -> Facts:
        out = Facts()
        for i in range(n):
            out.add_node(Node(f"data:md5:{i:032x}", NodeKind.DATA, f"f{i}", {"paths": [f"f{i}.csv"]}))
            out.add_node(Node(f"data:md5:{i:032x}", NodeKind.DATA, "", {"paths": [f"g{i}.csv"]}))
            out.link(f"data:md5:{i:032x}", f"commit:{i:040x}", EdgeKind.GENERATED_BY, ev)
        return out

    bulk, small = f"sqlite:///{tmp_path / 'bulk.db'}", f"sqlite:///{tmp_path / 'small.db'}"
    with LineageStore.open(bulk) as store:
        before = _indexes(bulk)
        assert {"ix_nodes_kind", "ix_edges_source", "ix_edges_target"} <= before
        store.write_batch("one", facts(6000))
        assert _indexes(bulk) == before
        bulk_graph = dump(store)
        # the indexes answer: a lookup by target finds the edge
        assert [e.source for e in store.edges_to([f"commit:{5999:040x}"])] == [f"data:md5:{5999:032x}"]
    with LineageStore.open(small) as store:
        for start in range(0, 6000, 1000):
            part = facts(6000)
            store.write_batch("one", Facts(part.nodes[2 * start : 2 * start + 2000], part.edges[start : start + 1000]))
        assert dump(store) == bulk_graph
    assert bulk_graph[0][f"data:md5:{7:032x}"] == (NodeKind.DATA, "f7", {"paths": ["f7.csv", "g7.csv"]})


def test_an_index_this_version_dropped_is_dropped_on_open(sqlite_url: str) -> None:
    import sqlite3

    LineageStore.open(sqlite_url).close()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE INDEX ix_edges_kind_target ON edges (kind, target)")
    assert "ix_edges_kind_target" in _indexes(sqlite_url)
    LineageStore.open(sqlite_url).close()
    assert "ix_edges_kind_target" not in _indexes(sqlite_url)


class _Float(float):
    """Like numpy.float64: a float subclass, which the stdlib writes as a number."""


@dataclasses.dataclass
class _Thing:
    x: int


@pytest.mark.parametrize(
    "props",
    [
        {"b": 1, "a": [1.5, "é", None, True], "c": {"z": {}, "y": []}},
        {"metric": float("nan"), "other": None},
        {"inf": [float("-inf")], "ok": 1},
        {"big": 2**70},
        {"keys": {1: "int key"}},
        {"when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), "day": datetime.date(2026, 1, 2)},
        {"sub": _Float(0.25), "obj": _Thing(3), "set": {1}, "tuple": (1, 2)},
        {"surrogate": "\udc80"},
    ],
)
def test_properties_json_reads_back_as_the_stdlib_wrote_it(props: dict[str, object]) -> None:
    expected = json.loads(json.dumps(props, sort_keys=True, default=str))
    got = json.loads(properties_json(props))
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)  # NaN != NaN: compare text
    assert list(got) == sorted(got)
    if "metric" in props:
        assert math.isnan(got["metric"])


def test_unreadable_store_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "lineage.db"
    bogus.write_bytes(b"this is not a database, just text" * 100)
    with pytest.raises(StoreError) as err:
        LineageStore.open(f"sqlite:///{bogus}")
    assert str(bogus) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(StoreError, match="invalid store URL"):
        LineageStore.open("nosuchdialect://x")


@pytest.fixture(scope="module")
def medium_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("medium") / "repo"
    generate(repo, commits=3000, lock_changes=600)
    return repo


def _scan_cli(repo: Path, url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "explorer", "--db", url, "scan", "--git", str(repo), "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_sigkill_mid_scan_leaves_store_as_before(medium_repo: Path, tmp_path: Path) -> None:
    clean = LineageStore.open(f"sqlite:///{tmp_path / 'clean.db'}")
    run_scan(clean, [GitSource(medium_repo)])
    expected = dump(clean)
    assert len(expected[0]) > 10_000

    url = f"sqlite:///{tmp_path / 'killed.db'}"
    # an earlier, smaller batch the kill must not lose: a store that held something before
    before = LineageStore.open(url)
    before.write_batch("earlier", Facts([Node("data:md5:keep", NodeKind.DATA, "keep.csv", {"path": "keep.csv"})]))
    before.close()
    rng = random.Random(1)
    killed = 0
    for _ in range(4):
        proc = _scan_cli(medium_repo, url)
        time.sleep(rng.uniform(0.4, 1.4))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        store = LineageStore.open(url)
        nodes = {n.id for n in store.iter_nodes()}
        cursor = store.cursor(GitSource(medium_repo).origin)
        assert "data:md5:keep" in nodes
        # all or nothing: either the source's batch is whole (with its cursor) or absent
        if cursor is None:
            assert nodes == {"data:md5:keep"}
        else:
            assert nodes - {"data:md5:keep"} == set(expected[0])
        store.close()
    assert killed >= 1, "the scan always finished before the kill: make the repository bigger"
    store = LineageStore.open(url)
    run_scan(store, [GitSource(medium_repo)])
    got = dump(store)
    got[0].pop("data:md5:keep")
    assert got == expected


@pytest.mark.postgres
def test_postgres_store_gives_the_same_graph(medium_repo: Path, pg_store_url: str, tmp_path: Path) -> None:
    sqlite = LineageStore.open(f"sqlite:///{tmp_path / 'a.db'}")
    run_scan(sqlite, [GitSource(medium_repo)])
    pg = LineageStore.open(pg_store_url)
    assert pg.dialect == "postgresql"
    reports = run_scan(pg, [GitSource(medium_repo)])
    assert reports[0].error is None
    assert dump(pg) == dump(sqlite)
    assert run_scan(pg, [GitSource(medium_repo)])[0].unchanged
    counts = {c.kind: c.count for c in pg.count_by_kind()}
    assert counts["commit"] == 3000 and counts["stage"] > 600


@pytest.mark.postgres
def test_postgres_unreachable_is_one_line(tmp_path: Path) -> None:
    from tests.helpers import free_port

    with pytest.raises(StoreError) as err:
        LineageStore.open(f"postgresql+psycopg://someone:s3cret@127.0.0.1:{free_port()}/db")
    message = str(err.value)
    assert "cannot open the store" in message and "\n" not in message
    assert "s3cret" not in message  # credentials are never printed


def test_search_by_every_word_or_by_letters_in_order(tmp_path: Path) -> None:
    facts = Facts()
    named = (("run:1", "train-v2.0.0 (churn)"), ("run:2", "train-v1.0.0 (churn)"), ("stage:r:train@a", "train"))
    for node_id, label in named:
        facts.add_node(Node(node_id, NodeKind.RUN if node_id.startswith("run") else NodeKind.STAGE, label))
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        store.write_batch("test", facts)
        assert [n.id for n in store.search(["train", "v2"])] == ["run:1"]
        assert [n.id for n in store.search("trainv2")] == []
        assert [n.id for n in store.search("trainv2", subsequence=True)] == ["run:1"]
        assert [n.id for n in store.search("t_%", subsequence=True)] == []  # LIKE's wildcards stay literal
