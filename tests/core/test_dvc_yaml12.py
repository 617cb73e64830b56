"""Locks are YAML 1.2 as DVC writes them: params read back with DVC's own types, not YAML 1.1's.

DVC 3.67 (ruamel.yaml) writes a learning rate of 0.00001 as the plain
scalar ``1e-05`` and the strings ``yes``/``on``/``12:30`` unquoted; a YAML 1.1 reader (PyYAML) takes
them for a string, two booleans and the integer 750.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from explorer.dvcformat import parse_lock
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore
from explorer.yaml12 import Yaml12SafeLoader
from tests.helpers import Repo

PARAMS = """\
train:
  lr: 0.00001
  weight_decay: 1.0e-4
  early_stop: "yes"
  scheduler: "on"
  window: "12:30"
  code: "010"
  seed: 42
"""

DVC_YAML = """\
stages:
  train:
    cmd: python -c "open('model.txt', 'w').write('m')"
    params: [train]
    outs: [model.txt]
"""

EXPECTED = {
    "lr": 1e-05,
    "weight_decay": 0.0001,
    "early_stop": "yes",
    "scheduler": "on",
    "window": "12:30",
    "code": "010",
    "seed": 42,
}


def _dvc_params(repo: Path) -> dict[str, object]:
    """The params DVC itself reads back from the lock of the checked-out commit."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo as DvcRepo

    with DvcRepo(str(repo)) as dvc_repo:
        (stage,) = [s for s in dvc_repo.index.stages if getattr(s, "name", None) == "train"]
        (dep,) = [d for d in stage.deps if isinstance(d, ParamsDependency)]
        value = dep.hash_info.value
    assert isinstance(value, dict)
    return value


def test_lock_params_have_dvc_types(tmp_path: Path, sqlite_url: str) -> None:
    repo = Repo(tmp_path / "yaml12")
    repo.dvc("init", "-q")
    repo.write("params.yaml", PARAMS)
    repo.write("dvc.yaml", DVC_YAML)
    repo.dvc("repro", "-q")
    first = repo.commit("train with a tiny learning rate")
    lock = (repo.path / "dvc.lock").read_text()
    # what the real DVC wrote: plain scalars that YAML 1.1 types differently
    for line in ("lr: 1e-05", "early_stop: yes", "scheduler: on", "window: 12:30"):
        assert f"          {line}\n" in lock, lock
    assert _dvc_params(repo.path) == {"train": EXPECTED}

    repo.write("params.yaml", PARAMS.replace("0.00001", "0.00002"))
    repo.dvc("repro", "-q")
    second = repo.commit("double it")

    assert parse_lock(lock, "dvc.lock")["train"].params == {"params.yaml": {"train": EXPECTED}}
    store = LineageStore.open(sqlite_url)
    assert run_scan(store, [GitSource(repo.path)])[0].error is None
    for sha, lr in ((first, 1e-05), (second, 2e-05)):
        node = store.node(f"stage:yaml12:train@{sha}")
        assert node is not None
        assert node.properties["params"] == {"params.yaml": {"train": EXPECTED | {"lr": lr}}}
        assert isinstance(node.properties["params"]["params.yaml"]["train"]["lr"], float)


def test_loader_types_scalars_as_ruamel_does() -> None:
    """The loader against ruamel.yaml's safe loader (DVC's) on scalars where YAML 1.1 and 1.2 part."""
    from ruamel.yaml import YAML

    scalars = "1e-05 1E5 1.0e+3 .5 -.inf yes No ON off y true False 010 0o17 0x1F 0b11 08 1_000 1:30 12:30:15 ~ null"
    scalars += " 2026-01-02 x"
    for scalar in scalars.split():
        doc = f"v: {scalar}\n"
        ours = yaml.load(doc, Loader=Yaml12SafeLoader)["v"]  # a safe loader
        dvc = YAML(typ="safe").load(doc)["v"]
        assert (type(ours), ours) == (type(dvc), dvc), scalar
