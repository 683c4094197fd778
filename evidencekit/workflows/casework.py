"""Case creation, examiner pinning and revocation, with their custody events.

Trust lives in the ledger (`evidencekit.workflows.trust`): `case_opened` carries its creator's
certificate, and every examiner added later is an `examiner_added` event, signed by an examiner
already pinned, carrying the new certificate. `case.toml` gets a copy of each for convenience.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from evidencekit.case import Case
from evidencekit.errors import CaseError, CustodyError, UsageError
from evidencekit.identity import (
    Identity,
    algorithms,
    cert_pem,
    display_name_key,
    fingerprint,
    subject_name,
)
from evidencekit.workflows.custody import record_event, start_ledger
from evidencekit.workflows.trust import ADDED, REVOKED, case_trust
from evidencekit.workflows.wording import described

CaseLanguage = Literal["vi", "en"]
"""The language of a case's reports and default event descriptions."""


@dataclass(frozen=True, slots=True)
class CaseInitRequest:
    """What `case init` is asked to do: create the case `number` (`title`) in the new or empty
    folder `path`, pinning its creator and the certificates `pins`.

    Attributes:
        examiner: the name reports show (None: the creator identity's).
        language: of its reports and default event descriptions.
        timezone: IANA name for displayed times (None: the system's).
        ledger: a postgresql:// URL of the lab's shared ledger (None: `custody.sqlite`).
        participants: participant SPECs of the case's standing participants (the
            investigator, their unit…), recorded in `case_opened`; `key=` names the creator or
            an examiner of `pins`.
    """

    path: Path
    number: str
    title: str
    agency: str = ""
    examiner: str | None = None
    language: CaseLanguage = "vi"
    timezone: str | None = None
    pins: tuple[x509.Certificate, ...] = ()
    ledger: str | None = None
    participants: tuple[str, ...] = ()


def create_case(identity: Identity, request: CaseInitRequest) -> Case:
    """Create the case `request` describes (`init_case`), its first event signed by `identity`.

    Raises:
        as `init_case`.
    """
    return init_case(
        request.path,
        identity,
        number=request.number,
        title=request.title,
        agency=request.agency,
        examiner=request.examiner,
        language=request.language,
        timezone=request.timezone,
        pins=request.pins,
        ledger=request.ledger,
        participants=request.participants,
    )


def init_case(
    path: Path,
    identity: Identity,
    *,
    number: str,
    title: str,
    agency: str = "",
    examiner: str | None = None,
    language: str = "vi",
    timezone: str | None = None,
    pins: Sequence[x509.Certificate] = (),
    ledger: str | None = None,
    participants: Sequence[str] = (),
) -> Case:
    """Create a case folder pinned to `identity` (its creator) and to the examiners of `pins`.

    `participants` (participant SPECs, `chain.parties.parse_spec`) are the case's standing
    participants (the investigator, their unit…), recorded in `case_opened`'s
    `details.participants`; `key=` names the creator or an examiner of `pins`.

    The first ledger event (`case_opened`) is signed by the creator and carries every
    certificate it pins: it, not `case.toml`, is what pins them. `ledger` is a postgresql://
    URL (no password) of the lab's shared ledger database (docs/postgresql.md); without it the
    ledger is `custody.sqlite` in the folder.

    Raises:
        CaseError: the folder is not empty or cannot be created.
        UsageError: invalid language, time zone, or empty fields; a certificate in `pins` that
            holds a key outside the signature whitelist or carries a pinned examiner's name
            (checked before anything is written).
    """
    certs = _pinned_certs(identity, pins)
    standing = _standing(identity, certs, participants)  # refused before anything is written
    if ledger is not None:
        from evidencekit.chain.pg_store import check_url

        check_url(ledger)
    case = Case.create(
        path,
        number=number,
        title=title,
        creator_cert=identity.certificate,
        agency=agency,
        examiner=examiner or identity.name,
        language=language,
        timezone=timezone,
        ledger=ledger,
    )
    record_opened(case, identity, pins, participants=standing)
    for cert in pins:
        if fingerprint(cert) != identity.fingerprint:
            case.add_examiner(cert)
    return case


