"""Deployments from GitOps repositories with real git history, and from a deploy-event log."""

from __future__ import annotations

import json
from pathlib import Path

from explorer.config import Settings
from explorer.lineage import EdgeKind, Facts, Node, NodeKind
from explorer.sources.deploy import DeployEventSource, source_for
from explorer.store import LineageStore
from tests.trace.conftest import commit_files, scan_into, write

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
REPO = "registry.example.com/ml/app"
A, B, C = ("sha256:" + ch * 64 for ch in "abc")


def isvc(digest: str, canary: int | None = None, namespace: str | None = None) -> str:
    ns = f"  namespace: {namespace}\n" if namespace else ""
    pct = f"    canaryTrafficPercent: {canary}\n" if canary is not None else ""
    return (
        f"apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: churn\n{ns}"
        f"spec:\n  predictor:\n{pct}    containers:\n      - name: kserve-container\n"
        f"        image: {REPO}@{digest}\n"
    )


STAGING = f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: scorer, namespace: qa}}
spec:
  template:
    spec:
      containers:
        - {{name: scorer, image: "{REPO}:v2"}}
        - {{name: proxy, image: "envoyproxy/envoy:v1.30"}}
"""

SELDON = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata: {name: fraud}
spec:
  predictors:
    - name: main
      traffic: 90
      graph: {name: clf, implementation: MLFLOW_SERVER, modelUri: "models:/fraud/3"}
    - name: shadow
      traffic: 10
      graph: {name: clf, implementation: MLFLOW_SERVER, modelUri: "s3://models/fraud/m-77/artifacts"}
"""


def settings_for(tmp_path: Path, store: LineageStore) -> Settings:
    return Settings(workspace=tmp_path, db_url=store.url)


def deployments(store: LineageStore) -> dict[str, Node]:
    return {n.id: n for n in store.nodes(NodeKind.DEPLOYMENT)}


def serves(store: LineageStore, node_id: str) -> list[str]:
    return sorted(e.target for e in store.edges_from([node_id], [EdgeKind.SERVES]))


def test_gitops_history_gives_intervals_canary_and_promotion(tmp_path: Path, store: LineageStore) -> None:
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/churn.yaml": isvc(A), "README.md": "ops\n"}, "v1", T0)
    s1 = commit_files(repo, {"envs/prod/churn.yaml": isvc(B)}, "v2", T0 + DAY)
    s2 = commit_files(repo, {"envs/prod/churn.yaml": isvc(C, canary=10)}, "canary v3", T0 + 2 * DAY)
    commit_files(repo, {"envs/prod/churn.yaml": isvc(C, canary=50)}, "canary 50%", T0 + 3 * DAY)
    s4 = commit_files(repo, {"envs/prod/churn.yaml": isvc(C)}, "promote v3", T0 + 4 * DAY)
    [report] = scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    assert report.error is None
    found = deployments(store)
    v1, v2 = found[f"deployment:prod/churn@{s0}"], found[f"deployment:prod/churn@{s1}"]
    canary, promoted = found[f"deployment:prod/churn:canary@{s2}"], found[f"deployment:prod/churn@{s4}"]
    assert len(found) == 4
    assert (v1.properties["since"], v1.properties["until"]) == ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
    assert v1.properties["environment"] == "prod" and v1.properties["kind"] == "InferenceService"
    assert v2.properties["until"] == "2026-01-05T00:00:00Z", "v2 keeps serving the default beside the canary"
    assert [h["traffic"] for h in v2.properties["traffic_history"]] == [100, 90, 50]
    assert canary.properties["role"] == "canary" and canary.properties["traffic"] == 50
    assert canary.properties["until"] == "2026-01-05T00:00:00Z"
    assert "until" not in promoted.properties and promoted.properties["traffic"] == 100
    assert serves(store, v1.id) == [f"image:{REPO}@{A}"]
    assert serves(store, canary.id) == serves(store, promoted.id) == [f"image:{REPO}@{C}"]
    [edge] = store.edges_from([canary.id], [EdgeKind.SERVES])
    assert edge.evidence.locator == f"gitops@{s2}:envs/prod/churn.yaml"
    [again] = scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    assert again.unchanged


