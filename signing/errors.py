"""Errors of signing and verification, each one line a person can act on.

Two families, because the CLI maps them to different exit codes: :class:`SigningInputError`
(bad usage or unreadable input: exit 2) and :class:`VerificationFailure` (the signature does
not prove what was asked: exit 1). Both carry a ``hint`` saying what to do next, in the manner
of sigstore-python's ``diagnostics()``.
"""

from __future__ import annotations

from typing import Any


class SigningError(Exception):
    """Base of every error this package raises on purpose."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        """The message and, when there is one, what to do about it."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


class SigningInputError(SigningError):
    """An input cannot be used: a missing file, an unsupported key, a malformed bundle or policy."""


class VerificationFailure(SigningError):
    """Verification ran and the signature does not hold.

    ``reason`` is a short machine-readable kind (``digest-mismatch``, ``missing-file``,
    ``extra-file``, ``identity-mismatch``, ``wrong-key``, ``bad-signature``, ``untrusted-chain``,
    ``transparency-log``, ``policy``); ``problems`` lists every finding, one line each.
    """

    def __init__(self, message: str, *, reason: str, problems: list[str] | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.problems = problems or [message]
        # The full ``VerificationResult`` (identity, files...), attached by ``verify_model``.
        self.result: Any = None
