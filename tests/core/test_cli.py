"""The `mlprov` command as a user runs it: exit codes, one-line errors, the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import Repo


def mlprov(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws")
    repo = Repo(ws / "repo")
    repo.dvc("init", "-q")
    repo.write("data/raw.csv", "a,b\n1,2\n")
    repo.dvc("add", "-q", "data/raw.csv")
    repo.write(
        "dvc.yaml",
        "stages:\n  copy:\n    cmd: cp data/raw.csv model.bin\n    deps: [data/raw.csv]\n"
        "    outs: [model.bin]\nartifacts:\n  clf:\n    path: model.bin\n    type: model\n",
    )
    repo.dvc("repro", "-q")
    repo.commit("pipeline")
    repo.tag("clf@v0.1.0")
    repo.write(".dvc/../broken.dvc", "outs: [unterminated\n")
    repo.commit("a broken .dvc file")
    (ws / "mlprov.toml").write_text('[scan]\ngit = ["repo"]\n')
    return ws


def test_scan_from_config_then_query(workspace: Path) -> None:
    scan = mlprov("scan", "--json", cwd=workspace)
    assert scan.returncode == 0, scan.stderr
    report = json.loads(scan.stdout)["sources"][0]
    assert report["origin"].endswith("repo") and report["nodes"] > 0
    assert [g["kind"] for g in report["gaps"]] == ["malformed_dvc_file"]
    assert "broken.dvc" in report["gaps"][0]["reason"]
    again = json.loads(mlprov("scan", "--json", cwd=workspace).stdout)["sources"][0]
    assert again["unchanged"] is True

    ls = json.loads(mlprov("ls", "--kind", "model_version", "--json", cwd=workspace).stdout)
    assert [n["id"] for n in ls] == ["model_version:clf/v0.1.0"]

    lineage = json.loads(mlprov("lineage", "model.bin@HEAD", "--json", cwd=workspace).stdout)
    assert lineage["root"].startswith("data:md5:")
    kinds = {(e["kind"], e["evidence"]["source"]) for e in lineage["edges"]}
    assert ("generated_by", "dvc") in kinds and ("used", "dvc") in kinds

    down = json.loads(mlprov("lineage", "data/raw.csv@HEAD", "--down", "--json", cwd=workspace).stdout)
    assert any(n["id"] == "model_version:clf/v0.1.0" for n in down["nodes"])

    show = json.loads(mlprov("show", "models:/clf/v0.1.0", "--json", cwd=workspace).stdout)
    assert show["properties"]["artifact_path"] == "model.bin"
    assert {e["kind"] for e in show["upstream"]} == {"registers", "registered_at"}

    text = mlprov("lineage", "models:/clf/v0.1.0", cwd=workspace)
    assert "registers" in text.stdout and "model.bin" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "--git", "does-not-exist"), "not a git repository"),
        (("show", "nothing-like-this"), "names no node"),
        (("lineage", "model.bin@no-such-rev"), "unknown revision 'no-such-rev'"),
        (("show", "models:/clf/v9"), "no version v9 of model 'clf'"),
        (("ls", "--kind", "bogus"), "Invalid value"),
    ],
)
def test_bad_input_exit_2_with_one_line(workspace: Path, args: tuple[str, ...], message: str) -> None:
    mlprov("scan", cwd=workspace)
    result = mlprov(*args, cwd=workspace)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_store_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_text("not sqlite " * 200)
    result = mlprov("--db", f"sqlite:///{bad}", "ls", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("mlprov: cannot open the store") and result.stderr.count("\n") == 1


def test_nothing_to_scan_exit_2(tmp_path: Path) -> None:
    result = mlprov("scan", cwd=tmp_path)
    assert result.returncode == 2 and "nothing to scan" in result.stderr


def test_json_output_is_standard_json_for_non_finite_params(tmp_path: Path) -> None:
    """A param DVC locked as `.nan`/`.inf` (real dvc writes them so) must not make `--json` unreadable
    for strict readers (jq): standard JSON has no NaN or Infinity, so they are null."""

    def strict(text: str) -> object:
        def refuse(constant: str) -> object:
            raise ValueError(f"not standard JSON: {constant}")

        return json.loads(text, parse_constant=refuse)

    repo = Repo(tmp_path / "nan")
    repo.dvc("init", "-q")
    repo.write("params.yaml", "train:\n  lr: .nan\n  clip: .inf\n  epochs: 3\n")
    repo.write(
        "dvc.yaml", "stages:\n  fit:\n    cmd: echo fit > out.txt\n    params: [train]\n    outs: [out.txt]\n"
    )
    repo.dvc("repro", "-q")
    assert "lr: .nan" in (repo.path / "dvc.lock").read_text()
    sha = repo.commit("nan params")
    db = f"sqlite:///{tmp_path / 'l.db'}"
    scan = mlprov("--db", db, "scan", "--git", str(repo.path), "--json", cwd=tmp_path)
    assert scan.returncode == 0, scan.stderr
    shown = mlprov("--db", db, "show", f"stage:nan:fit@{sha}", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    doc = strict(shown.stdout)
    assert isinstance(doc, dict)
    params = json.dumps(doc)
    assert '"lr": null' in params and '"clip": null' in params and '"epochs": 3' in params
