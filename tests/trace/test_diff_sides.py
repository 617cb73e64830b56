"""What the diff reads of each side: the training commit, through the edges the store holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.diff import diff_models
from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind
from explorer.store import LineageStore


def test_diff_finds_the_training_commit_that_two_scans_recorded(tmp_path: Path) -> None:
    """A workspace copied elsewhere and scanned again records each run's ran_at commit a second time,
    with the new path in its evidence: two edges, one commit. The diff took it for two commits and said
    "no training commit known" for both versions."""
    facts = Facts()
    for name, sha in (("a", "1" * 40), ("b", "2" * 40)):
        facts.add_node(Node(f"run:{name}", NodeKind.RUN, name, {"params": {"lr": name}}))
        facts.add_node(Node(f"commit:{sha}", NodeKind.COMMIT, sha[:8], {"sha": sha}))
        for where in ("/old/ws/mlflow.db", "/new/ws/mlflow.db"):
            facts.link(f"run:{name}", f"commit:{sha}", EdgeKind.RAN_AT, Evidence("mlflow", where, "git commit tag"))
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        store.write_batch("test", facts)
        diff = diff_models(store, "run:a", "run:b")
        assert not [n for n in diff.notes if "no training commit" in n], diff.notes
        assert diff.to_dict()["a"]["commit"] == "commit:" + "1" * 40


def test_the_data_of_a_diff_is_what_made_the_model_not_what_came_after() -> None:
    """The evaluation's output (``eval``) read as changed data of the model; it is made from the model."""
    from explorer.diff import upstream_stages
    from explorer.dvcformat import HashedPath, LockedStage

    def stage(name: str, deps: list[str], outs: list[str]) -> LockedStage:
        return LockedStage(name, "dvc.yaml", f"python {name}.py", {}, [HashedPath(d, "md5", "0") for d in deps],
                           [HashedPath(o, "md5", "1") for o in outs])

    prepare = stage("prepare", ["data/raw.csv"], ["data/prepared"])
    train = stage("train", ["data/prepared"], ["models"])
    evaluate = stage("evaluate", ["models/model.pkl", "data/prepared"], ["eval"])
    stages = [prepare, train, evaluate]
    assert [s.name for s in upstream_stages(stages, {"models/model.pkl"})] == ["prepare", "train"]
    assert [s.name for s in upstream_stages(stages, {"data/prepared/train.csv"})] == ["prepare"]
    assert upstream_stages(stages, {"s3://bucket/model"}) == stages  # not a pipeline output: every stage


def test_a_reference_of_another_kind_says_what_the_diff_takes(tmp_path: Path) -> None:
    from explorer.diff import DiffError

    facts = Facts()
    facts.add_node(Node("data:md5:" + "0" * 32, NodeKind.DATA, "data/raw.csv"))
    facts.add_node(Node("run:a", NodeKind.RUN, "a"))
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        store.write_batch("test", facts)
        with pytest.raises(DiffError, match="is a data node: diff compares model versions, models or runs"):
            diff_models(store, "data:md5:" + "0" * 32, "run:a")