def test_tag_resolved_through_scanned_images_and_gap_when_not(tmp_path: Path, store: LineageStore) -> None:
    repo = tmp_path / "gitops"
    sha = commit_files(repo, {"qa/scorer.yaml": STAGING}, "staging scorer", T0)
    facts = Facts()
    facts.add_node(
        Node(f"image:{REPO}@{B}", NodeKind.IMAGE, "app:v2", {"repository": REPO, "digest": B, "tags": ["v2"]})
    )
    write(store, facts)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    dep = f"deployment:qa/scorer@{sha}"
    assert deployments(store)[dep].properties["environment"] == "qa", "namespace names the environment"
    assert serves(store, dep) == [f"image:{REPO}@{B}"]
    [edge] = store.edges_from([dep], [EdgeKind.SERVES])
    assert "tag v2 resolved through the scanned registry" in edge.evidence.rule
    [gap] = store.gaps([dep])
    assert gap.kind == "unresolved_image_tag" and "envoyproxy/envoy:v1.30" in gap.reason
    # the proxy image appears in a registry scan later: the next scan resolves it and the gap goes
    more = Facts()
    envoy = "sha256:" + "e" * 64
    more.add_node(
        Node(
            f"image:docker.io/envoyproxy/envoy@{envoy}",
            NodeKind.IMAGE,
            "envoy",
            {"repository": "docker.io/envoyproxy/envoy", "digest": envoy, "tags": ["v1.30"]},
        )
    )
    write(store, more)
    [report] = scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    assert report.batches == 1
    assert store.gaps([dep]) == []
    assert len(serves(store, dep)) == 2


def test_seldon_predictors_and_storage_uris(tmp_path: Path, store: LineageStore) -> None:
    facts = Facts()
    facts.add_node(
        Node("model:m-77", NodeKind.MODEL, "m-77", {"artifact_location": "s3://models/fraud/m-77/artifacts/"})
    )
    write(store, facts)
    repo = tmp_path / "gitops"
    sha = commit_files(repo, {"risk/fraud.yaml": SELDON}, "fraud", T0)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    main, shadow = f"deployment:risk/fraud:main@{sha}", f"deployment:risk/fraud:shadow@{sha}"
    assert serves(store, main) == ["model_version:fraud/3"]
    assert serves(store, shadow) == ["model:m-77"]
    assert deployments(store)[shadow].properties["traffic"] == 10


# SeldonIO/seldon-core v1 examples/graph_examples/combiner-prepack-sep-pods.yaml, as the project writes it:
# the root of the graph is a combiner, the models are its children
SELDON_COMBINER = """apiVersion: machinelearning.seldon.io/v1
kind: SeldonDeployment
metadata:
  name: test
spec:
  name: test
  predictors:
  - componentSpecs:
    - spec:
        containers:
        - name: combiner
          image: seldonio/metadata-generic-node:1.14.0-dev
    graph:
      children:
      - children: []
        name: model-1
        implementation: SKLEARN_SERVER
        modelUri: %s
      - children:
        - name: model-3
          implementation: MLFLOW_SERVER
          modelUri: models:/iris/7
        name: model-2
        implementation: SKLEARN_SERVER
        modelUri: models:/iris/2
      endpoint:
        type: REST
      name: combiner
      type: COMBINER
    name: combiner
    replicas: 1
"""


