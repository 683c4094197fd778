"""The seizure record (issue 16): participants, seizure sessions, physical seals and examination
on working copies, recorded as custody events (`chain.details` holds their shape, `chain.rules`
what may follow what).

Each function records one event in the case's ledger (`workflows.custody.record`) and returns
what the append committed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from evidencekit.case import Case
from evidencekit.chain import parties
from evidencekit.chain.details import is_id
from evidencekit.chain.events import Event
from evidencekit.chain.ledger import AppendResult
from evidencekit.chain.parties import Party
from evidencekit.errors import CustodyError, EvidenceKitError, UsageError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import (
    list_events,
    open_ledger,
    record,
    resolve_party,
)


def participant(
    case: Case | None, spec: str, *, examiners: Sequence[tuple[str, str]] | None = None
) -> Party:
    """The participant a SPEC names (`chain.parties.parse_spec`): a pinned examiner (`key=` their
    name or fingerprint) or a person who holds no key, named with an identity document.

    `examiners` ((name, fingerprint) pairs) stand for the case's pinned examiners where the
    ledger does not exist yet (`case init`: its creator and the certificates it pins).

    Raises:
        UsageError: a malformed SPEC, no role, a keyless participant without a document, a key
            that is no pinned examiner's.
    """
    fields = parties.parse_spec(spec)
    role = fields.get("role")
    if not role:
        raise UsageError(
            f"participant {spec!r} has no role",
            hint="role=" + "|".join(parties.ROLES),
        )
    name = fields.get("name")
    if "key" in fields:
        if parties.spec_document(fields) is not None:
            raise UsageError(
                f"participant {spec!r}: a key holder is named by their certificate, "
                "without an identity document"
            )
        found = (
            resolve_party(case, fields["key"])
            if examiners is None and case is not None
            else _among(examiners or (), fields["key"])
        )
        if name and unicodedata.normalize("NFC", name) != found.name:
            raise UsageError(
                f"participant {spec!r}: the key {fields['key']!r} is {found.name!r}'s, not "
                f"{name!r}'s"
            )
        party = parties.examiner(found.name, found.fingerprint or "", role)
        return parties.with_details(party, fields)
    if not name:
        raise UsageError(f"participant {spec!r} has no name")
    doc = parties.spec_document(fields)
    if doc is None:
        raise UsageError(
            f"participant {name!r} holds no key: give their identity document "
            "(cccd=…, cmnd=…, passport=…, other=…) or key=EXAMINER for a pinned examiner",
        )
    return parties.keyless(
        name,
        role,
        doc,
        year_of_birth=parties.spec_year(fields),
        address=fields.get("address"),
        unit=fields.get("unit"),
    )


def _among(examiners: Sequence[tuple[str, str]], key: str) -> Party:
    """The examiner of `examiners` that `key` names: exact name (NFC), else a fingerprint prefix
    of 8+ hex digits (as `workflows.custody.resolve_party` over a case's pinned examiners).

    Raises:
        UsageError: none or several.
    """
    text = unicodedata.normalize("NFC", key.strip())
    hexkey = text.lower().removeprefix("sha256:").replace(":", "")
    by_fp = len(hexkey) >= 8 and all(c in "0123456789abcdef" for c in hexkey)
    found = {fp: n for n, fp in examiners if n == text} or {
        fp: n for n, fp in examiners if by_fp and fp.startswith(hexkey)
    }
    if len(found) != 1:
        raise UsageError(
            f"{len(found)} examiner(s) pinned by the case match key={text!r}",
            hint="name yourself or a --pin certificate's examiner, by exact name or "
            "fingerprint (8+ hex digits)",
        )
    fp, name = next(iter(found.items()))
    return parties.examiner(name, fp, None)


def participant_list(
    case: Case | None,
    specs: Sequence[str],
    *,
    examiners: Sequence[tuple[str, str]] | None = None,
) -> list[dict[str, object]]:
    """The participants of `specs`, as recorded in `details.participants` (`examiners`: as for
    `participant`).

    Raises:
        UsageError: one of them is malformed, or one person is named twice.
    """
    out = [participant(case, s, examiners=examiners).to_dict() for s in specs]
    seen = set()
    for p in out:
        key = (p["name"], p["fingerprint"], str(p.get("document")))
        if key in seen:
            raise UsageError(f"participant {p['name']!r} is named twice")
        seen.add(key)
    return out


def event_details(
    case: Case,
    participants: Sequence[str] = (),
    session: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    """`details` of an event that names participants and a session (when given) plus `more`.

    Raises:
        UsageError: a malformed participant or session id.
    """
    out: dict[str, Any] = dict(more)
    if participants:
        out["participants"] = participant_list(case, participants)
    if session is not None:
        out["session"] = check_session_id(session)
    return out


def presence(
    case: Case, participants: Sequence[str] = (), session: str | None = None
) -> dict[str, Any]:
    """What `--participant` and `--session` add to the `details` of an item-writing command's
    event (`acquire disk`, `acquire files`, `seal`, `convert`), worked out before any work: the
    participants resolved, the session open. The custody rules check again when the event is
    appended (its time must fall in the session: a session closed meanwhile refuses it).

    Raises:
        UsageError: a malformed participant or session id.
        CustodyError: the session was never opened, or is closed.
    """
    out = event_details(case, participants, session)
    if session is not None:
        check_session_open(case, session)
    return out


def check_session_open(case: Case, session: str) -> None:
    """Raises CustodyError unless seizure session `session` is open (opened, not closed), with
    the custody rules' wording (`chain.rules`)."""
    opened = closed = False
    with open_ledger(case) as ledger:
        case_events = ledger.events(None)  # sessions are case-level: not the items' events
    for se in case_events:
        if se.event.details.get("session") != session:
            continue
        opened = opened or se.event.kind == "session_opened"
        closed = closed or se.event.kind == "session_closed"
    if not opened:
        raise CustodyError(
            f"seizure session {session!r} is not open: nothing was done",
            hint=f"open it first: evidencekit custody session open {session} --place …",
        )
    if closed:
        raise CustodyError(
            f"seizure session {session!r} is closed: nothing was done",
            hint="run it without --session, or in a new session",
        )


def check_session_id(session: str) -> str:
    """Raises UsageError unless `session` is a session id (shaped like an item id)."""
    if not is_id(session):
        raise UsageError(
            f"invalid session id {session!r}",
            hint="use 1-64 ASCII letters, digits, '.', '_' or '-', not starting with '.'",
        )
    return session


def _texts(values: Sequence[str], what: str) -> list[str]:
    out = [unicodedata.normalize("NFC", v.strip()) for v in values]
    if any(not v for v in out):
        raise UsageError(f"an empty {what}")
    if len(set(out)) != len(out):
        raise UsageError(f"a {what} is given twice")
    return out


def _text(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    out = unicodedata.normalize("NFC", value.strip())
    if not out:
        raise UsageError(f"the {what} is empty")
    return out


# -- sessions -----------------------------------------------------------------------------------


def open_session(
    case: Case,
    identity: Identity,
    session: str,
    *,
    place: str,
    agency: str,
    record_number: str | None = None,
    legal_basis: Sequence[str] = (),
    participants: Sequence[str] = (),
) -> AppendResult:
    """Open seizure session `session` (a `session_opened` event; its time is the start).

    Raises:
        UsageError: a malformed value. CustodyError: the session was opened before.
    """
    details = {
        "session": check_session_id(session),
        "place": _text(place, "place"),
        "agency": _text(agency, "agency"),
        "record_number": _text(record_number, "record number"),
        "legal_basis": _texts(legal_basis, "legal basis"),
        "participants": participant_list(case, participants),
    }
    return record(case, identity, "session_opened", None, details=details)


def session_participants(case: Case, session: str) -> list[dict[str, Any]]:
    """The participants named when `session` was opened (empty when it was not)."""
    with open_ledger(case) as ledger:
        case_events = ledger.events(None)  # sessions are case-level
    for se in case_events:
        d = se.event.details
        if se.event.kind == "session_opened" and d.get("session") == session:
            return list(d.get("participants") or [])
    return []


def session_events(case: Case, session: str) -> list[dict[str, Any]]:
    """The events of seizure session `session`, in ledger order: its `session_opened`, every
    event naming it (`details.session`: items registered in it, their seals, …) and its
    `session_closed` when it is closed (what a Biên bản of the session renders). Empty when
    no such session was opened.

    Raises:
        UsageError: not a session id. IntegrityError: the ledger cannot be read.
    """
    check_session_id(session)
    out = [e for e in list_events(case) if (e.get("details") or {}).get("session") == session]
    return out if out and out[0]["kind"] == "session_opened" else []


def _refusing(case: Case, session: str, spec: str) -> dict[str, Any]:
    """Who refuses to sign: a full participant SPEC, or `name=…` (with `role=`) naming one of
    the session's participants."""
    fields = parties.parse_spec(spec)
    if set(fields) <= {"name", "role"} and fields.get("name"):
        name = unicodedata.normalize("NFC", fields["name"])
        found = [
            p
            for p in session_participants(case, session)
            if p.get("name") == name and fields.get("role") in (None, p.get("role"))
        ]
        if len(found) == 1:
            return found[0]
        raise UsageError(
            f"{len(found) or 'no'} participant(s) of session {session!r} named {name!r}",
            hint="give the full participant (role=…,name=…,cccd=…)",
        )
    return participant(case, spec).to_dict()


def close_session(
    case: Case,
    identity: Identity,
    session: str,
    *,
    refusals: Sequence[tuple[str, str]] = (),
    statements: str | None = None,
) -> AppendResult:
    """Close seizure session `session` (a `session_closed` event; its time is the end), with
    who refused to sign and why (`refusals`: (participant SPEC, reason)) and the statements.

    Raises:
        UsageError: a malformed value. CustodyError: the session is not open.
    """
    check_session_id(session)
    details = {
        "session": session,
        "refusals": [
            {"participant": _refusing(case, session, spec), "reason": _text(reason, "reason")}
            for spec, reason in refusals
        ],
        "statements": _text(statements, "statement"),
    }
    return record(case, identity, "session_closed", None, details=details)


# -- physical seals -----------------------------------------------------------------------------


def apply_seal(
    case: Case,
    identity: Identity,
    item: str,
    *,
    seal_numbers: Sequence[str],
    method: str,
    participants: Sequence[str] = (),
    session: str | None = None,
) -> AppendResult:
    """Record that `item` was physically sealed (niêm phong) with `seal_numbers`.

    Raises:
        UsageError: no seal number, or a malformed value. CustodyError: the rules refuse.
    """
    if not seal_numbers:
        raise UsageError("give the number of the seal (--seal-number)")
    details = {
        "seal_numbers": _texts(seal_numbers, "seal number"),
        "method": _text(method, "sealing method"),
        "participants": participant_list(case, participants),
        "session": None if session is None else check_session_id(session),
    }
    return record(case, identity, "seal_applied", item, details=details)


def open_seal(
    case: Case,
    identity: Identity,
    item: str,
    *,
    seal_numbers: Sequence[str],
    seal_state: str,
    reason: str,
    state_note: str | None = None,
    participants: Sequence[str] = (),
    session: str | None = None,
) -> AppendResult:
    """Record that the physical seal(s) `seal_numbers` of `item` were opened (mở niêm phong),
    in `seal_state` ("intact" or "damaged").

    Raises:
        UsageError: a malformed value. CustodyError: the seal is not applied (the rules).
    """
    from evidencekit.chain.details import SEAL_STATES

    if not seal_numbers:
        raise UsageError("give the number of the seal opened (--seal-number)")
    if seal_state not in SEAL_STATES:
        raise UsageError(f"seal state {seal_state!r} is not one of {', '.join(SEAL_STATES)}")
    details: dict[str, Any] = {
        "seal_numbers": _texts(seal_numbers, "seal number"),
        "seal_state": seal_state,
        "state_note": _text(state_note, "state note"),
        "reason": _text(reason, "reason"),
        "participants": participant_list(case, participants),
    }
    if session is not None:
        details["session"] = check_session_id(session)
    return record(case, identity, "seal_opened", item, details=details)


def reseal(
    case: Case,
    identity: Identity,
    item: str,
    *,
    seal_numbers: Sequence[str],
    replaces: Sequence[str],
    method: str,
    participants: Sequence[str] = (),
    session: str | None = None,
) -> AppendResult:
    """Record that `item` was sealed again (niêm phong lại) with `seal_numbers`, replacing the
    opened seals `replaces`.

    Raises:
        UsageError: a malformed value. CustodyError: a replaced seal is not open (the rules).
    """
    if not seal_numbers or not replaces:
        raise UsageError("give the new seal (--seal-number) and the opened one (--replaces)")
    details: dict[str, Any] = {
        "seal_numbers": _texts(seal_numbers, "seal number"),
        "replaces": _texts(replaces, "replaced seal number"),
        "method": _text(method, "sealing method"),
        "participants": participant_list(case, participants),
    }
    if session is not None:
        details["session"] = check_session_id(session)
    return record(case, identity, "resealed", item, details=details)


# -- examination on working copies --------------------------------------------------------------


def working_copy(case: Case, item: str, ref: str) -> dict[str, Any]:
    """What `--working-copy ITEM_OR_PATH` names: another item of the case (by id; its SHA-256
    is its acquisition's) or a file (hashed now).

    Raises:
        UsageError: it names the item itself, an item without a SHA-256, or nothing.
    """
    from evidencekit.hash.multihash import hash_file

    if ref == item:
        raise UsageError(
            f"the working copy of {item!r} cannot be {item!r} itself",
            hint="name a copy: another item (converted or copied image) or the copy's path",
        )
    if is_id(ref):
        with open_ledger(case) as ledger:
            events = ledger.events(ref)
        digests = [
            e.event.digests["sha256"]
            for e in events
            if e.event.kind in ("acquired", "collected", "sealed", "converted")
            and "sha256" in e.event.digests
        ]
        if events:
            if not digests:
                raise UsageError(
                    f"working copy {ref!r} is an item without a SHA-256 digest in the ledger",
                    hint="name an acquired, collected or converted item, or the copy's path",
                )
            return {"item": ref, "path": None, "sha256": digests[-1]}
    path = Path(ref)
    if not path.is_file():
        raise UsageError(
            f"working copy {ref!r} is neither an item of case {case.info.number!r} nor a file",
            hint="--working-copy ITEM (another item) or PATH (the copy's image file)",
        )
    try:
        sha = hash_file(path, ("sha256",)).digests["sha256"]
    except (OSError, EvidenceKitError) as exc:
        raise UsageError(f"cannot read working copy {ref!r}: {exc}") from exc
    return {"item": None, "path": str(path.resolve()), "sha256": sha}


CONTENT_KINDS = frozenset({"acquired", "collected", "sealed", "converted"})
"""The events whose digests are an item's content (its image, container or copy)."""


def copy_problem(events: Sequence[Event], item: str, wc: Mapping[str, Any]) -> str | None:
    """Why the working copy an examination event of `item` names is not shown, by the ledger
    `events`, to be a copy of `item` (None: it is). It is when it is an item derived from
    `item` (`details.derived_from`, through any number of conversions), or when its SHA-256 is
    one the ledger records for `item` or an item derived from it (a byte-for-byte copy of the
    acquired image, of the collected container). Anything else — an unrelated item, a file
    whose digest nothing recorded — could be any data, and an analysis on it proves nothing
    about the original (Art. 107 BLTTHS 2015)."""
    parent: dict[str, str] = {}
    for e in events:
        src = e.details.get("derived_from") if isinstance(e.details, Mapping) else None
        if e.item_id is not None and isinstance(src, str) and e.kind in CONTENT_KINDS:
            parent.setdefault(e.item_id, src)

    def descends(other: str) -> bool:
        seen = {other}
        while other in parent:
            other = parent[other]
            if other == item:
                return True
            if other in seen:
                return False
            seen.add(other)
        return False

    def digests(of: set[str]) -> set[str]:
        return {
            sha
            for e in events
            if e.item_id in of and e.kind in CONTENT_KINDS
            for sha in [e.digests.get("sha256")]
            if isinstance(sha, str)
        }

    family = {item} | {i for i in parent if descends(i)}
    ref = wc.get("item")
    if isinstance(ref, str) and wc.get("sha256") not in digests({ref}):
        # the event states the digest of the item it names: it must be that item's (an event
        # written past the command could pair another exhibit with the original's digest)
        return (
            f"working copy item {ref!r} is stated with SHA-256 {str(wc.get('sha256'))[:16]}…, "
            f"which the ledger does not record for {ref!r}"
        )
    if isinstance(ref, str) and ref != item and ref in family:
        return None
    if wc.get("sha256") in digests(family):
        return None
    named = f"item {ref!r}" if isinstance(ref, str) else f"file {wc.get('path')!r}"
    return (
        f"working copy {named} (SHA-256 {str(wc.get('sha256'))[:16]}…) is not shown to be a "
        f"copy of {item!r}: not derived from it, and its SHA-256 is none the ledger records "
        f"for {item!r} or its copies"
    )


ExaminationKind = Literal["accessed", "analysed"]
"""The kinds `examine` records (`chain.kinds.EXAMINATION_KINDS`)."""


def examine(
    case: Case,
    identity: Identity,
    kind: ExaminationKind,
    item: str,
    *,
    purpose: str,
    location: str | None = None,
    working: str | None = None,
    on_original: str | None = None,
    participants: Sequence[str] = (),
    session: str | None = None,
) -> AppendResult:
    """Record an `accessed` or `analysed` event of `item`, naming the working copy used
    (`working`: an item id or a path) or why the original itself was examined (`on_original`).

    Raises:
        UsageError: an original acquired image without either (Art. 107 BLTTHS: examination is
            done on copies), or both; a bad working copy.
        CustodyError: the custody rules refuse.
    """
    if working is not None and on_original is not None:
        raise UsageError("give either --working-copy or --on-original, not both")
    details = event_details(case, participants, session)
    if working is not None:
        wc = details["working_copy"] = working_copy(case, item, working)
        with open_ledger(case) as ledger:
            events = [se.event for se in ledger.events()]
        why = copy_problem(events, item, wc)
        if why is not None:
            raise UsageError(
                why,
                hint=f"make the working copy with `evidencekit convert {item} --to raw --item "
                "NEW_ID` (or copy its image byte for byte) and name that",
            )
    elif on_original is not None:
        details["on_original"] = _text(on_original, "reason for examining the original")
    else:
        with open_ledger(case) as ledger:
            state = ledger.item_state(item)
        if state.acquired_by is not None and not state.derived:
            raise UsageError(
                f"{item!r} is an original acquired image: name the working copy examined "
                "(--working-copy ITEM_OR_PATH), or give --on-original REASON (Art. 107 "
                "BLTTHS 2015: examination is done on copies)"
            )
    return record(
        case, identity, kind, item, purpose=purpose, location=location, details=details or None
    )


__all__ = [
    "apply_seal",
    "check_session_id",
    "check_session_open",
    "close_session",
    "copy_problem",
    "event_details",
    "examine",
    "open_seal",
    "open_session",
    "participant",
    "participant_list",
    "presence",
    "reseal",
    "session_events",
    "session_participants",
    "working_copy",
]
