"""Build the sample workspace with the real tools: git, DVC (``dvc repro``), scikit-learn.

A churn model evolves over four commits — the first pipeline, a feature change, a data refresh
that changes the data's hash, a hyperparameter change — each registered with GTO-style tags and
promoted through stages. Fixed authors, dates and seeds make it deterministic.

The build is a list of steps; later capabilities (MLflow runs, images, deployments, prediction
logs) add steps through :data:`EXTRA_STEPS`, so the workspace grows without a rewrite.

Run: ``python -m sample_data.build DEST``.
"""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).parent / "project"
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z: every commit and tag time counts from here
DAY = 86_400
MODEL = "churn-model"


@dataclass(slots=True)
class TrainingCommit:
    """A commit at which the pipeline was reproduced and a model version registered."""

    sha: str
    version: str
    message: str
    when: int


@dataclass(slots=True)
class SampleWorkspace:
    root: Path
    repo: Path
    commits: list[TrainingCommit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    config_sections: list[str] = field(default_factory=list)  # TOML text steps add to mlprov.toml


Step = Callable[[SampleWorkspace], None]
# Later capabilities append steps here (e.g. MLflow runs for each training commit).
EXTRA_STEPS: list[str] = [
    "sample_data.mlflow_runs:add_mlflow_runs",
    "sample_data.signing:add_signing",
    "sample_data.serving:add_serving",
]


class BuildError(Exception):
    """A tool failed while building the sample: names the command and its last error line."""


def _env(when: int) -> dict[str, str]:
    env = dict(os.environ)
    stamp = f"@{when} +0000"
    env.update(
        GIT_AUTHOR_NAME="Dana Data",
        GIT_AUTHOR_EMAIL="dana@example.com",
        GIT_COMMITTER_NAME="Dana Data",
        GIT_COMMITTER_EMAIL="dana@example.com",
        GIT_AUTHOR_DATE=stamp,
        GIT_COMMITTER_DATE=stamp,
        DVC_NO_ANALYTICS="1",
        PYTHONHASHSEED="0",
        # the pipeline's `python` must be the one running this builder (it has scikit-learn)
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def run(cmd: list[str], cwd: Path, when: int = EPOCH) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(when), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["failed"]
        raise BuildError(f"{' '.join(cmd)} (in {cwd}): {last[0]}")
    return proc.stdout


def _dvc() -> list[str]:
    exe = shutil.which("dvc", path=str(Path(sys.executable).parent)) or shutil.which("dvc")
    return [exe] if exe else [sys.executable, "-m", "dvc"]


def generate_customers(path: Path, rows: int, seed: int, drift: float = 0.0) -> None:
    """A synthetic customer table with a learnable churn signal."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["customer_id", "tenure_months", "monthly_charges", "support_calls", "contract_monthly",
                         "churned"])
        for i in range(rows):
            tenure = rng.randint(1, 72)
            charges = round(rng.uniform(18, 120) + drift * 10, 2)
            calls = rng.randint(0, 9)
            monthly = int(rng.random() < 0.55)
            score = 0.9 * monthly + 0.25 * calls + charges / 90 - tenure / 30 + rng.gauss(0, 0.6)
            writer.writerow([f"C{seed:02d}{i:06d}", tenure, charges, calls, monthly, int(score > 0.9)])


def _commit(ws: SampleWorkspace, message: str, when: int) -> str:
    run(["git", "add", "-A"], ws.repo, when)
    run(["git", "commit", "-q", "-m", message], ws.repo, when)
    return run(["git", "rev-parse", "HEAD"], ws.repo, when).strip()


def _tag(ws: SampleWorkspace, tag: str, when: int, ref: str = "HEAD") -> None:
    run(["git", "tag", "-a", tag, "-m", f"Registering {tag}", ref], ws.repo, when)


def _repro(ws: SampleWorkspace, when: int) -> None:
    run([*_dvc(), "repro", "-q"], ws.repo, when)


FEATURE_CHANGE = (
    'FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_monthly"]',
    'FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_monthly", "charge_per_month"]',
)
DERIVE_CHANGE = (
    "def derive(row: dict[str, str]) -> dict[str, str]:\n    return row\n",
    "def derive(row: dict[str, str]) -> dict[str, str]:\n"
    "    tenure = max(int(row[\"tenure_months\"]), 1)\n"
    "    row[\"charge_per_month\"] = f\"{float(row['monthly_charges']) / tenure:.4f}\"\n"
    "    return row\n",
)


def core_history(ws: SampleWorkspace) -> None:
    """Four training commits with GTO registry tags and stage assignments."""
    repo = ws.repo
    shutil.copytree(PROJECT, repo, dirs_exist_ok=True)
    (repo / ".gitignore").write_text("__pycache__/\n")
    when = EPOCH
    run(["git", "init", "-q", "-b", "main"], repo, when)
    run([*_dvc(), "init", "-q"], repo, when)
    run([*_dvc(), "config", "core.analytics", "false"], repo, when)
    run([*_dvc(), "remote", "add", "-d", "storage", "../dvc-remote"], repo, when)
    generate_customers(repo / "data/raw.csv", 1500, seed=1)
    run([*_dvc(), "add", "-q", "data/raw.csv"], repo, when)
    _repro(ws, when)
    sha = _commit(ws, "Churn pipeline: prepare, train, evaluate", when)
    ws.commits.append(TrainingCommit(sha, "v1.0.0", "first pipeline", when))
    _tag(ws, f"{MODEL}@v1.0.0", when)
    _tag(ws, f"{MODEL}#staging#1", when + 600)

    when += 14 * DAY
    prepare = repo / "src/prepare.py"
    text = prepare.read_text().replace(*FEATURE_CHANGE).replace(*DERIVE_CHANGE)
    prepare.write_text(text)
    _repro(ws, when)
    sha = _commit(ws, "Add charge_per_month feature", when)
    ws.commits.append(TrainingCommit(sha, "v1.1.0", "feature change", when))
    _tag(ws, f"{MODEL}@v1.1.0", when)
    _tag(ws, f"{MODEL}#prod#2", when + DAY)

    when += 21 * DAY
    generate_customers(repo / "data/raw.csv", 2400, seed=2, drift=0.5)
    run([*_dvc(), "add", "-q", "data/raw.csv"], repo, when)
    _repro(ws, when)
    sha = _commit(ws, "Refresh raw customer data (March export)", when)
    ws.commits.append(TrainingCommit(sha, "v1.2.0", "data refresh", when))
    _tag(ws, f"{MODEL}@v1.2.0", when)
    _tag(ws, f"{MODEL}#staging#3", when + 600)

    when += 10 * DAY
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 40", "n_estimators: 120")
                      .replace("max_depth: 5", "max_depth: 9"))
    _repro(ws, when)
    sha = _commit(ws, "Tune random forest: 120 trees, depth 9", when)
    ws.commits.append(TrainingCommit(sha, "v2.0.0", "hyperparameter change", when))
    _tag(ws, f"{MODEL}@v2.0.0", when)
    _tag(ws, f"{MODEL}#prod#4", when + DAY)
    _tag(ws, f"{MODEL}#staging!#5", when + DAY)
    run([*_dvc(), "push", "-q"], repo, when)


def write_config(ws: SampleWorkspace, scan: dict[str, list[str]]) -> None:
    lines = ["# mlprov workspace: what `mlprov scan` reads when given no source options", "[scan]"]
    for kind, items in scan.items():
        quoted = ", ".join(f'"{i}"' for i in items)
        lines.append(f"{kind} = [{quoted}]")
    lines.extend(ws.config_sections)
    (ws.root / "mlprov.toml").write_text("\n".join(lines) + "\n")


def build(dest: Path, *, force: bool = False, extras: bool = True) -> SampleWorkspace:
    """Build the sample workspace at ``dest`` (removed first when ``force``)."""
    dest = dest.resolve()
    if dest.exists():
        if not force:
            raise BuildError(f"{dest} already exists (use --force to rebuild it)")
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    ws = SampleWorkspace(root=dest, repo=dest / "churn-repo")
    ws.repo.mkdir()
    core_history(ws)
    scan: dict[str, list[str]] = {"git": ["churn-repo"]}
    if extras:
        import importlib

        for target in EXTRA_STEPS:
            module_name, _, attr = target.partition(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    continue
                raise
            step = getattr(module, attr)
            for kind, items in (step(ws) or {}).items():
                scan.setdefault(kind, []).extend(items)
    write_config(ws, scan)
    return ws


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Build the mlprov sample workspace.")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--force", action="store_true", help="rebuild when DEST exists")
    args = parser.parse_args(argv)
    try:
        ws = build(args.dest, force=args.force)
    except BuildError as exc:
        print(f"sample build failed: {exc}", file=sys.stderr)
        return 2
    print(f"sample workspace at {ws.root}: {len(ws.commits)} training commits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
