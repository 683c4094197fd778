"""The custody rules: which event kinds exist, and which may follow an item's history.

An item's first event registers, acquires, collects or seals it; only its custodian transfers it
(or someone giving an override reason), only the named recipient receives it, and nothing follows
a release, return or destruction. `ItemState` is where an item stands after its events; the
ledger checks each new event against it before signing, and `custody verify` replays every event
through it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidencekit.errors import CustodyError

if TYPE_CHECKING:
    # Annotations only: events.py imports this module (it re-exports the rules), so a runtime
    # import back would be circular.
    from evidencekit.chain.events import Event, Party

KINDS = (
    "case_opened",
    "registered",
    "acquired",
    "collected",
    "sealed",
    "converted",
    "verified",
    "transferred",
    "received",
    "accessed",
    "analysed",
    "exported",
    "note",
    "released",
    "returned",
    "destroyed",
    "report_issued",
    "examiner_added",
)
FIRST_KINDS = frozenset({"registered", "acquired", "collected", "sealed"})
TERMINAL_KINDS = frozenset({"released", "returned", "destroyed"})
CASE_LEVEL_KINDS = frozenset({"case_opened", "note", "report_issued", "exported", "examiner_added"})
"""Kinds that may be recorded without an item (about the whole case)."""
CASE_ONLY_KINDS = frozenset({"case_opened", "examiner_added"})
"""Kinds about the case's trust, never about an item (`evidencekit.workflows.trust`)."""


@dataclass(slots=True)
class ItemState:
    """Where an item stands, replayed from its events."""

    item_id: str
    events: int = 0
    last_leaf: bytes | None = None
    custodian: Party | None = None
    pending_to: Party | None = None
    closed_by: str | None = None

    def check(
        self, kind: str, actor: Party, counterpart: Party | None, override: str | None
    ) -> None:
        """Raise CustodyError if `kind` by `actor` may not follow the item's history.

        Raises:
            CustodyError: the custody rules forbid it.
        """
        item = self.item_id
        if self.closed_by is not None:
            raise CustodyError(
                f"item {item!r} was {self.closed_by}; no event may follow",
                hint="the item's custody has ended",
            )
        if self.events == 0:
            if kind not in FIRST_KINDS:
                raise CustodyError(
                    f"item {item!r} has no custody events yet; its first event must be one of "
                    f"{', '.join(sorted(FIRST_KINDS))}, not {kind}",
                    hint=f"register it first: evidencekit custody register {item} --description …",
                )
            return
        if kind == "transferred":
            if counterpart is None:
                raise CustodyError(f"a transfer of {item!r} needs a recipient (--to)")
            if not self._is_custodian(actor) and not override:
                holder = self.custodian.name if self.custodian else "nobody"
                raise CustodyError(
                    f"{actor.name!r} is not the current custodian of {item!r} ({holder})",
                    hint="only the custodian transfers; an override needs --override-reason",
                )
        elif kind == "received":
            if self.pending_to is None:
                raise CustodyError(
                    f"item {item!r} has no pending transfer to receive",
                    hint="the custodian records it first: evidencekit custody transfer",
                )
            to = self.pending_to
            same = (to.fingerprint is not None and to.fingerprint == actor.fingerprint) or (
                to.fingerprint is None and to.name == actor.name
            )
            if not same and not override:
                raise CustodyError(
                    f"item {item!r} was transferred to {to.name!r}, not to {actor.name!r}",
                    hint="the named recipient must receive it (or give --override-reason)",
                )

    def _is_custodian(self, actor: Party) -> bool:
        c = self.custodian
        if c is None:
            return False
        if c.fingerprint is not None:
            return c.fingerprint == actor.fingerprint
        return False

    def apply(self, kind: str, actor: Party, counterpart: Party | None, leaf: bytes) -> None:
        """Advance the state past one (already checked) event."""
        if self.events == 0:
            self.custodian = actor
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
) -> None:
    """The custody rules for one event at ledger position `seq`, after the item's `state`: the
    one check both the ledger (before it signs) and `custody verify` (on replay) apply, so a
    ledger that verifies is one the ledger itself could have written.

    Raises:
        CustodyError: the rules forbid it.
    """
    if item_id is None:
        if kind not in CASE_LEVEL_KINDS:
            raise CustodyError(f"a {kind} event needs an item id")
        if kind == "case_opened" and seq != 0:
            raise CustodyError("case_opened can only be the ledger's first event")
        return
    if kind in CASE_ONLY_KINDS:
        raise CustodyError(f"{kind} is about the case, not an item")
    state.check(kind, actor, counterpart, override)


def replay(item_id: str, events: Iterable[tuple[Event, bytes]]) -> ItemState:
    """The state of `item_id` after its (event, leaf hash) pairs, rules not re-checked."""
    state = ItemState(item_id)
    for ev, leaf in events:
        state.apply(ev.kind, ev.actor, ev.counterpart, leaf)
    return state
