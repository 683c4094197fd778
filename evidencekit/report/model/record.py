"""The Biên bản (seizure record) model: one item, or one seizure session, as the record a
Vietnamese investigator files (Criminal Procedure Code 2015, arts. 107, 133, 178, 196).

Built from the ledger's typed events (`chain.events.Event`) and each item's parsed seal, never
from anything else: the place, start and end, agency, record number, legal basis and participants
come from the session's `session_opened` / `session_closed` events (or, for one item without a
session, from its own events); an item's characteristics from its `registered` event's device
facts and its acquisition's seal; its physical seals from `seal_applied`, `seal_opened` and
`resealed`; what was copied and its digests from the seal; the read-back from the recorded
verifications; examinations from `analysed` / `accessed` with the working copy they name.

Modules: `record_values` (the frozen values), `record_items` (one item's part), this one (the
frame: where, when, by and before whom).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evidencekit.chain import parties
from evidencekit.chain.events import Event
from evidencekit.chain.kinds import FIRST_KINDS
from evidencekit.chain.parties import Party
from evidencekit.report.model.readers import nfc
from evidencekit.report.model.record_items import _parties, _texts, record_item, registered_photos
from evidencekit.report.model.record_values import (
    CHARACTERISTICS,
    AttachedDocument,
    Examination,
    HandOver,
    RecordItem,
    Refusal,
    SealStep,
    SeizureRecord,
    party_key,
)


def _add(out: list[Party], more: Sequence[Party]) -> None:
    """Add participants not yet listed (the first record of a person wins: it is the fullest,
    from the session's opening)."""
    seen = {party_key(p) for p in out}
    for p in more:
        if party_key(p) not in seen:
            out.append(p)
            seen.add(party_key(p))


def session_items(events: Sequence[Event], session: str) -> list[str]:
    """The items whose first event (`registered`, or an acquisition, collection or seal made
    with `--session`) names `session` (in the ledger's order)."""
    first: dict[str, Event] = {}
    for e in events:
        if e.item_id is not None and e.item_id not in first:
            first[e.item_id] = e
    return [
        item
        for item, e in first.items()
        if e.kind in FIRST_KINDS and e.details.get("session") == session
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
    only item's first event — registered, acquired, collected, sealed — names one), else from the
    items' own events.

    The participants are those the session's opening names, the case's standing participants
    (its `case_opened` event's), and those of the events recorded in the session (without a
    session: every participant and keyless counterpart the items' events name), and the
    examiner who draws up the record when not yet among them.
    """
    mine = [e for e in events if e.item_id in items]
    if session is None:
        named = {
            e.details.get("session")
            for e in mine
            if e.kind in FIRST_KINDS and isinstance(e.details.get("session"), str)
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
    # the case's standing participants (`case init --participant`: the investigator, the unit)
    for e in events:
        if e.kind == "case_opened":
            _add(people, _parties(e.details.get("participants")))
    if opened is not None:
        d = opened.details
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
