"""Signatures as lineage: a ``signature`` node that ``signs`` a model or model version.

Used by ``mlprov sign``/``verify`` (which record their result) and by the MLflow scanner
(:func:`find_signatures` beside model artifacts, then :func:`signature_facts` without a
verification result). Properties follow ``docs/properties.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.lineage import EdgeKind, Evidence, Facts, Gap, Node, NodeKind, signature_id
from signing.bundle import BUNDLE_MEDIA_TYPE_PREFIX, BundleInfo, read_bundle
from signing.errors import SigningInputError

if TYPE_CHECKING:  # the scanner imports this module: keep sigstore and model_signing out of its start-up
    from signing.sign import SignResult
    from signing.verify import VerificationResult

SOURCE = "signing"
# File names a bundle is stored under beside model artifacts: upstream's default, ours for a
# single file, and sigstore-python's.
BUNDLE_SUFFIXES = (".sig", ".sigstore", ".sigstore.json")
_MAX_BUNDLE_BYTES = 16 << 20  # an OMS bundle of a million-file model is a few MB; skip bigger files


def find_signatures(model_dir: Path, *, max_depth: int = 2) -> list[Path]:
    """Sigstore bundles stored in or beside a model directory, sorted by path.

    Looks at files named ``*.sig``, ``*.sigstore`` or ``*.sigstore.json`` down to ``max_depth``
    levels, and keeps those whose JSON has a Sigstore bundle media type. Unreadable files are
    skipped: a scanner must not stop on them.
    """
    found: list[Path] = []
    if not model_dir.is_dir():
        return found
    stack = [(model_dir, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            entries = list(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                if depth < max_depth and not entry.name.startswith("."):
                    stack.append((entry, depth + 1))
            elif entry.name.endswith(BUNDLE_SUFFIXES) and _looks_like_bundle(entry):
                found.append(entry)
    return sorted(found)


def _looks_like_bundle(path: Path) -> bool:
    try:
        if path.stat().st_size > _MAX_BUNDLE_BYTES:
            return False
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and str(document.get("mediaType", "")).startswith(BUNDLE_MEDIA_TYPE_PREFIX)


def signature_facts(
    bundle_path: Path,
    subject_id: str,
    result: VerificationResult | SignResult | None = None,
) -> Facts:
    """The ``signature`` node of a bundle and its link to ``subject_id``.

    ``result`` is what ``sign`` or ``verify`` just established; without one (a bundle found by
    a scan) ``verified`` is null. A signature that failed verification is recorded with
    ``verified: false`` and a gap on the subject instead of a ``signs`` edge: mlprov draws no
    edge the evidence contradicts.
    """
    facts = Facts()
    try:
        info = read_bundle(bundle_path)
    except SigningInputError as exc:
        facts.gap(Gap(subject_id, "signature_unreadable", exc.message, locator=str(bundle_path)))
        return facts
    node = facts.add_node(Node(signature_id(info.sha256), NodeKind.SIGNATURE, _label(info), _properties(info, result)))
    if _is_verification(result) and not result.verified:  # type: ignore[union-attr]
        facts.gap(Gap(subject_id, "signature_invalid", result.detail, locator=str(bundle_path)))  # type: ignore[union-attr]
        return facts
    if result is None:
        rule = "Sigstore bundle stored beside the model artifacts"
    else:
        rule = "verified by mlprov verify" if _is_verification(result) else "signed by mlprov sign"
    facts.link(node.id, subject_id, EdgeKind.SIGNS, Evidence(SOURCE, str(bundle_path), rule))
    return facts


def _is_verification(result: object) -> bool:
    return type(result).__name__ == "VerificationResult"


def _label(info: BundleInfo) -> str:
    identity, _ = info.claimed_identity()
    return f"{info.method} signature by {identity}" if identity else f"{info.method} signature"


def _properties(info: BundleInfo, result: VerificationResult | SignResult | None) -> dict[str, object]:
    identity, issuer = info.claimed_identity()
    properties: dict[str, object] = {
        "method": str(info.method),
        "bundle_path": str(info.path),
    }
    if identity:
        properties["identity"] = identity
    if issuer:
        properties["issuer"] = issuer
    if info.subject_name:
        properties["subject_name"] = info.subject_name
    # A scan (no result) leaves ``verified`` absent, so it never erases what a verify recorded.
    if result is not None and _is_verification(result):
        verification: VerificationResult = result  # type: ignore[assignment]
        properties["identity"] = verification.identity or identity
        properties["verified"] = verification.verified
        properties["verified_at"] = verification.checked_at
        properties["verification_detail"] = verification.detail
    return properties
