"""`case trust-ca`, `case untrust-ca` and `case add-revocation`: changing a case's CA trust
anchors (a pinned examiner only) and storing revocation data in it (docs/trust.md).

Revocation data follows the commit protocol of every artifact: the file is written under a
temporary name, made durable, published under its SHA-256 (`trust/revocation/<sha256>.crl` or
`.ocsp`, so the same data is stored once), and only then recorded by a `revocation_data_added`
event naming that digest. A crash leaves at most a file no event names, which nothing reads.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from evidencekit.case import Case
from evidencekit.errors import CaseError, CustodyError, UsageError
from evidencekit.fsutil import atomic_write, make_dirs_inside
from evidencekit.identity import Identity, cert_pem, fingerprint
from evidencekit.identity.validation import (
    EXAMINER,
    TSA,
    Limits,
    RevocationData,
    fetch_revocation,
    is_ca,
    validate_chain,
)
from evidencekit.timeutil import utcnow
from evidencekit.workflows.anchors import (
    ANCHOR_ADDED,
    ANCHOR_REMOVED,
    REVOCATION_ADDED,
    REVOCATION_DIR,
)
from evidencekit.workflows.custody import open_ledger, record_event
from evidencekit.workflows.proven import tsa_paths
from evidencekit.workflows.trust import case_trust
from evidencekit.workflows.wording import described


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a command recorded: the event and a line about it."""

    event_seq: int
    what: str

    def to_dict(self) -> dict[str, object]:
        return {"event": self.event_seq, "what": self.what}


def _reason(reason: str) -> str:
    reason = unicodedata.normalize("NFC", reason.strip())
    if not reason:
        raise UsageError("a trust change needs a reason (--reason)", hint="it is recorded")
    return reason


def _pinned(case: Case, identity: Identity) -> None:
    trust = case_trust(case)
    if identity.fingerprint not in trust.signers:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not a pinned examiner "
            f"of case {case.info.number!r} (or was revoked): only a pinned examiner changes its "
            "trust anchors; an examiner trusted through a CA never does",
            hint="evidencekit case show lists the pinned examiners",
        )


def add_anchor(
    case: Case,
    identity: Identity,
    cert: x509.Certificate,
    *,
    kind: str = EXAMINER,
    limits: Limits = Limits(),
    intermediates: Sequence[x509.Certificate] = (),
    reason: str,
) -> Recorded:
    """Trust `cert` as an anchor for examiners (a CA certificate) or timestamp authorities (a
    CA, or the TSA's own certificate): a `trust_anchor_added` event signed by `identity`.

    Raises:
        UsageError: no reason; an examiner anchor that is not a CA certificate; an
            intermediate that is not a CA certificate.
        CustodyError: `identity` is not a pinned examiner.
        CaseError: the certificate is already an active anchor.
    """
    reason = _reason(reason)
    _pinned(case, identity)
    if kind == EXAMINER and not is_ca(cert):
        raise UsageError(
            f"{cert.subject.rfc4514_string()!r} is not a CA certificate: an examiner's own "
            "certificate is pinned with `case add-examiner`, not trusted as an anchor"
        )
    for c in intermediates:
        if not is_ca(c):
            raise UsageError(f"intermediate {c.subject.rfc4514_string()!r} is not a CA")
    fp = fingerprint(cert)
    if any(a.fingerprint == fp and a.removed is None for a in case_trust(case).anchors):
        raise CaseError(f"{cert.subject.rfc4514_string()!r} ({fp[:16]}) is already an anchor")
    what = "timestamp authorities" if kind == TSA else "examiners"
    done = record_event(
        case,
        identity,
        ANCHOR_ADDED,
        None,
        description=described(
            case,
            "anchor_added_tsa" if kind == TSA else "anchor_added_examiners",
            subject=cert.subject.rfc4514_string(),
        ),
        reason=reason,
        details={
            "anchor_kind": kind,
            "certificate": cert_pem(cert),
            "fingerprint": fp,
            "limits": limits.to_dict(),
            "intermediates": [cert_pem(c) for c in intermediates],
        },
    )
    return Recorded(done.seq, f"trusted {cert.subject.rfc4514_string()} ({fp[:16]}) for {what}")


def remove_anchor(case: Case, identity: Identity, which: str, *, reason: str) -> Recorded:
    """End an anchor (named by a fingerprint prefix of 8+ hex digits): a `trust_anchor_removed`
    event. What was signed through it before keeps verifying; what is signed after does not.

    Raises:
        UsageError: no reason, or `which` names no active anchor or several.
        CustodyError: `identity` is not a pinned examiner.
    """
    reason = _reason(reason)
    _pinned(case, identity)
    key = which.lower().removeprefix("sha256:")
    found = [
        a
        for a in case_trust(case).anchors
        if a.removed is None and len(key) >= 8 and a.fingerprint.startswith(key)
    ]
    if len(found) != 1:
        raise UsageError(
            f"{which!r} names {len(found)} active trust anchors, not one",
            hint="give 8 or more hex digits of its fingerprint (evidencekit case show)",
        )
    a = found[0]
    done = record_event(
        case,
        identity,
        ANCHOR_REMOVED,
        None,
        description=described(case, "anchor_removed", name=a.anchor.name),
        reason=reason,
        details={"fingerprint": a.fingerprint, "name": a.anchor.name},
    )
    return Recorded(done.seq, f"removed anchor {a.anchor.name} ({a.fingerprint[:16]})")


def add_revocation(
    case: Case,
    identity: Identity,
    data: Sequence[RevocationData] = (),
    *,
    fetch: bool = False,
) -> list[Recorded]:
    """Store revocation data in the case and record it: the `data` given (files an examiner
    brought, offline) and, with `fetch`, the CRLs and OCSP answers the certificates of every
    examiner trusted through an anchor, and of every TSA whose timestamps the ledger holds,
    name (online).

    Raises:
        UsageError: nothing to store.
        IdentityError: a source cannot be fetched.
        CustodyError: `identity` may not sign for the case.
    """
    items = list(data)
    if fetch:
        trust = case_trust(case)
        active = [a.anchor for a in trust.anchors if a.removed is None]
        for c in trust.chained:
            result = validate_chain(
                c.certificate, c.others, active, moment=utcnow(), revocation=False
            )
            if result.ok:
                items += fetch_revocation(result.path)
        with open_ledger(case) as ledger:
            paths = tsa_paths(ledger.store, trust)
        for path in paths:
            items += fetch_revocation(path)
    if not items:
        raise UsageError(
            "no revocation data to store",
            hint="give --crl FILE or --ocsp-response FILE, or --fetch when online",
        )
    folder = case.path / REVOCATION_DIR
    make_dirs_inside(case.path, REVOCATION_DIR.parts)
    out: list[Recorded] = []
    for item in items:
        sha = hashlib.sha256(item.der).hexdigest()
        rel = (REVOCATION_DIR / f"{sha}{item.suffix}").as_posix()
        atomic_write(folder / f"{sha}{item.suffix}", item.der)
        done = record_event(
            case,
            identity,
            REVOCATION_ADDED,
            None,
            description=item.about,
            details={"kind": item.kind, "file": rel, "sha256": f"sha256:{sha}"},
        )
        out.append(Recorded(done.seq, f"stored {item.about} as {rel}"))
    return out