def _standing(
    identity: Identity, certs: Sequence[x509.Certificate], specs: Sequence[str]
) -> list[dict[str, object]]:
    """The case's standing participants (`case init --participant`), key holders resolved
    among the examiners the new case pins.

    Raises:
        UsageError: a malformed SPEC, a key no pinned examiner has, one person twice.
    """
    from evidencekit.workflows.seizure import participant_list

    examiners = [(identity.name, identity.fingerprint)] + [
        (subject_name(c), fingerprint(c)) for c in certs if fingerprint(c) != identity.fingerprint
    ]
    return participant_list(None, specs, examiners=examiners)


def record_opened(
    case: Case,
    identity: Identity,
    pins: Sequence[x509.Certificate] = (),
    *,
    participants: Sequence[Mapping[str, object]] = (),
) -> None:
    """Append the case's first event, `case_opened`, pinning `identity` and `pins`, naming the
    case's standing `participants` (participant records) when there are any.

    Raises:
        UsageError: a certificate in `pins` holds a key outside the signature whitelist.
    """
    certs = _pinned_certs(identity, pins)
    details: dict[str, object] = {
        "case_number": case.info.number,
        "agency": case.info.agency,
        "examiner": case.info.examiner,
        "certificates": [cert_pem(c) for c in certs],
    }
    if participants:
        details["participants"] = [dict(p) for p in participants]
    start_ledger(
        case,
        identity,
        description=case.info.title,
        details=details,
    )


def _check_key(cert: x509.Certificate) -> None:
    problem = algorithms.key_problem(cert.public_key())
    if problem is not None:
        raise UsageError(
            f"the certificate of {subject_name(cert)!r} holds {problem}",
            hint="evidencekit signs with RSA 2048/3072/4096, ECDSA P-256 or P-384 keys",
        )


@dataclass(frozen=True, slots=True)
class AddedExaminer:
    """What `add_examiner` did."""

    name: str
    fingerprint: str
    event_seq: int | None
    """The `examiner_added` event recorded (None: the ledger already pinned them)."""

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "fingerprint": self.fingerprint, "event": self.event_seq}


def add_examiner(case: Case, identity: Identity, cert: x509.Certificate) -> AddedExaminer:
    """Pin another examiner's certificate: an `examiner_added` event signed by `identity` (who
    must be pinned by the ledger), then the copy in `case.toml`.

    Also the way a case made before trust lived in the ledger adopts a colleague its
    `case.toml` lists without an event: adding them again records the event.

    Raises:
        CustodyError: `identity` is not pinned by the case's ledger.
        CaseError: `cert` is already pinned in both the ledger and `case.toml`.
        UsageError: `cert` holds a key outside the signature whitelist.
        IntegrityError: `case.toml` holds a substituted certificate.
    """
    _check_key(cert)
    trust = case_trust(case)
    pinned = trust.certificates
    if identity.fingerprint not in pinned:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned by the "
            f"ledger of case {case.info.number!r}: only a pinned examiner adds another",
            hint="ask an examiner the case trusts (its creator) to run: evidencekit case "
            "add-examiner CERT.pem",
        )
    fp = fingerprint(cert)
    name = subject_name(cert)
    in_toml = case.is_pinned(fp)
    if fp in pinned and in_toml:
        raise CaseError(f"examiner {name!r} ({fp[:16]}) is already pinned")
    _refuse_same_name(name, fp, [(p.name, p.fingerprint) for p in trust.pinned])
    seq = None
    if fp not in pinned:
        event = record_event(
            case,
            identity,
            ADDED,
            None,
            description=described(case, "examiner_added", name=name),
            details={"name": name, "fingerprint": fp, "certificate": cert_pem(cert)},
        )
        seq = event.seq
    if not in_toml:
        case.add_examiner(cert)
    return AddedExaminer(name, fp, seq)


