"""Reading a Sigstore bundle before trusting it: which method made it and whom it names.

Nothing here is verified. These facts decide which verifier runs and make failure messages
precise ("signed by alice@example.com, not bob@example.com"); the verifiers then check them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID, ObjectIdentifier

from signing.errors import SigningInputError

BUNDLE_MEDIA_TYPE_PREFIX = "application/vnd.dev.sigstore.bundle"
# The OMS v1.0 predicate (defined here, not in signing.statement, which pulls in model_signing:
# the scanner reads bundles through this module and must stay light).
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
# Fulcio's OIDC issuer extensions: v2 (DER UTF8String) and the deprecated v1 (raw bytes).
_OIDC_ISSUER_V2 = ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")


class Method(StrEnum):
    """How a bundle was signed."""

    SIGSTORE = "sigstore"
    KEY = "key"
    CERTIFICATE = "certificate"


@dataclass(frozen=True, slots=True)
class BundleInfo:
    """What a bundle says about itself (unverified)."""

    path: Path
    raw: bytes
    document: dict[str, Any]
    method: Method
    is_dsse: bool
    leaf: x509.Certificate | None
    key_hint: str | None
    statement: dict[str, Any] | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def certificates(self) -> list[x509.Certificate]:
        material = self.document.get("verificationMaterial", {})
        chain = material.get("x509CertificateChain", {}).get("certificates", [])
        return [x509.load_der_x509_certificate(base64.b64decode(c["rawBytes"])) for c in chain]

    @property
    def _oms_v1(self) -> bool:
        """Whether the statement is an OMS v1.0 one, whose single subject is the model.

        model_signing 0.2 statements (predicate ``https://model_signing/Digests/v0.1``) list
        every file as a subject: the first is a file, not the model's name.
        """
        statement = self.statement
        return statement is not None and statement.get("predicateType") == OMS_PREDICATE_TYPE

    @property
    def subject_name(self) -> str | None:
        """The model name the signer recorded (the OMS statement's subject)."""
        if not self.statement or not self._oms_v1:
            return None
        subjects = self.statement.get("subject") or [{}]
        name = subjects[0].get("name")
        return str(name) if name is not None else None

    @property
    def subject_digest(self) -> str | None:
        if not self.statement or not self._oms_v1:
            return None
        subjects = self.statement.get("subject") or [{}]
        digest = subjects[0].get("digest", {}).get("sha256")
        return str(digest) if digest is not None else None

    def claimed_identity(self) -> tuple[str | None, str | None]:
        """(identity, issuer) the signing certificate names, or the key hint for key bundles."""
        if self.method is Method.KEY:
            return (f"key:sha256:{self.key_hint}" if self.key_hint else None), None
        if self.leaf is None:
            return None, None
        names = certificate_identities(self.leaf)
        identity = names[0] if names else None
        if self.method is Method.SIGSTORE:
            return identity, oidc_issuer(self.leaf)
        return identity, self.leaf.issuer.rfc4514_string()


def read_bundle(path: Path) -> BundleInfo:
    """Parse a bundle file; :class:`SigningInputError` when it is not a Sigstore bundle."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SigningInputError(f"signature {path} does not exist", hint="pass --signature PATH") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read signature {path}: {exc.strerror}") from exc
    return parse_bundle(path, raw)


def parse_bundle(path: Path, raw: bytes) -> BundleInfo:
    """Parse bundle bytes (``path`` is where they are or will be, for messages)."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise SigningInputError(f"{path} is not a Sigstore bundle: not JSON ({exc})") from exc
    if not isinstance(document, dict) or not str(document.get("mediaType", "")).startswith(BUNDLE_MEDIA_TYPE_PREFIX):
        raise SigningInputError(f"{path} is not a Sigstore bundle: no {BUNDLE_MEDIA_TYPE_PREFIX}* mediaType")
    material = document.get("verificationMaterial") or {}
    is_dsse = "dsseEnvelope" in document
    leaf: x509.Certificate | None = None
    try:
        if "certificate" in material:
            leaf = x509.load_der_x509_certificate(base64.b64decode(material["certificate"]["rawBytes"]))
        elif "x509CertificateChain" in material:
            chain = material["x509CertificateChain"].get("certificates") or []
            if not chain:
                raise SigningInputError(f"{path}: the bundle's certificate chain is empty (no signing certificate)")
            leaf = x509.load_der_x509_certificate(base64.b64decode(chain[0]["rawBytes"]))
    except KeyError as exc:
        raise SigningInputError(f"{path}: unreadable signing certificate (no {exc} field)") from exc
    except (IndexError, ValueError, TypeError, AttributeError) as exc:
        raise SigningInputError(f"{path}: unreadable signing certificate ({exc})") from exc
    if material.get("tlogEntries"):
        method = Method.SIGSTORE
    elif "publicKey" in material:
        method = Method.KEY
    elif leaf is not None:
        method = Method.CERTIFICATE
    else:
        raise SigningInputError(f"{path}: the bundle has no verification material")
    statement = _statement(document) if is_dsse else None
    hint = material.get("publicKey", {}).get("hint") if method is Method.KEY else None
    return BundleInfo(path, raw, document, method, is_dsse, leaf, hint, statement)


def _statement(document: dict[str, Any]) -> dict[str, Any] | None:
    try:
        payload = base64.b64decode(document["dsseEnvelope"]["payload"])
        statement = json.loads(payload)
    except (KeyError, ValueError, TypeError):
        return None
    return statement if isinstance(statement, dict) else None


def certificate_identities(cert: x509.Certificate) -> list[str]:
    """Who a certificate names: its SAN values, or, when it has no SAN, its subject.

    For a subject, both the RFC 4514 form (``CN=alice,O=acme``) and the bare common name are
    returned, so ``--cert-identity`` may give either.
    """
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    if san is not None:
        names: list[str] = []
        for general_name in san:
            value = general_name.value
            if isinstance(general_name, x509.OtherName):
                value = _der_string(general_name.value)
            names.append(str(value))
        return names
    names = [cert.subject.rfc4514_string()]
    names.extend(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
    return [n for n in names if n]


def oidc_issuer(cert: x509.Certificate) -> str | None:
    """The OIDC issuer Fulcio recorded in a keyless signing certificate."""
    for oid, is_der in ((_OIDC_ISSUER_V2, True), (_OIDC_ISSUER_V1, False)):
        try:
            ext = cert.extensions.get_extension_for_oid(oid).value
        except x509.ExtensionNotFound:
            continue
        raw = ext.value  # type: ignore[attr-defined]
        return _der_string(raw) if is_der else raw.decode("utf-8", "replace")
    return None


def _der_string(raw: bytes) -> str:
    """The text of a short DER string (tag, one-byte length, value); raw text as a fallback."""
    if len(raw) >= 2 and raw[1] < 0x80 and len(raw) == raw[1] + 2:
        return raw[2:].decode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def public_key_hint(pem: bytes) -> str:
    """The key id upstream puts in ``publicKey.hint``: sha256 of the SubjectPublicKeyInfo PEM."""
    key = serialization.load_pem_public_key(pem)
    spki = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()
