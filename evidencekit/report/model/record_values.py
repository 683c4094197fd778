"""The Biên bản (seizure record) as plain frozen values: what `render.bienban` draws.

Built by `record_items` (one item's part) and `record` (the frame: place, times, participants).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from evidencekit.chain.details import DeviceDifference
from evidencekit.chain.parties import Party
from evidencekit.report.model.values import Artifact, Pairs, Photo

CHARACTERISTICS = ("make", "model", "serial", "capacity", "transport", "firmware")
"""The characteristics a record lists for a device, in this order (Art. 133: "đặc điểm")."""


@dataclass(frozen=True, slots=True)
class SealStep:
    """One physical-seal event of an item: applied, opened or re-sealed."""

    kind: str
    time: dt.datetime
    actor: str
    seal_numbers: tuple[str, ...]
    replaces: tuple[str, ...] = ()
    method: str = ""
    state: str | None = None
    state_note: str = ""
    reason: str = ""
    participants: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class Examination:
    """An `analysed` / `accessed` event: on a working copy (Art. 107) or, with a reason, on the
    original."""

    kind: str
    time: dt.datetime
    actor: str
    purpose: str
    working_copy: str | None
    working_sha256: str | None
    on_original: str | None


@dataclass(frozen=True, slots=True)
class AttachedDocument:
    """A file attached to an item (`document_attached`): e.g. the scanned signed record."""

    time: dt.datetime
    what: str
    name: str
    size: int | None
    sha256: str


@dataclass(frozen=True, slots=True)
class HandOver:
    """A transfer of an item (who to whom, why, who witnessed it)."""

    time: dt.datetime
    giver: str
    receiver: str
    purpose: str
    location: str
    participants: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordItem:
    """One item as the record describes it."""

    item_id: str
    description: str
    seized: bool = False
    """A physical thing was seized: the item was registered or physically sealed (else only
    data were collected)."""
    evidence_number: str = ""
    condition: str = ""
    location: str = ""
    seal_number: str = ""
    characteristics: Pairs = ()
    capacity: int | None = None
    photos: tuple[Photo, ...] = ()
    seals: tuple[SealStep, ...] = ()
    acquired_at: dt.datetime | None = None
    acquired_by: str = ""
    copy_kind: str = ""
    copies: tuple[Artifact, ...] = ()
    content_digests: Pairs = ()
    status: str | None = None
    read_back: tuple[tuple[dt.datetime | None, bool | None, str], ...] = ()
    examinations: tuple[Examination, ...] = ()
    hand_overs: tuple[HandOver, ...] = ()
    documents: tuple[AttachedDocument, ...] = ()
    device_differences: tuple[DeviceDifference, ...] = ()
    """What the acquisition measured otherwise than the item was registered with (both are
    shown)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A participant who refused to sign, and why (recorded in `session_closed`)."""

    participant: Party
    reason: str


@dataclass(frozen=True, slots=True)
class SeizureRecord:
    """The whole Biên bản."""

    report_id: str
    lang: str
    generated: dt.datetime
    timezone: str
    case_number: str
    case_title: str
    agency: str
    examiner: str
    examiner_fingerprint: str
    tool_version: str
    session_id: str | None = None
    record_number: str | None = None
    place: str = ""
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    legal_basis: tuple[str, ...] = ()
    participants: tuple[Party, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    statements: str | None = None
    items: tuple[RecordItem, ...] = ()
    copies: int = 2
    signed: bool = True
    extra: dict[str, str] = field(default_factory=dict)

    def refusal_of(self, party: Party) -> Refusal | None:
        """The recorded refusal of `party` to sign, if any."""
        for r in self.refusals:
            if party_key(r.participant) == party_key(party):
                return r
        return None


def party_key(p: Party) -> tuple[object, ...]:
    """Who a participant is: their key, else their name, role and document."""
    if p.fingerprint is not None:
        return ("fp", p.fingerprint)
    return ("doc", p.name, p.role, p.document_type, p.document_number)
