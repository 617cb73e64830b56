"""MLmodel files found in image layers of every compression a registry serves: none, gzip, zstd."""

from __future__ import annotations

import gzip
import io
import tarfile

import pytest
import zstandard

from explorer.oci_mlmodel import scan_layer

MLMODEL = b"model_id: m-0123456789abcdef0123456789abcdef\nrun_id: abc\nflavors:\n  sklearn: {}\n"


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("opt/model/MLmodel", MLMODEL), ("opt/model/requirements.txt", b"numpy<3\n# c\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _chunks(data: bytes, size: int = 7) -> object:
    return (data[i : i + size] for i in range(0, len(data), size))


@pytest.mark.parametrize(
    ("media_type", "encode"),
    [
        ("application/vnd.oci.image.layer.v1.tar", lambda b: b),
        ("application/vnd.oci.image.layer.v1.tar+gzip", gzip.compress),
        ("application/vnd.oci.image.layer.v1.tar+zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_mlmodel_found_in_streamed_layer(media_type: str, encode: object) -> None:
    found, problem = scan_layer(_chunks(encode(_tar())), media_type, "sha256:" + "0" * 64)  # type: ignore[arg-type, operator]
    assert problem is None
    [model] = found
    assert model.path == "/opt/model/MLmodel"
    assert model.model_key == "m-0123456789abcdef0123456789abcdef"
    assert model.requirements == ["numpy<3"]


def test_corrupt_zstd_layer_is_a_reason_not_a_crash() -> None:
    found, problem = scan_layer(
        _chunks(b"\x28\xb5\x2f\xfd" + b"garbage" * 10),
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "sha256:" + "1" * 64,
    )
    assert found == [] and problem is not None and "not a readable" in problem


def test_a_model_is_known_by_the_same_key_in_an_image_as_in_its_tracking_store() -> None:
    """MLflow 3 ``model_id``, else MLflow 2 ``model_uuid``, else (MLflow 1) the run and path it was logged at:
    an image holding an MLflow 1 model meets the registered version's model node (``model:<run>/<path>``)."""
    from explorer.lineage import mlmodel_key
    from explorer.oci_mlmodel import FoundModel

    assert mlmodel_key({"model_id": "m-1", "model_uuid": "u", "run_id": "r", "artifact_path": "model"}) == "m-1"
    assert mlmodel_key({"model_uuid": "4f0c", "run_id": "r", "artifact_path": "model"}) == "4f0c"
    assert mlmodel_key({"run_id": "8d2e", "artifact_path": "/sk/model/"}) == "8d2e/sk/model"
    assert mlmodel_key({"run_id": "8d2e"}) is None and mlmodel_key({"flavors": {}}) is None
    meta = {"run_id": "8d2e", "artifact_path": "model", "flavors": {"sklearn": {}}}
    legacy = FoundModel("opt/model", "sha256:" + "0" * 64, meta)
    assert legacy.model_key == "8d2e/model"
