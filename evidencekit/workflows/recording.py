"""Custody event recording as typed requests (issue 15: one request object per use case instead
of re-packing click keyword arguments): one frozen request type per custody command, and one
function, `record_custody`, that the command line and a lab's script both call.

Each request holds what the command's options hold, as typed (texts as given, participant SPECs
as `chain.parties.parse_spec` reads them); `record_custody` resolves them (pinned examiners by
name or fingerprint, keyless parties by their document, the working copy, the open session),
records one event through `workflows.custody.record` and returns what the append committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evidencekit.case import Case
from evidencekit.chain.ledger import AppendResult
from evidencekit.chain.parties import Party
from evidencekit.errors import UsageError
from evidencekit.identity import Identity
from evidencekit.workflows.commit import Signer
from evidencekit.workflows.registration import DeviceDetails

PartyRole = Literal[
    "investigator",
    "officer",
    "examiner",
    "specialist",
    "clerk",
    "witness",
    "owner",
    "prosecutor",
    "court",
    "defence",
    "receiver",
]
"""A participant's role (`chain.parties.ROLES`)."""
SealState = Literal["intact", "damaged"]
Attachment = Literal["signed-record", "other"]
ExaminationKind = Literal["accessed", "analysed"]
EndKind = Literal["released", "returned", "destroyed"]


@dataclass(frozen=True, slots=True)
class Presence:
    """Who was present and in which seizure session (the `--participant` / `--session` block).

    Attributes:
        participants: participant SPECs (`role=…,name=…,cccd=…` or `role=…,key=EXAMINER`).
        session: the id of an open seizure session the event belongs to.
    """

    participants: tuple[str, ...] = ()
    session: str | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom an item goes to (`--to`, `--to-role`, `--to-id`): a pinned examiner by exact name or
    fingerprint prefix, or with `document` ("cccd:001203004567") a party who holds no key, then
    with a `role`."""

    name: str
    role: PartyRole | None = None
    document: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    """`custody register`: a seized item's first event, with photos and the device's details."""

    item_id: str
    description: str
    photos: tuple[Path, ...] = ()
    seal_number: str | None = None
    condition: str | None = None
    location: str | None = None
    device: DeviceDetails | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """`custody transfer`: hand the item over (only its current custodian, or with
    `override_reason`)."""

    item_id: str
    to: Recipient
    purpose: str
    location: str | None = None
    condition: str | None = None
    override_reason: str | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class ReceiveRequest:
    """`custody receive`: acknowledge receipt, signed by the receiving examiner."""

    item_id: str
    location: str | None = None
    condition: str | None = None
    override_reason: str | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class NoteRequest:
    """`custody note`: a note about an item, or about the case (`item_id` None)."""

    item_id: str | None
    text: str
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class ExamineRequest:
    """`custody access|analyse`: an examination, on a working copy (`working_copy`: an item id or
    a path) or, with `on_original` (why), on the original."""

    item_id: str
    kind: ExaminationKind
    purpose: str
    location: str | None = None
    working_copy: str | None = None
    on_original: str | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class EndRequest:
    """`custody release|return|destroy`: the item's last event."""

    item_id: str
    kind: EndKind
    reason: str
    to: Recipient | None = None
    location: str | None = None
    override_reason: str | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class SealApplyRequest:
    """`custody seal-apply`: the item was physically sealed (niêm phong)."""

    item_id: str
    seal_numbers: tuple[str, ...]
    method: str
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class SealOpenRequest:
    """`custody seal-open`: its physical seal was opened (mở niêm phong), found `seal_state`."""

    item_id: str
    seal_numbers: tuple[str, ...]
    seal_state: SealState
    reason: str
    state_note: str | None = None
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class ResealRequest:
    """`custody reseal`: sealed again (niêm phong lại), replacing the opened seals."""

    item_id: str
    seal_numbers: tuple[str, ...]
    replaces: tuple[str, ...]
    method: str
    presence: Presence = field(default_factory=Presence)


