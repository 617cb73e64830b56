"""Verify a model against an OMS signature: who signed it, and that every byte is as signed.

Three checks, each failing with a message naming what failed:

1. the signature is cryptographically valid and made by an *expected* signer: a keyless identity
   and OIDC issuer (against an offline Sigstore trust root), a public key, or an X.509 chain
   whose leaf names an expected identity (SAN, else subject; valid now; never the web roots);
2. the signed OMS payload is well formed (upstream's parser: root digest over the resources);
3. the model on disk hashes to exactly the signed manifest: no changed, missing or extra file.

:func:`verify_model` raises :class:`~signing.errors.VerificationFailure` (with the
:class:`VerificationResult` attached) so a caller cannot forget to look at the outcome.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from model_signing import manifest as oms_manifest
from model_signing._signing import sign_ec_key as oms_ec_key
from model_signing._signing import sign_sigstore_pb as oms_pb
from model_signing._signing import signing as oms_signing

from explorer.progress import Progress
from signing.bundle import (
    BundleInfo,
    Method,
    certificate_identities,
    oidc_issuer,
    public_key_hint,
    read_bundle,
)
from signing.digest_cache import DigestCache
from signing.errors import SigningInputError, VerificationFailure
from signing.hashing import HashingOptions, UnhashableEntry, hash_model, resolve_ignore_paths
from signing.statement import IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPE

# --- who may have signed ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeylessSigner:
    """A Sigstore keyless signer: an OIDC identity (exact or a full-match regex) and issuer."""

    issuer: str
    identity: str | None = None
    identity_regex: str | None = None

    def __post_init__(self) -> None:
        if (self.identity is None) == (self.identity_regex is None):
            raise SigningInputError("a keyless signer needs exactly one of identity or identity_regex")

    def describe(self) -> str:
        who = self.identity if self.identity is not None else f"/{self.identity_regex}/"
        return f"{who} (issuer {self.issuer})"

    def matches(self, identity: str | None, issuer: str | None) -> bool:
        if identity is None or issuer != self.issuer:
            return False
        if self.identity is not None:
            return identity == self.identity
        return re.fullmatch(self.identity_regex or "", identity) is not None


@dataclass(frozen=True, slots=True)
class KeySigner:
    """A signer known by its ECDSA public key."""

    public_key: Path

    def describe(self) -> str:
        return f"key {self.public_key}"


@dataclass(frozen=True, slots=True)
class CertificateSigner:
    """A signer whose certificate chains to ``chain`` and names ``identity``."""

    chain: tuple[Path, ...]
    identity: str

    def describe(self) -> str:
        return f"certificate naming {self.identity!r} under {', '.join(map(str, self.chain))}"


ExpectedSigner = KeylessSigner | KeySigner | CertificateSigner
_METHOD_OF: dict[type, Method] = {
    KeylessSigner: Method.SIGSTORE,
    KeySigner: Method.KEY,
    CertificateSigner: Method.CERTIFICATE,
}


# --- the outcome --------------------------------------------------------------------------------


@dataclass(slots=True)
class VerificationResult:
    """What a verification found; ``verified`` is the answer, ``problems`` the reasons if not."""

    verified: bool
    bundle_path: Path
    bundle_sha256: str
    method: Method
    identity: str | None
    issuer: str | None
    subject_name: str | None
    subject_digest: str | None
    files: int = 0
    bytes_hashed: int = 0
    problems: list[str] = field(default_factory=list)
    reason: str = ""
    summary: str = ""
    checked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def detail(self) -> str:
        if self.verified:
            return f"{self.files} files match the signature of {self.identity}"
        return "; ".join(self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "signature": str(self.bundle_path),
            "signature_sha256": self.bundle_sha256,
            "method": str(self.method),
            "identity": self.identity,
            "issuer": self.issuer,
            "subject_name": self.subject_name,
            "subject_digest": self.subject_digest,
            "files": self.files,
            "bytes_hashed": self.bytes_hashed,
            "reason": self.reason,
            "summary": self.summary,
            "problems": self.problems,
            "checked_at": self.checked_at,
        }


# --- entry point --------------------------------------------------------------------------------


def verify_model(
    model_path: Path,
    signature_path: Path,
    signers: Sequence[ExpectedSigner],
    *,
    trust_config: Any = None,
    ignore_paths: Sequence[str] = (),
    cache: DigestCache | None = None,
    model_name: str | None = None,
    progress: Progress | None = None,
) -> VerificationResult:
    """Verify ``model_path`` against the bundle at ``signature_path``; return the result.

    ``signers``: who may have signed (any one suffices). ``trust_config``: a sigstore
    ``ClientTrustConfig`` for keyless bundles. ``cache``: reuse digests of unchanged files
    (off by default: mtimes can be forged). Raises :class:`VerificationFailure` when the
    signature does not hold, :class:`SigningInputError` when an input is unusable.
    """
    info = read_bundle(signature_path)
    identity, issuer = info.claimed_identity()
    result = VerificationResult(
        verified=False,
        bundle_path=signature_path,
        bundle_sha256=info.sha256,
        method=info.method,
        identity=identity,
        issuer=issuer,
        subject_name=info.subject_name,
        subject_digest=info.subject_digest,
    )
    if not signers:
        raise SigningInputError("no expected signer given", hint="pass an identity, a public key or a policy")
    try:
        if not info.is_dsse:
            _verify_artifact_bundle(info, model_path, signers, trust_config, result)
        else:
            expected = _verified_manifest(info, signers, trust_config, result)
            _check_model(model_path, signature_path, expected, ignore_paths, cache, model_name, info, result, progress)
    except VerificationFailure as failure:
        result.problems = failure.problems
        result.reason = failure.reason
        result.summary = failure.diagnostics()
        failure.result = result
        raise
    result.verified = True
    return result


# --- 1. the signature and the signer --------------------------------------------------------------


def _applicable(info: BundleInfo, signers: Sequence[ExpectedSigner]) -> list[ExpectedSigner]:
    usable = [s for s in signers if _METHOD_OF[type(s)] is info.method]
    if not usable:
        kinds = sorted({str(_METHOD_OF[type(s)]) for s in signers})
        raise VerificationFailure(
            f"the signature was made with the {info.method} method, but only {', '.join(kinds)} signers are expected",
            reason="method-mismatch",
        )
    return usable


def _verified_manifest(
    info: BundleInfo, signers: Sequence[ExpectedSigner], trust_config: Any, result: VerificationResult
) -> oms_manifest.Manifest:
    usable = _applicable(info, signers)
    if info.method is Method.SIGSTORE:
        payload_type, payload = _verify_keyless(info, usable, trust_config, None)  # type: ignore[arg-type]
    elif info.method is Method.KEY:
        payload_type, payload, key_id = _verify_with_keys(info, usable)  # type: ignore[arg-type]
        # Bundles from model_signing < 1.0.1 name no key (no hint): the verifying key names the signer.
        result.identity = f"key:sha256:{key_id}"
    else:
        payload_type, payload = _verify_with_certificates(info, usable, result)  # type: ignore[arg-type]
    return _parse_payload(payload_type, payload)


def _keyless_policy(signers: Sequence[KeylessSigner]) -> Any:
    from sigstore.verify import policy

    children: list[Any] = []
    for signer in signers:
        if signer.identity is not None:
            children.append(policy.Identity(identity=signer.identity, issuer=signer.issuer))
        else:
            children.append(_IdentityPattern(signer))
    return policy.AnyOf(children)


class _IdentityPattern:
    """A sigstore verification policy: the SAN fully matches a regex and the issuer is exact."""

    def __init__(self, signer: KeylessSigner) -> None:
        self._signer = signer

    def verify(self, cert: x509.Certificate) -> None:
        from sigstore.errors import VerificationError

        names = certificate_identities(cert)
        if not any(self._signer.matches(name, oidc_issuer(cert)) for name in names):
            raise VerificationError(f"certificate does not match {self._signer.describe()}")


def _identity_mismatch(info: BundleInfo, expected: Sequence[Any]) -> VerificationFailure:
    identity, issuer = info.claimed_identity()
    wanted = " or ".join(s.describe() for s in expected)
    return VerificationFailure(
        f"signed by {identity} (issuer {issuer}), not by {wanted}",
        reason="identity-mismatch",
        hint="check --identity/--issuer or the signers policy",
    )


def _verify_keyless(
    info: BundleInfo, signers: Sequence[KeylessSigner], trust_config: Any, artifact: Any
) -> tuple[str, bytes]:
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, InvalidBundle
    from sigstore.verify import Verifier

    if trust_config is None:
        raise SigningInputError("keyless verification needs a Sigstore trust config")
    _, claimed_issuer = info.claimed_identity()
    names = certificate_identities(info.leaf) if info.leaf is not None else []
    if not any(s.matches(name, claimed_issuer) for s in signers for name in names):
        raise _identity_mismatch(info, signers)
    try:
        bundle = Bundle.from_json(info.raw)
    except (InvalidBundle, ValueError) as exc:
        raise VerificationFailure(f"the bundle is invalid: {_one_line(exc)}", reason="invalid-bundle") from exc
    verifier = Verifier(trusted_root=trust_config.trusted_root)
    try:
        if artifact is not None:
            verifier.verify_artifact(input_=artifact, bundle=bundle, policy=_keyless_policy(signers))
            return "", b""
        return verifier.verify_dsse(bundle=bundle, policy=_keyless_policy(signers))
    except SigstoreError as exc:
        message = _one_line(exc)
        # A chain error usually means the bundle comes from another instance than the trust root.
        other_instance = "chain" in message.lower() or "root" in message.lower()
        raise VerificationFailure(
            f"Sigstore verification failed: {message}",
            reason="bad-signature",
            hint="a bundle from another Sigstore instance needs --staging or --trust-config" if other_instance else "",
        ) from exc


def _envelope(info: BundleInfo) -> tuple[str, bytes, bytes]:
    try:
        envelope = info.document["dsseEnvelope"]
        return (
            str(envelope["payloadType"]),
            base64.b64decode(envelope["payload"]),
            base64.b64decode(envelope["signatures"][0]["sig"]),
        )
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        raise VerificationFailure(f"the bundle's DSSE envelope is malformed ({exc})", reason="invalid-bundle") from exc


def _check_dsse_signature(info: BundleInfo, public_key: ec.EllipticCurvePublicKey) -> tuple[str, bytes] | None:
    """The verified (payload type, payload), or None when the signature does not verify.

    Signatures made by model_signing 0.2 (in production before 1.0, and still verified by upstream)
    sign a buggy pre-authentication encoding: ``DSSEV1 … {payload!r}`` (the payload's Python
    ``bytes`` repr) with SHA-256 whatever the curve. They are tried after the DSSE encoding fails,
    as upstream does. This widens nothing: the repr is injective, so the signature still binds the
    exact payload, and no DSSE encoding (``DSSEv1``, lower-case v) can be read as the legacy one.
    """
    payload_type, payload, signature = _envelope(info)
    curve_hash = oms_ec_key.get_ec_key_hash(public_key)
    attempts = [(oms_pb.pae(payload), curve_hash), (oms_pb.pae_compat(payload), curve_hash)]
    if not isinstance(curve_hash, hashes.SHA256):
        attempts.append((oms_pb.pae_compat(payload), hashes.SHA256()))
    for message, digest in attempts:
        try:
            public_key.verify(signature, message, ec.ECDSA(digest))
        except InvalidSignature:
            continue
        return payload_type, payload
    return None


def _verify_with_keys(info: BundleInfo, signers: Sequence[KeySigner]) -> tuple[str, bytes, str]:
    """The verified (payload type, payload) and the sha256 key id of the key that verified it."""
    from signing.keys import load_public_key

    tried: list[KeySigner] = []
    for signer in signers:
        key = load_public_key(signer.public_key)
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        key_id = public_key_hint(pem)
        if info.key_hint and info.key_hint != key_id:
            continue
        verified = _check_dsse_signature(info, key)
        if verified is not None:
            return (*verified, key_id)
        if info.key_hint:  # the bundle names this very key: its signature cannot be wrong unless altered
            raise VerificationFailure(
                f"the signature does not verify with {signer.public_key}: the bundle or its payload was altered",
                reason="bad-signature",
            )
        tried.append(signer)
    if tried:
        # Without a hint (bundles before model_signing 1.0.1) another key and an alteration look alike.
        raise VerificationFailure(
            f"the signature does not verify with {' or '.join(str(s.public_key) for s in tried)}: "
            "it was made with another key, or the bundle or its payload was altered (the bundle names no key)",
            reason="bad-signature",
            hint="pass the public key that pairs with the signing key",
        )
    raise VerificationFailure(
        f"signed by key sha256:{info.key_hint}, not by {' or '.join(str(s.public_key) for s in signers)}",
        reason="wrong-key",
        hint="pass the public key that pairs with the signing key",
    )


def _verify_with_certificates(
    info: BundleInfo, signers: Sequence[CertificateSigner], result: VerificationResult
) -> tuple[str, bytes]:
    from signing.keys import check_validity, load_certificates

    chain = info.certificates
    leaf = chain[0]
    names = certificate_identities(leaf)
    problems: list[str] = []
    for signer in signers:
        if signer.identity not in names:
            problems.append(f"the signing certificate names {', '.join(map(repr, names))}, not {signer.identity!r}")
            continue
        anchors = load_certificates(list(signer.chain))
        if not anchors:
            raise SigningInputError("a certificate signer needs a non-empty --cert-chain")
        expired = check_validity(leaf, "signing")
        if expired:
            problems.append(expired + " (no trusted timestamp proves it signed before then)")
            continue
        chain_error = _chain_error(leaf, chain[1:], anchors)
        if chain_error:
            problems.append(f"the signing certificate does not chain to {signer.describe()}: {chain_error}")
            continue
        if not _can_sign(leaf):
            problems.append("the signing certificate allows neither digitalSignature nor codeSigning")
            continue
        public_key = leaf.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            problems.append("the signing certificate's key is not ECDSA")
            continue
        verified = _check_dsse_signature(info, public_key)
        if verified is None:
            raise VerificationFailure(
                "the signature does not verify with the signing certificate's key: "
                "the bundle or its payload was altered",
                reason="bad-signature",
            )
        result.identity = signer.identity
        return verified
    reason = "identity-mismatch" if all("names" in p for p in problems) else "untrusted-chain"
    raise VerificationFailure(problems[0], reason=reason, problems=problems)


def _chain_error(leaf: x509.Certificate, intermediates: list[x509.Certificate], anchors: list[x509.Certificate]) -> str:
    """Why ``leaf`` does not chain to ``anchors`` at the current time ('' when it does).

    Only the given anchors are trusted (never the system or web roots); an anchor may be an
    intermediate (partial chain), since whoever pins it means to trust it.
    """
    from OpenSSL import crypto

    store = crypto.X509Store()
    for anchor in anchors:
        store.add_cert(crypto.X509.from_cryptography(anchor))
    store.set_flags(crypto.X509StoreFlags.PARTIAL_CHAIN)
    context = crypto.X509StoreContext(
        store, crypto.X509.from_cryptography(leaf), [crypto.X509.from_cryptography(c) for c in intermediates]
    )
    try:
        context.verify_certificate()
    except crypto.X509StoreContextError as exc:
        return str(exc)
    return ""


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return ExtendedKeyUsageOID.CODE_SIGNING in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False


def _parse_payload(payload_type: str, payload: bytes) -> oms_manifest.Manifest:
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise VerificationFailure(
            f"the signed payload is {payload_type!r}, not an in-toto statement", reason="invalid-bundle"
        )
    try:
        statement = json.loads(payload)
        if statement.get("_type") != IN_TOTO_STATEMENT_TYPE:
            raise ValueError(f"statement type {statement.get('_type')!r}")
        return oms_signing.dsse_payload_to_manifest(statement)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise VerificationFailure(
            f"the signed payload is not an OMS model signature: {_one_line(exc)}", reason="invalid-bundle"
        ) from exc


# --- 2. the files ---------------------------------------------------------------------------------


def _check_model(
    model_path: Path,
    signature_path: Path,
    expected: oms_manifest.Manifest,
    ignore_paths: Sequence[str],
    cache: DigestCache | None,
    model_name: str | None,
    info: BundleInfo,
    result: VerificationResult,
    progress: Progress | None,
) -> None:
    # Like sign (and upstream's verify): a path relative to the current directory that lands in
    # the model, else relative to the model. Upstream's own test scripts pass cwd-relative paths.
    extra = resolve_ignore_paths(model_path, ignore_paths) if model_path.is_dir() else []
    inside = _relative_inside(signature_path, model_path)
    if inside is not None:
        extra.append(inside)
    options = HashingOptions.from_serialization(expected.serialization_type, extra)
    try:
        report = hash_model(model_path, options, cache=cache, model_name=model_name, progress=progress)
    except UnhashableEntry as exc:
        raise VerificationFailure(exc.message, reason="unhashable", hint=exc.hint) from exc
    result.files = len(report.files)
    result.bytes_hashed = report.bytes_hashed
    have = report.by_file()
    if options.shard_size is not None:
        # The shards serialization has no resource for an empty file (it has no shard), in
        # upstream's signer and in ours: such a file cannot be "extra". The format cannot tell an
        # empty file added after signing either; upstream's verifier accepts it just the same.
        have = {name: resources for name, resources in have.items() if resources}
    problems = manifest_differences(expected, have)
    if problems:
        name = model_name or model_path.resolve().name
        headline = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        if info.subject_name and info.subject_name != name:
            headline += f"; the signature is for model {info.subject_name!r}"
        raise VerificationFailure(headline, reason=_reason_of(problems[0]), problems=problems)


def _relative_inside(path: Path, root: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _by_file(m: oms_manifest.Manifest) -> dict[str, list[tuple[str, str]]]:
    """Resources grouped by file: name -> [(resource name, digest hex)]."""
    files: dict[str, list[tuple[str, str]]] = {}
    shards = m.serialization_type.get("method") == "shards"
    for rd in m.resource_descriptors():
        name = rd.identifier.rsplit(":", 2)[0] if shards else rd.identifier
        files.setdefault(name, []).append((rd.identifier, rd.digest.digest_hex))
    return files


def manifest_differences(expected: oms_manifest.Manifest, have: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Every difference between the signed manifest and the model's digests, one line each, by file."""
    want = _by_file(expected)
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    problems: list[str] = []
    renamed: set[str] = set()
    for old in missing:
        for new in extra:
            if new not in renamed and [d for _, d in want[old]] == [d for _, d in have[new]]:
                problems.append(f"{old!r} was renamed to {new!r} (same content, name not as signed)")
                renamed.update((old, new))
                break
    for name in sorted(set(want) & set(have)):
        if want[name] != have[name]:
            # whole digests: an auditor compares them with the signature's and with their own hashing
            signed = ", ".join(d for _, d in want[name])
            found = ", ".join(d for _, d in have[name])
            problems.append(f"{name!r} differs from the signed digest (signed {signed}, found {found})")
    problems.extend(f"{name!r} is missing (it was signed)" for name in missing if name not in renamed)
    problems.extend(f"extra file {name!r} is not covered by the signature" for name in extra if name not in renamed)
    return problems


