"""Facts about a model version gathered from the lineage store (node properties per docs/properties.md).

The walk goes upstream from the model version: ``version_of`` to the model, ``generated_by`` to
the run (or, for GTO versions, ``registers`` → data → ``generated_by`` → DVC stage), ``ran_at`` to
the commit, ``used`` to data and datasets, and on through the stages that produced that data.
Images are found downstream (``contains`` points from the image to the model).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from explorer.graph import Direction, lineage
from explorer.lineage import Edge, EdgeKind, Node, NodeKind, Subgraph
from explorer.store import LineageStore
from sbom.artifacts import ArtifactError, hash_files, local_path, parse_signature, skops_estimator_class
from sbom.dvc_cache import dir_listing
from sbom.facts import (
    Commit,
    ContainerImage,
    DataVersion,
    Metric,
    MLModelFacts,
    PipelineStage,
    TrainingRun,
)
from sbom.requirements import declared_environment
from sbom.times import rfc3339

WALK_EDGES = (
    EdgeKind.VERSION_OF,
    EdgeKind.GENERATED_BY,
    EdgeKind.RAN_AT,
    EdgeKind.USED,
    EdgeKind.REGISTERS,
    EdgeKind.REGISTERED_AT,
    EdgeKind.SAME_AS,
)
_MODEL_KINDS = (NodeKind.MODEL, NodeKind.MODEL_VERSION)


def model_subgraph(store: LineageStore, root: str) -> Subgraph:
    """Everything a BOM of ``root`` (a model_version or model id) draws on."""
    sub = lineage(store, root, Direction.UP, edge_kinds=WALK_EDGES)
    # images ship the model: their ``contains`` edges point at it, i.e. downstream of the root
    models = [n.id for n in sub.nodes.values() if n.kind in _MODEL_KINDS]
    # a same_as edge may be stored either way round between a dataset and its data version
    datasets = [n.id for n in sub.nodes.values() if n.kind == NodeKind.DATASET]
    extra = [*store.edges_to(models, [EdgeKind.CONTAINS]), *store.edges_to(datasets, [EdgeKind.SAME_AS])]
    _add_edges(store, sub, extra, other_end=lambda e: e.source)
    return sub


def _add_edges(store: LineageStore, sub: Subgraph, edges: list[Edge], other_end: Any) -> None:
    new_ids = [other_end(e) for e in edges if other_end(e) not in sub.nodes]
    found = store.nodes_by_id(new_ids)
    for edge in edges:
        if edge not in sub.edges:
            sub.edges.append(edge)
    sub.nodes.update(found)


def facts_from_store(store: LineageStore, root: str) -> MLModelFacts:
    return facts_from_subgraph(model_subgraph(store, root))


def facts_from_subgraph(sub: Subgraph) -> MLModelFacts:
    """Turn a model's upstream subgraph into BOM facts; never reads the model beyond hashing its files."""
    return _Collector(sub).collect()


