"""The signer policy (``signers.yaml``): who may sign which models.

``mlprov verify`` uses it when no identity option is given. A rule lists model names (shell-style
patterns) and the signers accepted for them; every rule whose pattern matches contributes its
signers, and a signature verifies if any of them made it::

    version: 1
    rules:
      - models: ["fraud-*", "churn"]
        signers:
          - sigstore: {identity: "https://github.com/acme/ml/.github/workflows/release.yml@refs/heads/main",
                       issuer: "https://token.actions.githubusercontent.com"}
          - sigstore: {identity_regex: ".*@acme\\\\.com", issuer: "https://accounts.google.com"}
          - key: keys/release.pub
          - certificate: {chain: keys/acme-ca.pem, identity: "ml-release@acme.com"}

Key and chain paths are relative to the policy file. The file is read with a safe YAML loader.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from signing.errors import SigningInputError
from signing.verify import CertificateSigner, ExpectedSigner, KeylessSigner, KeySigner

POLICY_NAME = "signers.yaml"


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """Signers accepted for models whose name matches one of ``models``."""

    models: tuple[str, ...]
    signers: tuple[ExpectedSigner, ...]

    def applies_to(self, model_name: str) -> bool:
        return any(fnmatch.fnmatchcase(model_name, pattern) for pattern in self.models)


@dataclass(frozen=True, slots=True)
class SignerPolicy:
    """A parsed ``signers.yaml``."""

    path: Path
    rules: tuple[PolicyRule, ...] = field(default_factory=tuple)

    def signers_for(self, model_name: str) -> list[ExpectedSigner]:
        """Every signer any matching rule accepts for ``model_name`` (none: nobody may sign it)."""
        out: list[ExpectedSigner] = []
        for rule in self.rules:
            if rule.applies_to(model_name):
                out.extend(s for s in rule.signers if s not in out)
        return out


def load_policy(path: Path) -> SignerPolicy:
    """Read and check a policy file; :class:`SigningInputError` names the file and the entry."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SigningInputError(f"signer policy {path} does not exist") from None
    except (OSError, yaml.YAMLError) as exc:
        raise SigningInputError(f"cannot read signer policy {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise SigningInputError(f"{path}: expected a mapping with a 'rules' list")
    if document.get("version", 1) != 1:
        raise SigningInputError(f"{path}: unsupported policy version {document.get('version')!r} (expected 1)")
    base = path.parent
    rules = tuple(_rule(entry, base, f"{path}: rules[{i}]") for i, entry in enumerate(document["rules"]))
    return SignerPolicy(path, rules)


def _rule(entry: Any, base: Path, where: str) -> PolicyRule:
    if not isinstance(entry, dict):
        raise SigningInputError(f"{where}: expected a mapping with 'models' and 'signers'")
    models = entry.get("models")
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise SigningInputError(f"{where}.models: expected a model name pattern or a list of them")
    signers = entry.get("signers")
    if not isinstance(signers, list) or not signers:
        raise SigningInputError(f"{where}.signers: expected a non-empty list")
    return PolicyRule(tuple(models), tuple(_signer(s, base, f"{where}.signers[{i}]") for i, s in enumerate(signers)))


def _signer(entry: Any, base: Path, where: str) -> ExpectedSigner:
    if not isinstance(entry, dict) or len(entry) != 1:
        raise SigningInputError(f"{where}: expected exactly one of sigstore, key, certificate")
    ((kind, spec),) = entry.items()
    if kind not in ("key", "sigstore", "certificate"):
        raise SigningInputError(f"{where}: unknown signer kind {kind!r} (expected sigstore, key or certificate)")
    if kind == "key":
        if not isinstance(spec, str):
            raise SigningInputError(f"{where}.key: expected a public key path")
        return KeySigner(base / spec)
    if not isinstance(spec, dict):
        raise SigningInputError(f"{where}.{kind}: expected a mapping")
    if kind == "sigstore":
        issuer = spec.get("issuer")
        if not isinstance(issuer, str):
            raise SigningInputError(f"{where}.sigstore: 'issuer' is required")
        try:
            return KeylessSigner(
                issuer=issuer, identity=spec.get("identity"), identity_regex=spec.get("identity_regex")
            )
        except SigningInputError as exc:
            raise SigningInputError(f"{where}.sigstore: {exc.message}") from exc
    chain = spec.get("chain")
    identity = spec.get("identity")
    chains = [chain] if isinstance(chain, str) else chain
    if not isinstance(chains, list) or not chains or not isinstance(identity, str):
        raise SigningInputError(f"{where}.certificate: 'chain' and 'identity' are required")
    return CertificateSigner(tuple(base / c for c in chains), identity)
