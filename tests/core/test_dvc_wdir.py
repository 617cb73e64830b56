"""Stages with a ``wdir``: DVC locks their paths relative to it, not to the dvc.yaml's folder.

Found on mnrozhkov/dvc-patterns (``pipelines/*/dvc.yaml`` with ``wdir: ../..``): every dep and out
was recorded under the wrong path (``pipelines/train/data/x.csv`` for ``data/x.csv``), so
``PATH@REV`` and GTO artifact paths missed them. Rebuilt here with the real DVC.
"""

from __future__ import annotations

from pathlib import Path

from explorer.dvcformat import parse_dvcfile
from explorer.resolve import resolve
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore
from tests.helpers import Repo

SUB_DVC_YAML = """\
stages:
  prepare:
    wdir: ../..
    cmd: python -c "open('data/clean.csv', 'w').write(open('data/raw.csv').read().upper())"
    deps: [data/raw.csv]
    outs: [data/clean.csv]
  grid:
    foreach: [a, b]
    do:
      wdir: ../..
      cmd: python -c "open('out/grid-${item}.txt', 'w').write('${item}')"
      deps: [data/clean.csv]
      outs:
        - out/grid-${item}.txt
"""

TEMPLATED_DVC_YAML = """\
vars:
  - root: ..
stages:
  report:
    wdir: ${root}
    cmd: python -c "open('report.txt', 'w').write('r')"
    outs: [report.txt]
"""


def _dvc_paths(repo: Path) -> dict[str, tuple[list[str], list[str]]]:
    """What DVC itself reads: each stage's deps and outs, repo-relative, from the lock's hashes."""
    from dvc.repo import Repo as DvcRepo

    found: dict[str, tuple[list[str], list[str]]] = {}
    with DvcRepo(str(repo)) as dvc_repo:
        for stage in dvc_repo.index.stages:
            rel = [str(Path(o.fs_path).relative_to(repo)) for o in stage.outs]
            deps = [str(Path(d.fs_path).relative_to(repo)) for d in stage.deps]
            found[getattr(stage, "name", stage.addressing)] = (deps, rel)
    return found


def test_locked_paths_are_relative_to_the_stage_wdir(tmp_path: Path, sqlite_url: str) -> None:
    repo = Repo(tmp_path / "wdir")
    repo.dvc("init", "-q")
    repo.write("data/raw.csv", "x,y\n1,2\n")
    repo.write("out/.gitkeep", "")
    repo.write("pipelines/train/dvc.yaml", SUB_DVC_YAML)
    repo.dvc("repro", "-q", "pipelines/train/dvc.yaml")
    repo.write("reports/dvc.yaml", TEMPLATED_DVC_YAML)
    repo.dvc("repro", "-q", "reports/dvc.yaml")
    sha = repo.commit("pipelines that run from the repository root")
    dvc = _dvc_paths(repo.path)
    assert dvc["prepare"] == (["data/raw.csv"], ["data/clean.csv"])
    assert dvc["grid@a"] == (["data/clean.csv"], ["out/grid-a.txt"])

    store = LineageStore.open(sqlite_url)
    report = run_scan(store, [GitSource(repo.path)])[0]
    assert report.error is None
    for name in ("prepare", "grid@a", "grid@b"):
        node = store.node(f"stage:wdir:pipelines/train/{name}@{sha}")
        assert node is not None, name
        deps = [d["path"] for d in node.properties["deps"]]
        outs = [o["path"] for o in node.properties["outs"]]
        assert (deps, outs) == dvc[name], name
        assert node.properties["wdir"] == "../.."
        assert node.properties["dvcfile"] == "pipelines/train/dvc.yaml"
    clean = store.node(f"stage:wdir:pipelines/train/prepare@{sha}")
    assert clean is not None
    assert resolve(store, "data/clean.csv@HEAD") == clean.properties["outs"][0]["data"]

    # a templated wdir is never evaluated: a gap says the stage's paths are read from its folder
    gaps = [g for g in store.gaps([f"commit:{sha}"]) if g.kind == "unresolved_wdir"]
    assert len(gaps) == 1
    assert "reports/dvc.yaml stage report: wdir ${root} is a template" in gaps[0].reason
    assert gaps[0].locator == f"wdir@{sha}:reports/dvc.yaml"


def test_dvc_file_wdir() -> None:
    """A DVC 0.x stage file keeps `wdir`; DVC 3.67 still reads its outs relative to it (checked by hand:
    `Repo().index` gives data/x.csv at the repository root for this file)."""
    text = "md5: 0123\nwdir: ..\nouts:\n- md5: 5d41402abc4b2a76b9719d911017c592\n  path: data/x.csv\n"
    stage = parse_dvcfile(text, "stages/prep.dvc")
    assert [o.path for o in stage.outs] == ["data/x.csv"]
