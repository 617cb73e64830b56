"""What the diff reads of each side: the training commit, through the edges the store holds."""

from __future__ import annotations

from pathlib import Path

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
