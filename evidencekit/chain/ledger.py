"""The custody ledger: append signed events under the custody rules, one checkpoint per append.

Storage sits behind two small protocols (`LedgerStore` for reading and opening a write
transaction, `WriteTxn` for what one exclusive transaction does), so a PostgreSQL backend for a
lab is one more module beside `SQLiteStore`. Everything else here (rules, signing, Merkle nodes,
checkpoints) is backend-independent.

SQLite layout (`custody.sqlite`, WAL, synchronous=FULL): `events` (one row per event: its bytes,
signature and leaf hash), `nodes` (hashes of every complete Merkle subtree, so roots and proofs
cost O(log n) reads), `checkpoints` (signed notes), `meta`. Triggers refuse UPDATE and DELETE on
all of them; the code has no update or delete path. A writer takes the database's write lock
(`BEGIN IMMEDIATE`) before reading the tail, so concurrent processes serialise, and the events and
their checkpoint commit together: a crash leaves either all of an append or none of it.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import Checkpoint, sign_checkpoint
from evidencekit.chain.events import (
    CASE_LEVEL_KINDS,
    KINDS,
    Event,
    ItemState,
    Party,
    SignedEvent,
)
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 120_000
STORE_SCHEMA = "evidencekit/custody-ledger-sqlite/1"


@dataclass(frozen=True, slots=True)
class EventRow:
    """One stored event."""

    seq: int
    item: str | None
    kind: str
    time: str
    signer: str
    data: bytes
    signature: bytes
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """One stored signed checkpoint."""

    id: int
    tree_size: int
    root: bytes
    signer: str
    created: str
    note: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tree_size": self.tree_size,
            "root": self.root.hex(),
            "signer": self.signer,
            "created": self.created,
            "note": self.note,
        }


class WriteTxn(Protocol):
    """What one exclusive, durable write transaction offers."""

    def size(self) -> int: ...
    def item_key_rows(self, item: str | None) -> list[EventRow]:
        """The item's first event, its last transfer or receipt, and its last event (in seq
        order, without repeats): all the custody rules need to know about its past."""
        ...

    def node(self, level: int, index: int) -> bytes: ...
    def add_event(self, row: EventRow) -> None: ...
    def add_node(self, level: int, index: int, value: bytes) -> None: ...
    def add_checkpoint(
        self, tree_size: int, root: bytes, signer: str, created: str, note: str
    ) -> None: ...


class LedgerStore(Protocol):
    """A ledger backend: reads, and an exclusive write transaction."""

    def write(self) -> AbstractContextManager[WriteTxn]: ...
    def size(self) -> int: ...
    def rows(
        self, start: int = 0, end: int | None = None, item: str | bool | None = False
    ) -> Iterator[EventRow]: ...
    def node(self, level: int, index: int) -> bytes: ...
    def all_nodes(self) -> Iterator[tuple[int, int, bytes]]: ...
    def checkpoints(self) -> list[CheckpointRow]: ...
    def latest_checkpoint(self) -> CheckpointRow | None: ...
    def close(self) -> None: ...


# -- SQLite backend ------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    item TEXT,
    kind TEXT NOT NULL,
    time TEXT NOT NULL,
    signer TEXT NOT NULL,
    data BLOB NOT NULL,
    signature BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_item ON events (item, seq);
CREATE INDEX IF NOT EXISTS events_item_kind ON events (item, kind, seq);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root BLOB NOT NULL,
    signer TEXT NOT NULL,
    created TEXT NOT NULL,
    note TEXT NOT NULL
);
"""

_TABLES = ("meta", "events", "nodes", "checkpoints")


def _statements() -> list[str]:
    out = [s for s in _SCHEMA.split(";") if s.strip()]
    for table in _TABLES:
        for op in ("UPDATE", "DELETE"):
            out.append(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only: "
                f"{op} on {table} refused'); END"
            )
    return out


