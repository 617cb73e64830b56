"""The DVC file parsers on the real formats' edge cases (legacy locks, .dvc stage hashes, artifacts)."""

from __future__ import annotations

import random

import pytest

from explorer.dvcformat import DvcFormatError, parse_artifacts, parse_dvcfile, parse_lock

DVC2_LOCK = """\
schema: '2.0'
stages:
  featurize:
    cmd: python src/featurization.py data/prepared data/features
    deps:
    - path: data/prepared
      md5: 153aad06d376b6595932470e459ef42a.dir
      size: 8437363
      nfiles: 2
    params:
      params.yaml:
        featurize.max_features: 100
        featurize.ngrams: 1
    outs:
    - path: data/features
      md5: f35d4cc2c552ac959ae602162b8543f3.dir
      size: 2232588
      nfiles: 2
"""

DVC1_LOCK = """\
prepare:
  cmd: python src/prepare.py data/data.xml
  deps:
  - path: data/data.xml
    md5: a304afb96060aad90176268345e10355
  outs:
  - path: data/prepared
    md5: 6836f797f3924fb46fcfd6b9f6aa6416.dir
"""


def test_dvc2_entries_keep_their_algorithm_apart() -> None:
    stage = parse_lock(DVC2_LOCK, "dvc.lock")["featurize"]
    assert [(d.algorithm, d.digest, d.nfiles) for d in stage.deps] == [
        ("md5-dos2unix", "153aad06d376b6595932470e459ef42a.dir", 2)
    ]
    assert stage.outs[0].digest.endswith(".dir") and stage.outs[0].size == 2232588
    assert stage.params == {"params.yaml": {"featurize.max_features": 100, "featurize.ngrams": 1}}


def test_dvc1_layout_without_schema() -> None:
    stages = parse_lock(DVC1_LOCK, "dvc.lock")
    assert list(stages) == ["prepare"]
    assert stages["prepare"].deps[0].algorithm == "md5-dos2unix"
    assert stages["prepare"].outs[0].path == "data/prepared"


def test_lock_in_subdirectory_prefixes_paths_and_names() -> None:
    lock = (
        "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n    - path: ../shared/model.pkl\n"
        "      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n"
    )
    stage = parse_lock(lock, "models/churn/dvc.lock")["models/churn/train"]
    assert stage.outs[0].path == "models/shared/model.pkl"
    assert stage.outs[0].algorithm == "md5"
    assert stage.dvcfile == "models/churn/dvc.yaml"


def test_dvcfile_stage_hash_is_not_data_hash_and_paths_are_relative_to_it() -> None:
    text = (
        "md5: fd75c91bb60baf9bf36e4f64f0c1c7e0\n"
        "frozen: true\n"
        "deps:\n- path: data/data.xml\n  repo:\n    url: https://github.com/iterative/dataset-registry\n"
        "    rev_lock: f31f5c4cdae787b4bdeb97a717687d44667d9e62\n"
        "outs:\n- md5: 22a1a2931c8370d3aeedd7183606fd7f\n  size: 14445097\n  hash: md5\n  path: data.xml\n"
    )
    stage = parse_dvcfile(text, "data/data.xml.dvc")
    assert stage.outs[0].path == "data/data.xml"
    assert stage.outs[0].digest == "22a1a2931c8370d3aeedd7183606fd7f"
    assert stage.imported == {
        "url": "https://github.com/iterative/dataset-registry",
        "rev_lock": "f31f5c4cdae787b4bdeb97a717687d44667d9e62",
        "rev": None,
        "path": "data/data.xml",
    }
    assert stage.frozen is True


