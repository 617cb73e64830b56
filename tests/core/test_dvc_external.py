"""Pipelines whose data lives outside the repository (s3:// outs, an https:// dep), as in a public
SageMaker pipeline: its versions are recorded, and ``PATH@REV`` finds an out by its URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.lineage import EdgeKind
from explorer.resolve import RefError, resolve
from explorer.scan import run_scan
from explorer.sources.git import GitSource
from explorer.store import LineageStore
from tests.helpers import Repo

# The lock as DVC 3 writes it for an https dep (`checksum`: the server's ETag, quotes included —
# DVC 3.67 writes exactly this against a local server) and for outs in a bucket (`hash: md5` lines:
# DVC >= 3.0), in the layout of iterative/sagemaker-pipeline's dvc.lock.
LOCK = """\
schema: '2.0'
stages:
  prepare:
    cmd: python prepare.py --bucket demo-bucket
    deps:
    - path: https://example.com/data/bank-additional.zip
      hash: md5
      checksum: '"7e1251f64f0853895d094700448216ee"'
      size: 432828
    outs:
    - path: s3://demo-bucket/input_data
      hash: md5
      md5: 735e1d275e6d294448e6c5c91c9a20c8.dir
      size: 5146674
      nfiles: 1
  train:
    cmd: python train.py --bucket demo-bucket
    deps:
    - path: s3://demo-bucket/input_data
      hash: md5
      md5: 735e1d275e6d294448e6c5c91c9a20c8.dir
      size: 5146674
      nfiles: 1
    outs:
    - path: s3://demo-bucket/output
      hash: md5
      md5: ad60d9f3bafa5f35403ea433c097ea5d.dir
      size: 1234
      nfiles: 3
"""


def test_external_outs_are_found_by_url(tmp_path: Path, sqlite_url: str) -> None:
    repo = Repo(tmp_path / "external")
    repo.write("dvc.lock", LOCK)
    sha = repo.commit("pipeline on s3")
    store = LineageStore.open(sqlite_url)
    assert run_scan(store, [GitSource(repo.path)])[0].error is None

    output = "data:md5:ad60d9f3bafa5f35403ea433c097ea5d.dir"
    node = store.node(output)
    assert node is not None and node.properties["path"] == "s3://demo-bucket/output"
    assert node.properties["nfiles"] == 3
    # the out is found by its URL at a revision (normpath turned `s3://` into `s3:/` and missed it)
    assert resolve(store, "s3://demo-bucket/output@HEAD") == output
    assert resolve(store, f"s3://demo-bucket/input_data@{sha[:10]}") == "data:md5:735e1d275e6d294448e6c5c91c9a20c8.dir"
    made_by = [e.target for e in store.edges_from([output], [EdgeKind.GENERATED_BY])]
    assert made_by == [f"stage:external:train@{sha}"]
    # the https dep keeps DVC's checksum (the ETag) as its version
    used = {e.target for e in store.edges_from([f"stage:external:prepare@{sha}"], [EdgeKind.USED])}
    assert used == {'data:checksum:"7e1251f64f0853895d094700448216ee"'}

    # one scanned repository: its reason is the whole message, not repeated as a candidate
    with pytest.raises(RefError, match="not tracked by DVC at HEAD") as info:
        resolve(store, "s3://demo-bucket/other@HEAD")
    assert info.value.candidates == []
