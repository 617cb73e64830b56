"""Our manifests are upstream's manifests, computed faster and incrementally."""

from __future__ import annotations

import os
from pathlib import Path

import model_signing.hashing as upstream_hashing
import pytest

from signing.digest_cache import DigestCache
from signing.hashing import HashingOptions, UnhashableEntry, hash_model, list_model_files
from signing.sign import resolve_ignore_paths


def _descriptors(manifest: object) -> list[tuple[str, str, str]]:
    return [(rd.identifier, rd.digest.algorithm, rd.digest.digest_hex) for rd in manifest.resource_descriptors()]  # type: ignore[attr-defined]


def test_file_manifest_equals_upstream(model: Path) -> None:
    ours = hash_model(model, HashingOptions(ignore_paths=(".gitattributes",)))
    theirs = upstream_hashing.Config().set_ignored_paths(paths=[]).hash(model)
    assert _descriptors(ours.manifest()) == _descriptors(theirs)
    assert [name for name, _, _ in _descriptors(ours.manifest())] == [
        "config.json",
        "tokenizer.txt",
        "weights/shard-00001.bin",
        "weights/shard-00002.bin",
    ]


def test_shard_manifest_equals_upstream(model: Path) -> None:
    ours = hash_model(model, HashingOptions(shard_size=100_000, ignore_paths=(".gitattributes",)))
    theirs = upstream_hashing.Config().use_shard_serialization(shard_size=100_000).hash(model)
    assert _descriptors(ours.manifest()) == _descriptors(theirs)
    names = [name for name, _, _ in _descriptors(ours.manifest())]
    assert "weights/shard-00002.bin:200000:200001" in names  # the 1-byte tail shard
    assert {alg for _, alg, _ in _descriptors(ours.manifest())} == {"sha256-sharded-100000"}


def test_single_file_model_is_named_dot_like_upstream(model: Path) -> None:
    weights = model / "weights" / "shard-00001.bin"
    ours = hash_model(weights, HashingOptions())
    assert _descriptors(ours.manifest()) == _descriptors(upstream_hashing.Config().hash(weights))
    assert _descriptors(ours.manifest())[0][0] == "."
    assert ours.model_name == "shard-00001.bin"


def test_ignored_subtree_is_not_walked(model: Path) -> None:
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").symlink_to("/etc/hostname")  # upstream would refuse this symlink
    files = list_model_files(model, HashingOptions(ignore_paths=(".git", ".gitattributes", "weights")))
    assert [f.name for f in files] == ["config.json", "tokenizer.txt"]


def test_symlink_is_refused_with_its_name(model: Path) -> None:
    (model / "latest.bin").symlink_to(model / "weights" / "shard-00001.bin")
    with pytest.raises(UnhashableEntry) as caught:
        list_model_files(model, HashingOptions())
    assert caught.value.name == "latest.bin"
    assert "symbolic link" in caught.value.message
    followed = list_model_files(model, HashingOptions(allow_symlinks=True))
    assert "latest.bin" in [f.name for f in followed]


def test_cache_rehashes_only_changed_files(model: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "cache.json"
    options = HashingOptions(ignore_paths=(".gitattributes",))
    first = hash_model(model, options, cache=DigestCache(cache_path))
    assert (first.cache_hits, first.bytes_hashed) == (0, first.bytes_total)

    (model / "config.json").write_text('{"hidden": 128, "layers": 2}\n')
    second = hash_model(model, options, cache=DigestCache(cache_path))
    assert second.cache_hits == 3
    assert second.bytes_hashed == len('{"hidden": 128, "layers": 2}\n')
    # The cached manifest is exactly a fresh one.
    assert _descriptors(second.manifest()) == _descriptors(hash_model(model, options).manifest())


def test_cache_entry_is_invalidated_when_mtime_is_forged_back(model: Path, tmp_path: Path) -> None:
    """Preserving mtime is not enough to fool the cache: ctime changes on any write."""
    cache_path = tmp_path / "cache.json"
    options = HashingOptions(ignore_paths=(".gitattributes",))
    hash_model(model, options, cache=DigestCache(cache_path))
    target = model / "tokenizer.txt"
    before = target.stat()
    target.write_text("x\ny\nz\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    again = hash_model(model, options, cache=DigestCache(cache_path))
    assert again.cache_hits == 3
    tokenizer = [d for n, _, d in _descriptors(again.manifest()) if n == "tokenizer.txt"]
    assert tokenizer == [_descriptors(hash_model(model, options).manifest())[1][2]]


def test_cache_is_per_scheme(model: Path, tmp_path: Path) -> None:
    cache = DigestCache(tmp_path / "cache.json")
    hash_model(model, HashingOptions(), cache=cache)
    sharded = hash_model(model, HashingOptions(shard_size=100_000), cache=cache)
    assert sharded.cache_hits == 0


def test_corrupt_cache_is_ignored(model: Path, tmp_path: Path) -> None:
    cache_path = tmp_path / "cache.json"
    cache_path.write_text("{not json")
    report = hash_model(model, HashingOptions(), cache=DigestCache(cache_path))
    assert report.cache_hits == 0
    assert '"version":1' in cache_path.read_text()


def test_ignore_paths_resolve_from_cwd_or_model_root(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(model.parent)
    assert resolve_ignore_paths(model, ["fraud-detector/tokenizer.txt", "weights/", "/etc/passwd"]) == [
        "tokenizer.txt",
        "weights",
    ]


def test_nested_ignore_path_matches_upstream(model: Path) -> None:
    (model / "weights" / "cache").mkdir()
    (model / "weights" / "cache" / "tmp.bin").write_bytes(b"scratch")
    ignores = ("weights/shard-00002.bin", "weights/cache", ".gitattributes")
    ours = hash_model(model, HashingOptions(ignore_paths=ignores))
    theirs = upstream_hashing.Config().set_ignored_paths(paths=list(ignores)).hash(model)
    assert _descriptors(ours.manifest()) == _descriptors(theirs)
    assert [f.name for f in ours.files] == ["config.json", "tokenizer.txt", "weights/shard-00001.bin"]