class _Collector:
    def __init__(self, sub: Subgraph) -> None:
        self.sub = sub
        self.out: dict[tuple[str, str], list[str]] = {}
        for edge in sub.edges:
            self.out.setdefault((edge.source, str(edge.kind)), []).append(edge.target)
        self.into: dict[tuple[str, str], list[str]] = {}
        for edge in sub.edges:
            self.into.setdefault((edge.target, str(edge.kind)), []).append(edge.source)

    def up(self, node_id: str, kind: EdgeKind) -> list[Node]:
        return [self.sub.nodes[t] for t in self.out.get((node_id, str(kind)), []) if t in self.sub.nodes]

    def collect(self) -> MLModelFacts:
        root = self.sub.nodes[self.sub.root]
        if root.kind not in _MODEL_KINDS:
            raise ValueError(f"{root.id} is a {root.kind}, not a model or model version")
        version = root if root.kind == NodeKind.MODEL_VERSION else None
        model = root if version is None else next(iter(self.up(root.id, EdgeKind.VERSION_OF)), None)
        facts = self._identity(root, version, model)
        if model is not None:
            self._model_properties(facts, model.properties)
        self._runs(facts, version, model)
        if model is not None:  # after the runs: their dataset inputs give the metrics' slices
            contexts: dict[tuple[str, str], str] = {}
            for run_node in (self.sub.nodes.get(f"run:{r.run_id}") for r in facts.runs):
                if run_node is not None:
                    contexts.update(self._dataset_contexts(run_node.properties.get("inputs")))
            raw = model.properties.get("metric_records") or model.properties.get("metrics")
            facts.metrics = _metrics(raw, contexts)
        self._producing_stages(facts, version)
        self._images(facts, [n.id for n in (version, model) if n is not None])
        return facts

    # --- identity and the model itself ----------------------------------------------------------

    def _identity(self, root: Node, version: Node | None, model: Node | None) -> MLModelFacts:
        mv = version.properties if version else {}
        mp = model.properties if model else {}
        tags = {**_str_dict(mp.get("tags")), **_str_dict(mv.get("tags"))}
        name = mv.get("name") or mp.get("name") or mp.get("model_id") or root.id.partition(":")[2]
        return MLModelFacts(
            name=str(name),
            version=str(mv["version"]) if mv.get("version") is not None else None,
            ref=root.id,
            registry=mv.get("registry") or ("mlflow" if version is None and model else None),
            registry_url=mv.get("tracking_uri") or mp.get("tracking_uri"),
            model_id=mv.get("model_id") or mp.get("model_id"),
            model_uuid=mp.get("model_uuid"),
            run_id=mv.get("run_id") or mp.get("source_run_id"),
            description=mv.get("description") or tags.get("mlflow.note.content") or None,
            created=rfc3339(mv.get("created") or mp.get("created") or mp.get("utc_time_created")),
            tags=tags,
            aliases=[str(a) for a in mv.get("aliases") or []],
        )

    def _model_properties(self, facts: MLModelFacts, mp: dict[str, Any]) -> None:
        facts.mlflow_version = mp.get("mlflow_version")
        facts.flavors = {k: v if isinstance(v, dict) else {} for k, v in (mp.get("flavors") or {}).items()}
        signature = mp.get("signature") or {}
        facts.signature = parse_signature(signature) if isinstance(signature, dict) else {}
        lines = mp.get("requirements")
        facts.requirements = declared_environment(lines if isinstance(lines, list) else None, mp.get("conda"))
        env = mp.get("python_env")
        if isinstance(env, dict) and env.get("python"):
            facts.python_version = str(env["python"])
        location = mp.get("artifact_location")
        if isinstance(location, str) and location:
            facts.artifact_location = location
            # the scan found the files elsewhere (a store cloned from another machine, a server's
            # mlartifacts/ beside its database): hash them there; the recorded location stays the evidence
            read_from = mp.get("artifact_read_from")
            self._artifact_files(facts, read_from if isinstance(read_from, str) and read_from else location)

    def _artifact_files(self, facts: MLModelFacts, location: str) -> None:
        path = local_path(location)
        if path is None:
            facts.notes.append(f"artifact files not hashed: {location} is not a local path")
            return
        if not path.is_dir():
            facts.notes.append(f"artifact files not hashed: {path} is not a directory on this machine")
            return
        try:
            facts.files = hash_files(path)
        except ArtifactError as exc:
            facts.notes.append(str(exc))
        facts.estimator_class = skops_estimator_class(path, facts.flavors)

    # --- training: runs, data, stages, commits --------------------------------------------------

    def _runs(self, facts: MLModelFacts, version: Node | None, model: Node | None) -> None:
        runs: list[Node] = []
        for holder in (model, version):
            if holder is not None:
                runs.extend(n for n in self.up(holder.id, EdgeKind.GENERATED_BY) if n.kind == NodeKind.RUN)
        if facts.run_id and f"run:{facts.run_id}" in self.sub.nodes:
            runs.append(self.sub.nodes[f"run:{facts.run_id}"])
        for node in {n.id: n for n in runs}.values():
            facts.runs.append(self._run(facts, node))

    def _run(self, facts: MLModelFacts, node: Node) -> TrainingRun:
        p = node.properties
        run = TrainingRun(
            run_id=str(p.get("run_id") or node.id.removeprefix("run:")),
            name=p.get("name"),
            experiment=p.get("experiment_name"),
            experiment_id=p.get("experiment_id"),
            start_time=rfc3339(p.get("start_time")),
            end_time=rfc3339(p.get("end_time")),
            status=p.get("status"),
            params=_str_dict(p.get("params")),
        )
        contexts = self._input_contexts(p.get("inputs"))
        for used in self.up(node.id, EdgeKind.USED):
            data = self._data_version(facts, used)
            if data is None:
                continue
            for ctx in contexts.get(used.id, []):
                if ctx not in data.contexts:
                    data.contexts.append(ctx)
            run.inputs.append(data.ref)
        run.metrics = _metrics(p.get("metrics"), self._dataset_contexts(p.get("inputs")))
        commits = self.up(node.id, EdgeKind.RAN_AT)
        sha = commits[0].properties.get("sha") if commits else _str_dict(p.get("tags")).get("mlflow.source.git.commit")
        run.commit = str(sha or commits[0].id.removeprefix("commit:")) if (sha or commits) else None
        if run.commit:
            self._commit(facts, run.commit)
        run.stages = self._stages_upstream(facts, run.inputs)
        return run

    def _input_contexts(self, inputs: Any) -> dict[str, list[str]]:
        """Run ``inputs`` entries give each dataset (and its resolved data version) a context."""
        out: dict[str, list[str]] = {}
        for entry in inputs if isinstance(inputs, list) else []:
            if not isinstance(entry, dict) or not entry.get("context"):
                continue
            for key in ("dataset", "data"):
                if entry.get(key):
                    out.setdefault(str(entry[key]), []).append(str(entry["context"]))
        return out

    def _dataset_contexts(self, inputs: Any) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for entry in inputs if isinstance(inputs, list) else []:
            if isinstance(entry, dict) and entry.get("context"):
                out[(str(entry.get("name")), str(entry.get("digest")))] = str(entry["context"])
        return out

    def _data_version(self, facts: MLModelFacts, node: Node) -> DataVersion | None:
        """A data node as it is; a dataset by the DVC data version it is the same as, when resolved."""
        if node.kind == NodeKind.DATASET:
            same = [n for n in self._same_as(node.id) if n.kind == NodeKind.DATA]
            if same:
                return self._data(facts, same[0])
            return self._dataset(facts, node)
        if node.kind == NodeKind.DATA:
            return self._data(facts, node)
        return None

    def _same_as(self, node_id: str) -> list[Node]:
        ids = [*self.out.get((node_id, "same_as"), []), *self.into.get((node_id, "same_as"), [])]
        return [self.sub.nodes[i] for i in ids if i in self.sub.nodes]

    def _data(self, facts: MLModelFacts, node: Node) -> DataVersion:
        if node.id in facts.data:
            return facts.data[node.id]
        p = node.properties
        data = DataVersion(
            ref=node.id,
            name=str(p.get("path") or node.label or node.id),
            algorithm=p.get("algorithm"),
            digest=p.get("digest"),
            path=p.get("path"),
            size=_int(p.get("size")),
            nfiles=_int(p.get("nfiles")),
            remote=p.get("remote"),
        )
        if data.is_directory:
            data.files = dir_listing(p, self._repo_paths(p.get("repo")))
        facts.data[node.id] = data
        return data

    def _dataset(self, facts: MLModelFacts, node: Node) -> DataVersion:
        if node.id in facts.data:
            return facts.data[node.id]
        p = node.properties
        data = DataVersion(
            ref=node.id,
            name=str(p.get("name") or node.id),
            digest=p.get("digest"),
            source=_source_text(p.get("source")),
        )
        facts.data[node.id] = data
        return data

    def _repo_paths(self, repo: Any) -> list[Path]:
        """Working copies of a repository, from the commits the walk met (for the DVC cache)."""
        paths = {
            str(n.properties["repo_path"])
            for n in self.sub.nodes.values()
            if n.kind == NodeKind.COMMIT and n.properties.get("repo_path") and n.properties.get("repo") == repo
        }
        return [Path(p) for p in sorted(paths)]

    def _stages_upstream(self, facts: MLModelFacts, data_refs: Iterable[str]) -> list[str]:
        """Stages that generated the given data, and the stages before them."""
        found: list[str] = []
        frontier = list(data_refs)
        while frontier:
            next_frontier: list[str] = []
            for ref in frontier:
                for stage_node in self.up(ref, EdgeKind.GENERATED_BY):
                    if stage_node.kind != NodeKind.STAGE or stage_node.id in found:
                        continue
                    found.append(stage_node.id)
                    stage = self._stage(facts, stage_node)
                    next_frontier.extend(stage.deps)
            frontier = next_frontier
        for ref in found:  # link each stage to the stages whose outputs it uses
            stage = facts.stages[ref]
            stage.upstream = sorted(
                {s.id for d in stage.deps for s in self.up(d, EdgeKind.GENERATED_BY) if s.kind == NodeKind.STAGE}
            )
        return found

    def _stage(self, facts: MLModelFacts, node: Node) -> PipelineStage:
        if node.id in facts.stages:
            return facts.stages[node.id]
        p = node.properties
        stage = PipelineStage(
            ref=node.id,
            name=str(p.get("name") or node.label),
            cmd=_cmd_text(p.get("cmd")),
            commit=p.get("commit"),
            params=params if isinstance(params := p.get("params"), dict) else {},
        )
        for used in self.up(node.id, EdgeKind.USED):
            if used.kind == NodeKind.DATA:
                stage.deps.append(self._data(facts, used).ref)
        for out in self.into.get((node.id, "generated_by"), []):
            if out in self.sub.nodes and self.sub.nodes[out].kind == NodeKind.DATA:
                stage.outs.append(self._data(facts, self.sub.nodes[out]).ref)
        facts.stages[node.id] = stage
        if stage.commit:
            self._commit(facts, stage.commit)
        return stage

    def _producing_stages(self, facts: MLModelFacts, version: Node | None) -> None:
        """GTO/DVC registry versions: the registered artifact's data and the stage that wrote it."""
        if version is None:
            return
        artifacts = [n for n in self.up(version.id, EdgeKind.REGISTERS) if n.kind == NodeKind.DATA]
        for data_node in artifacts:
            data = self._data(facts, data_node)
            facts.registered_data.append(data)
            if not facts.runs:
                self._stages_upstream(facts, [data.ref])
                stages = self.up(data.ref, EdgeKind.GENERATED_BY)
                facts.producing_stages.extend(s.id for s in stages if s.kind == NodeKind.STAGE)
        # the registered content is the model itself, described on the model component
        for data in facts.registered_data:
            facts.data.pop(data.ref, None)
        for commit in self.up(version.id, EdgeKind.REGISTERED_AT):
            self._commit(facts, str(commit.properties.get("sha") or commit.id.removeprefix("commit:")))

    def _commit(self, facts: MLModelFacts, sha: str) -> None:
        if sha in facts.commits:
            return
        node = self.sub.nodes.get(f"commit:{sha}")
        p = node.properties if node else {}
        facts.commits[sha] = Commit(
            sha=sha,
            remote_url=p.get("remote_url"),
            author=p.get("author"),
            author_email=p.get("author_email"),
            authored_at=rfc3339(p.get("authored_at")),
            committed_at=rfc3339(p.get("committed_at")),
            message=p.get("message"),
        )

    def _images(self, facts: MLModelFacts, model_ids: list[str]) -> None:
        seen: set[str] = set()
        for model_id in model_ids:
            for source in self.into.get((model_id, "contains"), []):
                node = self.sub.nodes.get(source)
                if node is None or node.kind != NodeKind.IMAGE or node.id in seen:
                    continue
                seen.add(node.id)
                repo, _, digest = node.id.removeprefix("image:").rpartition("@")
                p = node.properties
                facts.images.append(
                    ContainerImage(
                        repository=str(p.get("repository") or repo),
                        digest=str(p.get("digest") or digest),
                        tags=tuple(sorted(str(t) for t in p.get("tags") or [])),
                    )
                )


