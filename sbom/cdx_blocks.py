"""The CycloneDX blocks cyclonedx-python-lib cannot model: ``modelCard``, ``data``, ``formulation``.

Each function returns plain JSON-ready dicts that :mod:`sbom.cyclonedx` adds to the serialised
document; the strict schema validator checks them afterwards. Everything comes from
:class:`sbom.facts.MLModelFacts`; a key is left out when nothing recorded it.
"""

from __future__ import annotations

import json
from typing import Any

from sbom.facts import DataVersion, Metric, MLModelFacts, PipelineStage, TrainingRun
from sbom.refs import formula_ref, model_ref, remote_object_url, repository_url

APPROACHES = ("supervised", "unsupervised", "reinforcement-learning", "semi-supervised", "self-supervised")

# Model (version) tags a team sets to fill the card's considerations; values are one item per line.
CONSIDERATION_TAGS = {
    "model_card.users": "users",
    "model_card.use_cases": "useCases",
    "model_card.technical_limitations": "technicalLimitations",
    "model_card.performance_tradeoffs": "performanceTradeoffs",
    "model_card.ethical_considerations": "ethicalConsiderations",
}

# Flavor keys that name the concrete architecture (transformers records its pipeline class).
_ARCHITECTURE_KEYS = ("instance_type", "pipeline_model_type", "source_model_name")


def model_card(facts: MLModelFacts) -> dict[str, Any]:
    card: dict[str, Any] = {}
    params = _model_parameters(facts)
    if params:
        card["modelParameters"] = params
    metrics = [_metric(m) for m in all_metrics(facts)]
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    considerations = _considerations(facts.tags)
    if considerations:
        card["considerations"] = considerations
    return card


def all_metrics(facts: MLModelFacts) -> list[Metric]:
    """Model-level metrics, then each run's, without repeating a (name, value, context) triple."""
    seen: dict[tuple[str, str, str | None], Metric] = {}
    for metric in [*facts.metrics, *(m for run in facts.runs for m in run.metrics)]:
        seen.setdefault((metric.name, metric_text(metric.value), metric.context), metric)
    return sorted(seen.values(), key=lambda m: (m.name, m.context or ""))


def metric_text(value: float | int | str) -> str:
    """The schema wants strings: Python's shortest round-tripping repr keeps every digit recorded."""
    return repr(value) if isinstance(value, float) else str(value)


def _model_parameters(facts: MLModelFacts) -> dict[str, Any]:
    params: dict[str, Any] = {}
    approach = facts.approach or facts.tags.get("model_card.approach")
    if approach in APPROACHES:
        params["approach"] = {"type": approach}
    task = facts.task or facts.tags.get("model_card.task")
    if task:
        params["task"] = task
    flavor = facts.primary_flavor
    if flavor:
        params["architectureFamily"] = flavor
    architecture = facts.estimator_class or _flavor_architecture(facts)
    if architecture:
        params["modelArchitecture"] = architecture
    datasets = [{"ref": d.ref} for d in facts.training_data()]
    if datasets:
        params["datasets"] = datasets
    for key in ("inputs", "outputs"):
        formats = [{"format": f} for f in signature_formats(facts.signature.get(key))]
        if formats:
            params[key] = formats
    return params


def _flavor_architecture(facts: MLModelFacts) -> str | None:
    flavor = facts.flavors.get(facts.primary_flavor or "", {})
    for key in _ARCHITECTURE_KEYS:
        if isinstance(flavor.get(key), str):
            return str(flavor[key])
    return None


def signature_formats(spec: Any) -> list[str]:
    """One ``format`` per signature column/tensor: ``name: type`` or ``name: tensor<dtype>[shape]``."""
    if isinstance(spec, dict):  # a single unnamed spec
        spec = [spec]
    if not isinstance(spec, list):
        return []
    out: list[str] = []
    for col in spec:
        if not isinstance(col, dict):
            continue
        kind = str(col.get("type", "unknown"))
        if kind == "tensor" and isinstance(col.get("tensor-spec"), dict):
            ts = col["tensor-spec"]
            kind = f"tensor<{ts.get('dtype', '?')}>{json.dumps(ts.get('shape', []))}"
        if col.get("required") is False:
            kind += " (optional)"
        out.append(f"{col['name']}: {kind}" if col.get("name") else kind)
    return out


def _metric(metric: Metric) -> dict[str, str]:
    out = {"type": metric.name, "value": metric_text(metric.value)}
    if metric.context:
        out["slice"] = metric.context
    return out


