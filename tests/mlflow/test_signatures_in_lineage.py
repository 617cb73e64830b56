"""Signatures as lineage: a bundle beside MLflow model artifacts is scanned, `verify` records its result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from explorer.lineage import EdgeKind
from explorer.scan import run_scan
from explorer.sources.mlflow import MlflowSource
from explorer.store import LineageStore


def mlprov(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=cwd, capture_output=True, text=True,
                          check=False)


def test_signature_beside_model_is_scanned_and_verify_is_recorded(tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)  # the registry looks the logged model up through the global tracking URI
    client = MlflowClient(uri, registry_uri=uri)
    exp = client.create_experiment("sig", artifact_location=(tmp_path / "art").as_uri())
    run = client.create_run(exp).info.run_id
    client.set_terminated(run)
    model = client.create_logged_model(exp, name="clf", source_run_id=run)
    artifacts = Path(model.artifact_location.removeprefix("file://"))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "MLmodel").write_text(f"model_id: {model.model_id}\nflavors:\n  python_function: {{}}\n")
    (artifacts / "weights.bin").write_bytes(bytes(range(256)) * 64)
    client.create_registered_model("clf")
    client.create_model_version("clf", source=f"models:/{model.model_id}", run_id=run)
    mlflow.set_tracking_uri("")

    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (tmp_path / "pub.pem").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    signed = mlprov("sign", str(artifacts), "--method", "key", "--private-key", str(tmp_path / "key.pem"), cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    bundle = artifacts / "model.sig"
    assert bundle.is_file()

    db = f"sqlite:///{tmp_path / '.mlprov' / 'lineage.db'}"
    store = LineageStore.open(db)
    [report] = run_scan(store, [MlflowSource(uri)], link=False)
    assert report.error is None
    mid = f"model:{model.model_id}"
    signs = store.edges_to([mid], [EdgeKind.SIGNS])
    assert len(signs) == 1 and signs[0].evidence.locator == str(bundle)
    sig = store.node(signs[0].source)
    assert sig is not None and sig.properties["method"] == "key" and "verified" not in sig.properties
    files = [f["path"] for f in store.node(mid).properties["files"]]  # type: ignore[union-attr]
    assert files == ["MLmodel", "weights.bin"]  # the bundle is not a model file
    store.close()

    shown = json.loads(mlprov("show", "models:/clf/1", "--json", cwd=tmp_path).stdout)
    assert shown["signed"] == "signed, not verified"

    ok = mlprov("verify", "models:/clf/1", "--signature", str(bundle), "--public-key", str(tmp_path / "pub.pem"),
                cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    shown = json.loads(mlprov("show", "models:/clf/1", "--json", cwd=tmp_path).stdout)
    assert shown["signed"] == "verified"
    assert shown["signatures"][0]["verified"] is True

    with (artifacts / "weights.bin").open("r+b") as fh:
        fh.seek(100)
        fh.write(b"\xff")
    bad = mlprov("verify", "models:/clf/1", "--signature", str(bundle), "--public-key", str(tmp_path / "pub.pem"),
                 cwd=tmp_path)
    assert bad.returncode == 1 and "weights.bin" in (bad.stdout + bad.stderr)
    shown = json.loads(mlprov("show", "models:/clf/1", "--json", cwd=tmp_path).stdout)
    assert shown["signed"] == "failed"
    assert any(g["kind"] == "signature_invalid" for g in shown["gaps"])
