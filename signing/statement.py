"""The OMS in-toto statement that a model signature signs.

The layout is upstream's ``model_signing`` v1.0 predicate (see ``model_signing._signing.signing``):
one subject (the model name; sha256 over the resource digests in order), and a predicate with
``serialization`` and ``resources``. It is written here with ``json`` instead of upstream's
protobuf ``Struct`` round trip, for two reasons: that round trip costs more than hashing when
only one file of a large model changed, and it turns integers into floats (``shard_size:
65536.0``), which upstream's own verifier then cannot read. Verification still parses the
statement with upstream's parser.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from signing.bundle import OMS_PREDICATE_TYPE
from signing.hashing import HashReport

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
IN_TOTO_STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


def model_statement(report: HashReport) -> dict[str, Any]:
    """The statement for a hashed model, as a JSON-ready dict."""
    resources = report.resources()
    root = hashlib.sha256()
    for resource in resources:
        root.update(bytes.fromhex(resource["digest"]))
    return {
        "_type": IN_TOTO_STATEMENT_TYPE,
        "subject": [{"name": report.model_name, "digest": {"sha256": root.hexdigest()}}],
        "predicateType": OMS_PREDICATE_TYPE,
        "predicate": {"serialization": report.options.serialization(), "resources": resources},
    }


def statement_bytes(report: HashReport) -> bytes:
    """The DSSE payload: the statement as compact JSON."""
    return json.dumps(model_statement(report), separators=(",", ":")).encode("utf-8")