def _considerations(tags: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag, key in CONSIDERATION_TAGS.items():
        items = [line.strip() for line in tags.get(tag, "").splitlines() if line.strip()]
        if not items:
            continue
        out[key] = [{"name": item} for item in items] if key == "ethicalConsiderations" else items
    return out


# --- data components ------------------------------------------------------------------------


def data_block(data: DataVersion) -> list[dict[str, Any]]:
    """The component's ``data`` entry: what kind of data it is and where the content can be fetched."""
    entry: dict[str, Any] = {"type": "dataset", "name": data.path or data.name}
    url = remote_object_url(data) or _remote_source(data)
    if url:
        entry["contents"] = {"url": url}
    if data.contexts:
        entry["description"] = "used as " + ", ".join(sorted(set(data.contexts))) + " data"
    return [entry]


def _remote_source(data: DataVersion) -> str | None:
    """An MLflow dataset's source when it is a URI another machine can reach (not a local path)."""
    src = data.source or ""
    return src if "://" in src and not src.startswith("file://") else None


# --- formulation ----------------------------------------------------------------------------


def formulation(facts: MLModelFacts, known_refs: set[str]) -> list[dict[str, Any]]:
    """One workflow per training run (or one for a DVC pipeline that no run recorded).

    Resources are referenced only when the BOM describes them (``known_refs``); the data version a
    registry entry points at is the model itself, so a stage writing it outputs the model.
    """
    known = {r: r for r in known_refs}
    known.update((d.ref, model_ref(facts)) for d in facts.registered_data)
    emitted: set[str] = set()
    workflows = [_run_workflow(facts, run, known, emitted) for run in facts.runs]
    if not workflows and facts.producing_stages:
        workflows.append(_pipeline_workflow(facts, known, emitted))
    if not workflows:
        return []
    return [{"bom-ref": formula_ref(facts), "workflows": workflows}]


def _run_workflow(facts: MLModelFacts, run: TrainingRun, known: dict[str, str], emitted: set[str]) -> dict[str, Any]:
    wf: dict[str, Any] = {"bom-ref": f"run:{run.run_id}", "uid": run.run_id}
    if run.name:
        wf["name"] = run.name
    if run.experiment:
        wf["description"] = f"MLflow run in experiment {run.experiment}"
    _add_tasks(wf, facts, run.stages, known, emitted)
    wf["taskTypes"] = ["build"]  # a training run builds the model artifact
    inputs: list[dict[str, Any]] = [
        {"resource": {"ref": known[ref]}} for ref in dict.fromkeys(run.inputs) if ref in known
    ]
    if run.params:
        inputs.append({"parameters": [{"name": k, "value": v} for k, v in sorted(run.params.items())]})
    commit_input = _commit_input(facts, run.commit)
    if commit_input:
        inputs.append(commit_input)
    if inputs:
        wf["inputs"] = inputs
    wf["outputs"] = [{"type": "artifact", "resource": {"ref": model_ref(facts)}}]
    if run.start_time:
        wf["timeStart"] = run.start_time
    if run.end_time:
        wf["timeEnd"] = run.end_time
    return wf


def _pipeline_workflow(facts: MLModelFacts, known: dict[str, str], emitted: set[str]) -> dict[str, Any]:
    stages = [facts.stages[r] for r in facts.producing_stages if r in facts.stages]
    commit = next((s.commit for s in stages if s.commit), None)
    wf: dict[str, Any] = {
        "bom-ref": f"pipeline:{model_ref(facts)}",
        "uid": f"dvc@{commit}" if commit else f"dvc:{model_ref(facts)}",
        "name": "DVC pipeline",
    }
    _add_tasks(wf, facts, list(facts.stages), known, emitted)
    wf["taskTypes"] = ["build"]
    commit_input = _commit_input(facts, commit)
    if commit_input:
        wf["inputs"] = [commit_input]
    wf["outputs"] = [{"type": "artifact", "resource": {"ref": model_ref(facts)}}]
    return wf


def _add_tasks(
    wf: dict[str, Any], facts: MLModelFacts, refs: list[str], known: dict[str, str], emitted: set[str]
) -> None:
    # A stage shared by two runs is described once (bom-refs are unique in a BOM).
    stages = [facts.stages[r] for r in sorted(dict.fromkeys(refs)) if r in facts.stages and r not in emitted]
    if not stages:
        return
    emitted.update(s.ref for s in stages)
    wf["tasks"] = [_task(s, known) for s in stages]
    deps = [
        {"ref": s.ref, "dependsOn": sorted(u for u in s.upstream if u in emitted)}
        for s in stages
        if any(u in emitted for u in s.upstream)
    ]
    if deps:
        wf["taskDependencies"] = deps


def _task(stage: PipelineStage, known: dict[str, str]) -> dict[str, Any]:
    task: dict[str, Any] = {"bom-ref": stage.ref, "uid": stage.ref.removeprefix("stage:"), "name": stage.name}
    task["taskTypes"] = ["build"] if stage.outs else ["other"]
    if stage.cmd:
        task["steps"] = [{"name": stage.name, "commands": [{"executed": stage.cmd}]}]
    inputs: list[dict[str, Any]] = [{"resource": {"ref": known[r]}} for r in dict.fromkeys(stage.deps) if r in known]
    params = flatten_params(stage.params)
    if params:
        inputs.append({"parameters": [{"name": k, "value": v} for k, v in params]})
    if inputs:
        task["inputs"] = inputs
    outputs = [{"type": "artifact", "resource": {"ref": known[r]}} for r in dict.fromkeys(stage.outs) if r in known]
    if outputs:
        task["outputs"] = outputs
    return task


def flatten_params(params: dict[str, Any]) -> list[tuple[str, str]]:
    """``{params.yaml: {train: {lr: 0.1}}}`` as ``[("params.yaml:train.lr", "0.1")]``, sorted."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key in sorted(value, key=str):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        else:
            out.append((prefix, value if isinstance(value, str) else json.dumps(value)))

    for file in sorted(params):
        section = params[file]
        if isinstance(section, dict):
            for key in sorted(section, key=str):
                walk(f"{file}:{key}", section[key])
        else:
            walk(str(file), section)
    return out


def _commit_input(facts: MLModelFacts, sha: str | None) -> dict[str, Any] | None:
    """The commit as a vcs resource when its repository URL is recorded, else as a named value."""
    if not sha:
        return None
    commit = facts.commits.get(sha)
    if commit and commit.remote_url:
        ref = {"type": "vcs", "url": repository_url(commit.remote_url), "comment": f"commit {sha}"}
        return {"resource": {"externalReference": ref}}
    return {"parameters": [{"name": "git.commit", "value": sha}]}
