"""Which Sigstore instance to trust, without touching the network unless asked.

Upstream ``model_signing`` refreshes trust data over TUF before every keyless verification, so
it fails offline. mlprov builds the trust config from the trusted root and signing config that
the installed ``sigstore`` package embeds (pinned with the package version), or from a file
given with ``--trust-config`` (a private Sigstore instance). ``--refresh-trust`` fetches the
current data over TUF once and pins it in the workspace, where later offline runs find it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from sigstore.models import ClientTrustConfig

from signing.errors import SigningInputError

PRODUCTION_TUF_URL = "https://tuf-repo-cdn.sigstore.dev"
STAGING_TUF_URL = "https://tuf-repo-cdn.sigstage.dev"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"


class Instance(StrEnum):
    """The public Sigstore instances whose trust roots ship inside ``sigstore``."""

    PRODUCTION = "production"
    STAGING = "staging"

    @property
    def tuf_url(self) -> str:
        return PRODUCTION_TUF_URL if self is Instance.PRODUCTION else STAGING_TUF_URL


@dataclass(frozen=True, slots=True)
class TrustSource:
    """Where a trust config came from, for messages and lineage (``embedded``, ``pinned``...)."""

    kind: str
    location: str


def embedded_trust_config(instance: Instance = Instance.PRODUCTION) -> ClientTrustConfig:
    """The trust config of a public instance as embedded in the ``sigstore`` package (offline)."""
    folder = resources.files("sigstore._store").joinpath(quote(instance.tuf_url, safe=""))
    try:
        trusted_root = json.loads(folder.joinpath("trusted_root.json").read_bytes())
        signing_config = json.loads(folder.joinpath("signing_config.v0.2.json").read_bytes())
    except (FileNotFoundError, ValueError) as exc:
        raise SigningInputError(
            f"the installed sigstore package embeds no usable {instance} trust root: {exc}",
            hint="reinstall sigstore, or pass --trust-config",
        ) from exc
    return _client_trust_config(trusted_root, signing_config)


def _client_trust_config(trusted_root: dict[str, object], signing_config: dict[str, object]) -> ClientTrustConfig:
    document = {
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": trusted_root,
        "signingConfig": signing_config,
    }
    return ClientTrustConfig.from_json(json.dumps(document))


def load_trust_config_file(path: Path) -> ClientTrustConfig:
    """A client trust config file (``--trust-config``), as ``sigstore`` and ``cosign`` write it."""
    try:
        return ClientTrustConfig.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SigningInputError(f"cannot read trust config {path}: {exc.strerror}") from exc
    except Exception as exc:  # the protobuf-backed parser raises several unrelated types
        raise SigningInputError(
            f"{path} is not a Sigstore client trust config: {str(exc).splitlines()[0]}",
            hint=f"expected mediaType {CLIENT_TRUST_CONFIG_MEDIA_TYPE}",
        ) from exc


def pinned_path(pin_dir: Path, instance: Instance) -> Path:
    return pin_dir / f"{instance}.trust-config.json"


def resolve_trust_config(
    *,
    instance: Instance = Instance.PRODUCTION,
    trust_config: Path | None = None,
    refresh: bool = False,
    pin_dir: Path | None = None,
) -> tuple[ClientTrustConfig, TrustSource]:
    """The trust config a command uses, and where it came from.

    Order: an explicit ``trust_config`` file; with ``refresh``, the instance's TUF repository
    (network), pinned into ``pin_dir``; a config pinned earlier in ``pin_dir``; the embedded one.
    """
    if trust_config is not None:
        return load_trust_config_file(trust_config), TrustSource("file", str(trust_config))
    if refresh:
        config = _refresh(instance)
        if pin_dir is not None:
            _pin(config, pinned_path(pin_dir, instance))
            return config, TrustSource("refreshed", str(pinned_path(pin_dir, instance)))
        return config, TrustSource("refreshed", instance.tuf_url)
    if pin_dir is not None and pinned_path(pin_dir, instance).is_file():
        path = pinned_path(pin_dir, instance)
        return load_trust_config_file(path), TrustSource("pinned", str(path))
    return embedded_trust_config(instance), TrustSource("embedded", f"sigstore package ({instance})")


def _refresh(instance: Instance) -> ClientTrustConfig:
    from sigstore.errors import TUFError

    try:
        if instance is Instance.STAGING:
            return ClientTrustConfig.staging(offline=False)
        return ClientTrustConfig.production(offline=False)
    except TUFError as exc:
        raise SigningInputError(
            f"cannot refresh the {instance} trust root from {instance.tuf_url}: {exc}",
            hint="check the network, or verify offline without --refresh-trust",
        ) from exc


def _pin(config: ClientTrustConfig, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".trust.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(config._inner.to_json())
    os.replace(tmp, path)
