"""Canonical JSON (RFC 8785, JCS): the only encoding that evidencekit hashes or signs.

Two documents with the same content give the same bytes whatever the key order or whitespace, so
a signature over the canonical bytes survives re-serialisation and any edit breaks it.
"""

from __future__ import annotations

from typing import Any

import rfc8785

from evidencekit.errors import EvidenceKitError


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 bytes of `obj` (dicts, lists, str, int, float, bool, None).

    Raises:
        EvidenceKitError: `obj` holds something JSON cannot carry (e.g. a float NaN, an int
            beyond ±2**53, bytes).
    """
    try:
        return bytes(rfc8785.dumps(obj))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EvidenceKitError(f"cannot encode as canonical JSON: {exc}") from exc
