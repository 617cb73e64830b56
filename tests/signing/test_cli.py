"""``mlprov sign``/``verify`` as a user meets them: exit codes, messages, JSON, policies, registry targets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from explorer.lineage import EdgeKind, Evidence, Facts, Node, NodeKind
from explorer.store import LineageStore
from tests.signing.conftest import IBM_IDENTITY, IBM_ISSUER, Cli
from tests.signing.pki import KeyPair, certificate_chain, ec_key_pair, write_private_key


def test_sign_then_verify_key_reports_files_and_signer(cli: Cli, model: Path, keys: KeyPair) -> None:
    signed = cli.run("sign", model, "--private-key", keys.private, "--json")
    assert signed.exit_code == 0, signed.stderr
    doc = json.loads(signed.stdout)
    assert doc["method"] == "key"
    assert doc["signature"] == str(model / "model.sig")
    assert doc["files"] == 4 and doc["subject_name"] == "fraud-detector"
    assert doc["identity"].startswith("key:sha256:")
    verified = cli.run("verify", model, "--public-key", keys.public)
    assert verified.exit_code == 0
    assert verified.stdout.startswith(f"Verified {model}: 4 files match the signature by {doc['identity']} [key]")


def test_resign_after_small_edit_rehashes_one_file(cli: Cli, model: Path, keys: KeyPair) -> None:
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    assert (cli.workspace / ".mlprov" / "digest-cache.json").is_file()
    (model / "config.json").write_text('{"hidden": 64, "layers": 3}\n')
    again = json.loads(cli.run("sign", model, "--private-key", keys.private, "--json").stdout)
    assert (again["cache_hits"], again["bytes_hashed"]) == (3, len('{"hidden": 64, "layers": 3}\n'))
    fresh = json.loads(cli.run("sign", model, "--private-key", keys.private, "--no-cache", "--json").stdout)
    assert fresh["subject_digest"] == again["subject_digest"]
    assert cli.run("verify", model, "--public-key", keys.public).exit_code == 0


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        (ed25519.Ed25519PrivateKey.generate(), "Ed25519"),
        (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RSA-2048"),
        (ec.generate_private_key(ec.SECP256K1()), "ECDSA secp256k1"),
    ],
    ids=["ed25519", "rsa", "secp256k1"],
)
def test_unsupported_key_is_a_clear_usage_error(cli: Cli, model: Path, tmp_path: Path, key: object, kind: str) -> None:
    path = write_private_key(key, tmp_path / "bad.pem")  # type: ignore[arg-type]
    result = cli.run("sign", model, "--private-key", path)
    assert result.exit_code == 2
    assert f"bad.pem is an {kind} key; OMS signatures support only ECDSA P-256, P-384 or P-521" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (model / "model.sig").exists()


def test_encrypted_key_uses_password_from_environment(
    cli: Cli, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP384R1())
    path = tmp_path / "enc.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    missing = cli.run("sign", model, "--private-key", path)
    assert missing.exit_code == 2 and "MLPROV_KEY_PASSWORD" in missing.stderr
    monkeypatch.setenv("MLPROV_KEY_PASSWORD", "s3cret")
    assert cli.run("sign", model, "--private-key", path).exit_code == 0
    assert "s3cret" not in cli.run("sign", model, "--private-key", path).output


def test_certificate_not_matching_key_is_refused(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    chain = certificate_chain(tmp_path / "pki")
    result = cli.run("sign", model, "--private-key", keys.private, "--certificate", chain.leaf)
    assert result.exit_code == 2
    assert "is not for the private key" in result.stderr


def test_keyless_without_token_says_where_tokens_come_from(
    cli: Cli, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "GOOGLE_SERVICE_ACCOUNT_NAME", "SIGSTORE_ID_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    result = cli.run("sign", model)
    assert result.exit_code == 2
    assert "no identity token for keyless signing" in result.stderr
    assert "--identity-token" in result.stderr and "SIGSTORE_ID_TOKEN" in result.stderr


def test_malformed_token_is_rejected_without_echoing_it(cli: Cli, model: Path) -> None:
    secret = "not.a-real.token-SECRETVALUE"
    result = cli.run("sign", model, "--identity-token", secret)
    assert result.exit_code == 2
    assert "the identity token is not usable" in result.stderr
    assert "SECRETVALUE" not in result.output


def test_usage_errors_exit_2(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    missing = cli.run("verify", tmp_path / "nope", "--public-key", keys.public)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    no_sig = cli.run("verify", model, "--public-key", keys.public)
    assert no_sig.exit_code == 2 and f"signature {model / 'model.sig'} does not exist" in no_sig.stderr
    not_bundle = tmp_path / "junk.sig"
    not_bundle.write_text("{}")
    junk = cli.run("verify", model, "-s", not_bundle, "--public-key", keys.public)
    assert junk.exit_code == 2 and "is not a Sigstore bundle" in junk.stderr
    half = cli.run("verify", model, "--identity", "a@example.com")
    assert half.exit_code == 2 and "needs --issuer" in half.stderr


def test_method_mismatch_is_named(cli: Cli, model: Path, keys: KeyPair) -> None:
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    result = cli.run("verify", model, "--identity", IBM_IDENTITY, "--issuer", IBM_ISSUER)
    assert result.exit_code == 1
    assert "the signature was made with the key method, but only sigstore signers are expected" in result.stderr


# --- signers.yaml ------------------------------------------------------------------------------------


def _policy(workspace: Path, keys: KeyPair, chain_root: Path) -> Path:
    policy = workspace / "signers.yaml"
    policy.write_text(
        "version: 1\n"
        "rules:\n"
        "  - models: ['fraud-*']\n"
        "    signers:\n"
        f"      - key: {keys.public}\n"
        f"      - certificate: {{chain: {chain_root}, identity: release@example.com}}\n"
        "  - models: [churn]\n"
        "    signers:\n"
        f"      - sigstore: {{identity_regex: '.*@acme\\.com', issuer: https://accounts.google.com}}\n"
    )
    return policy


def test_policy_is_used_without_identity_options(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    chain = certificate_chain(tmp_path / "pki")
    _policy(cli.workspace, keys, chain.root)
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    ok = cli.run("verify", model)
    assert ok.exit_code == 0, ok.stderr
    assert (
        cli.run(
            "sign",
            model,
            "--private-key",
            chain.leaf_key,
            "--certificate",
            chain.leaf,
            "--cert-chain",
            chain.intermediate,
        ).exit_code
        == 0
    )
    assert "by release@example.com" in cli.run("verify", model).stdout


def test_policy_rejects_a_signer_not_listed_for_the_model(cli: Cli, model: Path, keys: KeyPair, tmp_path: Path) -> None:
    chain = certificate_chain(tmp_path / "pki")
    _policy(cli.workspace, keys, chain.root)
    intruder = ec_key_pair(tmp_path / "intruder", "intruder")
    assert cli.run("sign", model, "--private-key", intruder.private).exit_code == 0
    result = cli.run("verify", model)
    assert result.exit_code == 1
    assert f"not by {keys.public}" in result.stderr
    # A model the policy does not name: nobody may sign it.
    other = cli.run("verify", model, "--model-name", "credit-score")
    assert other.exit_code == 1
    assert "allows no signer for model 'credit-score'" in other.stderr
    # The churn rule accepts keyless signers only.
    churn = cli.run("verify", model, "--model-name", "churn")
    assert churn.exit_code == 1
    assert "only sigstore signers are expected" in churn.stderr


def test_bad_policy_is_a_usage_error(cli: Cli, model: Path, keys: KeyPair) -> None:
    assert cli.run("sign", model, "--private-key", keys.private).exit_code == 0
    (cli.workspace / "signers.yaml").write_text("rules:\n  - models: [x]\n    signers:\n      - gpg: abc\n")
    result = cli.run("verify", model)
    assert result.exit_code == 2
    assert "signers.yaml: rules[0].signers[0]: unknown signer kind 'gpg'" in result.stderr


# --- registry targets and lineage ----------------------------------------------------------------------


def _store(cli: Cli) -> LineageStore:
    return LineageStore.open(f"sqlite:///{cli.workspace / '.mlprov' / 'lineage.db'}")


def _register(cli: Cli, artifact_location: str) -> None:
    facts = Facts()
    facts.add_node(
        Node(
            "model:m-5f1e",
            NodeKind.MODEL,
            "fraud model",
            {"model_id": "m-5f1e", "artifact_location": artifact_location},
        )
    )
    facts.add_node(
        Node(
            "model_version:fraud/3",
            NodeKind.MODEL_VERSION,
            "fraud v3",
            {
                "name": "fraud",
                "version": "3",
                "registry": "mlflow",
                "source": "models:/m-5f1e",
                "model_id": "m-5f1e",
                "aliases": ["champion"],
            },
        )
    )
    facts.link("model_version:fraud/3", "model:m-5f1e", EdgeKind.VERSION_OF, Evidence("mlflow", "test", "test"))
    with _store(cli) as store:
        store.write_batch("mlflow", facts)


def test_registry_target_is_signed_and_recorded_as_lineage(cli: Cli, model: Path, keys: KeyPair) -> None:
    _register(cli, model.as_uri())
    signed = cli.run("sign", "models:/fraud/3", "--private-key", keys.private, "--json")
    assert signed.exit_code == 0, signed.stderr
    doc = json.loads(signed.stdout)
    assert doc["subject_id"] == "model_version:fraud/3" and doc["subject_name"] == "fraud"
    assert (model / "model.sig").is_file()  # beside the artifacts, where the scanner looks
    verified = cli.run("verify", "models:/fraud@champion", "--public-key", keys.public)
    assert verified.exit_code == 0, verified.stderr
    bare = cli.run("verify", "fraud/3", "--public-key", keys.public, "--json")  # NAME/VERSION, as `diff` takes it
    assert bare.exit_code == 0, bare.stderr
    assert json.loads(bare.stdout)["subject_id"] == "model_version:fraud/3"
    with _store(cli) as store:
        edges = store.edges_to(["model_version:fraud/3"], [EdgeKind.SIGNS])
        # Two pieces of evidence for one edge: the signing and the later verification.
        assert {e.evidence.rule for e in edges} == {"signed by mlprov sign", "verified by mlprov verify"}
        assert {e.source for e in edges} == {f"signature:sha256:{doc['signature_sha256']}"}
        node = store.node(edges[0].source)
    assert node is not None and node.id == f"signature:sha256:{doc['signature_sha256']}"
    assert node.properties["method"] == "key"
    assert node.properties["verified"] is True
    assert node.properties["identity"] == doc["identity"]
    assert node.properties["verification_detail"].startswith("4 files match")


def test_failed_verification_is_recorded_as_a_gap_not_an_edge(cli: Cli, model: Path, keys: KeyPair) -> None:
    _register(cli, str(model))
    assert cli.run("sign", "model_version:fraud/3", "--private-key", keys.private).exit_code == 0
    (model / "config.json").write_text("{}")
    result = cli.run("verify", "models:/fraud/3", "--public-key", keys.public)
    assert result.exit_code == 1
    with _store(cli) as store:
        gaps = store.gaps(["model_version:fraud/3"], origin="signing")
        signatures = store.nodes(NodeKind.SIGNATURE)
    assert [g.kind for g in gaps] == ["signature_invalid"]
    assert "'config.json' differs from the signed digest" in gaps[0].reason
    assert signatures[0].properties["verified"] is False


def test_unknown_registry_target_says_to_scan(cli: Cli, keys: KeyPair) -> None:
    with _store(cli):
        pass
    result = cli.run("verify", "models:/ghost/1", "--public-key", keys.public)
    assert result.exit_code == 2
    assert "the lineage store does not know models:/ghost/1 (model_version:ghost/1)" in result.stderr
    assert "mlprov scan --mlflow" in result.stderr
    alias = cli.run("verify", "models:/ghost@prod", "--public-key", keys.public)
    assert alias.exit_code == 2 and "no version of model 'ghost' with alias 'prod'" in alias.stderr


def test_remote_artifacts_are_downloaded_with_mlflow(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A runs:/ artifact location is fetched with MLflow (never loaded) into a temporary folder."""
    mlflow = pytest.importorskip("mlflow")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    # a client, not the fluent API: earlier tests leave a global tracking URI and active experiment behind
    client = mlflow.MlflowClient(uri)
    experiment = client.create_experiment("signing", artifact_location=(tmp_path / "artifacts").as_uri())
    run_id = client.create_run(experiment).info.run_id
    client.log_artifacts(run_id, str(model), artifact_path="model")
    client.set_terminated(run_id)
    mlflow.set_tracking_uri(uri)  # what the sign command's download resolves runs:/ against
    _register(cli, f"runs:/{run_id}/model")
    no_output = cli.run("sign", "models:/fraud/3", "--private-key", keys.private)
    assert no_output.exit_code == 2 and "give -o PATH" in no_output.stderr
    sig = tmp_path / "fraud-3.sig"
    assert cli.run("sign", "models:/fraud/3", "--private-key", keys.private, "-o", sig).exit_code == 0
    ok = cli.run("verify", "models:/fraud/3", "-s", sig, "--public-key", keys.public, "--json")
    assert ok.exit_code == 0, ok.stderr
    assert json.loads(ok.stdout)["files"] == 4
    mlflow.set_tracking_uri("")


