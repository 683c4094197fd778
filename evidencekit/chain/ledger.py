"""The custody ledger: append signed events under the custody rules, one checkpoint per append.

Everything here (rules, signing, Merkle nodes, checkpoints) is backend-independent: storage sits
behind the `LedgerStore` and `WriteTxn` protocols (`chain.store`): `SQLiteStore`
(`chain.sqlite_store`) is the embedded backend, `PostgreSQLStore` (`chain.pg_store`) the lab's;
`Ledger.open` picks one by the ledger's location (`chain.backends`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from evidencekit.chain import details as event_details
from evidencekit.chain import merkle, parties
from evidencekit.chain.backends import open_store
from evidencekit.chain.checkpoint import Checkpoint, sign_checkpoint
from evidencekit.chain.events import Event, EventFields, SignedEvent
from evidencekit.chain.kinds import KINDS, EventKind
from evidencekit.chain.parties import Party
from evidencekit.chain.precheck import LedgerDoesNotVerify, check_base
from evidencekit.chain.rules import ItemState, check_event, replay
from evidencekit.chain.store import CheckpointRow, EventRow, LedgerStore, WriteTxn
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.timeutil import isoformat, utcnow

__all__ = ["AppendResult", "Draft", "Ledger", "decode_row"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Draft(EventFields):
    """An event to append: its kind, item and form fields (keyword-only, from `EventFields`);
    the ledger fills in seq, time, actor, prev and signs it."""

    kind: EventKind
    item_id: str | None


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append committed."""

    events: tuple[SignedEvent, ...]
    tree_size: int
    root: bytes
    checkpoint: str

    def to_dict(self) -> dict[str, object]:
        return {
            "events": [e.to_dict() for e in self.events],
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "checkpoint": self.checkpoint,
        }


def _append_leaf(tx: WriteTxn, index: int, leaf: bytes) -> None:
    """Store the leaf and every subtree it completes."""
    tx.add_node(0, index, leaf)
    level, idx, cur = 0, index, leaf
    while idx % 2 == 1:
        cur = merkle.node_hash(tx.node(level, idx - 1), cur)
        level, idx = level + 1, idx // 2
        tx.add_node(level, idx, cur)


def _session_times(tx: WriteTxn, case: ItemState, details: Mapping[str, object]) -> None:
    """Tell the case-level state `case` when the item events naming the session a
    `session_closed` draft closes were recorded: the events since its opening (a session lasts
    hours, not the ledger), read only for a closing."""
    session = details.get("session")
    opening = [
        r.seq
        for r in tx.item_key_rows(None)
        if r.kind == "session_opened" and Event.decode(r.data).details.get("session") == session
    ]
    if not opening:
        return  # the rules refuse closing a session never opened
    for _seq, item, _kind, data, _leaf in tx.scan(opening[0]):
        if item is None:
            continue
        try:
            ev = Event.decode(data)
        except IntegrityError:
            continue  # check_base has refused an unreadable event before this
        case.note_session_event(ev.details, ev.time)


def decode_row(row: EventRow) -> SignedEvent:
    """A stored row as a SignedEvent (parsing only; `verify` checks it)."""
    return SignedEvent(Event.decode(row.data), row.data, row.signature, row.leaf_hash)


_ROWS_CHECKED: set[tuple[object, ...]] = set()
"""Stored rows this process already found sound exactly as they are (every column, the bytes
and the signature are the key): a batch import appends to the same items again and again, and
re-verifying their key rows' signatures each time cost a third of its CPU."""
_ROWS_CHECKED_MAX = 8192


