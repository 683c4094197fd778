"""Inclusion and consistency proofs as self-contained JSON documents.

An inclusion proof shows that given events are leaves of the tree a signed checkpoint commits to,
without revealing any other event. A consistency proof shows that a later checkpoint's tree
extends an earlier one (history was only appended). Both are checked offline with nothing but
the proof, the checkpoint and the signers' certificates. Hashes are lowercase hex.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import VerifiedCheckpoint, verify_checkpoint
from evidencekit.chain.encoding import event_signature_ok
from evidencekit.chain.events import Event, SignedEvent
from evidencekit.errors import IntegrityError
from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import subject_name

INCLUSION_SCHEMA = "evidencekit/custody-inclusion-proof/1"
CONSISTENCY_SCHEMA = "evidencekit/custody-consistency-proof/1"


def inclusion_document(
    node: merkle.NodeSource, events: Sequence[SignedEvent], tree_size: int, checkpoint: str
) -> dict[str, Any]:
    """The proof JSON for `events` in the tree of `tree_size` leaves that `checkpoint` signs."""
    entries = []
    for se in events:
        if se.seq >= tree_size:
            raise IntegrityError(f"event {se.seq} is not in a tree of size {tree_size}")
        entries.append(
            {
                "leaf_index": se.seq,
                "event": se.event.body(),
                "signature": {
                    "algorithm": se.event.signature_algorithm,
                    "value": base64.b64encode(se.signature).decode("ascii"),
                },
                "leaf_hash": se.leaf_hash.hex(),
                "path": [h.hex() for h in merkle.inclusion_proof(node, se.seq, tree_size)],
            }
        )
    return {
        "schema": INCLUSION_SCHEMA,
        "tree_size": tree_size,
        "root": merkle.root(node, tree_size).hex(),
        "checkpoint": checkpoint,
        "entries": entries,
    }


@dataclass(frozen=True, slots=True)
class ProvenEvent:
    """An event an inclusion proof showed to be in the signed tree."""

    leaf_index: int
    event: Event
    signer_name: str

    def to_dict(self) -> dict[str, object]:
        return {
            "leaf_index": self.leaf_index,
            "kind": self.event.kind,
            "item": self.event.item_id,
            "time": self.event.body()["time"],
            "actor": self.event.actor.to_dict(),
            "signer": self.signer_name,
        }


@dataclass(frozen=True, slots=True)
class InclusionResult:
    checkpoint: VerifiedCheckpoint
    events: tuple[ProvenEvent, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "checkpoint": self.checkpoint.to_dict(),
            "events": [e.to_dict() for e in self.events],
        }


def _hex(value: Any, what: str) -> bytes:
    try:
        raw = bytes.fromhex(str(value))
    except ValueError as exc:
        raise IntegrityError(f"{what} is not hexadecimal") from exc
    if len(raw) != merkle.HASH_SIZE:
        raise IntegrityError(f"{what} has {len(raw)} bytes, expected {merkle.HASH_SIZE}")
    return raw


def load_proof(text: str | bytes) -> dict[str, Any]:
    """Parse a proof file.

    Raises:
        IntegrityError: not JSON or not a proof.
    """
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"proof is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("schema") not in (
        INCLUSION_SCHEMA,
        CONSISTENCY_SCHEMA,
    ):
        raise IntegrityError("not an evidencekit custody proof (unknown schema)")
    return doc


def verify_inclusion_document(
    doc: dict[str, Any], checkpoint_text: str, trusted: dict[str, x509.Certificate]
) -> InclusionResult:
    """Check every entry of an inclusion proof against a signed checkpoint.

    Raises:
        IntegrityError: any signature, hash or path does not verify, or the checkpoint's
            tree size differs from the proof's.
    """
    vc = verify_checkpoint(checkpoint_text, trusted)
    cp = vc.checkpoint
    try:
        size = int(doc["tree_size"])
        entries = list(doc["entries"])
    except (KeyError, TypeError, ValueError) as exc:
        raise IntegrityError(f"malformed inclusion proof: {exc}") from exc
    if size != cp.size:
        raise IntegrityError(
            f"the proof is for tree size {size} but the checkpoint is for size {cp.size}",
            hint="make the proof against that checkpoint: custody prove ITEM --checkpoint CP",
        )
    if not entries:
        raise IntegrityError("the proof has no entries")
    proven: list[ProvenEvent] = []
    for n, entry in enumerate(entries):
        try:
            index = int(entry["leaf_index"])
            body = entry["event"]
            sig = base64.b64decode(entry["signature"]["value"], validate=True)
            path = [_hex(h, f"entry {n} path hash") for h in entry["path"]]
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise IntegrityError(f"malformed proof entry {n}: {exc}") from exc
        data = canonical_json(body)
        event = Event.decode(data)
        if event.seq != index:
            raise IntegrityError(f"entry {n}: event says seq {event.seq}, proof says {index}")
        if event.origin != cp.origin:
            raise IntegrityError(f"event {index} belongs to ledger {event.origin!r}")
        fp = event.actor.fingerprint or ""
        cert = trusted.get(fp)
        if cert is None:
            raise IntegrityError(
                f"event {index} is signed by {event.actor.name!r} ({fp[:16]}), who is not trusted",
                hint="pass the signer's certificate with --trust CERT.pem",
            )
        if not event_signature_ok(fp, cert, data, sig):
            raise IntegrityError(f"event {index}: signature does not match the event")
        leaf = merkle.leaf_hash(data)
        try:
            merkle.verify_inclusion(index, size, leaf, path, cp.root)
        except IntegrityError as exc:
            raise IntegrityError(f"event {index}: {exc.message}") from exc
        proven.append(ProvenEvent(index, event, subject_name(cert)))
    return InclusionResult(vc, tuple(proven))


def consistency_document(
    node: merkle.NodeSource, old: VerifiedCheckpoint, new_size: int, new_checkpoint: str
) -> dict[str, Any]:
    """The proof JSON that the tree of `new_size` leaves extends the old checkpoint's."""
    size1 = old.checkpoint.size
    return {
        "schema": CONSISTENCY_SCHEMA,
        "old": {"tree_size": size1, "root": old.checkpoint.root.hex(), "checkpoint": old.text},
        "new": {
            "tree_size": new_size,
            "root": merkle.root(node, new_size).hex(),
            "checkpoint": new_checkpoint,
        },
        "path": [h.hex() for h in merkle.consistency_proof(node, size1, new_size)],
    }


