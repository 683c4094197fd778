"""A case's checkpoint as a file kept outside the lab: the witness copy (`custody witness`).

A ledger can only prove that it extends a checkpoint somebody kept elsewhere, and the examiners'
homes are in the lab. So a prosecutor (or a court clerk, a supervisor) keeps a *witness copy*:
one JSON file holding the case's signed tree head as RFC 9162 §4.10 names its fields (tree size,
SHA-256 root hash, timestamp, signature — here the C2SP checkpoint the ledger signed), bound to
the case identity, with the newest RFC 3161 token over an earlier checkpoint when the ledger has
one, and signed as a whole by the examiner who exported it. Any edit to the copy (another size,
root, case identity, a swapped checkpoint) breaks the exporter's signature; an exporter the case
does not pin is refused, so a copy forged with a key of one's own is refused too.

File format (`evidencekit/witness/1`, UTF-8 JSON, any whitespace; the signature covers the
RFC 8785 canonical bytes of the document without `signature`; duplicate keys are refused)::

    {"schema": "evidencekit/witness/1",
     "case": {"number": "VKS-2024-06", "identity": "sha256:<hex>"},
     "signed_tree_head": {"origin": "...", "tree_size": 12, "timestamp": "<RFC 3339 UTC>",
                          "sha256_root_hash": "<base64>", "checkpoint": "<C2SP signed note>"},
     "rfc3161": null | {"checkpoint": "<signed note>", "tree_size": 9, "token": "<base64 DER>",
                        "time": "<RFC 3339>", "tsa": "<TSA subject>"},
     "exported": "<RFC 3339 UTC>",
     "exporter": {"name": "...", "fingerprint": "<sha256 of DER>", "certificate": "<PEM>"},
     "signature": {"algorithm": "ecdsa-p256-sha256", "value": "<base64 DER>"}}
    (or another algorithm of `evidencekit.identity.algorithms`, e.g. "rsa-pkcs1v15-sha256")

This module only builds, reads and checks the file; `workflows.witness` checks it against a
case's ledger.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from evidencekit.chain.checkpoint import VerifiedCheckpoint, verify_checkpoint
from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.hash.canonical import canonical_json
from evidencekit.identity import (
    Identity,
    algorithms,
    cert_pem,
    fingerprint,
    load_cert_pem,
    subject_name,
    verify_signature,
)

SCHEMA = "evidencekit/witness/1"
ALGORITHM = algorithms.DEFAULT
ALGORITHMS = algorithms.ALGORITHMS
"""`signature.algorithm` is one of the identity algorithms and must fit the exporter's key."""
MAX_BYTES = 1 << 20
"""A witness copy is a few kilobytes (two checkpoints, a token, a certificate); anything larger
is refused unread."""


@dataclass(frozen=True, slots=True)
class WitnessCopy:
    """A witness file whose exporter's signature and checkpoint checked out."""

    case_number: str
    case_identity: str
    checkpoint: VerifiedCheckpoint
    exported: str
    exporter_name: str
    exporter_fingerprint: str
    rfc3161: Mapping[str, Any] | None

    @property
    def size(self) -> int:
        return self.checkpoint.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.checkpoint.root

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode("ascii")


def make_witness(
    *,
    case_number: str,
    case_identity: str,
    checkpoint: VerifiedCheckpoint,
    created: str,
    exported: str,
    identity: Identity,
    rfc3161: Mapping[str, Any] | None = None,
) -> bytes:
    """The witness file's bytes (indented JSON), signed by `identity`.

    Raises:
        EvidenceKitError: a value cannot be encoded.
    """
    cp = checkpoint.checkpoint
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "case": {"number": case_number, "identity": case_identity},
        "signed_tree_head": {
            "origin": cp.origin,
            "tree_size": cp.size,
            "timestamp": created,
            "sha256_root_hash": base64.b64encode(cp.root).decode("ascii"),
            "checkpoint": checkpoint.text,
        },
        "rfc3161": None if rfc3161 is None else dict(rfc3161),
        "exported": exported,
        "exporter": {
            "name": identity.name,
            "fingerprint": identity.fingerprint,
            "certificate": cert_pem(identity.certificate),
        },
    }
    sig = identity.sign(canonical_json(doc))
    doc["signature"] = {
        "algorithm": identity.algorithm,
        "value": base64.b64encode(sig).decode("ascii"),
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def read_witness(data: bytes, trusted: Mapping[str, x509.Certificate]) -> WitnessCopy:
    """Parse a witness file and check it: its exporter is among `trusted` (by fingerprint
    recomputed from the certificate it carries) and signed it as it is, and its checkpoint is
    signed by a trusted examiner and says what the file says (origin, size, root).

    Raises:
        IntegrityError: too large, not a witness file, or any of the checks fails.
    """
    if len(data) > MAX_BYTES:
        raise IntegrityError(
            f"the witness file holds {len(data)} bytes, more than {MAX_BYTES}: not read"
        )
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise ValueError(f"its schema is not {SCHEMA}")
        case = doc["case"]
        sth = doc["signed_tree_head"]
        exporter = doc["exporter"]
        sig = doc.pop("signature")
        algorithm = sig.get("algorithm")
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown signature algorithm {algorithm!r}")
        raw = base64.b64decode(str(sig["value"]), validate=True)
        size = sth["tree_size"]
        root = base64.b64decode(str(sth["sha256_root_hash"]), validate=True)
        if not isinstance(size, int) or isinstance(size, bool):
            raise ValueError("tree_size is not a number")
        identity = case["identity"]
        number = case["number"]
        if not isinstance(identity, str) or not isinstance(number, str):
            raise ValueError("the case's number and identity must be texts")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"not an evidencekit witness file: {exc}") from exc
    except binascii.Error as exc:  # pragma: no cover - a ValueError subclass
        raise IntegrityError(f"not an evidencekit witness file: {exc}") from exc
    try:
        cert = load_cert_pem(str(exporter.get("certificate")), what="the exporter's certificate")
        signed = canonical_json(doc)
    except EvidenceKitError as exc:
        raise IntegrityError(f"the witness file is refused: {exc.message}") from exc
    fp = fingerprint(cert)
    name = subject_name(cert)
    anchor = trusted.get(fp)
    if anchor is None or fingerprint(anchor) != fp:
        raise IntegrityError(
            f"the witness file is refused: it is signed by {name!r} ({fp[:16]}), whom the case "
            "does not pin (nor --trust)",
            hint="a kept copy is trusted only when an examiner of the case signed it",
        )
    if exporter.get("fingerprint") != fp or not verify_signature(cert, signed, raw, algorithm):
        raise IntegrityError(
            f"the witness file is refused: the signature of {name!r} ({fp[:16]}) does not "
            "match its content (it was edited after it was exported)",
        )
    vc = verify_checkpoint(str(sth.get("checkpoint")), dict(trusted))
    cp = vc.checkpoint
    if (cp.origin, cp.size, cp.root) != (sth.get("origin"), size, root):
        raise IntegrityError(
            "the witness file is refused: its signed checkpoint says another tree than its "
            f"signed_tree_head ({cp.size} events, not {size})"
        )
    rfc3161 = doc.get("rfc3161")
    if rfc3161 is not None and not isinstance(rfc3161, dict):
        raise IntegrityError("the witness file is refused: rfc3161 is not an object")
    return WitnessCopy(number, identity, vc, str(doc.get("exported")), name, fp, rfc3161)


__all__ = ["MAX_BYTES", "SCHEMA", "WitnessCopy", "make_witness", "read_witness"]
