"""`mlprov scan --bom`: a BOM recorded as a `bom` node that `describes` its model version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from explorer.lineage import EdgeKind
from explorer.store import LineageStore

GOLDEN = Path(__file__).resolve().parents[1] / "sbom" / "golden" / "churn-3.cdx.json"


def test_scan_bom_records_describes_edge(tmp_path: Path) -> None:
    bom = json.loads(GOLDEN.read_text())
    bom["serialNumber"] = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    path = tmp_path / "churn-3.cdx.json"
    path.write_text(json.dumps(bom))
    db = f"sqlite:///{tmp_path / 'l.db'}"

    def scan() -> dict[str, object]:
        out = subprocess.run(
            [sys.executable, "-m", "explorer", "--db", db, "scan", "--bom", str(path), "--json"],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)["sources"][0]  # type: ignore[no-any-return]

    first = scan()
    assert first["origin"] == f"bom:{path}" and first["unchanged"] is False
    store = LineageStore.open(db)
    node = store.node("bom:urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79")
    assert node is not None and node.properties["spec_version"] == bom["specVersion"]
    describes = store.edges_from([node.id], [EdgeKind.DESCRIBES])
    assert sorted(e.target for e in describes) == ["model:m-5fcbbd68f23b472a8f12449051f3cb9e", "model_version:churn/3"]
    assert describes[0].evidence.source == "bom" and str(path) in describes[0].evidence.locator
    assert scan()["unchanged"] is True


def test_scan_bom_not_json_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{ nope")
    out = subprocess.run(
        [sys.executable, "-m", "explorer", "--db", f"sqlite:///{tmp_path / 'l.db'}", "scan", "--bom", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2 and "is not JSON" in out.stderr and str(bad) in out.stderr
