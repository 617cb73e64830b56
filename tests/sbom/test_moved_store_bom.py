"""The ML-BOM of a model whose tracking store was moved (a repository's committed ``mlflow.db`` and its
artifact folder, cloned elsewhere). The scan finds the files under the moved store and says so
(``artifact_read_from``); the BOM hashed nothing ("not a directory on this machine") until it read there
too. Found on a real MLflow 2 repository; rebuilt here with the real MLflow."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore
from sbom.generate import generate
from sbom.lineage_facts import facts_from_store
from tests.sbom.conftest import log_model_into


def test_bom_of_a_moved_store_hashes_the_files_where_the_scan_found_them(tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    logged = log_model_into(laptop)
    clone = tmp_path / "clone"
    shutil.move(str(laptop), clone)  # every recorded artifact path now points nowhere
    moved_dir = clone / logged.model_dir.relative_to(laptop)
    with LineageStore.open(f"sqlite:///{tmp_path / 'lineage.db'}") as store:
        [report, *_] = run_scan(store, [MlflowSource(f"sqlite:///{clone / 'mlflow.db'}")], link=False)
        assert report.error is None, report.error
        model = store.node(f"model:{logged.model_id}")
        assert model is not None and model.properties["artifact_read_from"] == str(moved_dir)
        facts = facts_from_store(store, "model_version:iris-classifier/1")
    assert facts.notes == []
    assert facts.artifact_location is not None and facts.artifact_location.startswith(str(laptop))
    on_disk = {p.relative_to(moved_dir).as_posix(): p for p in moved_dir.rglob("*") if p.is_file()}
    assert {"MLmodel", "requirements.txt"} <= set(on_disk)
    assert {f.path: f.sha256 for f in facts.files} == {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in on_disk.items()
    }

    result = generate(facts)
    assert result.report.ok, result.report.errors
    assert {c["name"] for c in result.document["metadata"]["component"]["components"]} == set(on_disk)
