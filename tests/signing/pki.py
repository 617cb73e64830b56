"""Test keys and certificates made with ``cryptography``: EC keys, a root -> intermediate -> leaf chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def write_private_key(key: PrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def write_public_key(key: PrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return path


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path


def ec_key_pair(directory: Path, name: str, curve: ec.EllipticCurve | None = None) -> KeyPair:
    key = ec.generate_private_key(curve or ec.SECP256R1())
    directory.mkdir(parents=True, exist_ok=True)
    return KeyPair(write_private_key(key, directory / f"{name}.pem"), write_public_key(key, directory / f"{name}.pub"))


@dataclass(frozen=True)
class Chain:
    """A certificate hierarchy on disk: the files the CLI options take."""

    root: Path
    intermediate: Path
    leaf: Path
    leaf_key: Path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mlprov tests"),
        ]
    )


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    san: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    # CAs are valid long before and after their leaves, so a leaf's own window is what tests vary.
    default_start, default_end = (
        (now - timedelta(days=365), now + timedelta(days=365))
        if ca
        else (
            now - timedelta(days=1),
            now + timedelta(days=30),
        )
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or default_start)
        .not_valid_after(not_after or default_end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(san)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def certificate_chain(
    directory: Path,
    *,
    san: str | None = "release@example.com",
    leaf_cn: str = "ml-release",
    leaf_not_after: datetime | None = None,
    prefix: str = "",
) -> Chain:
    """A fresh root CA, an intermediate and a code-signing leaf (with ``san`` as its e-mail SAN)."""
    directory.mkdir(parents=True, exist_ok=True)
    root_key = ec.generate_private_key(ec.SECP384R1())
    int_key = ec.generate_private_key(ec.SECP384R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root_name, int_name = _name(f"{prefix}test root"), _name(f"{prefix}test intermediate")
    root = _cert(root_name, root_name, root_key.public_key(), root_key, ca=True)
    intermediate = _cert(int_name, root_name, int_key.public_key(), root_key, ca=True)
    now = datetime.now(UTC)
    leaf = _cert(
        _name(leaf_cn),
        int_name,
        leaf_key.public_key(),
        int_key,
        ca=False,
        san=san,
        not_before=(leaf_not_after - timedelta(days=30)) if leaf_not_after else None,
        not_after=leaf_not_after or now + timedelta(days=30),
    )
    paths = []
    for name, cert in (("root", root), ("intermediate", intermediate), ("leaf", leaf)):
        path = directory / f"{prefix}{name}.crt.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.append(path)
    return Chain(*paths, write_private_key(leaf_key, directory / f"{prefix}leaf.key.pem"))
