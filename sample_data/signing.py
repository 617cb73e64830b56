"""Sample workspace step: the champion model signed with a key, and a signer policy that trusts it.

Generates an ECDSA P-256 key pair into ``keys/`` (a demo key made at build time, never a published
one), signs the MLflow artifacts of ``models:/churn-model@champion`` (the LoggedModel's artifact
directory under ``mlartifacts/``) with mlprov's own signing code, which writes an OMS Sigstore
bundle ``model.sig`` inside that directory as upstream ``model_signing`` does, and writes
``signers.yaml`` allowing that key for ``churn-model``. ``mlprov scan`` then records the signature
(the MLflow scanner finds ``model.sig`` in the artifacts) and ``mlprov verify`` or the explorer's
``v`` verifies it against the policy.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from sample_data.build import MODEL, SampleWorkspace

KEYS = "keys"
PRIVATE_KEY = "churn-release.key"
PUBLIC_KEY = "churn-release.pub"
POLICY = "signers.yaml"


def add_signing(ws: SampleWorkspace) -> dict[str, list[str]]:
    """Sign the champion's artifacts; nothing new to scan (the MLflow source finds the bundle)."""
    from signing.sign import KeySigning, sign_model

    private, public = _key_pair(ws.root / KEYS)
    artifacts = champion_artifacts(ws)
    result = sign_model(artifacts, KeySigning(private), model_name=MODEL)
    (ws.root / POLICY).write_text(
        "# who may sign which models: `mlprov verify` and the explorer's `v` read this\n"
        "version: 1\n"
        "rules:\n"
        f'  - models: ["{MODEL}"]\n'
        "    signers:\n"
        f"      - key: {KEYS}/{public.name}\n"
    )
    where = result.bundle_path.relative_to(ws.root)
    ws.notes.append(f"Signing: {MODEL}@champion signed with {KEYS}/{private.name} ({where}); policy in {POLICY}")
    return {}


def champion_artifacts(ws: SampleWorkspace) -> Path:
    """The artifact directory of the LoggedModel the ``champion`` alias points at."""
    from mlflow import MlflowClient

    from sample_data.mlflow_runs import TRACKING_DB

    uri = f"sqlite:///{ws.root / TRACKING_DB}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_model_version_by_alias(MODEL, "champion")
    model_id = version.model_id or str(version.source).removeprefix("models:/")  # source: models:/<model id>
    location = client.get_logged_model(model_id).artifact_location
    parsed = urlparse(location)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(location)
    if not path.is_dir():
        raise FileNotFoundError(f"the champion's artifacts are not at {path}")
    return path


def _key_pair(directory: Path) -> tuple[Path, Path]:
    """A fresh ECDSA P-256 key pair as PEM files; the private key readable by its owner only."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = directory / PRIVATE_KEY, directory / PUBLIC_KEY
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public
