"""The event's byte format: RFC 8785 canonical JSON of its body, and the strict parse verification
uses to check stored bytes are exactly that.

The bytes are what is signed and what the Merkle leaf hashes (`SHA-256(0x00 || bytes)`), so
nothing here may change how a body encodes: every stored signature and root depends on it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from cryptography import x509

from evidencekit.chain import details as event_details
from evidencekit.chain import parties, signature_cache
from evidencekit.chain.kinds import ACQUISITION_KINDS, KINDS
from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import algorithms

SCHEMA = "evidencekit/custody-event/1"

_MAX_SAFE_INT = 2**53 - 1


def _plain(value: Any) -> bool:
    """True when `value` holds only what JSON and RFC 8785 encode identically to Python's
    sorted compact json.dumps: no floats, ints within ±2**53, dict keys inside the BMP (JCS sorts
    keys by UTF-16 code units, Python by code points; they agree inside the BMP)."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and (k.isascii() or max(k) <= "\uffff") and _plain(v)
            for k, v in value.items()
        )
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


def plain_json(value: Any) -> bool:
    """True when `value` is made of JSON strings, safe ints, bools, nulls, lists and objects
    only (no floats), so it reads back from JSON exactly as it is."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain_json(v) for v in value)
    return not isinstance(value, tuple) and _plain(value)


def canonical(obj: dict[str, Any], details: Any = None) -> bytes:
    """RFC 8785 bytes of an event body.

    Event bodies are strings, small ints, nulls and nested objects of those, for which RFC 8785
    is exactly `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`: the
    same escapes (\\b \\f \\n \\r \\t, other controls as lowercase \\u00xx, nothing else)
    and the same key order. That is five times faster than the generic encoder, which matters
    when verifying 100,000 events; anything else (floats, huge ints, astral keys, lone
    surrogates) in `details` goes through the generic RFC 8785 encoder.
    """
    if _plain(details if details is not None else obj):
        try:
            return json.dumps(
                obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode("utf-8")
        except (UnicodeEncodeError, ValueError):
            pass
    return canonical_json(obj)


BODY_KEYS = frozenset(
    {
        "schema", "origin", "seq", "kind", "item", "prev", "time", "actor", "counterpart",
        "description", "purpose", "location", "seal_number", "condition", "note", "reason",
        "override", "digests", "details",
    }
)  # fmt: skip
OPTIONAL_KEYS = frozenset({"signature_algorithm"})
"""Present only when not the default: `signature_algorithm` names the actor's algorithm when it
is not ecdsa-p256-sha256 (docs/custody.md), so every event written before keeps its bytes."""
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")

Light = tuple[
    int,
    str,
    str,
    str | None,
    str | None,
    str,
    str | None,
    str | None,
    str | None,
    str | None,
    str,
    dict[str, object] | None,
]
"""(seq, origin, kind, item, prev, actor name, actor fingerprint, counterpart name,
counterpart fingerprint, override, time, rule details): what verification needs of an event.
The rule details are the `details` the custody rules read (an acquisition's status, seal and
what it supersedes; the session, seal numbers and working copy of others, `chain.details`),
None when there are none."""

RULE_DETAILS = ("status", "seal_sha256", "supersedes", "derived_from")
"""The keys of an acquisition event's `details` that the custody rules read (chain/rules.py)."""


def check_bytes(data: bytes) -> Light:
    """Parse stored event bytes for verification: the fields the checks need, after making sure
    the bytes are the canonical encoding of a well-formed event (no extra or missing fields,
    no duplicate keys, right types). Faster than `Event.decode` + `encode`.

    Raises:
        IntegrityError: they are not.
    """
    return check_event(data)[0]


def check_event(data: bytes) -> tuple[Light, str]:
    """`check_bytes`, and the signature algorithm the event names (the default when none).

    Raises:
        IntegrityError: the bytes are not a well-formed canonical event, or name an algorithm
            that is unknown or is the default written out (one encoding per event).
    """
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(f"malformed custody event: {exc}") from exc
    if (
        not isinstance(doc, dict)
        or not BODY_KEYS <= doc.keys() <= BODY_KEYS | OPTIONAL_KEYS
        or doc["schema"] != SCHEMA
    ):
        raise IntegrityError("malformed custody event: not an evidencekit/custody-event/1 object")
    algorithm = doc.get("signature_algorithm", algorithms.DEFAULT)
    if "signature_algorithm" in doc and (
        algorithm not in algorithms.ALGORITHMS or algorithm == algorithms.DEFAULT
    ):
        raise IntegrityError(f"malformed custody event: signature_algorithm {algorithm!r}")
    try:
        if canonical(doc, doc["details"]) != data:
            raise IntegrityError("stored bytes are not the event's canonical encoding")
    except EvidenceKitError as exc:
        raise IntegrityError(f"not canonical: {exc.message}") from exc
    seq, actor, cp = doc["seq"], doc["actor"], doc["counterpart"]
    texts = [doc[k] for k in ("description", "purpose", "location", "seal_number", "condition")]
    texts += [doc["note"], doc["reason"], doc["override"], doc["item"], doc["prev"]]
    ok = (
        type(seq) is int
        and isinstance(doc["origin"], str)
        and doc["kind"] in KINDS
        and isinstance(doc["time"], str)
        and _TIME.match(doc["time"]) is not None
        and isinstance(actor, dict)
        and actor.keys() == {"name", "fingerprint"}
        and isinstance(actor["name"], str)
        and isinstance(actor["fingerprint"], str)
        and (cp is None or parties.problem(cp) is None)
        and all(t is None or isinstance(t, str) for t in texts)
        and isinstance(doc["digests"], list)
        and all(isinstance(d, str) and ":" in d for d in doc["digests"])
        and isinstance(doc["details"], dict)
    )
    if not ok:
        raise IntegrityError("malformed custody event: a field has the wrong type")
    wrong = event_details.problem(doc["kind"], doc["details"])
    if wrong is not None:
        raise IntegrityError(f"malformed custody event: {wrong}")
    light: Light = (
        seq,
        doc["origin"],
        doc["kind"],
        doc["item"],
        doc["prev"],
        actor["name"],
        actor["fingerprint"],
        None if cp is None else cp["name"],
        None if cp is None else cp["fingerprint"],
        doc["override"],
        doc["time"],
        _rule_details(doc["kind"], doc["details"]),
    )
    return light, str(algorithm)


def event_signature_ok(fp: str, cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """True when `signature` over the event bytes `data` was made by `cert`'s key with the
    algorithm the event names in its signed body (the default when it names none), and that
    algorithm fits the key. Bytes that are not an event verify as nothing."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    algorithm = doc.get("signature_algorithm", algorithms.DEFAULT)
    if not isinstance(algorithm, str) or (
        "signature_algorithm" in doc and algorithm == algorithms.DEFAULT
    ):
        return False
    return signature_cache.verify(fp, cert, data, signature, algorithm)


def _rule_details(kind: str, details: dict[str, Any]) -> dict[str, object] | None:
    """What the custody rules read of `details`: an acquisition's `RULE_DETAILS`, and of any
    event the seizure-record keys (`chain.details.RULE_KEYS`); None when there is nothing."""
    # an acquisition names a seizure session too (`acquire disk --session`): the rules replay it
    keys = (*RULE_DETAILS, "session") if kind in ACQUISITION_KINDS else event_details.RULE_KEYS
    out = {k: details[k] for k in keys if k in details}
    return out if out or kind in ACQUISITION_KINDS else None