@dataclass(frozen=True, slots=True)
class ConsistencyResult:
    """The new checkpoint's tree extends the old one."""

    old: VerifiedCheckpoint
    new: VerifiedCheckpoint
    proof: dict[str, Any]

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "proof": self.proof,
        }


def verify_consistency_document(
    doc: dict[str, Any], trusted: dict[str, x509.Certificate]
) -> ConsistencyResult:
    """Check a consistency proof: both checkpoints signed by trusted keys, same origin, and the
    path links the old root to the new.

    Raises:
        IntegrityError: it does not verify.
    """
    try:
        old = verify_checkpoint(str(doc["old"]["checkpoint"]), trusted)
        new = verify_checkpoint(str(doc["new"]["checkpoint"]), trusted)
        path = [_hex(h, "consistency path hash") for h in doc["path"]]
    except (KeyError, TypeError) as exc:
        raise IntegrityError(f"malformed consistency proof: {exc}") from exc
    if old.checkpoint.origin != new.checkpoint.origin:
        raise IntegrityError(
            f"the checkpoints are for different ledgers: {old.checkpoint.origin!r} and "
            f"{new.checkpoint.origin!r}"
        )
    merkle.verify_consistency(
        old.checkpoint.size, new.checkpoint.size, path, old.checkpoint.root, new.checkpoint.root
    )
    return ConsistencyResult(old, new, doc)
