"""The lab ledger backend: the case's rows in a PostgreSQL database shared by every workstation.

Tables (schema `evidencekit`, created once by the lab's DBA with :func:`schema_sql`, see
docs/postgresql.md): `ledgers` (one row per case ledger, named by its checkpoint origin), and
`events`, `nodes`, `checkpoints` with the columns of the SQLite backend plus the ledger's name,
so one database holds every case of a lab.

Appends from many processes and hosts are serialised by the database: one READ COMMITTED
transaction per append (or batch) that first takes `pg_advisory_xact_lock` on the ledger's name,
then reads the tree size (`MAX(seq) + 1`: no SEQUENCE, which leaves gaps on rollback) and
inserts; the lock is released by COMMIT or ROLLBACK, and a client killed mid-append has its
transaction rolled back by the server. Each statement of a READ COMMITTED transaction sees what
committed before it began, so after the lock it sees every earlier append; a REPEATABLE READ
transaction would keep the snapshot taken before the lock was granted. Readers see one snapshot
(REPEATABLE READ, READ ONLY) until the store writes or closes.

Append-only is the database's rule: the application role is granted only SELECT and INSERT, and
triggers refuse UPDATE, DELETE and TRUNCATE as a second line (against the owner's mistakes).

Credentials never go in the URL (and so never in `case.toml`): libpq reads them from
`PGPASSFILE` / `~/.pgpass`, a service file (`PGSERVICE`, `service=`), or `PGPASSWORD`.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict

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
)
from evidencekit.errors import CustodyError, EvidenceKitError, IntegrityError, UsageError

log = logging.getLogger(__name__)

STORE_SCHEMA = "evidencekit/custody-ledger-postgresql/1"
SCHEMES = ("postgresql://", "postgres://")
APP_ROLE = "evidencekit_app"
LOCK_TIMEOUT = "120s"
"""How long an append waits for another workstation's append (SQLite's busy timeout)."""
PAGE = 2000
"""Rows fetched per query when reading a whole ledger (keyset pages in one snapshot)."""

_CREDENTIAL_KEYS = ("password", "sslpassword")

_TABLES = ("ledgers", "events", "nodes", "checkpoints")

_SCHEMA_SQL = """\
CREATE SCHEMA evidencekit;
CREATE TABLE evidencekit.ledgers (
    name text PRIMARY KEY,
    schema text NOT NULL,
    created timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE evidencekit.events (
    ledger text NOT NULL REFERENCES evidencekit.ledgers (name),
    seq bigint NOT NULL CHECK (seq >= 0),
    item text,
    kind text NOT NULL,
    time text NOT NULL,
    signer text NOT NULL,
    data bytea NOT NULL,
    signature bytea NOT NULL,
    leaf_hash bytea NOT NULL,
    PRIMARY KEY (ledger, seq)
);
CREATE INDEX events_item ON evidencekit.events (ledger, item, seq);
CREATE INDEX events_item_kind ON evidencekit.events (ledger, item, kind, seq);
CREATE TABLE evidencekit.nodes (
    ledger text NOT NULL REFERENCES evidencekit.ledgers (name),
    level integer NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (ledger, level, idx)
);
CREATE TABLE evidencekit.checkpoints (
    ledger text NOT NULL REFERENCES evidencekit.ledgers (name),
    id bigint NOT NULL,
    tree_size bigint NOT NULL,
    root bytea NOT NULL,
    signer text NOT NULL,
    created text NOT NULL,
    note text NOT NULL,
    PRIMARY KEY (ledger, id)
);
CREATE FUNCTION evidencekit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody ledger is append-only: % on %.% refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def schema_sql(app_role: str = APP_ROLE) -> str:
    """The SQL the ledger database's owner runs once (docs/postgresql.md): the tables, the
    append-only triggers, and SELECT + INSERT (nothing else) for `app_role`."""
    if not app_role.replace("_", "").isalnum():
        raise UsageError(f"role name {app_role!r}: use letters, digits and _ only")
    out = [_SCHEMA_SQL]
    for t in _TABLES:
        out.append(
            f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            f"ON evidencekit.{t} FOR EACH STATEMENT EXECUTE FUNCTION evidencekit.refuse_change();\n"
        )
    out.append(
        "REVOKE ALL ON SCHEMA evidencekit FROM PUBLIC;\n"
        "REVOKE ALL ON ALL TABLES IN SCHEMA evidencekit FROM PUBLIC;\n"
        f"GRANT USAGE ON SCHEMA evidencekit TO {app_role};\n"
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA evidencekit TO {app_role};\n"
    )
    return "".join(out)


def is_url(location: object) -> bool:
    """Whether a ledger location is a PostgreSQL URL (else: a SQLite file)."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def check_url(url: str) -> str:
    """`url` if it is a PostgreSQL connection URL without credentials.

    Raises:
        UsageError: not a postgresql:// URL, malformed, or it carries a password.
    """
    if not is_url(url):
        raise UsageError(
            f"{url!r} is not a PostgreSQL ledger URL",
            hint="e.g. postgresql://ledger.lab.example/evidence?service=lab",
        )
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise UsageError(f"malformed PostgreSQL URL: {exc}") from None
    found = [k for k in _CREDENTIAL_KEYS if params.get(k)]
    if found:
        raise UsageError(
            "the ledger URL carries a password: it would be written into case.toml and "
            "shown in messages",
            hint="give credentials the standard way: PGPASSFILE (~/.pgpass), a service file "
            "(PGSERVICE, ?service=NAME) or PGPASSWORD",
        )
    return url


def _lock_key(name: str) -> int:
    """The advisory-lock key of ledger `name` (a signed 64-bit number)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big", signed=True)


_IDLE: dict[str, psycopg.Connection[Any]] = {}
"""One idle connection per URL, kept when a store closes: one command opens the ledger
several times (the trust list, the case identity, the append), and a new connection costs
its authentication (SCRAM) and a fork on the server."""


def _connect(url: str) -> psycopg.Connection[Any]:
    conn = _IDLE.pop(url, None)
    if conn is not None:
        try:
            conn.execute("SELECT 1")  # the server may have restarted since
            return conn
        except psycopg.Error:
            conn.close()
    return psycopg.connect(url, autocommit=True, application_name="evidencekit")


def _release(url: str, conn: psycopg.Connection[Any]) -> None:
    idle = psycopg.pq.TransactionStatus.IDLE
    if conn.closed or conn.info.transaction_status != idle or url in _IDLE:
        conn.close()
    else:
        _IDLE[url] = conn


def _close_idle() -> None:
    while _IDLE:
        _, conn = _IDLE.popitem()
        conn.close()


def _forget_idle_in_child() -> None:
    # a forked child must not use (or close) its parent's sockets
    _IDLE.clear()


atexit.register(_close_idle)
os.register_at_fork(after_in_child=_forget_idle_in_child)


def pg_error(exc: psycopg.Error, url: str, doing: str) -> EvidenceKitError:
    """Our error for a PostgreSQL failure while `doing` ("open", "read", "append to") the
    ledger at `url`: operational (exit 1) unless the database says the tables are not there."""
    what = f"cannot {doing} the custody ledger {url!r}"
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    nothing = "; nothing was recorded" if doing in ("append to", "create") else ""
    if isinstance(exc, (pgerrors.UndefinedTable, pgerrors.InvalidSchemaName)):
        cls = CustodyError if doing == "create" else IntegrityError
        return cls(
            f"{what}: the database holds no evidencekit ledger tables ({detail})",
            hint="check the ledger URL in case.toml; the lab's DBA creates the tables once "
            f"(docs/postgresql.md){nothing}",
        )
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return CustodyError(
            f"{what}: {detail}",
            hint=f"the ledger's role may only read and add rows; ask the DBA{nothing}",
        )
    if isinstance(exc, pgerrors.UniqueViolation):
        return CustodyError(
            f"{what}: its next event number is already taken ({detail})",
            hint="a program wrote to the ledger without taking its lock; run: evidencekit "
            f"custody verify{nothing}",
        )
    if isinstance(exc, pgerrors.LockNotAvailable):
        return CustodyError(
            f"{what}: another workstation held the ledger for {LOCK_TIMEOUT}",
            hint=f"try again when its command has finished{nothing}",
        )
    if isinstance(exc, psycopg.OperationalError):
        return CustodyError(
            f"{what}: {detail}",
            hint="check that the PostgreSQL server is running and reachable, and the "
            f"credentials (PGPASSFILE, ~/.pgpass, PGSERVICE){nothing}",
        )
    return CustodyError(f"{what}: {detail}", hint=f"check the PostgreSQL server's log{nothing}")


def _select_node(conn: psycopg.Connection[Any], name: str, level: int, index: int) -> bytes:
    r = conn.execute(
        "SELECT hash FROM evidencekit.nodes WHERE ledger = %s AND level = %s AND idx = %s",
        (name, level, index),
    ).fetchone()
    if r is None:
        raise missing_node(level, index)
    return bytes(r[0])


def _select_size(conn: psycopg.Connection[Any], name: str) -> int:
    r = conn.execute(
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM evidencekit.events WHERE ledger = %s", (name,)
    ).fetchone()
    return 0 if r is None else int(r[0])


def _latest_checkpoint(conn: psycopg.Connection[Any], name: str) -> CheckpointRow | None:
    r = conn.execute(
        f"SELECT {CHECKPOINT_COLUMNS} FROM evidencekit.checkpoints WHERE ledger = %s "
        "ORDER BY id DESC LIMIT 1",
        (name,),
    ).fetchone()
    return None if r is None else checkpoint_row(r)


class _PGTxn:
    def __init__(
        self, conn: psycopg.Connection[Any], name: str, known: dict[tuple[int, int], bytes]
    ) -> None:
        self.conn = conn
        self.name = name
        self._known = known
        """Nodes the store read or committed before: stored subtree hashes never change."""
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._size: int | None = None

    def size(self) -> int:
        if self._size is None:
            self._size = _select_size(self.conn, self.name)
        return self._size

    def item_key_rows(self, item: str | None) -> list[EventRow]:
        where = "item IS NULL" if item is None else "item = %(item)s"
        sql = " UNION ".join(
            f"(SELECT {EVENT_COLUMNS} FROM evidencekit.events WHERE ledger = %(name)s AND "
            f"{where}{cond} ORDER BY seq{order}{limit})"
            for cond, order, limit in ITEM_KEY_QUERIES
        )
        rows = self.conn.execute(sql + " ORDER BY 1", {"name": self.name, "item": item})
        return [event_row(r) for r in rows.fetchall()]

    def scan(self, start: int = 0) -> Iterator[tuple[int, str | None, str, bytes, bytes]]:
        pos = start
        while True:
            page = self.conn.execute(
                "SELECT seq, item, kind, data, leaf_hash FROM evidencekit.events "
                "WHERE ledger = %s AND seq >= %s ORDER BY seq LIMIT %s",
                (self.name, pos, PAGE),
            ).fetchall()
            for r in page:
                yield int(r[0]), r[1], str(r[2]), bytes(r[3]), bytes(r[4])
            if len(page) < PAGE:
                return
            pos = int(page[-1][0]) + 1

    def latest_checkpoint(self) -> CheckpointRow | None:
        return _latest_checkpoint(self.conn, self.name)

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        cached = self._nodes.get(key) or self._known.get(key)
        if cached is not None:
            return cached
        value = _select_node(self.conn, self.name, level, index)
        self._nodes[key] = value
        return value

    def add_event(self, row: EventRow) -> None:
        self.conn.execute(
            f"INSERT INTO evidencekit.events (ledger, {EVENT_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (self.name, *event_values(row)),
        )
        self._size = row.seq + 1

    def add_node(self, level: int, index: int, value: bytes) -> None:
        self.conn.execute(
            "INSERT INTO evidencekit.nodes (ledger, level, idx, hash) VALUES (%s, %s, %s, %s)",
            (self.name, level, index, value),
        )
        self._nodes[(level, index)] = value

    def add_checkpoint(
        self, tree_size: int, root: bytes, signer: str, created: str, note: str
    ) -> None:
        # the next id under the ledger's lock, as SQLite's INTEGER PRIMARY KEY numbers them
        self.conn.execute(
            "INSERT INTO evidencekit.checkpoints (ledger, id, tree_size, root, signer, created, "
            "note) SELECT %s, COALESCE(MAX(id), 0) + 1, %s, %s, %s, %s, %s "
            "FROM evidencekit.checkpoints WHERE ledger = %s",
            (self.name, tree_size, root, signer, created, note, self.name),
        )


class PostgreSQLStore:
    """The ledger named `name` (the case's checkpoint origin) in the database at `url`.

    `create` registers a new ledger of that name, which must not exist yet; otherwise nothing
    is created (a ledger missing from the database reads as empty, which the custody use
    cases refuse as a missing ledger).

    Raises:
        UsageError: `url` is not a PostgreSQL URL or carries a password.
        CustodyError: the server cannot be reached or refuses the connection; with `create`,
            the ledger already exists.
    """

    def __init__(self, url: str, name: str, *, create: bool = False, writable: bool = True) -> None:
        self.url = check_url(url)
        self.name = name
        self.writable = writable or create
        self._reading_txn = False
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._closed = False
        self._writing = False
        try:
            self.conn: psycopg.Connection[Any] = _connect(url)
        except psycopg.Error as exc:
            raise pg_error(exc, url, "create" if create else "open") from exc
        if create:
            try:
                self._register()
            except BaseException:
                self.conn.close()
                raise

    def _register(self) -> None:
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.name),))
                self.conn.execute(
                    "INSERT INTO evidencekit.ledgers (name, schema) VALUES (%s, %s)",
                    (self.name, STORE_SCHEMA),
                )
        except pgerrors.UniqueViolation:
            raise CustodyError(
                f"the database {self.url!r} already holds a custody ledger named {self.name!r}",
                hint="a case's ledger is created once, by `evidencekit case init`",
            ) from None
        except psycopg.Error as exc:
            raise pg_error(exc, self.url, "create") from exc

    def registered(self) -> bool:
        """Whether the database has a ledger of this name (created by `case init` or a
        migration)."""
        with self._reading():
            r = self.conn.execute(
                "SELECT 1 FROM evidencekit.ledgers WHERE name = %s", (self.name,)
            ).fetchone()
        return r is not None

    # -- transactions -----------------------------------------------------------------------
    def _end_read(self) -> None:
        if self._reading_txn:
            self._reading_txn = False
            try:
                self.conn.execute("COMMIT")
            except psycopg.Error as exc:
                log.warning("ending a read of the custody ledger %s: %s", self.url, exc)

    @contextmanager
    def _reading(self) -> Iterator[None]:
        if self._writing:  # a read while this store writes: inside the write transaction
            try:
                yield
            except psycopg.Error as exc:
                raise pg_error(exc, self.url, "read") from exc
            return
        try:
            if not self._reading_txn:
                self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                self._reading_txn = True
            yield
        except psycopg.Error as exc:
            self._abandon()
            raise pg_error(exc, self.url, "read") from exc

    def _abandon(self) -> None:
        self._reading_txn = False
        if self.conn.closed:
            return
        try:
            self.conn.execute("ROLLBACK")
        except psycopg.Error as exc:  # the server ends it when the connection closes
            log.warning("rollback of the custody ledger %s failed: %s", self.url, exc)

    @contextmanager
    def write(self) -> Iterator[WriteTxn]:
        if not self.writable:
            raise CustodyError(f"the custody ledger {self.url!r} was opened for reading only")
        self._end_read()
        conn = self.conn
        try:
            conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            # durable when COMMIT returns, whatever the server's default
            conn.execute("SET LOCAL synchronous_commit = on")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.name),))
            known = conn.execute(
                "SELECT 1 FROM evidencekit.ledgers WHERE name = %s", (self.name,)
            ).fetchone()
        except psycopg.Error as exc:
            self._abandon()
            raise pg_error(exc, self.url, "append to") from exc
        if known is None:
            self._abandon()
            raise IntegrityError(
                f"the database {self.url!r} holds no custody ledger named {self.name!r}",
                hint="check the ledger URL in case.toml; nothing was recorded",
            )
        tx = _PGTxn(conn, self.name, self._nodes)
        self._writing = True
        committing = False
        try:
            yield tx
            committing = True
            conn.execute("COMMIT")
        except psycopg.OperationalError as exc:
            self._abandon()
            if not committing:
                raise pg_error(exc, self.url, "append to") from exc
            # the server may have committed before the connection was lost: say so, never
            # "nothing was recorded"
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CustodyError(
                f"lost the custody ledger {self.url!r} while committing an append: {detail}",
                hint="it may or may not have been recorded: check with `evidencekit custody "
                "log` before recording it again",
            ) from exc
        except psycopg.Error as exc:
            self._abandon()
            raise pg_error(exc, self.url, "append to") from exc
        except BaseException:
            self._abandon()
            raise
        finally:
            self._writing = False
        self._nodes.update(tx._nodes)

    # -- reading ----------------------------------------------------------------------------
    def size(self) -> int:
        with self._reading():
            return _select_size(self.conn, self.name)

    def rows(
        self, start: int = 0, end: int | None = None, item: str | bool | None = False
    ) -> Iterator[EventRow]:
        """Events in seq order; `item=False` all, `None` case-level only, else one item's."""
        where, extra = rows_filter(end, item, "%s")
        sql = (
            f"SELECT {EVENT_COLUMNS} FROM evidencekit.events WHERE "
            f"{' AND '.join(['ledger = %s', 'seq >= %s', *where])} ORDER BY seq LIMIT %s"
        )
        pos = start
        while True:
            with self._reading():
                page = self.conn.execute(sql, (self.name, pos, *extra, PAGE)).fetchall()
            for r in page:
                yield event_row(r)
            if len(page) < PAGE:
                return
            pos = int(page[-1][0]) + 1

    def node(self, level: int, index: int) -> bytes:
        # a stored subtree hash never changes (append-only): kept for this store's life, so
        # the roots a command computes (remembered checkpoint, append, checkpoint) read each
        # node once
        cached = self._nodes.get((level, index))
        if cached is None:
            with self._reading():
                cached = _select_node(self.conn, self.name, level, index)
            self._nodes[(level, index)] = cached
        return cached

    def all_nodes(self) -> Iterator[tuple[int, int, bytes]]:
        """Every stored subtree hash as (level, index, hash)."""
        level, idx = 0, -1
        while True:
            with self._reading():
                page = self.conn.execute(
                    "SELECT level, idx, hash FROM evidencekit.nodes WHERE ledger = %s AND "
                    "(level, idx) > (%s, %s) ORDER BY level, idx LIMIT %s",
                    (self.name, level, idx, PAGE),
                ).fetchall()
            for r in page:
                yield int(r[0]), int(r[1]), bytes(r[2])
            if len(page) < PAGE:
                return
            level, idx = int(page[-1][0]), int(page[-1][1])

    def checkpoints(self) -> list[CheckpointRow]:
        with self._reading():
            rows = self.conn.execute(
                f"SELECT {CHECKPOINT_COLUMNS} FROM evidencekit.checkpoints WHERE ledger = %s "
                "ORDER BY id",
                (self.name,),
            ).fetchall()
        return [checkpoint_row(r) for r in rows]

    def latest_checkpoint(self) -> CheckpointRow | None:
        with self._reading():
            return _latest_checkpoint(self.conn, self.name)

    def close(self) -> None:
        if self._closed:  # closing twice must not hand the connection back twice
            return
        self._closed = True
        self._end_read()
        try:
            _release(self.url, self.conn)
        except psycopg.Error as exc:
            log.warning("closing the custody ledger %s: %s", self.url, exc)