def _pinned_certs(identity: Identity, pins: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates a new case pins, its creator's first.

    Raises:
        UsageError: one holds a key outside the signature whitelist, or two carry the same name.
    """
    certs = [identity.certificate]
    for cert in pins:
        _check_key(cert)
        if fingerprint(cert) not in {fingerprint(c) for c in certs}:
            others = [(subject_name(c), fingerprint(c)) for c in certs]
            _refuse_same_name(subject_name(cert), fingerprint(cert), others)
            certs.append(cert)
    return certs


def _refuse_same_name(name: str, fp: str, pinned: Sequence[tuple[str, str]]) -> None:
    """Two pinned examiners may not share a display name: logs, reports and the Biên bản show
    examiners by name, and a colleague pinned under the case examiner's name would sign "as"
    them to every reader who does not compare fingerprints. (People without a key — witnesses,
    clerks — may share names: Vietnamese names often coincide.)

    Raises:
        UsageError: a pinned examiner with another certificate already has that name.
    """
    key = display_name_key(name)
    for other_name, other_fp in pinned:
        if other_fp != fp and display_name_key(other_name) == key:
            raise UsageError(
                f"examiner {other_name!r} ({other_fp[:16]}) is already pinned under that name; "
                f"the certificate {fp[:16]} would be shown as the same person",
                hint="ask for a certificate whose name tells them apart (e.g. with the unit: "
                '"Nguyễn Văn An - PC02")',
            )


@dataclass(frozen=True, slots=True)
class RevokedExaminer:
    """What `revoke_examiner` did."""

    name: str
    fingerprint: str
    event_seq: int
    recorded: bool
    """False: the ledger had already revoked them; only the `case.toml` copy was written."""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "event": self.event_seq,
            "recorded": self.recorded,
        }


def revoke_examiner(case: Case, identity: Identity, who: str, reason: str) -> RevokedExaminer:
    """End a pinned examiner's trust from now on: an `examiner_revoked` event signed by
    `identity` (pinned and not revoked), naming them by certificate fingerprint, with `reason`;
    then the copy in `case.toml`. What they signed before stays valid; what they sign after is
    a `revoked-signer` problem, and the ledger refuses their appends.

    An examiner may revoke themselves (a key that leaked, a transfer out of the unit) but never
    as the last one who may sign: a case nobody can sign for could record nothing more, not even
    a new examiner.

    Raises:
        UsageError: `who` names nobody or several, `reason` is empty, or the revocation would
            leave no examiner who may sign.
        CustodyError: `identity` may not sign for the case.
        CaseError: they are already revoked in the ledger and in `case.toml`.
    """
    reason = unicodedata.normalize("NFC", reason.strip())
    if not reason:
        raise UsageError("a revocation needs a reason (--reason)", hint="it is recorded and shown")
    trust = case_trust(case)
    signers = trust.signers
    if identity.fingerprint not in signers:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) may not sign for case "
            f"{case.info.number!r} (not pinned by its ledger, or revoked): only an examiner "
            "the case trusts revokes another",
        )
    target = _find_pinned(who, [(p.name, p.fingerprint) for p in trust.pinned])
    name, fp = target
    done = trust.revoked_at(fp)
    if done is not None:
        listed = next((e for e in case.info.examiners if e.fingerprint == fp), None)
        if listed is not None and listed.revoked_event != done.seq:
            case.mark_revoked(fp, done.seq, done.time)  # the copy a crash or an edit lost
            return RevokedExaminer(name, fp, done.seq, False)
        raise CaseError(f"examiner {name!r} ({fp[:16]}) was already revoked by event {done.seq}")
    if not set(signers) - {fp}:
        raise UsageError(
            f"{name!r} ({fp[:16]}) is the last examiner who may sign for case "
            f"{case.info.number!r}: revoking them would leave nobody to record anything",
            hint="add another examiner first: evidencekit case add-examiner CERT.pem",
        )
    event = record_event(
        case,
        identity,
        REVOKED,
        None,
        description=described(case, "examiner_revoked", name=name),
        reason=reason,
        details={"name": name, "fingerprint": fp},
    )
    case.mark_revoked(fp, event.seq, event.event.time)
    return RevokedExaminer(name, fp, event.seq, True)


def _find_pinned(who: str, pinned: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """The pinned examiner `who` names: exactly by display name (NFC, case-insensitive), or by
    a fingerprint prefix of 8 or more hex digits.

    Raises:
        UsageError: nobody or several match.
    """
    text = unicodedata.normalize("NFC", who.strip())
    key = text.casefold()
    hexkey = key.removeprefix("sha256:").replace(":", "")
    by_name = [p for p in pinned if unicodedata.normalize("NFC", p[0]).casefold() == key]
    by_fp = (
        [p for p in pinned if p[1].startswith(hexkey)]
        if len(hexkey) >= 8 and all(c in "0123456789abcdef" for c in hexkey)
        else []
    )
    found = by_name or by_fp
    if len(found) != 1:
        raise UsageError(
            f"{len(found) or 'no'} pinned examiner(s) match {text!r}"
            if found
            else f"no pinned examiner matches {text!r}",
            hint="name them by certificate fingerprint (8+ hex digits); `evidencekit case show` "
            "lists them",
        )
    return found[0]
