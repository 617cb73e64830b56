"""Sign a model into an OMS Sigstore bundle: keyless (Sigstore), with an EC key, or a certificate.

The payload and bundle layout are upstream ``model_signing``'s own (its in-toto ``Payload`` and
its key/certificate signers), so bundles verify with ``model_signing verify``. What mlprov adds:
fast incremental hashing, key checks with clear messages, a keyless flow that takes the token
from the command line, the environment or the CI, and an atomic write of the bundle.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from model_signing._signing import sign_certificate as oms_certificate
from model_signing._signing import sign_ec_key as oms_ec_key
from model_signing._signing import sign_sigstore_pb as oms_pb
from sigstore_models import intoto as intoto_pb
from sigstore_models.bundle import v1 as bundle_pb

from explorer.files import write_atomically
from explorer.progress import Progress
from signing.bundle import Method, parse_bundle
from signing.digest_cache import DigestCache
from signing.errors import SigningError, SigningInputError
from signing.hashing import GIT_PATHS, HashingOptions, hash_model, resolve_ignore_paths
from signing.keys import check_validity, load_certificates, load_private_key
from signing.statement import IN_TOTO_PAYLOAD_TYPE, statement_bytes

DEFAULT_SIGNATURE_NAME = "model.sig"
TOKEN_ENV = "SIGSTORE_ID_TOKEN"


@dataclass(frozen=True, slots=True)
class KeySigning:
    """Sign with an ECDSA private key (PEM)."""

    private_key: Path
    password: str | None = None


@dataclass(frozen=True, slots=True)
class CertificateSigning:
    """Sign with a private key and its certificate; ``chain`` travels in the bundle."""

    private_key: Path
    certificate: Path
    chain: tuple[Path, ...] = ()
    password: str | None = None


@dataclass(frozen=True, slots=True)
class KeylessSigning:
    """Sign with Sigstore: an OIDC identity token buys a short-lived Fulcio certificate.

    ``trust_config`` is a sigstore ``ClientTrustConfig`` (which Fulcio, Rekor and roots).
    Without ``identity_token``, ``SIGSTORE_ID_TOKEN`` and then ambient CI credentials are
    tried; ``interactive`` allows the browser OAuth flow as a last resort.
    """

    trust_config: Any
    identity_token: str | None = None
    interactive: bool = False


SigningMethod = KeySigning | CertificateSigning | KeylessSigning


@dataclass(slots=True)
class SignResult:
    """What was signed, by whom, and what the hashing cost."""

    bundle_path: Path
    bundle_sha256: str
    method: Method
    identity: str | None
    issuer: str | None
    subject_name: str
    subject_digest: str | None
    files: int
    bytes_total: int
    bytes_hashed: int
    cache_hits: int
    hash_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "signature": str(self.bundle_path),
            "signature_sha256": self.bundle_sha256,
            "method": str(self.method),
            "identity": self.identity,
            "issuer": self.issuer,
            "subject_name": self.subject_name,
            "subject_digest": self.subject_digest,
            "files": self.files,
            "bytes_total": self.bytes_total,
            "bytes_hashed": self.bytes_hashed,
            "cache_hits": self.cache_hits,
            "hash_seconds": round(self.hash_seconds, 3),
        }


def default_signature_path(model_path: Path) -> Path:
    """``model.sig`` inside a model directory (as upstream's fixtures), ``<file>.sig`` beside a file."""
    if model_path.is_dir():
        return model_path / DEFAULT_SIGNATURE_NAME
    return model_path.with_name(model_path.name + ".sig")


def sign_model(
    model_path: Path,
    method: SigningMethod,
    *,
    signature_path: Path | None = None,
    ignore_paths: Sequence[str | Path] = (),
    ignore_git_paths: bool = True,
    allow_symlinks: bool = False,
    shard_size: int | None = None,
    cache: DigestCache | None = None,
    model_name: str | None = None,
    progress: Progress | None = None,
) -> SignResult:
    """Hash ``model_path`` and write an OMS bundle to ``signature_path`` (default beside/inside).

    The signature file itself is excluded from hashing when it lies inside the model. Raises
    :class:`SigningInputError` for unusable inputs and :class:`SigningError` when the signing
    service fails; no partial bundle is ever left behind.
    """
    if not model_path.exists():
        raise SigningInputError(f"model path {model_path} does not exist")
    target = signature_path or default_signature_path(model_path)
    signer = _prepare(method)  # check keys and tokens before spending minutes hashing
    ignores = resolve_ignore_paths(model_path, ignore_paths) if model_path.is_dir() else []
    if model_path.is_dir() and target.resolve().is_relative_to(model_path.resolve()):
        # the signature is written where it is asked (relative to the current directory): it is
        # excluded from hashing only when that lands inside the model, never read as model-relative
        inside = resolve_ignore_paths(model_path, [target.resolve()])
        ignores.extend(p for p in inside if p not in ignores)
    if model_path.is_dir() and ignore_git_paths:
        ignores.extend(p for p in GIT_PATHS if p not in ignores)
    options = HashingOptions(shard_size=shard_size, allow_symlinks=allow_symlinks, ignore_paths=tuple(ignores))
    started = time.perf_counter()
    report = hash_model(model_path, options, cache=cache, model_name=model_name, progress=progress)
    hash_seconds = time.perf_counter() - started
    bundle_json = signer(statement_bytes(report))
    write_atomically(target, bundle_json)
    info = parse_bundle(target, bundle_json.encode("utf-8"))
    identity, issuer = info.claimed_identity()
    return SignResult(
        bundle_path=target,
        bundle_sha256=info.sha256,
        method=info.method,
        identity=identity,
        issuer=issuer,
        subject_name=report.model_name,
        subject_digest=info.subject_digest,
        files=len(report.files),
        bytes_total=report.bytes_total,
        bytes_hashed=report.bytes_hashed,
        cache_hits=report.cache_hits,
        hash_seconds=hash_seconds,
    )


# --- signers: each returns a function from payload to bundle JSON ------------------------------------


class _KeySigner(oms_ec_key.Signer):
    """Upstream's EC key signer (its bundle layout and verification material), given a key
    mlprov already loaded and checked, signing a payload mlprov serialized."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:  # no super(): it would reload the key
        self._private_key = private_key  # what upstream's verification material reads
        self._ec_key = private_key

    def sign_payload(self, payload: bytes) -> str:
        """A DSSE envelope over ``payload`` in a v0.3 bundle, as upstream's ``sign`` builds it."""
        signature = self._ec_key.sign(
            oms_pb.pae(payload), ec.ECDSA(oms_ec_key.get_ec_key_hash(self._ec_key.public_key()))
        )
        envelope = intoto_pb.Envelope(
            payload=base64.b64encode(payload),
            payload_type=IN_TOTO_PAYLOAD_TYPE,
            signatures=[intoto_pb.Signature(sig=base64.b64encode(signature), keyid="")],
        )
        bundle = bundle_pb.Bundle(
            media_type=oms_pb._BUNDLE_MEDIA_TYPE,  # type: ignore[arg-type]
            verification_material=self._get_verification_material(),
            dsse_envelope=envelope,
        )
        return str(bundle.to_json())


class _CertificateSigner(oms_certificate.Signer, _KeySigner):
    """Upstream's certificate signer, given a checked key, leaf and chain."""

    def __init__(
        self, private_key: ec.EllipticCurvePrivateKey, leaf: x509.Certificate, chain: list[x509.Certificate]
    ) -> None:
        _KeySigner.__init__(self, private_key)
        self._signing_certificate = leaf
        self._trust_chain = chain


BundleWriter = Callable[[bytes], str]


def _prepare(method: SigningMethod) -> BundleWriter:
    """Check the signing material and return the function that signs a payload."""
    if isinstance(method, KeySigning):
        key_signer = _KeySigner(load_private_key(method.private_key, method.password))
        return key_signer.sign_payload
    if isinstance(method, CertificateSigning):
        key = load_private_key(method.private_key, method.password)
        leaves = load_certificates([method.certificate], "certificate")
        leaf = leaves[0]
        if leaf.public_key() != key.public_key():
            raise SigningInputError(
                f"the certificate {method.certificate} is not for the private key {method.private_key}",
                hint="pass the certificate issued for this key",
            )
        invalid = check_validity(leaf, "signing")
        if invalid:
            raise SigningInputError(invalid, hint="renew the signing certificate")
        cert_signer = _CertificateSigner(key, leaf, load_certificates(list(method.chain)) + leaves[1:])
        return cert_signer.sign_payload
    return _keyless(method)


def _keyless(method: KeylessSigning) -> BundleWriter:
    from sigstore import dsse
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import IdentityError, IdentityToken
    from sigstore.sign import SigningContext

    raw_token = identity_token(method)
    try:
        token = IdentityToken(raw_token)
    except IdentityError as exc:  # the message names the claim, never the token
        raise SigningInputError(f"the identity token is not usable: {exc}", hint="get a fresh token") from exc
    context = SigningContext.from_trust_config(method.trust_config)

    def sign(payload: bytes) -> str:
        statement = dsse.Statement(payload)
        try:
            with context.signer(token) as signer:
                bundle = signer.sign_dsse(statement)
        except (SigstoreError, FulcioClientError, RekorClientError) as exc:
            raise SigningError(f"Sigstore signing failed: {_service_error(exc)}") from exc
        except OSError as exc:  # requests' connection errors derive from OSError
            raise SigningError(
                f"cannot reach the Sigstore service {_unreachable(exc)}",
                hint="check the network, --staging or --trust-config",
            ) from exc
        return str(bundle.to_json())

    return sign


def _service_error(exc: BaseException) -> str:
    """One line for a Fulcio/Rekor failure: the error, or the HTTP status and body behind it."""
    text = str(exc).strip()
    response = getattr(exc.__cause__, "response", None)
    if response is not None:
        text = f"HTTP {response.status_code} from {response.url}: {response.text.strip()[:200]}"
    return (text or type(exc).__name__).splitlines()[0]


def _unreachable(exc: OSError) -> str:
    """``<url>: <reason>`` for a connection failure, without requests' nested reprs."""
    request = getattr(exc, "request", None)
    url = getattr(request, "url", None) or "?"
    reason = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return f"{url}: {reason.group(1) if reason else type(exc).__name__}"


def identity_token(method: KeylessSigning) -> str:
    """The OIDC token to sign with: explicit, ``SIGSTORE_ID_TOKEN``, ambient CI, or interactive."""
    from sigstore.oidc import Issuer, detect_credential

    token = method.identity_token or os.environ.get(TOKEN_ENV)
    if token:
        return token
    try:
        ambient = detect_credential()
    except Exception as exc:  # sigstore's detectors raise their own error types per CI system
        raise SigningInputError(f"ambient CI credentials were found but could not be used: {exc}") from exc
    if ambient:
        return str(ambient)
    if method.interactive:
        issuer = Issuer(method.trust_config.signing_config.get_oidc_url())
        return str(issuer.identity_token()._raw_token)
    raise SigningInputError(
        "no identity token for keyless signing",
        hint=f"pass --identity-token, set {TOKEN_ENV}, or run in CI with an OIDC token "
        "(GitHub Actions: permissions id-token: write)",
    )


