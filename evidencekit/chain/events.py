"""Custody events: what each carries, how it is encoded and signed.

An event is an RFC 8785 canonical JSON object (the fields of a chain-of-custody form, ISO/IEC
27037 / SWGDE) signed by its actor. Its Merkle leaf is `SHA-256(0x00 || event bytes)`; the
signature is stored beside it and covers exactly the same bytes. The event names its position
(`seq`), the ledger (`origin`) and the previous event of the same item (`prev`, that event's leaf
hash), so moving, copying or dropping an event breaks a signature or a chain.

The byte format is in `chain.encoding`, the kinds in `chain.kinds` and the custody rules (which
replay these events) in `chain.rules`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from evidencekit.chain.encoding import SCHEMA, canonical, plain_json
from evidencekit.chain.parties import Party
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.fsutil import names_shown
from evidencekit.identity import algorithms
from evidencekit.timeutil import isoformat, parse_iso

__all__ = [
    "SIGNATURE_ALGORITHM",
    "Event",
    "EventFields",
    "SignedEvent",
    "clean_text",
    "jsonable_details",
    "normalise_digests",
]

SIGNATURE_ALGORITHM = algorithms.DEFAULT
"""The algorithm of an event whose body names none: every event before tokens, and every event
a software P-256 identity signs. Any other algorithm is named in the signed body
(`signature_algorithm`, docs/custody.md), so the bytes of existing ledgers never change."""


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFields:
    """The fields whoever records an event fills in (the custody form's); the ledger adds the
    rest (seq, time, actor, prev) when it signs. `Draft` (what to append) and `Event` (what was
    signed) both carry them, so a form field is declared once. Keyword-only, so they can follow
    each subclass's required fields.

    `digests` maps algorithm to lowercase hex; in JSON they are written `algorithm:hex`.
    """

    description: str | None = None
    counterpart: Party | None = None
    purpose: str | None = None
    location: str | None = None
    seal_number: str | None = None
    condition: str | None = None
    note: str | None = None
    reason: str | None = None
    override: str | None = None
    digests: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    def form(self) -> dict[str, Any]:
        """These fields as keyword arguments, the mappings copied: what is signed must not
        change when the caller later changes a dict it passed in. A name in them that is not
        UTF-8 (a source path in Latin-1) is shown with `\\xNN` (`fsutil.names_shown`): signed
        text is UTF-8."""
        out: dict[str, Any] = {}
        for f in fields(EventFields):
            value = getattr(self, f.name)
            out[f.name] = names_shown(value) if isinstance(value, str) else value
        out["digests"] = dict(self.digests)
        out["details"] = names_shown(dict(self.details))
        return out


@dataclass(frozen=True, slots=True)
class Event(EventFields):
    """One custody event, as signed: the form's fields plus what the ledger assigned."""

    origin: str
    seq: int
    kind: str
    item_id: str | None
    time: dt.datetime
    actor: Party
    prev: str | None = None
    signature_algorithm: str = SIGNATURE_ALGORITHM
    """How the actor signs this event; in the body only when not `SIGNATURE_ALGORITHM`."""

    def body(self) -> dict[str, Any]:
        """The JSON object that is canonicalised, hashed and signed."""
        body = self._body()
        if self.signature_algorithm != SIGNATURE_ALGORITHM:
            body["signature_algorithm"] = self.signature_algorithm
        return body

    def _body(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "origin": self.origin,
            "seq": self.seq,
            "kind": self.kind,
            "item": self.item_id,
            "prev": self.prev,
            "time": isoformat(self.time),
            "actor": self.actor.to_dict(),
            "counterpart": None if self.counterpart is None else self.counterpart.to_dict(),
            "description": self.description,
            "purpose": self.purpose,
            "location": self.location,
            "seal_number": self.seal_number,
            "condition": self.condition,
            "note": self.note,
            "reason": self.reason,
            "override": self.override,
            "digests": sorted(f"{a}:{h}" for a, h in self.digests.items()),
            "details": dict(self.details),
        }

    def encode(self) -> bytes:
        """Canonical JSON bytes (RFC 8785)."""
        return canonical(self.body(), dict(self.details))

    def to_dict(self) -> dict[str, Any]:
        body = self.body()
        body["item_id"] = self.item_id
        body["digests"] = dict(self.digests)
        return body

    @classmethod
    def decode(cls, data: bytes) -> Event:
        """Parse event bytes (as stored and signed).

        Raises:
            IntegrityError: they are not an event.
        """
        try:
            doc = json.loads(data.decode("utf-8"))
            if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
                raise ValueError(f"schema is not {SCHEMA}")
            actor = doc["actor"]
            cp = doc.get("counterpart")
            digests: dict[str, str] = {}
            for d in doc.get("digests") or []:
                alg, _, hexval = str(d).partition(":")
                digests[alg] = hexval
            seq = doc["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise ValueError("seq is not an integer")
            return cls(
                origin=str(doc["origin"]),
                seq=seq,
                kind=str(doc["kind"]),
                item_id=doc.get("item"),
                time=parse_iso(doc["time"]),
                actor=Party(str(actor["name"]), actor.get("fingerprint")),
                prev=doc.get("prev"),
                description=doc.get("description"),
                counterpart=None if cp is None else Party.from_dict(cp),
                purpose=doc.get("purpose"),
                location=doc.get("location"),
                seal_number=doc.get("seal_number"),
                condition=doc.get("condition"),
                note=doc.get("note"),
                reason=doc.get("reason"),
                override=doc.get("override"),
                digests=digests,
                details=doc.get("details") or {},
                signature_algorithm=str(doc.get("signature_algorithm", SIGNATURE_ALGORITHM)),
            )
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IntegrityError(f"malformed custody event: {exc}") from exc


@dataclass(frozen=True, slots=True)
class SignedEvent:
    """An event with its bytes, signature and leaf hash, as the ledger stores it."""

    event: Event
    data: bytes
    signature: bytes
    leaf_hash: bytes

    @property
    def seq(self) -> int:
        return self.event.seq

    def to_dict(self) -> dict[str, Any]:
        """The event's fields plus `signature` (base64 DER) and `leaf_hash` (hex)."""
        return {
            **self.event.to_dict(),
            "signature": {
                "algorithm": self.event.signature_algorithm,
                "value": base64.b64encode(self.signature).decode("ascii"),
            },
            "leaf_hash": self.leaf_hash.hex(),
        }


def clean_text(value: str | None) -> str | None:
    """Typed text is stored NFC; empty means absent."""
    if value is None:
        return None
    value = _nfc(value.strip())
    return value or None


def normalise_digests(digests: Mapping[str, str] | None) -> dict[str, str]:
    """`{"sha256": hex}` (or `"sha256:hex"` values), lowercased and checked.

    Raises:
        CustodyError: a digest is not hex.
    """
    out: dict[str, str] = {}
    for alg, value in (digests or {}).items():
        v = value.split(":", 1)[1] if ":" in value else value
        v = v.strip().lower()
        if not _HEX.match(v):
            raise CustodyError(f"digest {alg}={value!r} is not hexadecimal")
        out[alg.lower()] = v
    return out


def jsonable_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """`details` as plain JSON values (tuples become lists, paths and other objects their
    text), so the signed event reads back exactly as it was recorded.

    Raises:
        CustodyError: they cannot be JSON (NaN or infinity).
    """
    if not details:
        return {}
    if isinstance(details, dict) and plain_json(details):
        return dict(details)
    try:
        out = json.loads(
            json.dumps(dict(details), ensure_ascii=False, default=str, allow_nan=False)
        )
    except ValueError as exc:
        raise CustodyError(f"event details cannot be recorded as JSON: {exc}") from exc
    assert isinstance(out, dict)
    return out


_HEX = re.compile(r"^[0-9a-f]+$")
