"""Git + DVC history scans against real repositories made with real git and real dvc."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.graph import Direction, lineage
from explorer.lineage import EdgeKind
from explorer.progress import NullProgress
from explorer.resolve import RefError, resolve
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore
from tests.helpers import Repo

DVC_YAML = """\
stages:
  prepare:
    cmd: python -c "import shutil; shutil.copy('data/raw.csv', 'data/clean.csv')"
    deps: [data/raw.csv]
    params:
      - prep
    outs: [data/clean.csv]
  grid:
    foreach: ["0.1-3", "0.2-5"]
    do:
      cmd: python -c "open('out/grid-${item}.txt', 'w').write('${item}')"
      outs:
        - out/grid-${item}.txt
  mx:
    matrix:
      lr: [0.1, 0.01]
      depth: [2]
    cmd: python -c "open('out/mx-${item.lr}-${item.depth}.txt', 'w').write('x')"
    outs:
      - out/mx-${item.lr}-${item.depth}.txt
  train:
    cmd: python -c "import yaml; p = yaml.safe_load(open('params.yaml')); open('model.pkl', 'w').write(str(p))"
    deps: [data/clean.csv]
    params:
      - train
      - prep.threshold
    outs: [model.pkl]
artifacts:
  churn:
    path: model.pkl
    type: model
"""


@pytest.fixture(scope="module")
def rich_repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A DVC project with nested params, foreach/matrix, an import, GTO tags and an experiment."""
    root = tmp_path_factory.mktemp("rich")
    source = Repo(root / "source")
    source.dvc("init", "-q")
    source.write("data/source.csv", "a,b\n1,2\n3,4\n")
    source.dvc("add", "-q", "data/source.csv")
    source_sha = source.commit("source data")

    repo = Repo(root / "project")
    repo.dvc("init", "-q")
    repo.write("data/raw.csv", "x,y\n1,0\n2,1\n")
    repo.dvc("add", "-q", "data/raw.csv")
    repo.write("params.yaml", "prep:\n  threshold: 3\n  cols: [x, y]\ntrain:\n  epochs: 5\n  lr: 1\n")
    repo.write("dvc.yaml", DVC_YAML)
    (repo.path / "out").mkdir()
    repo.write("out/.gitkeep", "")
    repo.dvc("repro", "-q")
    first = repo.commit("pipeline")
    repo.tag("churn@v1.0.0")
    repo.tag("churn#dev#1")

    repo.write("params.yaml", "prep:\n  threshold: 3\n  cols: [x, y]\ntrain:\n  epochs: 5\n  lr: 0.5\n")
    repo.dvc("repro", "-q")
    second = repo.commit("lower learning rate")
    repo.tag("churn@v1.1.0")
    repo.tag("churn#prod#2")
    repo.tag("churn#dev!#3")

    repo.dvc("import", "-q", str(source.path), "data/source.csv", "-o", "data/imported.csv")
    third = repo.commit("import source data")

    lock = (repo.path / "dvc.lock").read_text()
    repo.write("dvc.lock", "schema: '2.0'\nstages: [this is: not: valid\n")
    broken = repo.commit("oops: broken lock")
    repo.write("dvc.lock", lock)
    fixed = repo.commit("restore lock")

    repo.dvc("exp", "run", "-q", "-S", "train.epochs=7", "-n", "more-epochs")
    return {
        "repo": repo,
        "source_sha": source_sha,
        "first": first,
        "second": second,
        "third": third,
        "broken": broken,
        "fixed": fixed,
    }


@pytest.fixture()
def scanned(rich_repo: dict[str, object], sqlite_url: str) -> LineageStore:
    store = LineageStore.open(sqlite_url)
    reports = run_scan(store, [GitSource(rich_repo["repo"].path)])  # type: ignore[attr-defined]
    assert reports[0].error is None
    return store


