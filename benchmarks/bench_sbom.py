"""ML-BOM benchmark: in-process generation, and the CLI end to end against cdxgen.

    .venv/bin/python benchmarks/bench_sbom.py [--cdxgen PATH] [--out benchmarks/out/sbom]

1. In process: a model with 200 dependencies and 50 data files (plus a run, 2 DVC stages and a
   commit) -> CycloneDX 1.6 text, then strict validation, each timed (median of 15). Goal < 0.3 s.
2. End to end, on the same MLflow model directory (a real sklearn model logged by MLflow, its
   requirements.txt replaced by 200 pinned packages): ``mlprov bom DIR`` vs ``cdxgen -t python DIR``
   (skipped when cdxgen/npm is absent), then a table of which fields each BOM fills.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sbom.cyclonedx import build_bom, dumps  # noqa: E402
from sbom.facts import (  # noqa: E402
    ArtifactFile,
    Commit,
    DataVersion,
    Metric,
    MLModelFacts,
    PipelineStage,
    Requirement,
    TrainingRun,
)
from sbom.validate import validate_document  # noqa: E402


def synthetic_facts(n_deps: int = 200, n_data: int = 50) -> MLModelFacts:
    sha = "a" * 40
    data = {
        f"data:md5:{i:032x}": DataVersion(
            ref=f"data:md5:{i:032x}",
            name=f"data/part-{i:03d}.parquet",
            algorithm="md5",
            digest=f"{i:032x}",
            path=f"data/part-{i:03d}.parquet",
            size=1000 + i,
            remote="s3://bucket/dvc",
            contexts=["training"],
        )
        for i in range(n_data)
    }
    refs = sorted(data)
    stages = {
        "stage:r:prepare@" + sha: PipelineStage(
            "stage:r:prepare@" + sha,
            "prepare",
            "python prepare.py",
            sha,
            {"params.yaml": {"split": 0.2}},
            refs[:25],
            refs[25:],
        ),
        "stage:r:train@" + sha: PipelineStage(
            "stage:r:train@" + sha,
            "train",
            "python train.py",
            sha,
            {"params.yaml": {"lr": 0.1}},
            refs[25:],
            [],
            ["stage:r:prepare@" + sha],
        ),
    }
    run = TrainingRun(
        "f" * 32,
        "train",
        "exp",
        "1",
        "2025-01-01T00:00:00Z",
        "2025-01-01T00:10:00Z",
        "FINISHED",
        {f"p{i}": str(i) for i in range(20)},
        [Metric(f"m{i}", i / 7, "evaluation") for i in range(10)],
        refs,
        sha,
        list(stages),
    )
    return MLModelFacts(
        name="bench-model",
        version="7",
        ref="model_version:bench-model/7",
        registry="mlflow",
        model_id="m-" + "1" * 32,
        model_uuid="m-" + "1" * 32,
        run_id=run.run_id,
        created="2025-01-01T00:11:00Z",
        flavors={"sklearn": {"sklearn_version": "1.9.1"}, "python_function": {}},
        signature={"inputs": [{"type": "double", "name": f"f{i}"} for i in range(30)], "outputs": [{"type": "long"}]},
        files=[ArtifactFile(f"file{i}", f"{i:064x}", i) for i in range(8)],
        requirements=[Requirement(f"package-{i}", "pypi", f"1.{i}.0", f"package-{i}==1.{i}.0") for i in range(n_deps)],
        runs=[run],
        data=data,
        stages=stages,
        commits={sha: Commit(sha, "https://example.com/r.git")},
    )


def median_seconds(fn: Any, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process() -> dict[str, float]:
    facts = synthetic_facts()
    doc = build_bom(facts)
    text = dumps(doc)
    assert validate_document(doc, text).ok
    build = median_seconds(lambda: dumps(build_bom(facts)))
    validate = median_seconds(lambda: validate_document(doc, text))
    return {"generate_s": build, "validate_s": validate, "total_s": build + validate, "bytes": len(text)}


_TRAIN = textwrap.dedent(
    """
    import sys, warnings
    warnings.filterwarnings("ignore")
    import mlflow, mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    X, y = load_iris(return_X_y=True, as_frame=True)
    mlflow.sklearn.save_model(LogisticRegression(max_iter=300).fit(X, y), sys.argv[1], input_example=X.head(2))
    """
)


def model_directory(work: Path) -> Path:
    model_dir = work / "model"
    subprocess.run([sys.executable, "-c", _TRAIN, str(model_dir)], check=True, capture_output=True)
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    pinned = [line for line in freeze.splitlines() if "==" in line][:200]
    (model_dir / "requirements.txt").write_text("\n".join(pinned) + "\n")
    return model_dir


def run_timed(cmd: list[str], cwd: Path) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stderr[-500:]


def fields(doc: dict[str, Any]) -> dict[str, str]:
    comps = [c for c in [doc.get("metadata", {}).get("component"), *doc.get("components", [])] if c]
    models = [c for c in comps if c.get("type") == "machine-learning-model"]
    libs = [c for c in comps if c.get("type") == "library"]
    model = models[0] if models else {}
    return {
        "machine-learning-model component": "yes" if models else "no",
        "model file hashes (SHA-256)": str(sum(1 for f in model.get("components", []) if f.get("hashes"))),
        "modelCard": ", ".join(model.get("modelCard", {}).get("modelParameters", {})) or "no",
        "model purl": model.get("purl", "no").split("?")[0],
        "libraries (purl'd)": str(sum(1 for c in libs if c.get("purl"))),
        "dependency graph entries": str(len(doc.get("dependencies", []))),
        "data components": str(sum(1 for c in comps if c.get("type") == "data")),
        "formulation": "yes" if doc.get("formulation") else "no",
        "schema": doc.get("specVersion", "?"),
    }


def end_to_end(cdxgen: str | None, out: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model_dir = model_directory(work)
        mlprov = [sys.executable, "-m", "explorer", "bom", str(model_dir), "--name", "iris", "--model-version", "1"]
        runs = [run_timed([*mlprov, "-o", str(out / "mlprov.cdx.json")], work) for _ in range(3)]
        results["mlprov"] = {"seconds": statistics.median(r[0] for r in runs), "exit": runs[-1][1]}
        results["mlprov"]["fields"] = fields(json.loads((out / "mlprov.cdx.json").read_text()))
        if cdxgen:
            cmd = [cdxgen, "-t", "python", "--spec-version", "1.6", "-o", str(out / "cdxgen.cdx.json"), str(model_dir)]
            runs = [run_timed(cmd, work) for _ in range(3)]
            results["cdxgen"] = {"seconds": statistics.median(r[0] for r in runs), "exit": runs[-1][1]}
            if (out / "cdxgen.cdx.json").is_file():
                results["cdxgen"]["fields"] = fields(json.loads((out / "cdxgen.cdx.json").read_text()))
            else:
                results["cdxgen"]["error"] = runs[-1][2]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cdxgen", help="cdxgen executable (default: found on PATH or via npx when npm exists)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "sbom")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cdxgen = args.cdxgen or shutil.which("cdxgen")
    report = {"in_process": in_process(), "end_to_end": end_to_end(cdxgen, args.out), "cdxgen": cdxgen}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
