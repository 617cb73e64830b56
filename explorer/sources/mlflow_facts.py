"""MLflow records as lineage facts: nodes per docs/properties.md, edges with evidence, named gaps."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from explorer.lineage import (
    Edge,
    EdgeKind,
    Evidence,
    Facts,
    Gap,
    Node,
    NodeKind,
    commit_id,
    dataset_id,
    experiment_id,
    mlflow_model_id,
    mlmodel_key,
    model_id,
    model_version_id,
    run_id,
)
from explorer.sources.mlflow_artifacts import ModelFiles, parse_signature
from explorer.sources.mlflow_records import (
    TAG_GIT_COMMIT,
    TAG_GIT_DIFF,
    TAG_GIT_DIRTY,
    TAG_GIT_REPO_URL,
    DatasetInput,
    ExperimentRecord,
    LoggedModelRecord,
    ModelVersionRecord,
    RunRecord,
)
from explorer.sources.mlflow_uri import redact

SOURCE = "mlflow"
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_MODEL_URI = re.compile(r"^models:/(?P<id>m-[0-9a-f]{32})(?:/.*)?$")
# Tags whose values are too big or too private for the graph (a whole git diff).
_LOG_MODEL_HISTORY = "mlflow.log-model.history"
_DROPPED_TAGS = frozenset({TAG_GIT_DIFF, _LOG_MODEL_HISTORY})


def rfc3339(ms: int | None) -> str | None:
    """Epoch milliseconds as RFC 3339 UTC (``2026-01-01T00:00:00.000Z``); twice per run, so kept cheap."""
    if ms is None:
        return None
    seconds, millis = divmod(int(ms), 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{millis:03d}Z"


def _put(props: dict[str, Any], key: str, value: Any) -> None:
    """Absent when unknown, never invented (the property contract)."""
    if value is not None and value != "":
        props[key] = value


def model_id_of(source: str | None) -> str | None:
    """``models:/m-…`` names the LoggedModel (the client returns ``model_id=None``: parse the source)."""
    match = _MODEL_URI.match(source or "")
    return match["id"] if match else None


class FactsBuilder:
    """Turns one scan's records into facts for one tracking store (``tracking_uri`` already redacted)."""

    def __init__(self, tracking_uri: str, experiments: dict[str, ExperimentRecord]) -> None:
        self.tracking_uri = tracking_uri
        self.experiments = experiments

    # --- experiments ---------------------------------------------------------------------------

    def experiment(self, facts: Facts, exp: ExperimentRecord) -> None:
        props: dict[str, Any] = {
            "experiment_id": exp.experiment_id,
            "name": exp.name,
            "lifecycle_stage": exp.lifecycle_stage,
            "tracking_uri": self.tracking_uri,
        }
        _put(props, "artifact_location", redact(exp.artifact_location or ""))
        _put(props, "created", rfc3339(exp.creation_time))
        _put(props, "updated", rfc3339(exp.last_update_time))
        if exp.tags:
            props["tags"] = dict(exp.tags)
        node = experiment_id(exp.experiment_id)
        facts.add_node(Node(node, NodeKind.EXPERIMENT, exp.name, props))
        if exp.lifecycle_stage == "deleted":
            facts.gap(
                Gap(
                    node,
                    "deleted_experiment",
                    f"MLflow experiment {exp.name!r} ({exp.experiment_id}) is deleted; its runs are still "
                    "recorded but may be purged by `mlflow gc`",
                    f"{self.tracking_uri} experiments/{exp.experiment_id}",
                )
            )

    # --- runs ------------------------------------------------------------------------------------

    def run(self, facts: Facts, run: RunRecord) -> None:
        # Called for every run (10,000s on a first scan): the property contract's "absent when
        # unknown" (_put) is inlined as truth tests, equivalent for these str-or-None values.
        rid = run_id(run.run_id)
        exp = self.experiments.get(run.experiment_id)
        where = f"{self.tracking_uri} run {run.run_id}"
        tags = run.tags
        if TAG_GIT_DIFF in tags or _LOG_MODEL_HISTORY in tags:
            tags = {k: v for k, v in tags.items() if k not in _DROPPED_TAGS}
        else:
            tags = dict(tags)
        props: dict[str, Any] = {
            "run_id": run.run_id,
            "experiment_id": run.experiment_id,
            "lifecycle_stage": run.lifecycle_stage,
            "tracking_uri": self.tracking_uri,
            "params": dict(run.params),
            "metrics": dict(run.metrics),
            "tags": tags,
        }
        if exp is not None and exp.name:
            props["experiment_name"] = exp.name
        if run.name:
            props["name"] = run.name
        if run.status:
            props["status"] = run.status
        if run.user:
            props["user"] = run.user
        if run.start_time is not None:
            props["start_time"] = rfc3339(run.start_time)
        if run.end_time is not None:
            props["end_time"] = rfc3339(run.end_time)
        if run.artifact_uri:
            props["artifact_uri"] = redact(run.artifact_uri)
        props["inputs"] = [self._input(facts, rid, run.run_id, d) for d in run.inputs] if run.inputs else []
        if _LOG_MODEL_HISTORY in run.tags:
            logged = [_history_summary(e) for e in run_logged_models(run.tags)]
            if logged:
                props["logged_models"] = logged
        label = f"{run.name or run.run_id[:12]} ({exp.name if exp else run.experiment_id})"
        facts.nodes.append(Node(rid, NodeKind.RUN, label, props))
        facts.edges.append(
            Edge(
                rid,
                experiment_id(run.experiment_id),
                EdgeKind.IN_EXPERIMENT,
                Evidence(SOURCE, f"{where} experiment_id {run.experiment_id}", "run's experiment"),
            )
        )
        self._commit(facts, rid, run, where)

    def _commit(self, facts: Facts, rid: str, run: RunRecord, where: str) -> None:
        sha = run.tags.get(TAG_GIT_COMMIT, "").strip().lower()
        if not sha:
            facts.gap(
                Gap(
                    rid,
                    "no_commit_tag",
                    f"run {run.run_id} ({run.name or 'unnamed'}) has no {TAG_GIT_COMMIT} tag: the code it "
                    "ran is unknown (run it from a git checkout, or set the tag)",
                    f"{where} tags",
                )
            )
            return
        if not _SHA.match(sha):
            facts.gap(
                Gap(
                    rid,
                    "bad_commit_tag",
                    f"run {run.run_id}: {TAG_GIT_COMMIT}={sha[:50]!r} is not a full commit sha",
                    f"{where} tags.{TAG_GIT_COMMIT}",
                )
            )
            return
        repo = run.tags.get(TAG_GIT_REPO_URL)
        locator = f"{where} tags.{TAG_GIT_COMMIT}" + (f" ({TAG_GIT_REPO_URL} {redact(repo)})" if repo else "")
        facts.edges.append(
            Edge(rid, commit_id(sha), EdgeKind.RAN_AT, Evidence(SOURCE, locator, "git commit tag of the run"))
        )
        dirty = run.tags.get(TAG_GIT_DIFF) or run.tags.get(TAG_GIT_DIRTY, "").strip().lower() == "true"
        if dirty:
            facts.gap(
                Gap(
                    rid,
                    "dirty_worktree",
                    f"run {run.run_id} ran at commit {sha[:12]} with uncommitted changes "
                    f"({TAG_GIT_DIRTY}/{TAG_GIT_DIFF}): the commit is not exactly the code that ran",
                    f"{where} tags.{TAG_GIT_DIRTY}",
                )
            )

    def _input(self, facts: Facts, rid: str, run: str, ds: DatasetInput) -> dict[str, Any]:
        did = dataset_id(ds.name, ds.digest)
        source = _json(ds.source)
        props: dict[str, Any] = {
            "name": ds.name,
            "digest": ds.digest,
            "source_type": ds.source_type,
            "source": source,
        }
        _put(props, "schema", _json(ds.schema))
        _put(props, "profile", _json(ds.profile))
        facts.add_node(Node(did, NodeKind.DATASET, f"{ds.name}@{ds.digest}", props))
        context = f" context {ds.context}" if ds.context else ""
        facts.link(
            rid,
            did,
            EdgeKind.USED,
            Evidence(
                SOURCE,
                f"{self.tracking_uri} run {run} input {ds.name}@{ds.digest}{context}",
                "logged dataset input",
            ),
        )
        return {
            "dataset": did,
            "name": ds.name,
            "digest": ds.digest,
            "source": source,
            "context": ds.context,
            "data": None,
        }

    # --- logged models ---------------------------------------------------------------------------

    def logged_model(self, facts: Facts, model: LoggedModelRecord, files: ModelFiles) -> None:
        mid = model_id(model.model_id)
        props: dict[str, Any] = {
            "model_id": model.model_id,
            "name": model.name,
            "experiment_id": model.experiment_id,
            "lifecycle_stage": model.lifecycle_stage,
            "tracking_uri": self.tracking_uri,
        }
        _put(props, "source_run_id", model.source_run_id)
        _put(props, "artifact_location", redact(model.artifact_location))
        _put(props, "created", rfc3339(model.created))
        _put(props, "status", model.status)
        _put(props, "model_type", model.model_type)
        for key, value in (("tags", model.tags), ("params", model.params), ("metrics", model.metrics)):
            if value:
                props[key] = {k: v for k, v in value.items() if k not in _DROPPED_TAGS}
        if model.metric_records:
            props["metric_records"] = model.metric_records
        self._model_files(facts, mid, props, files, model.artifact_location)
        facts.add_node(Node(mid, NodeKind.MODEL, f"{model.name} {model.model_id}", props))
        if model.source_run_id:
            facts.link(
                mid,
                run_id(model.source_run_id),
                EdgeKind.GENERATED_BY,
                Evidence(
                    SOURCE,
                    f"{self.tracking_uri} logged model {model.model_id} source_run_id",
                    "LoggedModel source run",
                ),
            )
        elif files.mlmodel and files.mlmodel.get("run_id"):
            facts.link(
                mid,
                run_id(str(files.mlmodel["run_id"])),
                EdgeKind.GENERATED_BY,
                Evidence(SOURCE, f"{redact(model.artifact_location)}/MLmodel run_id", "MLmodel run_id"),
            )

    def _model_files(
        self, facts: Facts, mid: str, props: dict[str, Any], files: ModelFiles, where: str
    ) -> None:
        if files.problem:
            facts.gap(Gap(mid, files.problem_kind or "missing_artifact", files.problem, redact(where)))
        ml = files.mlmodel or {}
        if ml:
            props["flavors"] = {k: v if isinstance(v, dict) else {} for k, v in ml["flavors"].items()}
            _put(props, "signature", parse_signature(ml.get("signature")))
            for key in ("utc_time_created", "mlflow_version", "model_uuid", "artifact_path"):
                _put(props, key, None if ml.get(key) is None else str(ml[key]))
            _put(props, "mlmodel_run_id", None if ml.get("run_id") is None else str(ml["run_id"]))
        _put(props, "artifact_read_from", files.read_from)  # the store moved since: read there instead
        _put(props, "requirements", files.requirements)
        _put(props, "conda", files.conda)
        _put(props, "python_env", files.python_env)
        if files.files:
            props["files"] = files.files
        if files.signatures:
            from signing.lineage import signature_facts

            for bundle in files.signatures:
                facts.extend(signature_facts(bundle, mid))

    def run_model(self, facts: Facts, run: str, entry: dict[str, Any], location: str, files: ModelFiles) -> str | None:
        """A model an MLflow 2 ``log_model`` wrote into run ``run``'s artifacts, listed in the run's
        ``mlflow.log-model.history`` tag (MLflow 3 lists none of them as LoggedModels).

        Known by its ``model_uuid``, like a registered MLflow 2 version's model. When its files are gone,
        the tag's copy of the MLmodel (flavors, times, versions) still describes it and the gap says the
        files are missing. A model from before ``model_uuid`` existed is known by the run and its path.
        """
        if files.mlmodel is None:  # missing or malformed: the gap says which, the tag's copy names the model
            files = replace(files, mlmodel=entry)
        # logged in this run at this path, whatever the MLmodel (or the tag's copy of it) says of itself
        key = mlmodel_key(files.mlmodel or {}) or mlmodel_key({"run_id": run, "artifact_path": entry["artifact_path"]})
        mid = self.model_from_mlmodel(facts, location, files, key)
        if mid is not None and not (files.mlmodel or {}).get("run_id"):
            facts.link(
                mid,
                run_id(run),
                EdgeKind.GENERATED_BY,
                Evidence(SOURCE, f"{self.tracking_uri} run {run} tags.{_LOG_MODEL_HISTORY}", "model logged in the run"),
            )
        return mid

    def model_from_mlmodel(
        self, facts: Facts, location: str, files: ModelFiles, key: str | None = None
    ) -> str | None:
        """An MLflow 1/2 style version (``runs:/…`` or a path): the model is known by its MLmodel's
        ``model_uuid`` or, older, the run and path it was logged at (:func:`mlmodel_key`), unless the
        caller knows its ``key``."""
        key = key or mlmodel_key(files.mlmodel or {})
        if key is None:
            return None
        mid = model_id(key)
        props: dict[str, Any] = {"tracking_uri": self.tracking_uri, "artifact_location": redact(location)}
        # an MLflow 1 model's key (run/path) is no MLflow id: a BOM would give it as the purl's model_uuid
        _put(props, "model_id", mlflow_model_id(files.mlmodel or {}))
        self._model_files(facts, mid, props, files, location)
        run = (files.mlmodel or {}).get("run_id")
        _put(props, "source_run_id", None if run is None else str(run))
        facts.add_node(Node(mid, NodeKind.MODEL, f"model {key}", props))
        if run:
            facts.link(
                mid,
                run_id(str(run)),
                EdgeKind.GENERATED_BY,
                Evidence(SOURCE, f"{redact(location)}/MLmodel run_id", "MLmodel run_id"),
            )
        return mid

    # --- registry ----------------------------------------------------------------------------------

    def model_version(
        self, facts: Facts, mv: ModelVersionRecord, run_state: str | None, model: str | None
    ) -> None:
        """``run_state``: the run's lifecycle stage, ``missing`` when the run is gone; ``model``: its node."""
        node = model_version_id(mv.name, mv.version)
        where = f"{self.tracking_uri} registered model {mv.name} version {mv.version}"
        props: dict[str, Any] = {
            "name": mv.name,
            "version": mv.version,
            "registry": "mlflow",
            "aliases": sorted(mv.aliases),
            "tracking_uri": self.tracking_uri,
            "stages": [mv.current_stage] if mv.current_stage not in (None, "", "None") else [],
        }
        _put(props, "source", redact(mv.source or ""))
        _put(props, "run_id", mv.run_id)
        _put(props, "model_id", model_id_of(mv.source))
        _put(props, "status", mv.status)
        _put(props, "created", rfc3339(mv.created))
        _put(props, "updated", rfc3339(mv.last_updated))
        _put(props, "description", mv.description)
        _put(props, "user_id", mv.user_id)
        if mv.tags:
            props["tags"] = dict(mv.tags)
        alias_text = f" @{', @'.join(sorted(mv.aliases))}" if mv.aliases else ""
        facts.add_node(Node(node, NodeKind.MODEL_VERSION, f"{mv.name} v{mv.version}{alias_text}", props))
        if model is not None:
            facts.link(
                node,
                model,
                EdgeKind.VERSION_OF,
                Evidence(SOURCE, f"{where} source {redact(mv.source or '')}", "registered version source"),
            )
        elif mv.run_id:
            facts.link(
                node,
                run_id(mv.run_id),
                EdgeKind.GENERATED_BY,
                Evidence(SOURCE, f"{where} run_id", "registered version run (no model found)"),
            )
        if mv.run_id and run_state != "active":
            state = "was deleted" if run_state == "deleted" else "no longer exists in the tracking store"
            facts.gap(
                Gap(
                    node,
                    "deleted_run",
                    f"{mv.name} version {mv.version}: its run {mv.run_id} {state}; its params, metrics "
                    "and inputs are lost",
                    f"{where} run_id",
                )
            )