@dataclass(frozen=True, slots=True)
class SessionOpenRequest:
    """`custody session open`: a seizure session begins (the Biên bản's frame)."""

    session: str
    place: str
    agency: str
    record_number: str | None = None
    legal_basis: tuple[str, ...] = ()
    participants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SessionCloseRequest:
    """`custody session close`: it ends; `refusals` are (participant SPEC or `name=…`, reason)
    of those who refused to sign."""

    session: str
    refusals: tuple[tuple[str, str], ...] = ()
    statements: str | None = None


@dataclass(frozen=True, slots=True)
class AttachRequest:
    """`custody attach`: a document kept with the item (hashed; the scanned signed record)."""

    item_id: str
    file: Path
    what: Attachment
    note: str | None = None
    presence: Presence = field(default_factory=Presence)


CustodyRequest = (
    RegisterRequest
    | TransferRequest
    | ReceiveRequest
    | NoteRequest
    | ExamineRequest
    | EndRequest
    | SealApplyRequest
    | SealOpenRequest
    | ResealRequest
    | SessionOpenRequest
    | SessionCloseRequest
    | AttachRequest
)
"""Every custody event a person records, as a request to `record_custody`."""


def recipient(case: Case, to: Recipient) -> str | Party:
    """The counterpart `to` names: a pinned examiner (by name or fingerprint; with a role,
    bound by fingerprint now), or, with a document, a party who holds no key.

    Raises:
        UsageError: a document without a role, an unknown examiner, a malformed document.
    """
    from evidencekit.chain import parties
    from evidencekit.workflows.custody import resolve_party

    if to.document is not None:
        if to.role is None:
            raise UsageError(
                "a recipient who holds no key needs --to-role (witness, court, owner, …)"
            )
        return parties.keyless(to.name, to.role, to.document)
    if to.role is None:
        return to.name
    found = resolve_party(case, to.name)
    return parties.examiner(found.name, found.fingerprint or "", to.role)


def check_request(case: Case, request: CustodyRequest) -> None:
    """What can be checked of `request` before the examiner's key is unlocked: ids, the
    participants (pinned examiners resolved, documents well formed), the session id, the
    recipient, the device's details. The ledger's rules are applied when it is recorded.

    Raises:
        UsageError: the request is malformed.
    """
    from evidencekit.ids import check_item_id
    from evidencekit.workflows import seizure

    item = getattr(request, "item_id", None)
    if isinstance(item, str):
        check_item_id(item)
    presence = getattr(request, "presence", None)
    if isinstance(presence, Presence):
        seizure.event_details(case, presence.participants, presence.session)
    if isinstance(request, SessionOpenRequest):
        seizure.check_session_id(request.session)
        seizure.participant_list(case, request.participants)
    if isinstance(request, SessionCloseRequest):
        seizure.check_session_id(request.session)
    to = getattr(request, "to", None)
    if isinstance(to, Recipient):
        recipient(case, to)
    if isinstance(request, RegisterRequest) and request.device is not None:
        request.device.to_details()


