"""Sign and verify model artifacts as OMS Sigstore bundles (interoperable with ``model_signing``).

Public modules, imported on demand so that reading lineage never pays for sigstore:

- :mod:`signing.sign` - :func:`~signing.sign.sign_model` (keyless, EC key, certificate);
- :mod:`signing.verify` - :func:`~signing.verify.verify_model` and the expected-signer types;
- :mod:`signing.hashing` - fast, incremental OMS manifests; :mod:`signing.digest_cache`;
- :mod:`signing.trust` - offline Sigstore trust config from the root embedded in ``sigstore``;
- :mod:`signing.policy` - ``signers.yaml``: who may sign which models;
- :mod:`signing.lineage` - ``signature`` nodes and :func:`~signing.lineage.find_signatures`;
- :mod:`signing.errors` - :class:`SigningInputError` (exit 2) and :class:`VerificationFailure` (exit 1).

This package never imports Textual.
"""
