"""Verifying a signature from the explorer over the sample workspace, whose champion is signed with a key.

The sample's signing step (sample_data/signing.py) signs the MLflow artifacts of
``models:/churn-model@champion`` with a fresh P-256 key and writes ``signers.yaml`` trusting it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from explorer.config import Settings
from explorer.lineage import EdgeKind, Facts, Node, NodeKind
from explorer.store import LineageStore
from explorer.tui.data.models import Signed
from explorer.tui.screens.models import ModelsScreen
from explorer.tui.screens.node import NodeScreen
from explorer.tui.widgets.models_table import ModelsTable
from tests.tui.factory import SIZE, make_app, pilot_test, settle

CHAMPION = "model_version:churn-model/4"


def _logged_model(store: LineageStore) -> Node:
    target = next(e.target for e in store.edges_from([CHAMPION], [EdgeKind.VERSION_OF]))
    node = store.node(target)
    assert node is not None
    return node


def _messages(app, severity: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(n.message) for n in app._notifications if n.severity == severity]


def test_the_scan_recorded_the_signature(store: LineageStore, scanned_workspace: Path) -> None:
    model = _logged_model(store)
    signs = store.edges_to([model.id], [EdgeKind.SIGNS])
    assert len(signs) == 1
    signature = store.node(signs[0].source)
    assert signature is not None and signature.kind == NodeKind.SIGNATURE
    assert signature.properties["method"] == "key" and "verified" not in signature.properties
    bundle = Path(str(signature.properties["bundle_path"]))
    assert bundle.name == "model.sig" and bundle.parent.name == "artifacts"  # inside the artifacts, as upstream
    assert bundle.is_relative_to(scanned_workspace / "mlartifacts")
    assert (scanned_workspace / "signers.yaml").is_file() and (scanned_workspace / "keys").is_dir()


@pilot_test
async def test_verify_the_champion_from_the_models_home(store: LineageStore, workspace_settings: Settings) -> None:
    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        assert str(table.get_cell(CHAMPION, "signed")) == "? unverified"  # signed; nobody verified it yet
        unsigned = [r.id for r in table.shown if r.signed == Signed.UNSIGNED]
        assert len(unsigned) == table.row_count - 1  # only the champion is signed
        table.move_cursor(row=table.get_row_index(CHAMPION))
        await pilot.press("v")
        await settle(pilot, rounds=8)
        assert not _messages(app, "error")
        [summary] = _messages(app, "information")
        assert summary.startswith("verified: model.sig signed by key:sha256:")
        assert "7 files match the signature" in summary
        assert isinstance(app.screen, ModelsScreen)
        assert str(table.get_cell(CHAMPION, "signed")) == "✔ verified"  # refreshed from what verify recorded
        assert table.current is not None and table.current.id == CHAMPION  # the cursor stays on the row
    recorded = [store.node(e.source) for e in store.edges_to([CHAMPION], [EdgeKind.SIGNS])]
    assert len(recorded) == 1 and recorded[0] is not None
    props = recorded[0].properties
    assert props["verified"] is True and str(props["identity"]).startswith("key:sha256:") and props["verified_at"]


@pilot_test
async def test_a_tampered_artifact_fails(store: LineageStore, workspace_settings: Settings, tmp_path: Path) -> None:
    # a copy of the champion's artifacts with one byte changed; this test's own store points at it
    model = _logged_model(store)
    original = Path(str(model.properties["artifact_location"]).removeprefix("file://"))
    copy = tmp_path / "artifacts"
    shutil.copytree(original, copy)
    pickle = copy / "model.pkl"
    data = bytearray(pickle.read_bytes())
    data[len(data) // 2] ^= 0x01
    pickle.write_bytes(bytes(data))
    facts = Facts()
    facts.add_node(Node(model.id, model.kind, model.label, {**model.properties, "artifact_location": copy.as_uri()}))
    store.write_batch("test:tamper", facts)

    app = make_app(store, workspace_settings)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_node(CHAMPION)
        await settle(pilot)
        assert isinstance(app.screen, NodeScreen)
        await pilot.press("v")
        await settle(pilot, rounds=8)
        [failure] = _messages(app, "error")
        assert failure.startswith("FAILED: model.sig signed by key:sha256:") and "model.pkl" in failure
        await pilot.press("escape")
        await settle(pilot)
        table = app.screen.query_one(ModelsTable)
        assert str(table.get_cell(CHAMPION, "signed")) == "✘ failed"
    assert any(g.kind == "signature_invalid" for g in store.gaps([CHAMPION]))


def test_the_model_files_are_looked_for_where_the_scan_found_them(tmp_path: Path) -> None:
    """A store cloned from another machine keeps the logging machine's artifact_location (file:///D:/…);
    the scan finds the files beside it (artifact_read_from), and `v` looked only at the recorded path."""
    from explorer.tui.data.capabilities import _local_path

    here = tmp_path / "mlruns" / "1" / "abc" / "artifacts" / "model"
    here.mkdir(parents=True)
    recorded = "file:///D:/code/project/mlruns/1/abc/artifacts/model"
    props = {"artifact_location": recorded, "artifact_read_from": str(here)}
    assert _local_path(props) == here
    assert _local_path({"artifact_location": props["artifact_location"]}) is None
