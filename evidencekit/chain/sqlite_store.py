"""The embedded ledger backend: one SQLite file in the case folder (`custody.sqlite`).

Layout (WAL, synchronous=FULL): `events` (one row per event: its bytes, signature and leaf hash),
`nodes` (hashes of every complete Merkle subtree, so roots and proofs cost O(log n) reads),
`checkpoints` (signed notes), `meta`. Triggers refuse UPDATE and DELETE on all of them; the code
has no update or delete path. A writer takes the database's write lock (`BEGIN IMMEDIATE`) before
reading the tail, so concurrent processes serialise, and the events and their checkpoint commit
together: a crash leaves either all of an append or none of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evidencekit.chain.store import CheckpointRow, EventRow, WriteTxn
from evidencekit.errors import CustodyError, IntegrityError

BUSY_TIMEOUT_MS = 120_000
STORE_SCHEMA = "evidencekit/custody-ledger-sqlite/1"

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
# Column order is EventRow's and CheckpointRow's field order (`_row`, `_checkpoint_row`).
_EVENT_COLS = "seq, item, kind, time, signer, data, signature, leaf_hash"
_CHECKPOINT_COLS = "id, tree_size, root, signer, created, note"


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
            self._size = _select_size(self.conn)
        return self._size

    def item_key_rows(self, item: str | None) -> list[EventRow]:
        cols = _EVENT_COLS
        found: dict[int, EventRow] = {}
        for sql in (
            f"SELECT {cols} FROM events WHERE item IS ? ORDER BY seq LIMIT 1",
            f"SELECT {cols} FROM events WHERE item IS ? AND kind IN ('transferred', 'received') "
            "ORDER BY seq DESC LIMIT 1",
            f"SELECT {cols} FROM events WHERE item IS ? AND kind IN ('acquired', 'collected', "
            "'sealed') ORDER BY seq LIMIT 1",
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
            f"INSERT INTO events ({_EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
    sql = f"SELECT {_EVENT_COLS} FROM events"
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


def _select_size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetchone()
    return int(row[0])


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
        return _select_size(self.conn)

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
                    f"SELECT {_CHECKPOINT_COLS} FROM checkpoints ORDER BY id"
                )
            ]

    def latest_checkpoint(self) -> CheckpointRow | None:
        with self._reading():
            r = self.conn.execute(
                f"SELECT {_CHECKPOINT_COLS} FROM checkpoints ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if r is None else _checkpoint_row(r)

    def close(self) -> None:
        self.conn.close()