def test_seldon_graph_children_models_are_served(tmp_path: Path, store: LineageStore) -> None:
    """A combiner's models are its graph children: each modelUri is served (only the root's was read)."""
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/test.yaml": SELDON_COMBINER % "models:/iris/1"}, "combiner", T0)
    s1 = commit_files(repo, {"envs/prod/test.yaml": SELDON_COMBINER % "models:/iris/4"}, "model-1 v4", T0 + DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    first, second = f"deployment:prod/test:combiner@{s0}", f"deployment:prod/test:combiner@{s1}"
    found = deployments(store)
    assert set(found) == {first, second}  # a child's new version is a new interval, not silence
    assert found[first].properties["until"] == "2026-01-02T00:00:00Z"
    assert found[first].properties["storage_uris"] == ["models:/iris/1", "models:/iris/2", "models:/iris/7"]
    assert [t for t in serves(store, first) if t.startswith("model_version:")] == [
        "model_version:iris/1", "model_version:iris/2", "model_version:iris/7"]
    assert "model_version:iris/4" in serves(store, second) and "model_version:iris/1" not in serves(store, second)


# SeldonIO/seldon-core v1 writes many of its manifests as JSON (notebooks/resources/*.json), and its
# Argo CD example (examples/cicd/cicd-argocd/…/activity-monitor-deployment.json) as a JSON `List`
SELDON_JSON = """{
  "apiVersion": "machinelearning.seldon.io/v1alpha2",
  "kind": "SeldonDeployment",
  "metadata": {
    "labels": {
      "app": "seldon"
    },
    "name": "seldon-model"
  },
  "spec": {
    "name": "test-deployment",
    "predictors": [
      {
        "componentSpecs": [
          {
            "spec": {
              "containers": [
                {
                  "image": "seldonio/mock_classifier_grpc:%s",
                  "imagePullPolicy": "IfNotPresent",
                  "name": "classifier"
                }
              ]
            }
          }
        ],
        "graph": {
          "children": [],
          "name": "classifier",
          "endpoint": {
            "type": "GRPC"
          },
          "type": "MODEL"
        },
        "name": "example",
        "replicas": 4
      }
    ]
  }
}
"""
JSON_LIST = """{
    "apiVersion": "v1",
    "items": [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "activity-monitor-deployment"
            },
            "spec": {
                "replicas": 1,
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "image": "nginx:1.14-alpine",
                                "name": "activity-monitor"
                            }
                        ]
                    }
                }
            }
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "activity-monitor-service"
            }
        }
    ],
    "kind": "List"
}
"""


def test_json_manifests_and_lists_are_read(tmp_path: Path, store: LineageStore) -> None:
    """kubectl and Argo CD apply *.json manifests and `List`s: they were silently skipped."""
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/sdep.json": SELDON_JSON % "1.0", "envs/prod/monitor.json": JSON_LIST,
                             "envs/prod/package.json": '{"name": "tools", "kind": "module"}\n'}, "json", T0)
    s1 = commit_files(repo, {"envs/prod/sdep.json": SELDON_JSON % "1.1"}, "mock 1.1", T0 + DAY)
    s2 = commit_files(repo, {"envs/prod/sdep.json": (SELDON_JSON % "1.2")[:-10]}, "truncated", T0 + 2 * DAY)
    yaml_list = "apiVersion: v1\nkind: List\nitems:\n" + "".join(
        f"- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {{name: d{n}}}\n  spec:\n    template:\n"
        f"      spec:\n        containers: [{{name: c, image: 'nginx:1.{n}'}}]\n" for n in (1, 2))
    commit_files(repo, {"envs/prod/list.yaml": yaml_list}, "yaml list", T0 + 3 * DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    found = deployments(store)
    v10, v11 = found[f"deployment:prod/seldon-model:example@{s0}"], found[f"deployment:prod/seldon-model:example@{s1}"]
    assert v10.properties["images"] == ["seldonio/mock_classifier_grpc:1.0"]
    assert v10.properties["until"] == "2026-01-02T00:00:00Z" and "until" not in v11.properties  # truncated: kept
    monitor = found[f"deployment:prod/activity-monitor-deployment@{s0}"]
    assert monitor.properties["images"] == ["nginx:1.14-alpine"]
    assert monitor.properties["manifest"] == "envs/prod/monitor.json"
    assert {n.properties["endpoint"] for n in found.values() if n.properties["manifest"] == "envs/prod/list.yaml"} == {
        "d1", "d2"}
    [gap] = store.gaps([f"commit:{s2}"])
    assert gap.kind == "malformed_manifest" and gap.reason.startswith("envs/prod/sdep.json line 38: not valid JSON")


def test_json_named_files_read_as_kubectl_reads_them() -> None:
    """seldon-core's notebooks/resources/model_long_timeouts.json is YAML, and Helm-rendered
    tfserving-mnist/mnist.json is JSON after a `---` comment line: kubectl applies both (JSON only when
    the file opens with `{`), and a stream of JSON objects; they were malformed_manifest gaps."""
    from explorer.k8s_manifests import parse_manifests

    yaml_in_json = (b"apiVersion: machinelearning.seldon.io/v1\nkind: SeldonDeployment\n"
                    b"metadata:\n  name: seldon-model\nspec:\n  predictors:\n  - graph:\n      name: classifier\n"
                    b"      modelUri: gs://seldon-models/x\n"
                    b"    name: example\n")
    [sdep] = parse_manifests(yaml_in_json, "notebooks/resources/model_long_timeouts.json")
    assert (sdep.endpoint, sdep.role, sdep.storage_uri) == ("seldon-model", "example", "gs://seldon-models/x")
    helm_json = (b"---\n# Source: tfserving-mnist/templates/mnist_tfserving_deployment.json\n{\n"
                 b'  "apiVersion": "machinelearning.seldon.io/v1alpha2",\n  "kind": "SeldonDeployment",\n'
                 b'  "metadata": {"name": "tfserving-mnist"},\n  "spec": {"predictors": [{"name": "mnist-tfserving",'
                 b' "graph": {"name": "mnist-model", "children": []}}]}\n}\n')
    for every in (True, False):
        [mnist] = parse_manifests(helm_json, "examples/models/tfserving-mnist/mnist.json", every_document=every)
        assert (mnist.endpoint, mnist.role) == ("tfserving-mnist", "mnist-tfserving")
    one = b'{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "%s"}, "spec": {}}\n'
    assert [w.endpoint for w in parse_manifests(one % b"a" + one % b"b", "k/stream.json")] == ["a", "b"]


# argoproj/argo-rollouts examples/rollout-canary.yaml, as the project writes it
ROLLOUT = """apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: rollout-canary
spec:
  replicas: 5
  revisionHistoryLimit: 2
  selector:
    matchLabels:
      app: rollout-canary
  template:
    metadata:
      labels:
        app: rollout-canary
    spec:
      containers:
      - name: rollouts-demo
        image: argoproj/rollouts-demo:%s
        imagePullPolicy: Always
        ports:
        - containerPort: 8080
  strategy:
    canary:
      steps:
      - setWeight: 20
      # The following pause step will pause the rollout indefinitely until manually resumed.
      - pause: {}
      - setWeight: 40
      - pause: {duration: 40s}
"""


def test_argo_rollouts_are_read(tmp_path: Path, store: LineageStore) -> None:
    """An Argo Rollout serves its pod template's images (it was silently skipped); another kind named
    Rollout (not argoproj.io) is not a workload."""
    repo = tmp_path / "gitops"
    other = "apiVersion: example.com/v1\nkind: Rollout\nmetadata: {name: x}\nspec: {}\n"
    s0 = commit_files(repo, {"envs/prod/rollout.yaml": ROLLOUT % "blue", "envs/prod/other.yaml": other}, "blue", T0)
    s1 = commit_files(repo, {"envs/prod/rollout.yaml": ROLLOUT % "yellow"}, "yellow", T0 + DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    found = deployments(store)
    assert set(found) == {f"deployment:prod/rollout-canary@{s0}", f"deployment:prod/rollout-canary@{s1}"}
    blue = found[f"deployment:prod/rollout-canary@{s0}"]
    assert (blue.properties["kind"], blue.properties["image"]) == ("Rollout", "argoproj/rollouts-demo:blue")
    assert blue.properties["until"] == "2026-01-02T00:00:00Z"
    [gap] = store.gaps([blue.id])
    assert gap.kind == "unresolved_image_tag" and "argoproj/rollouts-demo:blue" in gap.reason


# argoproj/argocd-example-apps kustomize-guestbook/guestbook-ui-deployment.yaml, and the `images:` entry
# `kustomize edit set image gcr.io/heptio-images/ks-guestbook-demo:0.2` writes (Argo CD Image Updater too)
GUESTBOOK = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: guestbook-ui
spec:
  replicas: 1
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      app: guestbook-ui
  template:
    metadata:
      labels:
        app: guestbook-ui
    spec:
      containers:
      - image: gcr.io/heptio-images/ks-guestbook-demo:0.1
        name: guestbook-ui
        ports:
        - containerPort: 80
"""
KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: kustomize-
resources:
- guestbook-ui-deployment.yaml
- guestbook-ui-svc.yaml
"""


def test_kustomize_image_override_is_a_gap_not_silence(tmp_path: Path, store: LineageStore) -> None:
    """An image retagged in kustomization.yaml (the manifest unchanged) was silently reported as the
    committed image: mlprov does not render kustomize, so it now says the image may differ."""
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"kustomize-guestbook/guestbook-ui-deployment.yaml": GUESTBOOK,
                             "kustomize-guestbook/kustomization.yaml": KUSTOMIZATION}, "guestbook", T0)
    retag = KUSTOMIZATION + "images:\n- name: gcr.io/heptio-images/ks-guestbook-demo\n  newTag: \"0.2\"\n"
    s1 = commit_files(repo, {"kustomize-guestbook/kustomization.yaml": retag}, "set image 0.2", T0 + DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    dep = f"deployment:kustomize-guestbook/guestbook-ui@{s0}"
    assert set(deployments(store)) == {dep}
    [gap] = [g for g in store.gaps([dep]) if g.kind == "kustomize_override"]
    assert "gcr.io/heptio-images/ks-guestbook-demo:0.1" in gap.reason and "newTag 0.2" in gap.reason
    assert gap.locator == f"gitops@{s1}:kustomize-guestbook/kustomization.yaml"
    assert gap.candidates == ("kustomize-guestbook/kustomization.yaml",)
    # a new manifest while the override stands is flagged when it opens
    bumped = GUESTBOOK.replace(":0.1", ":0.1.1")
    s2 = commit_files(repo, {"kustomize-guestbook/guestbook-ui-deployment.yaml": bumped}, "0.1.1", T0 + 2 * DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    kinds = {g.kind for g in store.gaps([f"deployment:kustomize-guestbook/guestbook-ui@{s2}"])}
    assert kinds == {"unresolved_image_tag", "kustomize_override"}


def test_two_files_declaring_one_workload_is_a_gap(tmp_path: Path, store: LineageStore) -> None:
    """seldon-core has two sample files declaring one SeldonDeployment: which serves depends on which
    was applied last, which git does not say. The later path is taken, and the clash is a gap, once."""
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/churn.yaml": isvc(A)}, "v1", T0)
    s1 = commit_files(repo, {"envs/prod/churn-copy.yaml": isvc(B)}, "a copy", T0 + DAY)
    commit_files(repo, {"envs/prod/readme.yaml": "kind: ConfigMap\nmetadata: {name: notes}\n"}, "notes", T0 + 2 * DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    [gap] = [g for g in store.gaps([f"commit:{s1}"]) if g.kind == "duplicate_workload"]
    assert gap.candidates == ("envs/prod/churn-copy.yaml", "envs/prod/churn.yaml")
    assert "prod/churn (default)" in gap.reason and "mlprov takes envs/prod/churn.yaml" in gap.reason
    assert [g.kind for g in store.gaps([f"commit:{s0}"])] == []
    # what the scan takes: the later path, so the first version keeps serving
    assert set(deployments(store)) == {f"deployment:prod/churn@{s0}"}


def test_malformed_manifest_keeps_what_served(tmp_path: Path, store: LineageStore) -> None:
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/churn.yaml": isvc(A)}, "v1", T0)
    s1 = commit_files(repo, {"envs/prod/churn.yaml": "kind: [unclosed\n"}, "typo", T0 + DAY)
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    node = deployments(store)[f"deployment:prod/churn@{s0}"]
    assert "until" not in node.properties
    [gap] = store.gaps([f"commit:{s1}"])
    assert gap.kind == "malformed_manifest" and "envs/prod/churn.yaml" in gap.reason


def test_deploy_event_log(tmp_path: Path, store: LineageStore) -> None:
    log = tmp_path / "deploys.jsonl"
    events = [
        {"time": "2026-01-01T00:00:00Z", "environment": "prod", "endpoint": "churn", "image": f"{REPO}@{A}"},
        {"time": "2026-01-03T00:00:00Z", "environment": "prod", "endpoint": "churn", "model": "models:/churn/2"},
        {
            "time": "2026-01-02T00:00:00+01:00",
            "environment": "prod",
            "endpoint": "churn",
            "role": "canary",
            "model": "models:/churn/9",
            "traffic": 5,
        },
        {
            "time": "2026-01-02T12:00:00Z",
            "environment": "prod",
            "endpoint": "churn",
            "role": "canary",
            "action": "undeploy",
        },
    ]
    log.write_text("\n".join(json.dumps(e) for e in events) + "\n{not json\n")
    [report] = scan_into(store, DeployEventSource(log))
    assert report.error is None
    found = deployments(store)
    first = found["deployment:prod/churn@2026-01-01T00:00:00Z"]
    assert first.properties["until"] == "2026-01-03T00:00:00Z"
    canary = found["deployment:prod/churn:canary@2026-01-01T23:00:00Z"]
    assert canary.properties["until"] == "2026-01-02T12:00:00Z" and canary.properties["traffic"] == 5
    assert serves(store, canary.id) == ["model_version:churn/9"]
    assert serves(store, "deployment:prod/churn@2026-01-03T00:00:00Z") == ["model_version:churn/2"]
    [gap] = [g for g in report.gaps if g.kind == "invalid_event_lines"]
    assert "lines 5" in gap.reason


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: inferenceservices.serving.kserve.io
spec:
  names:
    kind: InferenceService
    plural: inferenceservices
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kserve-controller-manager
  namespace: kserve
spec:
  template:
    spec:
      containers:
      - image: kserve/kserve-controller@sha256:%s
""" % ("c" * 64)


def test_manifest_shapes_met_in_real_histories() -> None:
    """What a real GitOps history (kserve/kserve's) holds: CRDs naming workload kinds, Helm templates,
    KFServing v1alpha2, placeholders that are not YAML, and mappings where strings belong."""
    from explorer.k8s_manifests import ManifestError, may_hold_workloads, parse_manifests

    # a release manifest: a CRD whose spec.names.kind is InferenceService, and the controller Deployment
    [controller] = parse_manifests(CRD.encode(), "install/kserve.yaml", every_document=False)
    assert (controller.environment, controller.endpoint, controller.kind) == (
        "kserve",
        "kserve-controller-manager",
        "Deployment",
    )
    assert parse_manifests(CRD.encode(), "install/kserve.yaml") == [controller]  # every document read: same answer
    assert not may_hold_workloads(CRD.split("---")[0].encode())  # the CRD alone: no top-level workload kind
    helm = b"kind: Deployment\nmetadata:\n  name: {{ .Values.name }}\nspec: {}\n"
    assert parse_manifests(helm, "charts/x/templates/d.yaml") == []
    old = (
        b"apiVersion: serving.kubeflow.org/v1alpha2\nkind: InferenceService\nmetadata: {name: s}\n"
        b"spec:\n  default:\n    predictor:\n      sklearn: {storageUri: 'gs://b/m'}\n"
    )
    [isvc_old] = parse_manifests(old, "envs/prod/s.yaml")
    assert (isvc_old.environment, isvc_old.storage_uri) == ("prod", "gs://b/m")
    placeholder = (
        b"kind: ConfigMap\n---\nkind: Deployment\nmetadata: {name: a}\n"
        b"spec:\n  template:\n    spec:\n      containers:\n      - image: {username}/model\n"
    )
    for every in (False, True):
        try:
            parse_manifests(placeholder, "docs/a.yaml", every_document=every)
        except ManifestError as exc:
            assert str(exc) == "docs/a.yaml line 9: not valid YAML"
        else:
            raise AssertionError("a placeholder that is not YAML must be an error naming its line")
    mistyped = b"kind: Deployment\nmetadata:\n  name: {app: churn}\nspec: {}\n"
    try:
        parse_manifests(mistyped, "envs/prod/d.yaml")
    except ManifestError as exc:
        assert "envs/prod/d.yaml: document 1 (Deployment)" in str(exc) and "must be strings" in str(exc)
    else:
        raise AssertionError("a mapping where metadata.name belongs must be an error")


def test_mistyped_manifest_is_a_gap_not_a_crash(tmp_path: Path, store: LineageStore) -> None:
    repo = tmp_path / "gitops"
    s0 = commit_files(repo, {"envs/prod/churn.yaml": isvc(A)}, "v1", T0)
    s1 = commit_files(
        repo,
        {"envs/prod/other.yaml": "kind: InferenceService\nmetadata:\n  name: {x: 1}\n  namespace: [a]\n"},
        "bad",
        T0 + DAY,
    )
    scan_into(store, source_for(str(repo), settings_for(tmp_path, store)))
    assert f"deployment:prod/churn@{s0}" in deployments(store)
    [gap] = store.gaps([f"commit:{s1}"])
    assert gap.kind == "malformed_manifest" and "envs/prod/other.yaml: document 1 (InferenceService)" in gap.reason