def test_artifacts_section() -> None:
    text = (
        "artifacts:\n  text-classification:\n    path: models/model.pkl\n    type: model\n"
        "    desc: clf\n    labels: [nlp]\n"
    )
    decl = parse_artifacts(text, "dvc.yaml")["text-classification"]
    assert (decl.path, decl.type, decl.description, decl.labels) == ("models/model.pkl", "model", "clf", ("nlp",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [a: b: c", "invalid YAML line 1"),
        ("- just\n- a list\n", "expected a mapping"),
        ("schema: '2.0'\nstages:\n  a:\n    deps: {path: x}\n", "'deps' is not a list"),
        ("schema: '2.0'\nstages:\n  a:\n    outs:\n    - md5: abc\n", "entry without a path"),
    ],
)
def test_malformed_lock_one_line_reason(text: str, message: str) -> None:
    with pytest.raises(DvcFormatError) as err:
        parse_lock(text, "dvc.lock")
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("dvc.lock")


def test_yaml_is_loaded_safely() -> None:
    evil = "!!python/object/apply:os.system ['touch /tmp/pwned-by-mlprov']\n"
    with pytest.raises(DvcFormatError):
        parse_lock(evil, "dvc.lock")


NESTED_LOCK = """\
schema: '2.0'
stages:
  train@lr-0.1:
    cmd:
    - python train.py --lr 0.1
    - python report.py
    deps:
    - path: data/features
      hash: md5
      md5: f35d4cc2c552ac959ae602162b8543f3.dir
      size: 2232588
      nfiles: 2
    - path: 'data/odd name: with colon.csv'
      hash: md5
      md5: 0b1d1cb8b1fdb9b1a1b8e6e5c9d0a1f2
      size: 10
    params:
      params.yaml:
        train:
          layers: [64, 32]
          dropout: 0.2
          optimizer: {name: adam, beta: 0.9}
        seed: 7
    outs:
    - path: model.pkl
      hash: md5
      md5: 3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9
      size: 4096
    frozen: true
  evaluate:
    cmd: python evaluate.py
    deps:
    - path: model.pkl
      hash: md5
      md5: 3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9
      size: 4096
"""


@pytest.mark.parametrize("text", [DVC2_LOCK, NESTED_LOCK], ids=["dvc2", "nested"])
def test_fast_section_parse_equals_yaml(text: str) -> None:
    """The YAML-free reading of hash lists must give exactly what the YAML parse gives."""
    from explorer.dvcformat import fast_entry, parse_lock_sections, split_lock

    sections = split_lock(text)
    assert sections is not None
    slow = parse_lock(text, "sub/dvc.lock")
    fast = parse_lock_sections(sections, list(sections), "sub/dvc.lock")
    assert fast.keys() == slow.keys()
    for name in slow:
        assert (fast[name].cmd, fast[name].params, fast[name].deps, fast[name].outs, fast[name].frozen) == (
            slow[name].cmd,
            slow[name].params,
            slow[name].deps,
            slow[name].outs,
            slow[name].frozen,
        )
        assert fast[name].raw == slow[name].raw
    # the quoted path is outside the plain shape: that stage went through YAML, the others did not
    if text is NESTED_LOCK:
        assert fast_entry(sections["train@lr-0.1"]) is None
        assert fast_entry(sections["evaluate"]) is not None


# Scalars chosen at the edges of YAML 1.1 and 1.2: every resolver of PyYAML's and ruamel.yaml's safe
# loaders, quoting, comments.
_TRICKY_VALUES = [
    "0", "-0", "7", "007", "0x1F", "0o17", "0b101", "1_000", "+1", "1:20", "1.5", "-0.25", "00.5", ".5", "1.",
    "1e5", "1.0e+5", ".inf", "-.inf", ".nan", "NaN", "inf", "yes", "No", "ON", "off", "y", "n", "true", "False",
    "TRUE", "null", "Null", "~", "None", "", "=", "<<", "2026-01-02", "2026-01-02 03:04:05", "python train.py",
    "python train.py --lr 0.1", "a  b", "a #b", "a# b", "a: b", "a:b", "/abs/path", "_x", "x,y", "[1, 2]",
    "{a: 1}", "'quoted'", '"dq"', "'it''s'", '"esc\\n"', "'a' # c", "-", "- item", "&anchor", "*alias",
    "!tag x", "|", ">", "%x", "@x", "`x", "é", "trailing ", "tab\there",
]
_TRICKY_KEYS = ["cmd", "params", "lr", "stage0.lr", "a-b", "on", "yes", "Null", "1", "x y", "_k", "'q'", "ké"]


@pytest.mark.filterwarnings("ignore::ruamel.yaml.error.ReusedAnchorWarning")  # `&anchor` twice: ruamel warns
def test_plain_mapping_reads_what_yaml_reads_or_declines() -> None:
    """Every document the hand reader accepts must load to the same value as DVC reads it (ruamel.yaml,
    YAML 1.2, the library DVC 3.67 parses its files with)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from explorer.dvcformat import plain_mapping

    rng = random.Random(7)
    accepted = 0
    for _ in range(3000):
        lines: list[str] = []
        depth = 0
        for _ in range(rng.randint(1, 6)):
            key = rng.choice(_TRICKY_KEYS)
            indent = "  " * depth
            if rng.random() < 0.3 and depth < 3:
                lines.append(f"{indent}{key}:")
                depth += 1
            else:
                lines.append(f"{indent}{key}: {rng.choice(_TRICKY_VALUES)}")
                depth = rng.randint(0, depth)
        got = plain_mapping(lines)
        try:
            expected = YAML(typ="safe").load("\n".join(lines))  # a fresh one: a failed load spoils it
        except YAMLError:
            assert got is None, lines
            continue
        if got is not None:
            accepted += 1
            assert repr(got) == repr(expected), lines  # repr: True and 1, 1.0 and 1 differ
    assert accepted > 100  # the fast path does fire on ordinary documents


def test_plain_mapping_reads_dvc_cmd_and_params() -> None:
    from explorer.dvcformat import plain_mapping

    lines = ["cmd: python src/train.py --epochs 3", "params:", "  params.yaml:", "    train.lr: 0.001",
             "    train.layers: 3", "    train.name: resnet", "    train.flag: false", "frozen: true"]
    assert plain_mapping(lines) == {
        "cmd": "python src/train.py --epochs 3",
        "params": {"params.yaml": {"train.lr": 0.001, "train.layers": 3, "train.name": "resnet", "train.flag": False}},
        "frozen": True,
    }
    assert plain_mapping(["cmd:", "- python a.py", "- python b.py"]) is None  # lists go to YAML


def test_a_files_list_without_md5s_names_no_content() -> None:
    """`import-url --version-aware --no-download` locks files by cloud version only: no data version."""
    from explorer.dvcformat import hashed_entry

    entry = {
        "path": "s3://bucket/images",
        "files": [{"relpath": "a.png", "etag": "0x1", "version_id": "v1", "size": 3}],
    }
    assert hashed_entry(entry, "", "dvc.lock stage fetch deps[0]") is None
    entry["files"][0]["md5"] = "0cc175b9c0f1b6a831c399e269772661"
    hashed = hashed_entry(entry, "", "dvc.lock stage fetch deps[0]")
    assert hashed is not None and hashed.digest.endswith(".dir") and hashed.algorithm == "md5-dos2unix"
    assert (hashed.size, hashed.nfiles) == (3, 1)
