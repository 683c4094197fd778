"""The Biên bản (seizure record) model: one item, or one seizure session, as the record a
Vietnamese investigator files (Criminal Procedure Code 2015, arts. 107, 133, 178, 196).

Built from the ledger's typed events (`chain.events.Event`) and each item's parsed seal, never
from anything else: the place, start and end, agency, record number, legal basis and participants
come from the session's `session_opened` / `session_closed` events (or, for one item without a
session, from its own events); an item's characteristics from its `registered` event's device
facts and its acquisition's seal; its physical seals from `seal_applied`, `seal_opened` and
`resealed`; what was copied and its digests from the seal; the read-back from the recorded
verifications; examinations from `analysed` / `accessed` with the working copy they name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evidencekit.chain import parties
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.hash.seal.document import Seal
from evidencekit.report.model.readers import _int, digest_pairs, nfc
from evidencekit.report.model.rows import _artifacts
from evidencekit.report.model.values import Artifact, Pairs, Photo

CHARACTERISTICS = ("make", "model", "serial", "capacity", "transport", "firmware")
"""The characteristics a record lists for a device, in this order (Art. 133: "đặc điểm")."""

_DEVICE_KEYS = {
    "make": ("make", "vendor", "manufacturer"),
    "model": ("model",),
    "serial": ("serial", "serial_number"),
    "capacity": ("capacity", "size"),
    "transport": ("transport",),
    "firmware": ("firmware",),
}


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
    copy_format: str = ""
    copies: tuple[Artifact, ...] = ()
    content_digests: Pairs = ()
    status: str | None = None
    read_back: tuple[tuple[dt.datetime | None, bool | None, str], ...] = ()
    examinations: tuple[Examination, ...] = ()
    hand_overs: tuple[HandOver, ...] = ()
    documents: tuple[AttachedDocument, ...] = ()


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
            if _key(r.participant) == _key(party):
                return r
        return None


def _key(p: Party) -> tuple[object, ...]:
    """Who a participant is: their key, else their name, role and document."""
    if p.fingerprint is not None:
        return ("fp", p.fingerprint)
    return ("doc", p.name, p.role, p.document_type, p.document_number)


def _parties(value: Any) -> tuple[Party, ...]:
    """The valid participant records of a `participants` list."""
    if not isinstance(value, list):
        return ()
    return tuple(
        Party.from_dict(p) for p in value if isinstance(p, dict) and parties.problem(p) is None
    )


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (nfc(value),)
    if isinstance(value, list):
        return tuple(nfc(v) for v in value if isinstance(v, str))
    return ()


def _add(out: list[Party], more: Sequence[Party]) -> None:
    """Add participants not yet listed (the first record of a person wins: it is the fullest,
    from the session's opening)."""
    seen = {_key(p) for p in out}
    for p in more:
        if _key(p) not in seen:
            out.append(p)
            seen.add(_key(p))


def session_items(events: Sequence[Event], session: str) -> list[str]:
    """The items whose `registered` event names `session` (in the ledger's order)."""
    return [
        e.item_id
        for e in events
        if e.kind == "registered" and e.item_id is not None and e.details.get("session") == session
    ]


def session_events(events: Sequence[Event], session: str) -> tuple[Event | None, Event | None]:
    """The `session_opened` and `session_closed` events of `session` (None when absent)."""
    opened = closed = None
    for e in events:
        if e.details.get("session") != session:
            continue
        if e.kind == "session_opened" and opened is None:
            opened = e
        elif e.kind == "session_closed" and closed is None:
            closed = e
    return opened, closed


def _device_facts(registered: Event | None, seal: Seal | None) -> tuple[Pairs, int | None]:
    """Make, model, serial, capacity… from the `registered` event's device facts (what the
    investigator read off the device), completed by what the acquisition read from it."""
    found: dict[str, str] = {}
    capacity: int | None = None
    sources: list[Mapping[str, Any]] = []
    if registered is not None:
        dev = registered.details.get("device")
        if isinstance(dev, Mapping):
            sources.append(dev)
        sources.append(registered.details)
    if seal is not None:
        src = seal.facts.get("source")
        if isinstance(src, Mapping):
            ident = src.get("identity")
            if isinstance(ident, Mapping):
                sources.append(ident)
            sources.append({"size": src.get("size")})
        device = seal.facts.get("device")
        if isinstance(device, Mapping):
            tools = device.get("tools")
            for tool in tools if isinstance(tools, list) else ():
                summary = tool.get("summary") if isinstance(tool, Mapping) else None
                if isinstance(summary, Mapping):
                    sources.append(summary)
    for name in CHARACTERISTICS:
        value = _first(sources, _DEVICE_KEYS[name])
        if value is None:
            continue
        if name == "capacity" and _int(value) is not None:
            capacity = _int(value)  # bytes: shown grouped and in words by the renderer
        else:
            found[name] = nfc(value).strip()  # as typed or read ("64 GB")
    return tuple((k, found[k]) for k in CHARACTERISTICS if k in found), capacity


def registered_photos(registered: Event | None) -> list[Photo]:
    """The photos a `registered` event records (`details.photos`), without their bytes."""
    out: list[Photo] = []
    listed = registered.details.get("photos") if registered is not None else None
    for p in listed if isinstance(listed, list) else ():
        if isinstance(p, Mapping) and isinstance(p.get("sha256"), str):
            out.append(Photo(nfc(p.get("name", "")), _int(p.get("size")), p["sha256"]))
    return out


def _first(sources: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> Any:
    """The first plain value under one of `keys` in the first source that has one."""
    for src in sources:
        for key in keys:
            value = src.get(key)
            if value is not None and value != "" and not isinstance(value, Mapping | list | bool):
                return value
    return None


def record_item(item_id: str, events: Sequence[Event], seal: Seal | None) -> RecordItem:
    """One item's part of the record, from its events (in ledger order) and its seal."""
    mine = [e for e in events if e.item_id == item_id]
    registered = next((e for e in mine if e.kind == "registered"), None)
    acquisition = next((e for e in mine if e.kind in ("acquired", "collected", "sealed")), None)
    characteristics, capacity = _device_facts(registered, seal)
    photos = registered_photos(registered)
    seals: list[SealStep] = []
    exams: list[Examination] = []
    hand_overs: list[HandOver] = []
    documents: list[AttachedDocument] = []
    read_back: list[tuple[dt.datetime | None, bool | None, str]] = []
    if seal is not None:
        at_acq = seal.facts.get("verification")
        if isinstance(at_acq, Mapping) and at_acq:
            ok = all(str(v) in ("match", "ok", "True") for v in at_acq.values() if v is not None)
            read_back.append((seal.finished, ok, nfc(seal.examiner_name)))
    for e in mine:
        d = e.details
        who = nfc(e.actor.name)
        if e.kind in ("seal_applied", "seal_opened", "resealed"):
            seals.append(
                SealStep(
                    kind=e.kind,
                    time=e.time,
                    actor=who,
                    seal_numbers=_texts(d.get("seal_numbers")),
                    replaces=_texts(d.get("replaces")),
                    method=nfc(d.get("method") or ""),
                    state=d.get("seal_state") if isinstance(d.get("seal_state"), str) else None,
                    state_note=nfc(d.get("state_note") or ""),
                    reason=nfc(d.get("reason") or ""),
                    participants=_parties(d.get("participants")),
                )
            )
        elif e.kind in ("analysed", "accessed"):
            wc = d.get("working_copy")
            name = sha = None
            if isinstance(wc, Mapping):
                name = wc.get("item") or wc.get("id") or wc.get("path")
                sha = wc.get("sha256") if isinstance(wc.get("sha256"), str) else None
            on_original = d.get("on_original")
            exams.append(
                Examination(
                    kind=e.kind,
                    time=e.time,
                    actor=who,
                    purpose=nfc(e.purpose or ""),
                    working_copy=None if name is None else nfc(name),
                    working_sha256=sha,
                    on_original=nfc(on_original) if isinstance(on_original, str) else None,
                )
            )
        elif e.kind == "transferred" and e.counterpart is not None:
            hand_overs.append(
                HandOver(
                    time=e.time,
                    giver=who,
                    receiver=nfc(e.counterpart.name),
                    purpose=nfc(e.purpose or ""),
                    location=nfc(e.location or ""),
                    participants=_parties(d.get("participants")),
                )
            )
        elif e.kind == "verified":
            result = d.get("ok")
            read_back.append((e.time, result if isinstance(result, bool) else None, who))
        elif e.kind == "document_attached":
            f = d.get("file")
            if isinstance(f, Mapping) and isinstance(f.get("sha256"), str):
                documents.append(
                    AttachedDocument(
                        e.time,
                        nfc(d.get("what") or ""),
                        nfc(f.get("name") or ""),
                        _int(f.get("size")),
                        f["sha256"],
                    )
                )
    description = ""
    for source in (registered, seal):
        text = getattr(source, "description", None)
        if text:
            description = nfc(text)
            break
    options = seal.facts.get("options") if seal is not None else None
    evidence_number = options.get("evidence_number") if isinstance(options, Mapping) else None
    combined = seal.combined if seal is not None else None
    return RecordItem(
        item_id=item_id,
        description=description,
        seized=registered is not None or bool(seals),
        evidence_number=nfc(evidence_number) if isinstance(evidence_number, str) else "",
        condition=nfc(registered.condition or "") if registered is not None else "",
        location=nfc(registered.location or "") if registered is not None else "",
        seal_number=nfc(registered.seal_number or "") if registered is not None else "",
        characteristics=characteristics,
        capacity=capacity,
        photos=tuple(photos),
        seals=tuple(seals),
        acquired_at=acquisition.time if acquisition is not None else None,
        acquired_by=nfc(acquisition.actor.name) if acquisition is not None else "",
        copy_kind=seal.kind if seal is not None else "",
        copy_format=(seal.facts.get("format") or "") if seal is not None else "",
        copies=_artifacts(seal.artifacts) if seal is not None else (),
        content_digests=digest_pairs(combined.digests) if combined is not None else (),
        status=seal.known_status if seal is not None else None,
        read_back=tuple(read_back),
        examinations=tuple(exams),
        hand_overs=tuple(hand_overs),
        documents=tuple(documents),
    )


@dataclass(frozen=True, slots=True)
class RecordFrame:
    """Where, when and by whom: the session's frame, or one item's."""

    session_id: str | None
    record_number: str | None
    place: str
    agency: str
    start: dt.datetime | None
    end: dt.datetime | None
    legal_basis: tuple[str, ...]
    participants: tuple[Party, ...]
    refusals: tuple[Refusal, ...]
    statements: str | None


def record_frame(
    events: Sequence[Event],
    items: Sequence[str],
    session: str | None,
    *,
    agency: str,
    examiner: Party | None,
) -> RecordFrame:
    """The record's frame: from `session`'s opening and closing events when given (or when the
    only item's `registered` event names one), else from the items' own events.

    The participants are those the session's opening names and those of the events recorded in
    the session (without a session: every participant and keyless counterpart the items' events
    name), and the examiner who draws up the record when not yet among them.
    """
    mine = [e for e in events if e.item_id in items]
    if session is None:
        named = {
            e.details.get("session")
            for e in mine
            if e.kind == "registered" and isinstance(e.details.get("session"), str)
        }
        if len(named) == 1:
            session = named.pop()
    opened, closed = session_events(events, session) if session is not None else (None, None)
    people: list[Party] = []
    refusals: list[Refusal] = []
    statements: str | None = None
    legal: tuple[str, ...] = ()
    place = ""
    number: str | None = None
    if opened is not None:
        d = opened.details
        _add(people, _parties(d.get("participants")))
        legal = _texts(d.get("legal_basis"))
        place = nfc(d.get("place") or opened.location or "")
        agency = nfc(d.get("agency") or agency)
        number = nfc(d["record_number"]) if isinstance(d.get("record_number"), str) else None
    if closed is not None:
        d = closed.details
        for r in d.get("refusals") or []:
            if isinstance(r, Mapping) and isinstance(r.get("participant"), dict):
                got = _parties([r["participant"]])
                if got:
                    refusals.append(Refusal(got[0], nfc(r.get("reason") or "")))
                    _add(people, got)
        if isinstance(d.get("statements"), str):
            statements = nfc(d["statements"])
    # a session's record names those present at it: its opening's participants and those of
    # the events recorded in it; one item's record, everyone its events name
    present = [e for e in mine if e.details.get("session") == session] if opened else mine
    for e in present:
        _add(people, _parties(e.details.get("participants")))
        cp = e.counterpart
        if (
            cp is not None
            and not cp.legacy
            and cp.keyless
            and parties.problem(cp.to_dict()) is None
        ):
            _add(people, [cp])
    if examiner is not None and all(p.fingerprint != examiner.fingerprint for p in people):
        people.insert(0, examiner)
    if not place:
        place = next((nfc(e.location) for e in mine if e.location), "")
    if opened is not None:
        start: dt.datetime | None = opened.time
        end = closed.time if closed is not None else None
    else:
        times = [e.time for e in mine]
        start = min(times) if times else None
        end = max(times) if times else None
    return RecordFrame(
        session_id=session,
        record_number=number,
        place=place,
        agency=agency,
        start=start,
        end=end,
        legal_basis=legal,
        participants=tuple(people),
        refusals=tuple(refusals),
        statements=statements,
    )


__all__ = [
    "CHARACTERISTICS",
    "AttachedDocument",
    "Examination",
    "HandOver",
    "RecordFrame",
    "RecordItem",
    "Refusal",
    "SealStep",
    "SeizureRecord",
    "record_frame",
    "record_item",
    "registered_photos",
    "session_events",
    "session_items",
]
