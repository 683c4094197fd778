"""The embedded ledger backend: one SQLite file in the case folder (`custody.sqlite`).

Layout (WAL, synchronous=FULL): `events` (one row per event: its bytes, signature and leaf hash),
`nodes` (hashes of every complete Merkle subtree, so roots and proofs cost O(log n) reads),
`checkpoints` (signed notes), `meta`. Triggers refuse UPDATE and DELETE on all of them; the code
has no update or delete path. A writer takes the database's write lock (`BEGIN IMMEDIATE`) before
reading the tail, so concurrent processes serialise, and the events and their checkpoint commit
together: a crash leaves either all of an append or none of it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evidencekit.chain import netfs
from evidencekit.chain.store import (
    CHECKPOINT_COLUMNS,
    EVENT_COLUMNS,
    ITEM_KEY_QUERIES,
    CheckpointRow,
    EventRow,
    WriteTxn,
    checkpoint_row,
    event_row,
    event_values,
    missing_node,
    rows_filter,
    stored_bytes,
)
from evidencekit.errors import CustodyError, EvidenceKitError, IntegrityError

log = logging.getLogger(__name__)

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
        # SQLite takes ORDER BY and LIMIT in a UNION's parts only inside a subquery
        parts = [
            f"SELECT * FROM (SELECT {EVENT_COLUMNS} FROM events WHERE item IS ?{cond} "
            f"ORDER BY seq{order}{limit})"
            for cond, order, limit in ITEM_KEY_QUERIES
        ]
        rows = self.conn.execute(
            " UNION ".join(parts) + " ORDER BY 1", (item,) * len(parts)
        ).fetchall()
        return [event_row(r) for r in rows]

    def scan(self, start: int = 0) -> Iterator[tuple[int, str | None, str, bytes, bytes]]:
        # The rows as SQLite returns them: precheck copes with what an edit may have stored.
        cursor: Iterator[tuple[int, str | None, str, bytes, bytes]] = self.conn.execute(
            "SELECT seq, item, kind, data, leaf_hash FROM events WHERE seq >= ? ORDER BY seq",
            (start,),
        )
        return cursor

    def latest_checkpoint(self) -> CheckpointRow | None:
        return _latest_checkpoint(self.conn)

    def node(self, level: int, index: int) -> bytes:
        cached = self._nodes.get((level, index))
        if cached is not None:
            return cached
        return _select_node(self.conn, level, index)

    def add_event(self, row: EventRow) -> None:
        self.conn.execute(
            f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            event_values(row),
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
    where, args = rows_filter(end, item, "?")
    sql = f"SELECT {EVENT_COLUMNS} FROM events WHERE " + " AND ".join(["seq >= ?", *where])
    for r in conn.execute(sql + " ORDER BY seq", [start, *args]):
        yield event_row(r)


def _latest_checkpoint(conn: sqlite3.Connection) -> CheckpointRow | None:
    r = conn.execute(
        f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if r is None else checkpoint_row(r)


def _select_size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetchone()
    return int(row[0])


def _select_node(conn: sqlite3.Connection, level: int, index: int) -> bytes:
    row = conn.execute(
        "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)
    ).fetchone()
    if row is None:
        raise missing_node(level, index)
    return stored_bytes(row[0])


# SQLite's primary result codes (https://sqlite.org/rescode.html) that this module tells apart.
_SQLITE_ERROR, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 1, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_CONSTRAINT, _SQLITE_FORMAT, _SQLITE_NOTADB, _SQLITE_PERM = 19, 24, 26, 3
_NOT_WRITABLE = (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM)
MIN_FREE = 1 << 20
"""Bytes a writer needs free before it opens the ledger: the WAL index (32 KiB), the WAL frames
of an append (a few pages per event) and room to spare; below it appends refuse to start."""


def _primary(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def _free_bytes(path: Path) -> int | None:
    """Bytes available to unprivileged writers on the file system holding `path`."""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _disk_full(path: Path) -> bool:
    """Whether the file system holding `path` has (almost) no room left: SQLite reports a
    full disk as SQLITE_FULL when a write fails, but as an I/O error when it cannot size its
    shared-memory file."""
    free = _free_bytes(path)
    return free is not None and free < MIN_FREE


def ledger_error(exc: sqlite3.Error, path: Path, doing: str) -> EvidenceKitError:
    """Our error for an SQLite failure while `doing` ("open", "read", "append to", …) the
    ledger at `path`: damage (exit 3) only when SQLite says the file or its tables are not what
    they must be; a full disk, an I/O error, a lock or a permission is operational (exit 1)."""
    code = _primary(exc)
    what = f"cannot {doing} the custody ledger {str(path)!r}"
    nothing = "; nothing was recorded" if doing == "append to" else ""
    if code == _SQLITE_FULL or (code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and _disk_full(path)):
        return CustodyError(
            f"{what}: the disk is full ({exc})",
            hint=f"free space on the disk that holds the case, then run the command again{nothing}",
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_FORMAT, _SQLITE_NOTADB, _SQLITE_CONSTRAINT) or (
        code == _SQLITE_ERROR and "no such" in str(exc)
    ):
        return IntegrityError(
            f"{what}: {exc}",
            hint="the file is damaged or its tables were altered; run: evidencekit custody verify",
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        hint = f"another command holds the ledger; try again when it has finished{nothing}"
    elif code in _NOT_WRITABLE:
        hint = f"check that the case folder and the ledger are writable{nothing}"
    else:
        hint = f"check the disk that holds the case{nothing}"
    return CustodyError(f"{what}: {exc}", hint=hint)


def refuse_network_fs(path: Path) -> None:
    """Refuse a SQLite ledger at `path` on a network file system (`chain.netfs`): SQLite's
    locks and its shared WAL index do not work across hosts, so events could be lost or the
    file corrupted. Reading is refused too (the WAL index is written by readers as well).

    Raises:
        CustodyError: the folder holding `path` is on NFS, SMB/CIFS or a network FUSE mount.
    """
    fs = netfs.network_fs(path.parent)
    if fs is not None:
        raise CustodyError(
            f"the custody ledger {str(path)!r} is on a network file system ({fs}), where "
            "SQLite cannot be shared safely",
            hint="keep a shared case's ledger in PostgreSQL (evidencekit custody migrate --to "
            "postgresql://…, docs/postgresql.md), or copy the case to a local disk",
        )


class SQLiteStore:
    """The embedded backend: one SQLite file in the case folder.

    Opening never creates the file unless `create` asks for a new one (and then the file must
    not exist): a ledger that has gone missing is never silently replaced by an empty one.

    A full disk. SQLite keeps the WAL index in a memory-mapped `-shm` file; on a (nearly) full
    disk a page of that mapping can fail to get a block, and the kernel then kills the process
    with SIGBUS — possibly after a commit. So a writer refuses to start when the file system
    has less than `MIN_FREE` bytes available (an operational error naming the ledger), and a
    reader on such a disk uses SQLite's exclusive locking mode, which keeps the index in the
    process's memory and maps nothing (other commands wait for it). Memory-mapped I/O of the
    database itself is off. Readers on read-only media fall back to a read-only connection.
    """

    def __init__(self, path: Path, *, create: bool = False, writable: bool = True) -> None:
        self.path = path
        self.writable = writable or create
        refuse_network_fs(path)
        if create:
            if path.exists():
                raise CustodyError(
                    f"a custody ledger already exists at {str(path)!r}",
                    hint="a case's ledger is created once, by `evidencekit case init`",
                )
        elif not path.is_file():
            raise CustodyError(f"no custody ledger at {str(path)!r}")
        free = _free_bytes(path)
        low = free is not None and free < MIN_FREE
        if low and self.writable:
            raise CustodyError(
                f"cannot {'create' if create else 'append to'} the custody ledger "
                f"{str(path)!r}: the disk is full ({free:,} bytes free, at least "
                f"{MIN_FREE:,} needed)",
                hint="free space on the disk that holds the case, then run the command again; "
                "nothing was recorded",
            )
        try:
            self.conn = self._connect("rwc" if create else "rw", exclusive=low, create=create)
        except sqlite3.Error as exc:
            if self.writable or _primary(exc) not in _NOT_WRITABLE:
                raise self._error(exc, "open") from exc
            try:
                self.conn = self._connect("ro", exclusive=False, create=False)
            except sqlite3.Error as exc2:
                raise self._error(exc2, "open") from exc2

    def _connect(self, mode: str, *, exclusive: bool, create: bool) -> sqlite3.Connection:
        # `mode=rwc` only for a new ledger: anything else must find the file it names.
        conn = sqlite3.connect(
            f"{self.path.absolute().as_uri()}?mode={mode}",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if exclusive:
                # Before the first access to the database, or SQLite maps the -shm file.
                conn.execute("PRAGMA locking_mode = EXCLUSIVE")
            conn.execute("PRAGMA mmap_size = 0")
            conn.execute("PRAGMA temp_store = MEMORY")
            if self.writable:
                conn.execute("PRAGMA synchronous = FULL")
            else:
                conn.execute("PRAGMA query_only = ON")
            if create:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for stmt in _statements():
                    conn.execute(stmt)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (STORE_SCHEMA,))
                conn.execute("COMMIT")
            have = conn.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'"
            ).fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if not have:
            conn.close()
            raise IntegrityError(
                f"{str(self.path)!r} is not a custody ledger (no events table)",
                hint="the file was replaced or damaged; restore it from a backup copy",
            )
        return conn

    def _error(self, exc: sqlite3.Error, doing: str) -> EvidenceKitError:
        return ledger_error(exc, self.path, doing)

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error(exc, "lock for writing") from exc
        try:
            yield _SQLiteTxn(conn)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise self._error(exc, "append to") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        # SQLite rolls a transaction back by itself after some errors (SQLITE_FULL during
        # COMMIT): a second ROLLBACK would fail with "no transaction is active".
        if not self.conn.in_transaction:
            return
        try:
            self.conn.execute("ROLLBACK")
        except sqlite3.Error as exc:  # the transaction is abandoned when the connection closes
            log.warning("rollback of the custody ledger %s failed: %s", self.path, exc)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from exc

    def size(self) -> int:
        with self._reading():
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
                yield int(r[0]), int(r[1]), stored_bytes(r[2])

    def checkpoints(self) -> list[CheckpointRow]:
        with self._reading():
            return [
                checkpoint_row(r)
                for r in self.conn.execute(
                    f"SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY id"
                )
            ]

    def latest_checkpoint(self) -> CheckpointRow | None:
        with self._reading():
            return _latest_checkpoint(self.conn)

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error as exc:  # committed data is safe in the WAL; say so, do not fail
            log.warning("closing the custody ledger %s: %s", self.path, exc)