class _SQLiteTxn:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            row = self.conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetchone()
            self._size = int(row[0])
        return self._size

    def item_key_rows(self, item: str | None) -> list[EventRow]:
        cols = "seq, item, kind, time, signer, data, signature, leaf_hash"
        found: dict[int, EventRow] = {}
        for sql in (
            f"SELECT {cols} FROM events WHERE item IS ? ORDER BY seq LIMIT 1",
            f"SELECT {cols} FROM events WHERE item IS ? AND kind IN ('transferred', 'received') "
            "ORDER BY seq DESC LIMIT 1",
            f"SELECT {cols} FROM events WHERE item IS ? ORDER BY seq DESC LIMIT 1",
        ):
            r = self.conn.execute(sql, (item,)).fetchone()
            if r is not None:
                found[int(r[0])] = _row(r)
        return [found[k] for k in sorted(found)]

    def node(self, level: int, index: int) -> bytes:
        cached = self._nodes.get((level, index))
        if cached is not None:
            return cached
        return _select_node(self.conn, level, index)

    def add_event(self, row: EventRow) -> None:
        self.conn.execute(
            "INSERT INTO events (seq, item, kind, time, signer, data, signature, leaf_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.seq,
                row.item,
                row.kind,
                row.time,
                row.signer,
                row.data,
                row.signature,
                row.leaf_hash,
            ),
        )
        self._size = row.seq + 1

    def add_node(self, level: int, index: int, value: bytes) -> None:
        self.conn.execute(
            "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", (level, index, value)
        )
        self._nodes[(level, index)] = value

    def add_checkpoint(
        self, tree_size: int, root: bytes, signer: str, created: str, note: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints (tree_size, root, signer, created, note) "
            "VALUES (?, ?, ?, ?, ?)",
            (tree_size, root, signer, created, note),
        )


def _select_rows(
    conn: sqlite3.Connection, start: int, end: int | None, item: str | bool | None
) -> Iterator[EventRow]:
    sql = "SELECT seq, item, kind, time, signer, data, signature, leaf_hash FROM events"
    where = ["seq >= ?"]
    args: list[Any] = [start]
    if end is not None:
        where.append("seq < ?")
        args.append(end)
    if item is None:
        where.append("item IS NULL")
    elif item is not False and item is not True:
        where.append("item = ?")
        args.append(item)
    sql += " WHERE " + " AND ".join(where) + " ORDER BY seq"
    for r in conn.execute(sql, args):
        yield _row(r)


def _row(r: Any) -> EventRow:
    return EventRow(
        int(r[0]), r[1], str(r[2]), str(r[3]), str(r[4]), bytes(r[5]), bytes(r[6]), bytes(r[7])
    )


def _select_node(conn: sqlite3.Connection, level: int, index: int) -> bytes:
    row = conn.execute(
        "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)
    ).fetchone()
    if row is None:
        raise IntegrityError(
            f"Merkle node (level {level}, index {index}) is missing from the ledger",
            hint="run: evidencekit custody verify",
        )
    return bytes(row[0])


def _checkpoint_row(r: Any) -> CheckpointRow:
    return CheckpointRow(int(r[0]), int(r[1]), bytes(r[2]), str(r[3]), str(r[4]), str(r[5]))


class SQLiteStore:
    """The embedded backend: one SQLite file in the case folder."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        if not create and not path.exists():
            raise CustodyError(
                f"no custody ledger at {str(path)!r}",
                hint="the case has no custody events yet",
            )
        try:
            self.conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            have = self.conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'"
            ).fetchone()[0]
            if not create and not have:
                raise IntegrityError(
                    f"{str(path)!r} is not a custody ledger (no events table)",
                    hint="the file was replaced or damaged",
                )
            if create and not have:
                self.conn.execute("BEGIN IMMEDIATE")
                for stmt in _statements():
                    self.conn.execute(stmt)
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)", (STORE_SCHEMA,)
                )
                self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise IntegrityError(
                f"cannot open the custody ledger {str(path)!r}: {exc}",
                hint="the file is damaged or not a ledger",
            ) from exc

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise CustodyError(
                f"cannot lock the custody ledger {str(self.path)!r} for writing: {exc}"
            ) from exc
        try:
            yield _SQLiteTxn(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise CustodyError(
                f"cannot append to the custody ledger {str(self.path)!r}: {exc}",
                hint="check the disk; nothing was recorded",
            ) from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            raise IntegrityError(
                f"cannot read the custody ledger {str(self.path)!r}: {exc}",
                hint="the file is damaged or its tables were altered",
            ) from exc

    def size(self) -> int:
        row = self.conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetchone()
        return int(row[0])

    def rows(
        self, start: int = 0, end: int | None = None, item: str | bool | None = False
    ) -> Iterator[EventRow]:
        """Events in seq order; `item=False` all, `None` case-level only, else one item's."""
        with self._reading():
            yield from _select_rows(self.conn, start, end, item)

    def node(self, level: int, index: int) -> bytes:
        with self._reading():
            return _select_node(self.conn, level, index)

    def all_nodes(self) -> Iterator[tuple[int, int, bytes]]:
        """Every stored subtree hash as (level, index, hash)."""
        with self._reading():
            for r in self.conn.execute("SELECT level, idx, hash FROM nodes ORDER BY level, idx"):
                yield int(r[0]), int(r[1]), bytes(r[2])

    def checkpoints(self) -> list[CheckpointRow]:
        with self._reading():
            return [
                _checkpoint_row(r)
                for r in self.conn.execute(
                    "SELECT id, tree_size, root, signer, created, note FROM checkpoints ORDER BY id"
                )
            ]

    def latest_checkpoint(self) -> CheckpointRow | None:
        with self._reading():
            r = self.conn.execute(
                "SELECT id, tree_size, root, signer, created, note FROM checkpoints "
                "ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if r is None else _checkpoint_row(r)

    def close(self) -> None:
        self.conn.close()


# -- the ledger ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draft:
    """An event to append; the ledger fills in seq, time, actor, prev and signs it."""

    kind: str
    item_id: str | None
    description: str | None = None
    counterpart: Party | None = None
    purpose: str | None = None
    location: str | None = None
    seal_number: str | None = None
    condition: str | None = None
    note: str | None = None
    reason: str | None = None
    override: str | None = None
    digests: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)


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


