"""GTO's model registry read from git tags, checked against the real `gto` tool's own reading."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore
from tests.helpers import Repo, venv_tool

DVC_YAML = """\
artifacts:
  churn:
    type: model
    path: models/churn.pkl
  remote-model:
    type: model
    path: s3://bucket/models/remote.pt
"""
SUB_DVC_YAML = """\
artifacts:
  seg:
    type: model
    path: seg.pt
"""
LFS_POINTER = (
    "version https://git-lfs.github.com/spec/v1\n"
    "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
    "size 12345\n"
)


def gto(repo: Repo, *args: str) -> str:
    repo.clock += 60
    return repo.run(venv_tool("gto"), *args)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A repository whose registry was written by the real `gto`, plus an older GTO's counted version tags."""
    repo = Repo(tmp_path_factory.mktemp("gto") / "project")
    repo.write("dvc.yaml", DVC_YAML)
    repo.write("models/churn.pkl", "model one\n")  # committed to git itself, not DVC
    repo.write("sub/dvc.yaml", SUB_DVC_YAML)
    repo.write("sub/seg.pt", LFS_POINTER)  # a Git LFS pointer
    first = repo.commit("first model")
    gto(repo, "register", "churn", "--version", "v1.0.0")
    gto(repo, "assign", "churn", "--version", "v1.0.0", "--stage", "prod")
    gto(repo, "register", "sub:seg", "--version", "v0.1.0")
    gto(repo, "register", "remote-model", "--version", "v0.0.1")
    repo.write("models/churn.pkl", "model two\n")
    second = repo.commit("second model")
    gto(repo, "register", "churn", "--version", "v1.1.0")
    gto(repo, "assign", "churn", "--version", "v1.1.0", "--stage", "dev")
    gto(repo, "assign", "churn", "--version", "v1.1.0", "--stage", "prod")
    gto(repo, "deprecate", "churn", "v1.1.0", "prod")  # unassign: prod is nobody's now
    gto(repo, "deprecate", "churn", "v1.0.0")  # deregister
    gto(repo, "deprecate", "sub:seg")  # the whole artifact
    third = repo.commit("third, no version")
    gto(repo, "assign", "churn", "HEAD", "--stage", "canary", "--skip-registration")
    # an older GTO counted every event, version tags included: name@vX.Y.Z#N
    repo.write("models/churn.pkl", "model three\n")
    fourth = repo.commit("third model")
    repo.clock += 60
    repo.tag("churn@v1.2.0#9", fourth)
    shown = json.loads(gto(repo, "show", "--json"))
    history = json.loads(gto(repo, "history", "churn", "--json"))
    return {
        "repo": repo,
        "first": first,
        "second": second,
        "third": third,
        "fourth": fourth,
        "shown": shown,
        "history": history,
    }