def version_model_gap(facts: Facts, mv: ModelVersionRecord, tracking_uri: str, detail: str) -> None:
    facts.gap(
        Gap(
            model_version_id(mv.name, mv.version),
            "missing_model",
            f"{mv.name} version {mv.version}: {detail}",
            f"{tracking_uri} registered model {mv.name} version {mv.version} source",
        )
    )


def run_logged_models(tags: dict[str, str]) -> list[dict[str, Any]]:
    """The models a run's ``mlflow.log-model.history`` tag lists as logged into its own artifacts.

    MLflow writes one entry (its MLmodel without signature and input example) per ``log_model``. Entries
    with a ``model_id`` are MLflow 3 LoggedModels, which the store lists itself; a tag that is not a JSON
    list of mappings (hand-edited, truncated) gives nothing rather than an error.
    """
    raw = tags.get(_LOG_MODEL_HISTORY)
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        e
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("artifact_path"), str)
        and e["artifact_path"].strip("/")
        and isinstance(e.get("flavors"), dict)
        and not e.get("model_id")
    ]


def _history_summary(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"artifact_path": entry["artifact_path"], "flavors": sorted(map(str, entry["flavors"]))}
    for key in ("model_uuid", "utc_time_created", "mlflow_version"):
        if entry.get(key) is not None:
            out[key] = str(entry[key])
    return out


def _json(value: str | None) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def experiments_by_id(records: Iterable[ExperimentRecord]) -> dict[str, ExperimentRecord]:
    return {e.experiment_id: e for e in records}


ReadFiles = Callable[[str], ModelFiles]