def _reason_of(problem: str) -> str:
    if "renamed" in problem:
        return "renamed-file"
    if "differs" in problem:
        return "digest-mismatch"
    if "missing" in problem:
        return "missing-file"
    return "extra-file"


# --- plain (non-OMS) artifact bundles, as ``sigstore sign`` writes them ---------------------------------


def _verify_artifact_bundle(
    info: BundleInfo,
    model_path: Path,
    signers: Sequence[ExpectedSigner],
    trust_config: Any,
    result: VerificationResult,
) -> None:
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    usable = _applicable(info, signers)
    if info.method is not Method.SIGSTORE:
        raise SigningInputError(f"{info.path}: a plain (non-OMS) bundle is supported for keyless signatures only")
    if not model_path.is_file():
        raise SigningInputError(f"{info.path} signs a single artifact; {model_path} is not a file")
    report = hash_model(model_path, HashingOptions())
    digest = bytes.fromhex(report.digests[0][0])
    signed = info.document.get("messageSignature", {}).get("messageDigest", {}).get("digest")
    if signed and base64.b64decode(signed) != digest:
        raise VerificationFailure(
            f"{model_path.name!r} differs from the signed digest "
            f"(signed {base64.b64decode(signed).hex()}, found {digest.hex()})",
            reason="digest-mismatch",
        )
    _verify_keyless(info, usable, trust_config, Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest))  # type: ignore[arg-type]
    result.files, result.bytes_hashed = 1, report.bytes_hashed
    result.subject_name = model_path.name
    result.subject_digest = digest.hex()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
