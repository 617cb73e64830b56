"""Loading signing keys and certificates, refusing what OMS cannot carry with a clear message.

OMS bundles (and Sigstore's key details) support ECDSA on P-256, P-384 and P-521 only; upstream
fails on other keys with an ``AttributeError`` deep in its signer. Here the user is told which
key type was found and what to generate instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from signing.errors import SigningInputError

SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_GENERATE_HINT = "generate one with: openssl ecparam -name prime256v1 -genkey -noout -out key.pem"


def describe_key(key: object) -> str:
    """A short human name for a key's type (``RSA-2048``, ``Ed25519``, ``ECDSA secp256k1``)."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}"
    return type(key).__name__


def _check_ec(key: object, path: Path) -> None:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and key.curve.name in SUPPORTED_CURVES:
        return
    raise SigningInputError(
        f"{path} is an {describe_key(key)} key; OMS signatures support only ECDSA P-256, P-384 or P-521",
        hint=_GENERATE_HINT,
    )


def load_private_key(path: Path, password: str | None = None) -> ec.EllipticCurvePrivateKey:
    """A PEM private key, checked to be a supported ECDSA key."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password.encode() if password else None)
    except TypeError as exc:  # encrypted without a password, or a password for a plain key
        raise SigningInputError(f"{path}: {exc}", hint="set MLPROV_KEY_PASSWORD or pass --password-env") from exc
    except ValueError as exc:
        raise SigningInputError(
            f"{path} is not a PEM private key (or the password is wrong): {str(exc).splitlines()[0]}"
        ) from exc
    _check_ec(key, path)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """A PEM public key, checked to be a supported ECDSA key."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SigningInputError(f"{path} is not a PEM public key: {str(exc).splitlines()[0]}") from exc
    _check_ec(key, path)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def load_certificates(paths: list[Path], what: str = "certificate chain") -> list[x509.Certificate]:
    """Every PEM certificate in ``paths`` (a file may hold several)."""
    certs: list[x509.Certificate] = []
    for path in paths:
        data = _read(path, what)
        try:
            certs.extend(x509.load_pem_x509_certificates(data))
        except ValueError as exc:
            raise SigningInputError(f"{path} holds no PEM certificate: {str(exc).splitlines()[0]}") from exc
    return certs


def check_validity(cert: x509.Certificate, role: str, now: datetime | None = None) -> str | None:
    """Why ``cert`` is not valid at ``now`` (expired, not yet valid), or None when it is."""
    moment = now or datetime.now(UTC)
    subject = cert.subject.rfc4514_string() or "(empty subject)"
    if moment > cert.not_valid_after_utc:
        return f"the {role} certificate {subject} expired on {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
    if moment < cert.not_valid_before_utc:
        start = cert.not_valid_before_utc
        return f"the {role} certificate {subject} is not valid before {start:%Y-%m-%d %H:%M} UTC"
    return None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningInputError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise SigningInputError(f"cannot read {what} {path}: {exc.strerror}") from exc