class Ledger:
    """A case's ledger over a backend.

    `trusted` are the certificates (by fingerprint) whose signatures an append accepts on what
    it builds on: the latest checkpoint and the events the custody rules read (`precheck`).
    """

    def __init__(
        self,
        store: LedgerStore,
        origin: str,
        trusted: Mapping[str, x509.Certificate],
        name: str | None = None,
    ) -> None:
        self.store = store
        self.origin = origin
        self.trusted = dict(trusted)
        self.name = name or origin
        self.verified = 0
        """Events before this position were checked by this examiner before (the checkpoint
        its home remembers, `chain.checkpoint_memory`): appends re-hash only the events after it."""

    @classmethod
    def open(
        cls,
        path: Path | str,
        origin: str,
        *,
        trusted: Mapping[str, x509.Certificate],
        writable: bool = True,
    ) -> Ledger:
        """The ledger stored at `path` (a SQLite file, or a postgresql:// URL where the
        ledger is named `origin`), which must exist (it is never created here).

        Raises:
            CustodyError: no file at `path`, or it cannot be opened (disk full, permissions,
                the database server unreachable).
            IntegrityError: the file is not a ledger or is damaged.
            UsageError: a URL with a password in it.
        """
        store = open_store(path, origin, writable=writable)
        return cls(store, origin, trusted, str(path))

    @classmethod
    def create(
        cls, path: Path | str, origin: str, *, trusted: Mapping[str, x509.Certificate]
    ) -> Ledger:
        """A new, empty ledger at `path` (a file or a postgresql:// URL), which must not
        exist.

        Raises:
            CustodyError: something is already at `path`, or it cannot be created.
        """
        return cls(open_store(path, origin, create=True), origin, trusted, str(path))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def append(self, identity: Identity, drafts: Sequence[Draft]) -> AppendResult:
        """Sign and append `drafts` in one transaction, then sign and store a checkpoint.

        Durable when it returns (COMMIT with synchronous=FULL). Before anything is signed, the
        ledger it builds on is checked (`precheck.check_base`, and the events the custody rules
        read): an append never extends a ledger that was edited, truncated or extended outside.

        Raises:
            CustodyError: an event breaks the custody rules, or the ledger cannot be written
                (disk full, locked); nothing is appended.
            IntegrityError: the ledger does not verify; nothing is appended.
        """
        if not drafts:
            raise CustodyError("nothing to append")
        actor = Party(identity.name, identity.fingerprint)
        out: list[SignedEvent] = []
        with self.store.write() as tx:
            try:
                size = check_base(tx, self.origin, self.trusted, self.verified)
            except LedgerDoesNotVerify as exc:
                raise LedgerDoesNotVerify(
                    f"refusing to append to the custody ledger {self.name!r}, which does not "
                    f"verify: {exc.message}",
                    hint=exc.hint,
                ) from exc
            states: dict[str | None, ItemState] = {}
            for d in drafts:
                if d.kind not in KINDS:
                    raise CustodyError(
                        f"unknown custody event kind {d.kind!r}", hint=", ".join(KINDS)
                    )
                wrong = None if d.counterpart is None else parties.problem(d.counterpart.to_dict())
                if wrong is not None:
                    # what check_bytes would refuse on every later read
                    raise CustodyError(f"the {d.kind} event's counterpart: {wrong}")
                wrong = event_details.problem(d.kind, d.details)
                if wrong is not None:
                    raise CustodyError(f"the {d.kind} event's details: {wrong}")
                state = states.get(d.item_id)
                if state is None:
                    state = self._state(tx, d.item_id)
                    states[d.item_id] = state
                case_state = states.get(None)
                if case_state is None:
                    case_state = states[None] = self._state(tx, None)
                if d.kind == "session_closed":
                    _session_times(tx, case_state, d.details)
                now = utcnow()
                check_event(
                    state,
                    d.item_id,
                    d.kind,
                    size,
                    actor,
                    d.counterpart,
                    d.override,
                    now,
                    case_state.first_time,
                    d.details,
                    case=case_state,
                    recording=True,
                )
                ev = Event(
                    origin=self.origin,
                    seq=size,
                    kind=d.kind,
                    item_id=d.item_id,
                    time=now,
                    actor=actor,
                    prev=None if state.last_leaf is None else state.last_leaf.hex(),
                    signature_algorithm=identity.algorithm,
                    **d.form(),
                )
                data = ev.encode()
                sig = identity.sign(data)
                leaf = merkle.leaf_hash(data)
                tx.add_event(
                    EventRow(
                        size,
                        d.item_id,
                        d.kind,
                        isoformat(ev.time),
                        identity.fingerprint,
                        data,
                        sig,
                        leaf,
                    )
                )
                _append_leaf(tx, size, leaf)
                state.apply(d.kind, actor, d.counterpart, leaf, now, d.details)
                if d.item_id is not None:
                    case_state.note_session_event(d.details, now)
                out.append(SignedEvent(ev, data, sig, leaf))
                size += 1
            root = merkle.root(tx.node, size)
            note = sign_checkpoint(Checkpoint(self.origin, size, root), identity)
            tx.add_checkpoint(size, root, identity.fingerprint, isoformat(utcnow()), note)
        return AppendResult(tuple(out), size, root, note)

    def _state(self, tx: WriteTxn, item: str | None) -> ItemState:
        """The item's state from the events the rules read, each checked in full first: its
        signature by a trusted key, its form, its position, this ledger, its columns."""
        rows = tx.item_key_rows(item)
        self._check_rows(rows, item, appending=True)
        return replay(item or "", ((Event.decode(r.data), r.leaf_hash) for r in rows))

    def _check_rows(
        self,
        rows: Sequence[EventRow],
        item: str | None,
        *,
        appending: bool,
        trusted: Mapping[str, x509.Certificate] | None = None,
    ) -> None:
        """Raise LedgerDoesNotVerify naming the first of `rows` that does not verify in full."""
        from evidencekit.chain.verify_events import check_row

        trusted = dict(self.trusted if trusted is None else trusted)
        for r in rows:
            key = (self.origin, r.seq, r.item, r.kind, r.signer, r.data, r.signature, r.leaf_hash)
            if key in _ROWS_CHECKED and r.signer in trusted:
                continue
            problems = check_row(r, self.origin, trusted)
            if not problems and merkle.leaf_hash(r.data) == r.leaf_hash:
                if len(_ROWS_CHECKED) >= _ROWS_CHECKED_MAX:
                    _ROWS_CHECKED.clear()
                _ROWS_CHECKED.add(key)
            else:
                detail = problems[0][1] if problems else "its stored leaf hash is wrong"
                lead, why = (
                    ("refusing to append to the custody ledger", "the custody rules read for")
                    if appending
                    else ("the custody ledger", "records")
                )
                raise LedgerDoesNotVerify(
                    f"{lead} {self.name!r}: its event {r.seq}, which {why} "
                    f"{'the case' if item is None else repr(item)}, does not verify: {detail}",
                    hint=("nothing was recorded; " if appending else "")
                    + "run: evidencekit custody verify",
                )

    # -- reading ------------------------------------------------------------------------------
    def size(self) -> int:
        return self.store.size()

    def events(self, item: str | bool | None = False) -> list[SignedEvent]:
        """Events in order: all (`item=False`), case-level (`None`) or one item's."""
        return [decode_row(r) for r in self.store.rows(item=item)]

    def verified_events(
        self, item: str, trusted: Mapping[str, x509.Certificate] | None = None
    ) -> list[SignedEvent]:
        """One item's events, each checked in full as an append checks what it builds on
        (signature by a key of `trusted` (default: the keys this ledger was opened with), form,
        position, ledger, columns, leaf hash).

        Raises:
            LedgerDoesNotVerify: naming the first event that does not.
        """
        rows = list(self.store.rows(item=item))
        self._check_rows(rows, item, appending=False, trusted=trusted)
        return [decode_row(r) for r in rows]

    def item_state(self, item: str) -> ItemState:
        return replay(item, ((se.event, se.leaf_hash) for se in self.events(item)))

    def latest_checkpoint(self) -> CheckpointRow | None:
        return self.store.latest_checkpoint()

    def checkpoints(self) -> list[CheckpointRow]:
        return self.store.checkpoints()

    def node(self, level: int, index: int) -> bytes:
        return self.store.node(level, index)