def test_stage_versions_with_params_as_typed(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    first, second = rich_repo["first"], rich_repo["second"]
    train1 = scanned.node(f"stage:project:train@{first}")
    train2 = scanned.node(f"stage:project:train@{second}")
    assert train1 is not None and train2 is not None
    # nested section and dotted key alike, values as typed in the lock
    assert train1.properties["params"]["params.yaml"]["train"] == {"epochs": 5, "lr": 1}
    assert train1.properties["params"]["params.yaml"]["prep.threshold"] == 3
    assert train2.properties["params"]["params.yaml"]["train"]["lr"] == 0.5
    assert "import yaml" in train2.properties["cmd"]
    # prepare did not change at the second commit: no new stage node there
    assert scanned.node(f"stage:project:prepare@{second}") is None
    assert scanned.node(f"stage:project:prepare@{first}") is not None
    ran_at = scanned.edges_from([train2.id], [EdgeKind.RAN_AT])
    assert [e.target for e in ran_at] == [f"commit:{second}"]
    assert ran_at[0].evidence.source == "dvc" and "dvc.lock" in ran_at[0].evidence.locator


def test_data_nodes_are_content_addressed(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    repo: Repo = rich_repo["repo"]  # type: ignore[assignment]
    lock = repo.path / "dvc.lock"
    import yaml

    locked = yaml.safe_load(lock.read_text())["stages"]["train"]["outs"][0]
    node = scanned.node(f"data:md5:{locked['md5']}")
    assert node is not None
    assert node.properties["path"] == "model.pkl"
    assert node.properties["size"] == locked["size"]
    gen = scanned.edges_from([node.id], [EdgeKind.GENERATED_BY])
    assert any(e.target.startswith("stage:project:train@") for e in gen)


def test_foreach_and_matrix_stage_names(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    first = rich_repo["first"]
    for name in ("grid@0.1-3", "grid@0.2-5", "mx@0.1-2", "mx@0.01-2"):
        node = scanned.node(f"stage:project:{name}@{first}")
        assert node is not None, name
        assert node.properties["name"] == name
    out = scanned.node(f"stage:project:grid@0.1-3@{first}")
    assert out is not None and out.properties["outs"][0]["path"] == "out/grid-0.1-3.txt"


def test_import_records_source_repo_and_rev_lock(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    third = rich_repo["third"]
    stage = scanned.node(f"stage:project:data/imported.csv.dvc@{third}")
    assert stage is not None
    imported = stage.properties["import"]
    assert imported["rev_lock"] == rich_repo["source_sha"]
    assert imported["url"].endswith("source")
    assert imported["path"] == "data/source.csv"
    # the .dvc file's top-level md5 is the stage hash, never taken for the data
    import yaml

    doc = yaml.safe_load((rich_repo["repo"].path / "data/imported.csv.dvc").read_text())  # type: ignore[attr-defined]
    data = stage.properties["outs"][0]["data"]
    assert data == f"data:md5:{doc['outs'][0]['md5']}"
    if "md5" in doc:
        assert scanned.node(f"data:md5:{doc['md5']}") is None


def test_gto_versions_and_stage_history(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    v1 = scanned.node("model_version:churn/v1.0.0")
    v11 = scanned.node("model_version:churn/v1.1.0")
    assert v1 is not None and v11 is not None
    assert v1.properties["registry"] == "gto" and v1.properties["artifact_path"] == "model.pkl"
    assert v11.properties["stages"] == ["prod"]
    assert v1.properties["stages"] == ["dev"]  # dev unassign (#3) was on v1.1.0, which never held dev
    actions = [(e["stage"], e["action"]) for e in v11.properties["stage_history"]]
    assert actions == [("prod", "assign"), ("dev", "unassign")]
    reg = scanned.edges_from([v11.id], [EdgeKind.REGISTERS])
    assert len(reg) == 1
    train = scanned.node(f"stage:project:train@{rich_repo['second']}")
    assert train is not None
    assert reg[0].target == train.properties["outs"][0]["data"]


def test_experiment_refs_are_scanned(scanned: LineageStore) -> None:
    commits = [n for n in scanned.nodes("commit") if n.properties.get("experiment")]
    assert commits, "the dvc experiment commit under refs/exps/ was not recorded"
    exp = commits[0]
    assert exp.properties["experiment"] == "more-epochs"
    assert exp.properties["message"].startswith("dvc: commit experiment")
    stage = scanned.node(f"stage:project:train@{exp.properties['sha']}")
    assert stage is not None
    assert stage.properties["params"]["params.yaml"]["train"]["epochs"] == 7


def test_malformed_lock_is_a_gap_and_history_goes_on(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    broken = rich_repo["broken"]
    gaps = scanned.gaps([f"commit:{broken}"])
    assert len(gaps) == 1
    assert gaps[0].kind == "malformed_dvc_file"
    assert "dvc.lock" in gaps[0].reason and "invalid YAML" in gaps[0].reason
    # the commit that restored the lock is scanned as usual
    assert scanned.node(f"commit:{rich_repo['fixed']}") is not None
    sub = lineage(scanned, f"commit:{broken}", Direction.DOWN)
    assert [g.kind for g in sub.gaps] == ["malformed_dvc_file"]


def test_path_at_rev_and_prefix_refs(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    first = str(rich_repo["first"])
    node = resolve(scanned, "model.pkl@churn@v1.0.0")
    train = scanned.node(f"stage:project:train@{first}")
    assert train is not None and node == train.properties["outs"][0]["data"]
    assert resolve(scanned, first[:10]) == f"commit:{first}"
    assert resolve(scanned, "model_version:churn/v1.0") == "model_version:churn/v1.0.0"
    with pytest.raises(RefError, match="ambiguous"):
        resolve(scanned, "model_version:churn/v1")
    with pytest.raises(RefError, match="unknown revision"):
        resolve(scanned, "model.pkl@no-such-branch")
    with pytest.raises(RefError, match="not tracked by DVC"):
        resolve(scanned, "params.yaml@HEAD")


def test_rescan_is_incremental(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "inc")
    repo.dvc("init", "-q")
    repo.write("data/a.csv", "a\n1\n")
    repo.dvc("add", "-q", "data/a.csv")
    first_sha = repo.commit("a")
    store = LineageStore.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    source = GitSource(repo.path)
    first = run_scan(store, [source])[0]
    assert first.nodes > 0
    again = run_scan(store, [source])[0]
    assert again.unchanged and again.nodes == 0
    repo.write("data/b.csv", "b\n2\n")
    repo.dvc("add", "-q", "data/b.csv")
    new_sha = repo.commit("b")
    batches = list(source.scan(store.cursor(source.origin), NullProgress()))
    assert len(batches) == 1
    facts = batches[0].facts
    stages = sorted(n.id for n in facts.nodes if n.kind == "stage")
    assert stages == [f"stage:inc:data/b.csv.dvc@{new_sha}"], "only the new commit's DVC files are processed"
    full = [n.id for n in facts.nodes if n.kind == "commit" and n.label]
    assert full == [f"commit:{new_sha}"]
    # the old head only gets its refs updated (main moved away from it)
    moved = [n for n in facts.nodes if n.id == f"commit:{first_sha}"]
    assert moved and moved[0].properties == {"refs": []}


def test_json_contract(rich_repo: dict[str, object], scanned: LineageStore) -> None:
    sub = lineage(scanned, "model_version:churn/v1.1.0", Direction.UP)
    doc = json.loads(json.dumps(sub.to_dict()))
    assert doc["root"] == "model_version:churn/v1.1.0"
    assert {"id", "kind", "label", "properties"} <= set(doc["nodes"][0])
    for edge in doc["edges"]:
        assert set(edge) == {"source", "target", "kind", "evidence"}
        assert set(edge["evidence"]) == {"source", "locator", "rule"}
    kinds = {n["kind"] for n in doc["nodes"]}
    assert {"model_version", "data", "stage", "commit"} <= kinds


def test_not_a_repository(tmp_path: Path, sqlite_url: str) -> None:
    store = LineageStore.open(sqlite_url)
    report = run_scan(store, [GitSource(tmp_path)], NullProgress())[0]
    assert report.error is not None and "not a git repository" in report.error


def test_legacy_lock_history(tmp_path: Path, sqlite_url: str) -> None:
    """A DVC 2 era lock (no `hash: md5` lines) upgraded by DVC 3: the two digests stay apart."""
    from tests.core.test_dvc_formats import DVC2_LOCK

    repo = Repo(tmp_path / "legacy")
    repo.write("dvc.lock", DVC2_LOCK)
    old = repo.commit("lock written by DVC 2")
    upgraded = DVC2_LOCK.replace("    - path: data/prepared\n", "    - path: data/prepared\n      hash: md5\n")
    repo.write("dvc.lock", upgraded)
    new = repo.commit("lock rewritten by DVC 3")
    store = LineageStore.open(sqlite_url)
    assert run_scan(store, [GitSource(repo.path)])[0].error is None
    legacy = store.node("data:md5-dos2unix:153aad06d376b6595932470e459ef42a.dir")
    modern = store.node("data:md5:153aad06d376b6595932470e459ef42a.dir")
    assert legacy is not None and modern is not None
    assert legacy.properties["nfiles"] == 2 and legacy.properties["size"] == 8437363
    used_old = {e.target for e in store.edges_from([f"stage:legacy:featurize@{old}"], [EdgeKind.USED])}
    used_new = {e.target for e in store.edges_from([f"stage:legacy:featurize@{new}"], [EdgeKind.USED])}
    assert used_old == {legacy.id} and used_new == {modern.id}


# DVC's own writer of the `files:` lists it locks a directory with after pushing it to a
# version-aware (or worktree) remote (dvc/repo/push.py: `stage.dump(with_files=True, ...)`); no
# versioned cloud storage runs here, so the lock and `.dvc` file are rewritten by that same call.
DUMP_WITH_FILES = """\
from dvc.repo import Repo
with Repo(".") as repo:
    for stage in repo.index.stages:
        if stage.outs and stage.outs[0].hash_info.isdir:
            stage.dump(with_files=True, update_pipeline=False)
"""


def test_version_aware_directories_keep_their_dir_hash(tmp_path: Path, sqlite_url: str) -> None:
    """A directory locked as a `files:` list (version-aware remotes) is the same data version as the
    `md5: ….dir` DVC locked before: the hash is derived from the list the way DVC derives it."""
    import sys

    repo = Repo(tmp_path / "va")
    repo.dvc("init", "-q")
    repo.write("raw/a.csv", "x\n1\n")
    repo.write("raw/b/c.csv", "y\n2\n3\n")
    repo.dvc("add", "-q", "raw")
    repo.write(
        "dvc.yaml",
        "stages:\n  shard:\n    cmd: python -c \"import os; os.makedirs('shards', exist_ok=True); "
        "open('shards/0.txt', 'w').write('zero'); open('shards/1.txt', 'w').write('one')\"\n"
        "    deps: [raw]\n    outs: [shards]\n",
    )
    repo.dvc("repro", "-q")
    before = repo.commit("pipeline")
    lock_before = (repo.path / "dvc.lock").read_text()
    raw_dir = next(line.split()[-1] for line in (repo.path / "raw.dvc").read_text().splitlines() if "md5:" in line)
    shards_dir = lock_before.split("path: shards\n")[1].split("md5: ")[1].split("\n")[0]
    assert raw_dir.endswith(".dir") and shards_dir.endswith(".dir")

    repo.run(sys.executable, "-c", DUMP_WITH_FILES)
    lock_after = (repo.path / "dvc.lock").read_text()
    assert "files:" in lock_after and "relpath: 0.txt" in lock_after and shards_dir not in lock_after
    assert "relpath: b/c.csv" in (repo.path / "raw.dvc").read_text()
    after = repo.commit("locked as file lists (version-aware push)")

    store = LineageStore.open(sqlite_url)
    report = run_scan(store, [GitSource(repo.path)])[0]
    assert report.error is None and report.gaps == []
    for sha in (before, after):
        made = {e.target for e in store.edges_from([f"data:md5:{shards_dir}"], [EdgeKind.GENERATED_BY])}
        assert f"stage:va:shard@{sha}" in made
        used = {e.target for e in store.edges_from([f"stage:va:shard@{sha}"], [EdgeKind.USED])}
        assert used == {f"data:md5:{raw_dir}"}
    shards = store.node(f"data:md5:{shards_dir}")
    assert shards is not None and shards.properties["nfiles"] == 2 and shards.properties["size"] == 7
