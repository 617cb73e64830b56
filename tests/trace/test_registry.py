"""The OCI source against Debian's real docker-registry (images pushed with real skopeo) and layouts."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from explorer.lineage import EdgeKind, NodeKind
from explorer.sources.oci import OciSource
from explorer.store import LineageStore
from sample_data.oci_images import Layout
from tests.trace.conftest import scan_into
from tests.trace.images import (
    MODEL_KEY,
    REVISION_A,
    REVISION_B,
    RUN_IN_LABEL,
    RUN_IN_MLMODEL,
    SBOM,
    attach_by_fallback,
    build_layout,
)
from tests.trace.registry import Registry, free_port
from tests.trace.stubs import stub_registry


@pytest.fixture(scope="module")
def pushed(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    layout = tmp_path_factory.mktemp("layout") / "app"
    descriptors = build_layout(layout)
    registry.push_layout(layout, "v1", "team/app:v1")
    registry.push_layout(layout, "v2", "team/app:v2")
    attached = attach_by_fallback(registry, "team/app", descriptors["v2"])
    return {"descriptors": descriptors, "attached": attached, "repo": f"{registry.host}/team/app"}


def _edges(store: LineageStore, source: str, kind: EdgeKind) -> list[str]:
    return sorted(e.target for e in store.edges_from([source], [kind]))


def test_pushed_images_are_read_back_by_digest(store: LineageStore, pushed: dict[str, object]) -> None:
    repo = str(pushed["repo"])
    d = pushed["descriptors"]
    [report] = scan_into(store, OciSource(repo, layout=False))
    assert report.error is None
    index = store.node(f"image:{repo}@{d['index']['digest']}")
    assert index is not None, "the digest skopeo pushed is the digest recorded"
    assert index.properties["tags"] == ["v1"]
    assert index.properties["platforms"] == ["linux/amd64", "linux/arm64"]
    assert index.properties["media_type"] == "application/vnd.oci.image.index.v1+json"
    children = _edges(store, index.id, EdgeKind.CONTAINS)
    assert children == sorted([f"image:{repo}@{d['amd64']['digest']}", f"image:{repo}@{d['arm64']['digest']}"])
    arm = store.node(f"image:{repo}@{d['arm64']['digest']}")
    assert arm is not None and arm.properties["platform"] == "linux/arm64"
    assert arm.properties["labels"]["org.mlflow.model.uri"] == "models:/churn/1"
    assert _edges(store, arm.id, EdgeKind.CONTAINS) == ["model_version:churn/1"]
    assert _edges(store, arm.id, EdgeKind.BUILT_FROM) == [f"commit:{REVISION_A}"]


def test_mlmodel_in_a_layer_links_when_labels_are_silent(store: LineageStore, pushed: dict[str, object]) -> None:
    repo = str(pushed["repo"])
    scan_into(store, OciSource(repo, layout=False))
    amd = f"image:{repo}@{pushed['descriptors']['amd64']['digest']}"
    assert _edges(store, amd, EdgeKind.CONTAINS) == [f"model:{MODEL_KEY}"]
    [edge] = store.edges_from([amd], [EdgeKind.CONTAINS])
    assert edge.evidence.rule == "MLmodel file in a layer" and "/opt/model/MLmodel" in edge.evidence.locator
    model = store.node(f"model:{MODEL_KEY}")
    assert model is not None
    assert model.properties["requirements"] == ["scikit-learn==1.5.0", "numpy<3"]
    assert _edges(store, model.id, EdgeKind.GENERATED_BY) == [f"run:{RUN_IN_MLMODEL}"]


def test_labels_link_run_model_version_and_commit(store: LineageStore, pushed: dict[str, object]) -> None:
    repo = str(pushed["repo"])
    scan_into(store, OciSource(repo, layout=False))
    v2 = f"image:{repo}@{pushed['descriptors']['v2']['digest']}"
    assert _edges(store, v2, EdgeKind.CONTAINS) == ["model_version:churn/2", f"run:{RUN_IN_LABEL}"]
    assert _edges(store, v2, EdgeKind.BUILT_FROM) == [f"commit:{REVISION_B}"]
    node = store.node(v2)
    assert node is not None and node.properties["created"] == "2026-01-10T00:00:00Z"


def test_attached_sbom_and_signature_found_through_tag_fallback(store: LineageStore, pushed: dict[str, object]) -> None:
    repo = str(pushed["repo"])
    scan_into(store, OciSource(repo, layout=False))
    v2 = f"image:{repo}@{pushed['descriptors']['v2']['digest']}"
    bom = store.node(f"bom:{SBOM['serialNumber']}")
    assert bom is not None and bom.properties["format"] == "cyclonedx" and bom.properties["generator"] == "syft"
    [describes] = store.edges_from([bom.id], [EdgeKind.DESCRIBES])
    assert describes.target == v2 and "tag sha256-" in describes.evidence.locator
    sig_id = "signature:sha256:" + str(pushed["attached"]["signature_layer"]).partition(":")[2]
    signature = store.node(sig_id)
    assert signature is not None and signature.properties["method"] == "cosign"
    assert signature.properties["verified"] is None
    [signs] = store.edges_from([sig_id], [EdgeKind.SIGNS])
    assert signs.target == v2 and signs.evidence.locator.endswith(".sig)")
    tags = [n.properties.get("tags") for n in store.nodes(NodeKind.IMAGE)]
    assert not any(t and any(x.startswith("sha256-") for x in t) for t in tags), "fallback tags are not images"


def test_rescan_is_incremental(
    store: LineageStore, pushed: dict[str, object], registry: Registry, tmp_path: Path
) -> None:
    repo = str(pushed["repo"])
    scan_into(store, OciSource(repo, layout=False))
    [again] = scan_into(store, OciSource(repo, layout=False))
    assert again.unchanged and again.nodes == 0
    layout = tmp_path / "extra"
    extra = Layout(layout)
    desc = extra.image({"x": b"v3"}, {"org.mlflow.model.uri": "models:/churn/3"}, "2026-02-01T00:00:00Z")
    extra.tag(desc, "v3")
    extra.save()
    registry.push_layout(layout, "v3", "team/app:v3")
    [third] = scan_into(store, OciSource(repo, layout=False))
    assert third.batches == 2  # the new tag, then every image's settled tag list
    assert store.node(f"image:{repo}@{desc['digest']}").properties["tags"] == ["v3"]  # type: ignore[union-attr]
    assert store.cursor(f"registry:{repo}")["tags"]["v3"] == desc["digest"]

    # a tag that moves leaves its old image: tags are present state, not history
    registry.push_layout(layout, "v3", "team/app:moving")
    scan_into(store, OciSource(repo, layout=False))
    assert store.node(f"image:{repo}@{desc['digest']}").properties["tags"] == ["moving", "v3"]  # type: ignore[union-attr]
    other = Layout(tmp_path / "other")
    moved = other.image({"x": b"v4"}, {}, "2026-02-02T00:00:00Z")
    other.tag(moved, "moving")
    other.save()
    registry.push_layout(tmp_path / "other", "moving", "team/app:moving")
    scan_into(store, OciSource(repo, layout=False))
    assert store.node(f"image:{repo}@{desc['digest']}").properties["tags"] == ["v3"]  # type: ignore[union-attr]
    assert store.node(f"image:{repo}@{moved['digest']}").properties["tags"] == ["moving"]  # type: ignore[union-attr]


def test_registry_down_is_one_line_and_store_kept(store: LineageStore, pushed: dict[str, object]) -> None:
    scan_into(store, OciSource(str(pushed["repo"]), layout=False))
    before = store.count_by_kind()
    [report] = scan_into(store, OciSource(f"127.0.0.1:{free_port()}/team/app", layout=False))
    assert "not reachable" in str(report.error) and "\n" not in str(report.error)
    assert store.count_by_kind() == before


def test_unknown_repository_is_404(store: LineageStore, registry: Registry) -> None:
    [report] = scan_into(store, OciSource(f"{registry.host}/no/such", layout=False))
    assert "404 not found" in str(report.error) and "list tags" in str(report.error)


def test_401_and_500_are_clear_and_credentials_never_shown(
    store: LineageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPROV_REGISTRY_USER", "ci")
    monkeypatch.setenv("MLPROV_REGISTRY_PASSWORD", "hunter2-secret")
    with stub_registry("401") as (host, seen):
        [report] = scan_into(store, OciSource(f"{host}/team/app", layout=False))
    assert "401 unauthorized" in str(report.error) and "credentials were refused" in str(report.error)
    assert "hunter2" not in str(report.error)
    assert any(h.get("Authorization", "").startswith("Basic ") for h in seen), "basic credentials were offered"
    with stub_registry("500") as (host, _):
        [report] = scan_into(store, OciSource(f"{host}/team/app", layout=False))
    assert report.error == f"registry {host}/team/app: list tags: HTTP 500"


def test_bearer_token_flow_with_docker_config(
    store: LineageStore, pushed: dict[str, object], registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLPROV_REGISTRY_USER", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with stub_registry("bearer", upstream=registry.host) as (host, seen):
        (tmp_path / "docker").mkdir()
        auth = base64.b64encode(b"ci:s3cret").decode()
        (tmp_path / "docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
        [report] = scan_into(store, OciSource(f"{host}/team/app", layout=False))
    assert report.error is None and report.nodes >= 4
    assert any(h["path"].startswith("/token") for h in seen)
    assert store.node(f"image:{host}/team/app@{pushed['descriptors']['v2']['digest']}") is not None
    db_bytes = Path(store.url.removeprefix("sqlite:///")).read_bytes()
    assert b"s3cret" not in db_bytes and b"tok-" not in db_bytes


def test_layout_with_unexpected_media_type_records_a_gap(store: LineageStore, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "odd")
    good = layout.image({"a": b"b"}, {"org.mlflow.model.uri": "models:/m/1"}, "2026-01-01T00:00:00Z")
    layout.tag(good, "registry.example.com/ml/odd:good")
    weird = layout.blob(
        json.dumps({"mediaType": "application/vnd.example.weird+json"}).encode(), "application/vnd.example.weird+json"
    )
    layout.tag(weird, "registry.example.com/ml/odd:weird")
    layout.save()
    [report] = scan_into(store, OciSource(str(tmp_path / "odd"), layout=True))
    assert report.error is None
    [gap] = [g for g in store.gaps() if g.kind == "unexpected_media_type"]
    assert "application/vnd.example.weird+json" in gap.reason and gap.subject.endswith(weird["digest"])
    assert store.node(f"image:registry.example.com/ml/odd@{good['digest']}") is not None
    [missing] = scan_into(store, OciSource(str(tmp_path / "nothing"), layout=True))
    assert "not an OCI image layout" in str(missing.error)


def test_attached_sbom_found_through_referrers_api(
    store: LineageStore, pushed: dict[str, object], registry: Registry, tmp_path: Path
) -> None:
    """An SBOM pushed with a ``subject`` and no fallback tag is found only through the OCI 1.1 referrers API.

    Debian's registry has no referrers API, so a stub in front of it serves that one endpoint (a test
    double, clearly named) and passes everything else through to the real registry.
    """
    import hashlib

    subject = pushed["descriptors"]["index"]  # type: ignore[index]  (tagged v1: a two-platform index)
    sbom = dict(SBOM, serialNumber="urn:uuid:6f1c2a8e-0b7d-4d5e-9c3a-1b2c3d4e5f60")
    sbom_bytes = json.dumps(sbom).encode()
    empty = registry.put_blob("team/app", b"{}")
    layer = registry.put_blob("team/app", sbom_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cyclonedx+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [{"mediaType": "application/vnd.cyclonedx+json", "digest": layer, "size": len(sbom_bytes)}],
        "subject": {k: subject[k] for k in ("mediaType", "digest", "size")},  # type: ignore[index]
    }
    raw = json.dumps(manifest).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    registry.put_manifest("team/app", digest, manifest, "application/vnd.oci.image.manifest.v1+json")
    bom_id = f"bom:{sbom['serialNumber']}"

    scan_into(store, OciSource(str(pushed["repo"]), layout=False))
    assert store.node(bom_id) is None, "without the referrers API nothing points at the SBOM"

    descriptor = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": len(raw),
        "artifactType": "application/vnd.cyclonedx+json",
    }
    with stub_registry("referrers", upstream=registry.host, referrers={str(subject["digest"]): [descriptor]}) as (  # type: ignore[index]
        host,
        seen,
    ):
        [report] = scan_into(store, OciSource(f"{host}/team/app", layout=False))
    assert report.error is None
    assert any("/referrers/" in h["path"] for h in seen)
    bom = store.node(bom_id)
    assert bom is not None
    [describes] = store.edges_from([bom_id], [EdgeKind.DESCRIBES])
    assert describes.target == f"image:{host}/team/app@{subject['digest']}"  # type: ignore[index]