def _metrics(raw: Any, contexts: dict[tuple[str, str], str]) -> list[Metric]:
    """``{name: value}`` (the contract), ``{name: {value, context}}``, or MLflow 3 metric records
    ``[{key, value, dataset_name, dataset_digest}]`` whose dataset gives the slice."""
    out: list[Metric] = []
    if isinstance(raw, dict):
        for name, value in sorted(raw.items()):
            if isinstance(value, dict) and "value" in value:
                out.append(Metric(str(name), value["value"], value.get("context")))
            elif isinstance(value, int | float | str) and not isinstance(value, bool):
                out.append(Metric(str(name), value))
    elif isinstance(raw, list):
        for rec in raw:
            if isinstance(rec, dict) and "key" in rec and "value" in rec:
                ctx = rec.get("context") or contexts.get((str(rec.get("dataset_name")), str(rec.get("dataset_digest"))))
                out.append(Metric(str(rec["key"]), rec["value"], ctx))
    return out


def _str_dict(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cmd_text(cmd: Any) -> str | None:
    if isinstance(cmd, list):  # dvc.yaml allows a list of commands run in order
        return " && ".join(str(c) for c in cmd)
    return str(cmd) if cmd else None


def _source_text(source: Any) -> str | None:
    if isinstance(source, dict):  # MLflow keeps the source as JSON: {"uri": ...} or {"path": ...}
        for key in ("uri", "url", "path"):
            if source.get(key):
                return str(source[key])
        return None
    return str(source) if source else None