def decode_row(row: EventRow) -> SignedEvent:
    """A stored row as a SignedEvent (parsing only; `verify` checks it)."""
    return SignedEvent(Event.decode(row.data), row.data, row.signature, row.leaf_hash)


class Ledger:
    """A case's ledger over a backend."""

    def __init__(self, store: LedgerStore, origin: str) -> None:
        self.store = store
        self.origin = origin

    @classmethod
    def open(cls, path: Path, origin: str, *, create: bool = True) -> Ledger:
        return cls(SQLiteStore(path, create=create), origin)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------------------------
    def append(self, identity: Identity, drafts: Sequence[Draft]) -> AppendResult:
        """Sign and append `drafts` in one transaction, then sign and store a checkpoint.

        Durable when it returns (COMMIT with synchronous=FULL).

        Raises:
            CustodyError: an event breaks the custody rules (nothing is appended).
        """
        if not drafts:
            raise CustodyError("nothing to append")
        actor = Party(identity.name, identity.fingerprint)
        out: list[SignedEvent] = []
        with self.store.write() as tx:
            size = tx.size()
            states: dict[str | None, ItemState] = {}
            for d in drafts:
                if d.kind not in KINDS:
                    raise CustodyError(
                        f"unknown custody event kind {d.kind!r}", hint=", ".join(KINDS)
                    )
                state = states.get(d.item_id)
                if state is None:
                    state = self._state(tx, d.item_id)
                    states[d.item_id] = state
                if d.item_id is None:
                    if d.kind not in CASE_LEVEL_KINDS:
                        raise CustodyError(f"a {d.kind} event needs an item id")
                    if d.kind == "case_opened" and size != 0:
                        raise CustodyError("case_opened can only be the ledger's first event")
                else:
                    if d.kind == "case_opened":
                        raise CustodyError("case_opened is about the case, not an item")
                    state.check(d.kind, actor, d.counterpart, d.override)
                ev = Event(
                    origin=self.origin,
                    seq=size,
                    kind=d.kind,
                    item_id=d.item_id,
                    time=utcnow(),
                    actor=actor,
                    prev=None if state.last_leaf is None else state.last_leaf.hex(),
                    description=d.description,
                    counterpart=d.counterpart,
                    purpose=d.purpose,
                    location=d.location,
                    seal_number=d.seal_number,
                    condition=d.condition,
                    note=d.note,
                    reason=d.reason,
                    override=d.override,
                    digests=dict(d.digests),
                    details=dict(d.details),
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
                state.apply(d.kind, actor, d.counterpart, leaf)
                out.append(SignedEvent(ev, data, sig, leaf))
                size += 1
            root = merkle.root(tx.node, size)
            note = sign_checkpoint(Checkpoint(self.origin, size, root), identity)
            tx.add_checkpoint(size, root, identity.fingerprint, isoformat(utcnow()), note)
        return AppendResult(tuple(out), size, root, note)

    @staticmethod
    def _state(tx: WriteTxn, item: str | None) -> ItemState:
        state = ItemState(item or "")
        for row in tx.item_key_rows(item):
            ev = Event.decode(row.data)
            state.apply(ev.kind, ev.actor, ev.counterpart, row.leaf_hash)
        return state

    # -- reading ------------------------------------------------------------------------------
    def size(self) -> int:
        return self.store.size()

    def events(self, item: str | bool | None = False) -> list[SignedEvent]:
        """Events in order: all (`item=False`), case-level (`None`) or one item's."""
        return [decode_row(r) for r in self.store.rows(item=item)]

    def item_state(self, item: str) -> ItemState:
        state = ItemState(item)
        for se in self.events(item):
            state.apply(se.event.kind, se.event.actor, se.event.counterpart, se.leaf_hash)
        return state

    def latest_checkpoint(self) -> CheckpointRow | None:
        return self.store.latest_checkpoint()

    def checkpoints(self) -> list[CheckpointRow]:
        return self.store.checkpoints()

    def node(self, level: int, index: int) -> bytes:
        return self.store.node(level, index)
