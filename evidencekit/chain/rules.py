"""The custody rules: which event may follow an item's history (the kinds are in `chain.kinds`).

An item has exactly one first event (it is registered, acquired, collected or sealed); a registered
item is then acquired, collected or sealed at most once — except that an acquisition recorded
`incomplete` (interrupted, failed) may be superseded by one later acquisition event of the same
kind that names it (`details.supersedes` = its `seal_sha256`): a resume or redo of the same item.
A complete acquisition is never superseded. Only its custodian transfers, releases,
returns or destroys it (or someone giving an override reason, which the event records); only the
recipient named *by certificate* receives it (a recipient who holds no key in the case can only be
received for with an override), and nothing follows a release, return or destruction. No event is
dated before the case was opened or before the item's previous event, beyond `CLOCK_SKEW`.

`ItemState` is where an item stands after its events; the ledger checks each new event against it
before signing, and `custody verify` replays every event through it again, so an insider who
signs a forbidden event with a key of their own is named on the next verification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from evidencekit.chain.events import Event
from evidencekit.chain.kinds import (
    ACQUISITION_KINDS,
    CASE_LEVEL_KINDS,
    CASE_ONLY_KINDS,
    CUSTODIAN_KINDS,
    EXAMINATION_KINDS,
    FIRST_KINDS,
    SEAL_BOUND_KINDS,
    SESSION_KINDS,
    SUPERSEDABLE_STATUSES,
    TERMINAL_KINDS,
)
from evidencekit.chain.parties import Party
from evidencekit.errors import CustodyError

CLOCK_SKEW = dt.timedelta(minutes=10)
"""How far an event's time may lie before the item's previous event or the case's opening: the
clocks of two workstations writing one ledger differ a little; more than this is refused."""


@dataclass(slots=True)
class ItemState:
    """Where an item stands, replayed from its events."""

    item_id: str
    events: int = 0
    last_leaf: bytes | None = None
    custodian: Party | None = None
    pending_to: Party | None = None
    closed_by: str | None = None
    acquired_by: str | None = None
    """The kind of the item's acquisition event (acquired/collected/sealed), once there is one."""
    acquisition_status: str | None = None
    """The current acquisition's `details.status` (`incomplete` may be superseded)."""
    acquisition_seal: str | None = None
    """The current acquisition's `details.seal_sha256`: what a superseding event names."""
    first_time: dt.datetime | None = None
    last_time: dt.datetime | None = None
    derived: bool = False
    """The item's content was derived from another item (`details.derived_from`, a conversion):
    it is itself a copy, so examining it needs no other working copy."""
    seals: set[str] = field(default_factory=set)
    """The physical seals applied to the item and not opened (seal numbers)."""
    seals_open: set[str] = field(default_factory=set)
    """The physical seals opened and not yet replaced by a re-seal."""
    seals_used: set[str] = field(default_factory=set)
    """Every seal number ever applied to the item: a number is never applied twice."""
    sessions: dict[str, tuple[dt.datetime | None, bool]] = field(default_factory=dict)
    """Of the case-level state: each seizure session's opening time and whether it is closed."""
    session_latest: dict[str, dt.datetime] = field(default_factory=dict)
    """Of the case-level state: the latest time of an item event naming each session (its
    closing may not be dated before it: the Biên bản's end is the closing's time)."""

    def check(
        self,
        kind: str,
        actor: Party,
        counterpart: Party | None,
        override: str | None,
        time: dt.datetime | None = None,
        details: Mapping[str, object] | None = None,
        *,
        recording: bool = False,
    ) -> None:
        """Raise CustodyError if `kind` by `actor` at `time` (with `details`) may not follow the
        item's history. `recording`: the event is being appended (not replayed), so the
        working-copy rule refuses instead of leaving a note (`examination_note`).

        Raises:
            CustodyError: the custody rules forbid it.
        """
        item = self.item_id
        if self.closed_by is not None:
            raise CustodyError(
                f"item {item!r} was {self.closed_by}; no event may follow",
                hint="the item's custody has ended",
            )
        if time is not None and self.last_time is not None and time < self.last_time - CLOCK_SKEW:
            raise CustodyError(
                f"a {kind} event of {item!r} dated {_iso(time)} is earlier than the item's "
                f"previous event ({_iso(self.last_time)})",
                hint="check this computer's clock (date -u); events are recorded in order",
            )
        if self.events == 0:
            if kind not in FIRST_KINDS:
                raise CustodyError(
                    f"item {item!r} has no custody events yet; its first event must be one of "
                    f"{', '.join(sorted(FIRST_KINDS))}, not {kind}",
                    hint=f"register it first: evidencekit custody register {item} --description …",
                )
            return
        if kind == "registered":
            raise CustodyError(
                f"item {item!r} already has its first event; an item is registered only once",
                hint="choose a new item id for another object",
            )
        supersedes = (details or {}).get("supersedes")
        if kind in ACQUISITION_KINDS and self.acquired_by is not None:
            self._check_supersedes(kind, supersedes)
        elif kind in ACQUISITION_KINDS and supersedes is not None:
            raise CustodyError(
                f"a {kind} event of {item!r} names an acquisition it supersedes, but the item "
                "has none",
                hint="only a resume or redo of an incomplete acquisition supersedes one",
            )
        self._check_physical_seal(kind, details or {})
        if kind in EXAMINATION_KINDS:
            self._check_working_copy(kind, details or {}, recording)
        if kind in CUSTODIAN_KINDS:
            if kind == "transferred" and counterpart is None:
                raise CustodyError(f"a transfer of {item!r} needs a recipient (--to)")
            if not self._is_custodian(actor) and not override:
                holder = self.custodian.name if self.custodian else "nobody"
                if self.custodian is not None and self.custodian.fingerprint is None:
                    holder += ", who holds no key in this case"
                raise CustodyError(
                    f"{actor.name!r} is not the current custodian of {item!r} ({holder})",
                    hint=f"only the custodian records {kind}; "
                    "anyone else must give --override-reason, which the event records",
                )
        elif kind == "received":
            if self.pending_to is None:
                raise CustodyError(
                    f"item {item!r} has no pending transfer to receive",
                    hint="the custodian records it first: evidencekit custody transfer",
                )
            to = self.pending_to
            # bound by certificate: a name alone would let anyone pinned later under that name
            # (or an examiner with the same name) receive it
            if to.fingerprint != actor.fingerprint and not override:
                if to.fingerprint is None:
                    raise CustodyError(
                        f"item {item!r} was transferred to {to.name!r}, who holds no key in "
                        "this case, so no examiner's signature can stand for their receipt",
                        hint="record who received it with --override-reason (it is recorded), "
                        "or transfer it to a pinned examiner",
                    )
                raise CustodyError(
                    f"item {item!r} was transferred to {to.name!r} ({to.fingerprint[:16]}), "
                    f"not to {actor.name!r} ({(actor.fingerprint or '')[:16]})",
                    hint="the named recipient must receive it (or give --override-reason)",
                )

    def _check_supersedes(self, kind: str, supersedes: object) -> None:
        """A second acquisition event: only of an incomplete one, of its kind, naming its seal.

        Raises:
            CustodyError: anything else.
        """
        item = self.item_id
        if self.acquisition_status not in SUPERSEDABLE_STATUSES:
            raise CustodyError(
                f"item {item!r} was already {self.acquired_by} "
                f"({self.acquisition_status or 'status not recorded'}); a second {kind} event "
                "would stand beside the first as another record of its content",
                hint="acquire again under a new item id",
            )
        if kind != self.acquired_by:
            raise CustodyError(
                f"item {item!r} was {self.acquired_by} incomplete; only another "
                f"{self.acquired_by} event can supersede it, not {kind}",
                hint="resume it with the command that made it",
            )
        if supersedes is None or supersedes != self.acquisition_seal:
            raise CustodyError(
                f"item {item!r} was {self.acquired_by} incomplete (seal sha256 "
                f"{self.acquisition_seal}); a second {kind} event must name that seal in "
                f"details.supersedes, not {supersedes!r}",
                hint=f"resume it: evidencekit acquire disk SOURCE --resume {item}",
            )

    def _check_physical_seal(self, kind: str, details: Mapping[str, object]) -> None:
        """The physical seal (niêm phong): opened only where applied, re-sealed before it leaves.

        Raises:
            CustodyError: the rules forbid it.
        """
        item = self.item_id
        numbers = _strings(details.get("seal_numbers"))
        if kind in SEAL_BOUND_KINDS and self.seals_open:
            raise CustodyError(
                f"the physical seal of {item!r} is open ({', '.join(sorted(self.seals_open))}); "
                f"it must be re-sealed before it is {kind}",
                hint=f"evidencekit custody reseal {item} --seal-number NEW "
                f"--replaces {sorted(self.seals_open)[0]} --method …",
            )
        if kind == "seal_applied":
            if self.seals_open:
                raise CustodyError(
                    f"the physical seal of {item!r} is open ({', '.join(sorted(self.seals_open))})"
                    "; a seal applied now replaces it",
                    hint=f"record it with: evidencekit custody reseal {item} --replaces …",
                )
            self._check_new_numbers(numbers)
        elif kind == "seal_opened":
            for n in numbers:
                if n not in self.seals:
                    why = (
                        "it is already open"
                        if n in self.seals_open
                        else "it was never applied to it"
                        if n not in self.seals_used
                        else "it was replaced"
                    )
                    applied = ", ".join(sorted(self.seals)) or "none"
                    raise CustodyError(
                        f"seal {n!r} of {item!r} cannot be opened: {why} "
                        f"(seals applied now: {applied})",
                        hint="name a seal number recorded by seal-apply or reseal",
                    )
        elif kind == "resealed":
            replaces = _strings(details.get("replaces"))
            for n in replaces:
                if n not in self.seals_open:
                    opened = ", ".join(sorted(self.seals_open)) or "none"
                    raise CustodyError(
                        f"seal {n!r} of {item!r} is not open, so it cannot be replaced "
                        f"(open seals: {opened})",
                        hint=f"open it first: evidencekit custody seal-open {item} --seal-number "
                        f"{n} …",
                    )
            self._check_new_numbers(numbers)

    def _check_new_numbers(self, numbers: list[str]) -> None:
        used = sorted(set(numbers) & self.seals_used)
        if used:
            raise CustodyError(
                f"seal number {used[0]!r} was already applied to {self.item_id!r}; a seal "
                "number is used once",
                hint="give the number of the new seal",
            )

    def _check_working_copy(
        self, kind: str, details: Mapping[str, object], recording: bool
    ) -> None:
        """Art. 107 BLTTHS: examination is done on copies. An original acquired image is
        examined only through a named working copy, or with the recorded reason why not (checked
        when `recording`; on replay `examination_note` notes it instead).

        Raises:
            CustodyError: the working copy is the item itself, or (recording) neither is given.
        """
        wc = details.get("working_copy")
        if isinstance(wc, Mapping) and wc.get("item") == self.item_id:
            raise CustodyError(
                f"the working copy of {self.item_id!r} cannot be the item itself",
                hint="name another item (a converted or copied image) or a copy's path",
            )
        if not recording or self.acquired_by is None or self.derived or wc is not None:
            return
        if details.get("on_original"):
            return
        raise CustodyError(
            f"{self.item_id!r} is an original acquired image: a {kind} event names the working "
            "copy used (Art. 107 BLTTHS 2015: examination is done on copies)",
            hint="give --working-copy ITEM_OR_PATH, or --on-original REASON (recorded and "
            "shown by custody verify)",
        )

    def examination_note(self, kind: str, details: Mapping[str, object] | None) -> str | None:
        """What `custody verify` notes of an examination event: the original examined (with the
        recorded reason, or without one in an event recorded before the rule)."""
        if kind not in EXAMINATION_KINDS or self.acquired_by is None or self.derived:
            return None
        details = details or {}
        if details.get("working_copy") is not None:
            return None
        reason = details.get("on_original")
        if reason:
            return f"{kind} the original of {self.item_id!r}, not a working copy: {reason}"
        return (
            f"{kind} {self.item_id!r} without naming a working copy (recorded before the "
            "working-copy rule)"
        )

    def check_session(
        self, kind: str, item: str | None, details: Mapping[str, object], time: dt.datetime | None
    ) -> None:
        """The seizure-session rules, on the case-level state: a session opens once and closes
        once, and an event naming it falls between.

        Raises:
            CustodyError: they are broken.
        """
        session = details.get("session")
        if not isinstance(session, str):
            return
        known = self.sessions.get(session)
        if kind == "session_opened":
            if known is not None:
                raise CustodyError(
                    f"seizure session {session!r} was already opened; a session opens once",
                    hint="choose a new session id",
                )
            return
        if known is None:
            raise CustodyError(
                f"seizure session {session!r} is not open: a {kind} event "
                f"{'of ' + repr(item) + ' ' if item else ''}cannot name it",
                hint=f"open it first: evidencekit custody session open {session} --place …",
            )
        opened, closed = known
        if closed:
            raise CustodyError(
                f"seizure session {session!r} is closed: a {kind} event "
                f"{'of ' + repr(item) + ' ' if item else ''}cannot name it",
                hint="record it without --session, or in a new session",
            )
        if time is not None and opened is not None and time < opened - CLOCK_SKEW:
            raise CustodyError(
                f"a {kind} event dated {_iso(time)} names seizure session {session!r}, "
                f"opened later ({_iso(opened)})",
                hint="check this computer's clock (date -u)",
            )
        latest = self.session_latest.get(session)
        if (
            kind == "session_closed"
            and time is not None
            and latest is not None
            and time < latest - CLOCK_SKEW
        ):
            raise CustodyError(
                f"seizure session {session!r} cannot close at {_iso(time)}: an event of the "
                f"session is dated {_iso(latest)}, later",
                hint="check this computer's clock (date -u)",
            )

    def apply_session(
        self, kind: str, details: Mapping[str, object] | None, time: dt.datetime | None
    ) -> None:
        """Advance the case-level state past a session event."""
        session = (details or {}).get("session")
        if kind in SESSION_KINDS and isinstance(session, str):
            self.sessions[session] = (time, kind == "session_closed")

    def note_session_event(
        self, details: Mapping[str, object] | None, time: dt.datetime | None
    ) -> None:
        """On the case-level state: an item event naming a session (`details.session`) at
        `time` (what a closing of the session is checked against)."""
        session = (details or {}).get("session")
        if not isinstance(session, str) or time is None:
            return
        latest = self.session_latest.get(session)
        if latest is None or time > latest:
            self.session_latest[session] = time

    def _is_custodian(self, actor: Party) -> bool:
        c = self.custodian
        if c is None:
            return False
        if c.fingerprint is not None:
            return c.fingerprint == actor.fingerprint
        return False

    def apply(
        self,
        kind: str,
        actor: Party,
        counterpart: Party | None,
        leaf: bytes,
        time: dt.datetime | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Advance the state past one (already checked) event."""
        self.apply_session(kind, details, time)
        if self.events == 0:
            self.custodian = actor
            self.first_time = time
        if kind in ACQUISITION_KINDS:
            if self.acquired_by is None:
                self.acquired_by = kind
            status = (details or {}).get("status")
            seal = (details or {}).get("seal_sha256")
            self.acquisition_status = status if isinstance(status, str) else None
            self.acquisition_seal = seal if isinstance(seal, str) else None
            if (details or {}).get("derived_from") is not None:
                self.derived = True
        numbers = _strings((details or {}).get("seal_numbers"))
        if kind == "seal_applied":
            self.seals.update(numbers)
            self.seals_used.update(numbers)
        elif kind == "seal_opened":
            self.seals.difference_update(numbers)
            self.seals_open.update(numbers)
        elif kind == "resealed":
            self.seals_open.difference_update(_strings((details or {}).get("replaces")))
            self.seals.update(numbers)
            self.seals_used.update(numbers)
        if time is not None and (self.last_time is None or time > self.last_time):
            self.last_time = time
        if kind == "transferred":
            self.custodian = counterpart
            self.pending_to = counterpart
        elif kind == "received":
            self.custodian = actor
            self.pending_to = None
        elif kind in TERMINAL_KINDS:
            self.closed_by = kind
        self.events += 1
        self.last_leaf = leaf


def check_event(
    state: ItemState,
    item_id: str | None,
    kind: str,
    seq: int,
    actor: Party,
    counterpart: Party | None,
    override: str | None,
    time: dt.datetime | None = None,
    opened: dt.datetime | None = None,
    details: Mapping[str, object] | None = None,
    *,
    case: ItemState | None = None,
    recording: bool = False,
) -> None:
    """The custody rules for one event at ledger position `seq` and `time`, after the item's
    `state`, in a case opened at `opened` whose case-level state is `case` (the seizure
    sessions): the one check both the ledger (before it signs) and `custody verify` (on replay)
    apply, so a ledger that verifies is one the ledger itself could have written. The one
    difference is `recording` (the ledger): an examination of an original without a working
    copy is refused then, and noted on replay (events recorded before the rule existed).

    Raises:
        CustodyError: the rules forbid it.
    """
    if seq != 0 and time is not None and opened is not None and time < opened - CLOCK_SKEW:
        raise CustodyError(
            f"a {kind} event dated {_iso(time)} is earlier than the case's opening "
            f"({_iso(opened)})",
            hint="check this computer's clock (date -u)",
        )
    if item_id is None:
        if kind not in CASE_LEVEL_KINDS:
            raise CustodyError(f"a {kind} event needs an item id")
        if kind == "case_opened" and seq != 0:
            raise CustodyError("case_opened can only be the ledger's first event")
        if kind in SESSION_KINDS and not isinstance((details or {}).get("session"), str):
            raise CustodyError(f"a {kind} event names its session (details.session)")
        state.check_session(kind, None, details or {}, time)
        return
    if kind in CASE_ONLY_KINDS or kind in SESSION_KINDS:
        raise CustodyError(f"{kind} is about the case, not an item")
    if case is not None:
        case.check_session(kind, item_id, details or {}, time)
    elif isinstance((details or {}).get("session"), str):
        raise CustodyError(f"seizure session {(details or {}).get('session')!r} is not open")
    state.check(kind, actor, counterpart, override, time, details, recording=recording)


def replay(item_id: str, events: Iterable[tuple[Event, bytes]]) -> ItemState:
    """The state of `item_id` after its (event, leaf hash) pairs, rules not re-checked."""
    state = ItemState(item_id)
    for ev, leaf in events:
        state.apply(ev.kind, ev.actor, ev.counterpart, leaf, ev.time, ev.details)
    return state


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _iso(time: dt.datetime) -> str:
    return time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