def record_custody(
    case: Case,
    identity: Identity | Signer,
    request: CustodyRequest,
    *,
    on_info: Callable[[str], None] | None = None,
) -> AppendResult:
    """Record the custody event `request` describes and return what the append committed.

    `identity` may be a `workflows.commit.Signer`: it is unlocked (its passphrase asked for)
    only once `check_request` has passed. `on_info` hears what `register` and `attach` settle
    first (an earlier interrupted attempt of the same item finished or set aside).

    Raises:
        UsageError: a malformed request (an item id, a participant, a session id, a recipient).
        CustodyError: the custody rules refuse it (nothing is recorded).
        CaseError: a photo or document cannot be kept in the case.
        IntegrityError: the ledger is missing or does not verify.
    """
    from evidencekit.workflows import seizure
    from evidencekit.workflows.custody import list_events, record

    check_request(case, request)
    if isinstance(identity, Signer):
        identity = identity.unlock()
    match request:
        case RegisterRequest():
            from evidencekit.ids import check_item_id
            from evidencekit.workflows.registration import register_item

            check_item_id(request.item_id)
            p = request.presence
            return register_item(
                case,
                identity,
                request.item_id,
                description=request.description,
                photos=request.photos,
                seal_number=request.seal_number,
                condition=request.condition,
                location=request.location,
                details=seizure.event_details(case, p.participants, p.session) or None,
                device=request.device,
                on_info=on_info,
            )
        case TransferRequest():
            p = request.presence
            return record(
                case,
                identity,
                "transferred",
                request.item_id,
                counterpart=recipient(case, request.to),
                purpose=request.purpose,
                location=request.location,
                condition=request.condition,
                override=request.override_reason,
                details=seizure.event_details(case, p.participants, p.session) or None,
            )
        case ReceiveRequest():
            p = request.presence
            details = seizure.event_details(case, p.participants, p.session) or None
            sender = None
            for ev in reversed(list_events(case, request.item_id)):
                if ev["kind"] == "transferred":
                    sender = ev["actor"]["fingerprint"]
                    break
            return record(
                case,
                identity,
                "received",
                request.item_id,
                counterpart=sender,
                location=request.location,
                condition=request.condition,
                override=request.override_reason,
                details=details,
            )
        case NoteRequest():
            p = request.presence
            return record(
                case,
                identity,
                "note",
                request.item_id,
                note=request.text,
                details=seizure.event_details(case, p.participants, p.session) or None,
            )
        case ExamineRequest():
            p = request.presence
            return seizure.examine(
                case,
                identity,
                request.kind,
                request.item_id,
                purpose=request.purpose,
                location=request.location,
                working=request.working_copy,
                on_original=request.on_original,
                participants=p.participants,
                session=p.session,
            )
        case EndRequest():
            p = request.presence
            return record(
                case,
                identity,
                request.kind,
                request.item_id,
                reason=request.reason,
                counterpart=None if request.to is None else recipient(case, request.to),
                location=request.location,
                override=request.override_reason,
                details=seizure.event_details(case, p.participants, p.session) or None,
            )
        case SealApplyRequest():
            return seizure.apply_seal(
                case,
                identity,
                request.item_id,
                seal_numbers=request.seal_numbers,
                method=request.method,
                participants=request.presence.participants,
                session=request.presence.session,
            )
        case SealOpenRequest():
            return seizure.open_seal(
                case,
                identity,
                request.item_id,
                seal_numbers=request.seal_numbers,
                seal_state=request.seal_state,
                state_note=request.state_note,
                reason=request.reason,
                participants=request.presence.participants,
                session=request.presence.session,
            )
        case ResealRequest():
            return seizure.reseal(
                case,
                identity,
                request.item_id,
                seal_numbers=request.seal_numbers,
                replaces=request.replaces,
                method=request.method,
                participants=request.presence.participants,
                session=request.presence.session,
            )
        case SessionOpenRequest():
            return seizure.open_session(
                case,
                identity,
                request.session,
                place=request.place,
                agency=request.agency,
                record_number=request.record_number,
                legal_basis=request.legal_basis,
                participants=request.participants,
            )
        case SessionCloseRequest():
            return seizure.close_session(
                case,
                identity,
                request.session,
                refusals=request.refusals,
                statements=request.statements,
            )
        case AttachRequest():
            from evidencekit.ids import check_item_id
            from evidencekit.workflows.attach import attach_document

            check_item_id(request.item_id)
            return attach_document(
                case,
                identity,
                request.item_id,
                request.file,
                what=request.what,
                note=request.note,
                participants=request.presence.participants,
                session=request.presence.session,
                on_info=on_info,
            )
    raise UsageError(f"not a custody request: {type(request).__name__}")


__all__ = [
    "AttachRequest",
    "Attachment",
    "CustodyRequest",
    "EndKind",
    "EndRequest",
    "ExaminationKind",
    "ExamineRequest",
    "NoteRequest",
    "PartyRole",
    "Presence",
    "ReceiveRequest",
    "Recipient",
    "RegisterRequest",
    "ResealRequest",
    "SealApplyRequest",
    "SealOpenRequest",
    "SealState",
    "SessionCloseRequest",
    "SessionOpenRequest",
    "TransferRequest",
    "check_request",
    "recipient",
    "record_custody",
]