@pytest.fixture(scope="module")
def scanned(registry: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> LineageStore:
    url = f"sqlite:///{tmp_path_factory.mktemp('gto-store') / 'lineage.db'}"
    store = LineageStore.open(url)
    [report, *_] = run_scan(store, [GitSource(registry["repo"].path)])  # type: ignore[attr-defined]
    assert report.error is None
    return store


def test_stages_and_latest_versions_match_gto_show(registry: dict[str, object], scanned: LineageStore) -> None:
    shown: dict[str, dict[str, object]] = registry["shown"]  # type: ignore[assignment]
    theirs = {(a, stage): v for a, d in shown.items() for stage, v in d["stage"].items() if v}  # type: ignore[attr-defined]
    ours = {
        (n.properties["name"], stage): n.properties["version"]
        for n in scanned.nodes("model_version")
        for stage in n.properties["stages"]
    }
    assert ours == theirs
    assert theirs[("churn", "canary")] == registry["third"]  # gto names an unregistered version by its commit
    assert ours[("churn", "dev")] == "v1.1.0" and ("churn", "prod") not in ours
    assert shown["churn"]["version"] == "v1.2.0"


def test_version_states_follow_the_latest_event(scanned: LineageStore) -> None:
    def props(version_id: str) -> dict[str, object]:
        node = scanned.node(version_id)
        assert node is not None, version_id
        return node.properties

    assert props("model_version:churn/v1.0.0")["status"] == "deregistered"
    assert props("model_version:churn/v1.1.0")["status"] == "registered"
    assert props("model_version:churn/v1.2.0")["tag"] == "churn@v1.2.0#9"  # the counted form is read
    v11 = props("model_version:churn/v1.1.0")
    assert [(e["stage"], e["action"]) for e in v11["stage_history"]] == [  # type: ignore[union-attr]
        ("dev", "assign"),
        ("prod", "assign"),
        ("prod", "unassign"),
    ]
    seg = props("model_version:sub:seg/v0.1.0")
    assert seg["deprecated"] is True and seg["artifact_path"] == "sub/seg.pt"

    # the explorer's models home says so in the version's labels (it showed only the stages)
    from explorer.tui.data.models import model_rows

    ids = ("model_version:sub:seg/v0.1.0", "model_version:churn/v1.0.0", "model_version:churn/v1.1.0")
    labels = {r.id: r.labels for r in model_rows(scanned, [scanned.node(i) for i in ids])}  # type: ignore[misc]
    assert "deprecated" in labels["model_version:sub:seg/v0.1.0"]
    assert "deregistered" in labels["model_version:churn/v1.0.0"]
    assert not {"deprecated", "deregistered"} & set(labels["model_version:churn/v1.1.0"])


def test_stage_at_a_commit_without_version_is_an_unregistered_version(
    registry: dict[str, object], scanned: LineageStore
) -> None:
    third = str(registry["third"])
    node = scanned.node(f"model_version:churn/{third}")
    assert node is not None
    assert node.properties["status"] == "unregistered" and node.properties["stages"] == ["canary"]
    assert [e.target for e in scanned.edges_from([node.id], [EdgeKind.REGISTERED_AT])] == [f"commit:{third}"]


def test_artifact_content_from_git_files_and_lfs_pointers(scanned: LineageStore) -> None:
    def registered(version_id: str) -> str:
        edges = scanned.edges_from([version_id], [EdgeKind.REGISTERS])
        assert len(edges) == 1, version_id
        return edges[0].target

    def md5(text: bytes) -> str:
        return f"data:md5:{hashlib.md5(text).hexdigest()}"

    assert registered("model_version:churn/v1.0.0") == md5(b"model one\n")
    assert registered("model_version:churn/v1.1.0") == md5(b"model two\n")
    lfs = registered("model_version:sub:seg/v0.1.0")
    assert lfs == "data:sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
    data = scanned.node(lfs)
    assert data is not None and data.properties["size"] == 12345 and data.properties["path"] == "sub/seg.pt"
    # an artifact outside the repository is a gap that says so
    gaps = scanned.gaps(["model_version:remote-model/v0.0.1"])
    assert [g.kind for g in gaps] == ["untracked_artifact"]
    assert "s3://bucket/models/remote.pt is outside the repository" in gaps[0].reason


def test_gto_history_events_are_all_recorded(registry: dict[str, object], scanned: LineageStore) -> None:
    """Every assignment/unassignment `gto history` lists is in some version's stage history."""
    history: list[dict[str, object]] = registry["history"]  # type: ignore[assignment]
    theirs = sorted(str(e["ref"]) for e in history if e["event"] in ("assignment", "unassignment"))
    ours = sorted(
        str(e["tag"])
        for n in scanned.nodes("model_version")
        if n.properties["name"] == "churn"
        for e in n.properties["stage_history"]
    )
    assert ours == theirs and len(theirs) == 5


def test_gto_tags_in_a_real_clone_layout_need_no_work_tree(registry: dict[str, object], tmp_path: Path) -> None:
    """A bare mirror (how registries are often scanned in CI) gives the same versions."""
    repo: Repo = registry["repo"]  # type: ignore[assignment]
    bare = tmp_path / "mirror.git"
    repo.git("clone", "-q", "--mirror", str(repo.path), str(bare))
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [GitSource(bare)])
        assert report.error is None
        # the report counts nodes written, not mentions (a data version is mentioned by every stage using it)
        assert report.nodes == sum(c.count for c in store.count_by_kind())
        assert sorted(n.id for n in store.nodes("model_version")) == sorted(
            [
                "model_version:churn/v1.0.0",
                "model_version:churn/v1.1.0",
                "model_version:churn/v1.2.0",
                f"model_version:churn/{registry['third']}",
                "model_version:sub:seg/v0.1.0",
                "model_version:remote-model/v0.0.1",
            ]
        )


def test_gto_before_0_3_kept_artifacts_in_artifacts_yaml(tmp_path: Path) -> None:
    """Registries from 2022 (iterative/example-gto's early history): the root artifacts.yaml declares them."""
    repo = Repo(tmp_path / "old-gto")
    repo.write("artifacts.yaml", "churn:\n  type: model\n  path: models/churn.pkl\n  virtual: false\n")
    repo.write("models/churn.pkl", "old model\n")
    sha = repo.commit("register churn the old way")
    repo.tag("churn@v0.1.0")
    with LineageStore.open(f"sqlite:///{tmp_path / 'l.db'}") as store:
        [report, *_] = run_scan(store, [GitSource(repo.path)])
        assert report.error is None and report.gaps == []
        version = store.node("model_version:churn/v0.1.0")
        assert version is not None
        assert (version.properties["artifact_path"], version.properties["type"]) == ("models/churn.pkl", "model")
        [registers] = store.edges_from([version.id], [EdgeKind.REGISTERS])
        assert registers.target == "data:md5:" + hashlib.md5(b"old model\n").hexdigest()
        assert [e.target for e in store.edges_from([version.id], [EdgeKind.REGISTERED_AT])] == [f"commit:{sha}"]
