"""`custody witness`: export the case's checkpoint for someone outside the lab to keep, and check
a kept copy against the ledger (the file format is in `chain.witnesscopy`).

The check proves consistency from the kept tree to the ledger's current one with the same code
the examiners' homes use (`chain.checkpoint_memory.check_extends`, then the RFC 9162 consistency
proof of `chain.proof`): a ledger rolled back below the kept size, or rewritten at or before it,
fails naming the kept size and root; a ledger started again (even with the same key) starts with
another first event and is named "another ledger".
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from evidencekit.case import Case
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.checkpoint_memory import Remembered, check_extends
from evidencekit.chain.proof import (
    ConsistencyResult,
    consistency_document,
    verify_consistency_document,
)
from evidencekit.chain.timestamp import verify_token
from evidencekit.chain.witnesscopy import WitnessCopy, make_witness, read_witness
from evidencekit.errors import CustodyError, EvidenceKitError, IntegrityError
from evidencekit.identity import Identity, fingerprint, load_cert_pem
from evidencekit.timeutil import isoformat, parse_iso, utcnow
from evidencekit.workflows.custody import open_ledger
from evidencekit.workflows.proven import reader_signers, revocation_lists
from evidencekit.workflows.reader_trust import ReaderAnchors
from evidencekit.workflows.trust import CaseTrust, case_trust


@dataclass(frozen=True, slots=True)
class Exported:
    """What `export_witness` wrote."""

    data: bytes
    tree_size: int
    root: str
    case_identity: str
    timestamped: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_size,
            # hex like every other tree root in a --json document (docs/json.md); the witness
            # file itself keeps the checkpoint's base64, as the signed note has it
            "root": base64.b64decode(self.root).hex(),
            "case_identity": self.case_identity,
            "rfc3161": self.timestamped,
        }


def export_witness(case: Case, identity: Identity) -> Exported:
    """The case's current checkpoint as a witness file signed by `identity` (an examiner the
    case trusts now), with the newest RFC 3161 token of the ledger when there is one.

    Raises:
        CustodyError: `identity` may not sign for the case, or the ledger has no checkpoint.
        IntegrityError: the ledger is missing, damaged or rolled back (home memory).
    """
    trust = case_trust(case)
    if identity.fingerprint not in trust.signers or trust.identity is None:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) may not sign for case "
            f"{case.info.number!r} (not pinned by its ledger, or revoked): nothing exported",
        )
    with open_ledger(case) as ledger:
        row = ledger.latest_checkpoint()
        if row is None:
            raise CustodyError("the ledger has no checkpoint yet")
        vc = verify_checkpoint(row.note, trust.certificates)
        stamp = _newest_timestamp(ledger.events(None))
    data = make_witness(
        case_number=case.info.number,
        case_identity=trust.identity,
        checkpoint=vc,
        created=row.created,
        exported=isoformat(utcnow()),
        identity=identity,
        rfc3161=stamp,
    )
    root = base64.b64encode(vc.checkpoint.root).decode("ascii")
    return Exported(data, vc.checkpoint.size, root, trust.identity, stamp is not None)


def _newest_timestamp(events: Sequence[Any]) -> dict[str, Any] | None:
    for se in reversed(events):
        ev = se.event
        if ev.kind == "checkpoint_timestamped":
            d = ev.details
            return {
                "checkpoint": d.get("checkpoint"),
                "tree_size": _size(d.get("checkpoint")),
                "token": d.get("token"),
                "time": d.get("time"),
                "tsa": d.get("tsa"),
            }
    return None


def _size(note: object) -> int | None:
    lines = str(note).split("\n")
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else None


@dataclass(frozen=True, slots=True)
class WitnessCheck:
    """A kept copy the ledger still extends."""

    kept: WitnessCopy
    consistency: ConsistencyResult
    timestamp: dict[str, object] | None

    def to_dict(self) -> dict[str, object]:
        new = self.consistency.new.checkpoint
        return {
            "ok": True,
            "case_identity": self.kept.case_identity,
            "kept": {
                "tree_size": self.kept.size,
                "root": base64.b64decode(self.kept.root_b64).hex(),
                "exported": self.kept.exported,
                "exporter": {
                    "name": self.kept.exporter_name,
                    "fingerprint": self.kept.exporter_fingerprint,
                },
            },
            "current": {
                "tree_size": new.size,
                "root": new.root.hex(),
            },
            "proof": self.consistency.proof,
            "rfc3161": self.timestamp,
        }


def check_witness(
    case: Case,
    data: bytes,
    extra_trust: Sequence[x509.Certificate] = (),
    *,
    source: Path | None = None,
    tsa_certs: Sequence[x509.Certificate] = (),
    anchors: ReaderAnchors | None = None,
) -> WitnessCheck:
    """Check a kept witness file (`data`) against the case's ledger.

    The home memory is not consulted (this is the check of a copy kept elsewhere, e.g. on a
    prosecutor's computer that has no examiner home).

    Raises:
        IntegrityError: the file is refused (edited, signed by someone the case does not pin),
            it is of another ledger, or the ledger no longer holds its tree (rolled back or
            rewritten), or its timestamp token does not verify.
    """
    trust = case_trust(case)
    trusted = {**trust.certificates, **{fingerprint(c): c for c in extra_trust}}
    via_ca = _reader_chained(case, data, trust, anchors) if anchors else {}
    trusted.update({fp: v[0] for fp, v in via_ca.items()})
    kept = read_witness(data, trusted)
    if anchors and kept.exporter_fingerprint in via_ca:
        leaf, others = via_ca[kept.exporter_fingerprint]
        try:
            claimed: dt.datetime | None = parse_iso(kept.exported)
        except ValueError:
            claimed = None
        crls, ocsps = revocation_lists(trust)
        found = anchors.with_data(crls, ocsps).problem(
            leaf,
            others,
            claimed=claimed,
            proven=None,
            what=f"the witness file is refused: it was exported by {kept.exporter_name!r}, "
            "checked against the reader's CA",
        )
        if found is not None:
            raise IntegrityError(found[1])
    named = (
        f"the kept checkpoint of {kept.size} events (root {kept.root_b64}, exported "
        f"{kept.exported} by {kept.exporter_name})"
    )
    if trust.identity != kept.case_identity:
        raise IntegrityError(
            f"{named} is of case identity {kept.case_identity}, but this ledger starts with "
            f"{trust.identity or 'no first event'}: this is another ledger (started again or "
            "replaced)",
            hint="keep this folder as it is; the ledger the copy witnessed must be restored",
        )
    with open_ledger(case, remembered=False) as ledger:
        if kept.checkpoint.checkpoint.origin != ledger.origin:
            raise IntegrityError(
                f"{named} is of ledger {kept.checkpoint.checkpoint.origin!r}, this case's is "
                f"{ledger.origin!r}"
            )
        size = ledger.size()
        remembered = Remembered(
            ledger.origin,
            kept.size,
            kept.root,
            kept.checkpoint.text,
            source or Path("-"),
            kept.exported,
        )
        check_extends(remembered, size, ledger.node, what=named)
        row = ledger.latest_checkpoint()
        if row is None or row.tree_size != size:
            raise IntegrityError(
                f"the ledger holds {size} events but its latest checkpoint covers "
                f"{row.tree_size if row else 'none'}: run `evidencekit custody verify`"
            )
        try:
            doc = consistency_document(ledger.node, kept.checkpoint, size, row.note)
        except ValueError as exc:
            raise IntegrityError(str(exc)) from exc
        stamp = _check_timestamp(kept, ledger.node, size, trusted, tsa_certs)
    return WitnessCheck(kept, verify_consistency_document(doc, trusted), stamp)


def _check_timestamp(
    kept: WitnessCopy,
    node: Any,
    size: int,
    trusted: dict[str, x509.Certificate],
    tsa_certs: Sequence[x509.Certificate],
) -> dict[str, object] | None:
    """The kept RFC 3161 token must be a TSA's signature over a checkpoint of this ledger that
    the ledger still holds (so "this tree existed at that time" holds for the kept copy)."""
    from evidencekit.chain import merkle

    ts = kept.rfc3161
    if ts is None:
        return None
    try:
        note = str(ts["checkpoint"])
        token = base64.b64decode(str(ts["token"]), validate=True)
    except (KeyError, ValueError) as exc:
        raise IntegrityError(f"the witness file's timestamp is unreadable: {exc}") from exc
    vc = verify_checkpoint(note, trusted)
    info = verify_token(token, note.encode("utf-8"), tsa_certs)
    c = vc.checkpoint
    if c.size > size or merkle.root(node, c.size) != c.root:
        raise IntegrityError(
            f"the witness file's timestamped checkpoint ({c.size} events, "
            f"{isoformat(info.time)}) is not a tree this ledger holds"
        )
    return {
        "tree_size": c.size,
        "time": isoformat(info.time),
        "tsa": info.tsa.subject.rfc4514_string(),
    }


def _reader_chained(
    case: Case, data: bytes, trust: CaseTrust, anchors: ReaderAnchors
) -> dict[str, tuple[x509.Certificate, tuple[x509.Certificate, ...]]]:
    """The signers of the ledger, and the exporter the file names, whose chain goes to one of
    the reader's CA anchors (`--trust ROOT.pem`)."""
    with open_ledger(case, remembered=False) as ledger:
        found = reader_signers(ledger.store, trust, anchors)
    try:
        pem = json.loads(data.decode("utf-8"))["exporter"]["certificate"]
        cert = load_cert_pem(str(pem))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, EvidenceKitError):
        return found  # read_witness refuses the file itself
    fp = fingerprint(cert)
    if fp not in found and anchors.covers(cert, ()):
        found[fp] = (cert, ())
    return found