def test_signing_never_imports_textual() -> None:
    code = (
        "import sys, signing.sign, signing.verify, signing.lineage, signing.policy, explorer.commands.signing; "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_a_signature_written_outside_the_model_is_not_recorded_as_an_ignored_model_path(
    cli: Cli, model: Path, keys: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-o up/x.sig` is relative to the current directory; it used to be read model-relative too, so the
    bundle recorded `up/x.sig` as ignored and a file put there in the model later passed unverified."""
    import base64

    (tmp_path / "up").mkdir()
    monkeypatch.chdir(tmp_path)
    signed = cli.run("sign", model, "--private-key", keys.private, "-o", "up/x.sig")
    assert signed.exit_code == 0, signed.stderr
    payload = json.loads((tmp_path / "up" / "x.sig").read_text())["dsseEnvelope"]["payload"]
    serialization = json.loads(base64.b64decode(payload))["predicate"]["serialization"]
    assert "up/x.sig" not in serialization.get("ignore_paths", [])
    (model / "up").mkdir()
    (model / "up" / "x.sig").write_text("slipped in after signing")
    verified = cli.run("verify", model, "--signature", tmp_path / "up" / "x.sig", "--public-key", keys.public)
    assert verified.exit_code == 1 and "up/x.sig" in verified.stdout + verified.stderr

    inside = cli.run("sign", model, "--private-key", keys.private, "-o", model / "up" / "x.sig")
    assert inside.exit_code == 0, inside.stderr
    assert cli.run("verify", model, "--signature", model / "up" / "x.sig", "--public-key", keys.public).exit_code == 0
