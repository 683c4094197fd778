"""Move a case's ledger between backends: `custody.sqlite` ⇄ a lab's PostgreSQL database.

Order (docs/postgresql.md, "Migrating"): the ledger must verify in full; its rows are copied as
stored (`chain.migrate`: nothing is re-signed) and the copy is proved to be the same ledger —
every event, node and checkpoint, and the same root at the migrated size; then, holding the
source's write lock (so no append slips in between), `case.toml` is switched to the target; a
SQLite source is renamed aside (`custody.sqlite.migrated-<UTC>`), never deleted; finally one
signed `ledger_migrated` event in the target records where the ledger came from, its size, root
and checkpoint there.

All writers of the case should be stopped meanwhile. An append that still races the switch
lands in the old ledger, and is caught: the examiner's home remembers the checkpoint it got, which
the migrated ledger does not extend, so their next command exits 3 naming the rollback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from evidencekit.case import Case
from evidencekit.chain.backends import is_postgresql, open_store
from evidencekit.chain.migrate import Copied, copy_ledger
from evidencekit.chain.store import LedgerStore
from evidencekit.errors import CustodyError, IntegrityError, UsageError
from evidencekit.fsutil import fsync_dir
from evidencekit.identity import Identity
from evidencekit.timeutil import compact, utcnow
from evidencekit.workflows.custody import open_ledger, record, verify_custody
from evidencekit.workflows.origin import ledger_origin
from evidencekit.workflows.wording import described

SQLITE = "sqlite"


@dataclass(frozen=True, slots=True)
class Migrated:
    """What `migrate_ledger` did."""

    source: str
    target: str
    copied: Copied
    checkpoint: str
    """The latest checkpoint (signed note) at the migrated size, as both ledgers hold it."""
    event_seq: int
    set_aside: str | None
    """Where the SQLite source was renamed to (None for a PostgreSQL source)."""

    def to_dict(self) -> dict[str, object]:
        return {
            "from": self.source,
            "to": self.target,
            **self.copied.to_dict(),
            "checkpoint": self.checkpoint,
            "event": self.event_seq,
            "set_aside": self.set_aside,
        }


def _describe(location: Path | str) -> str:
    return location if isinstance(location, str) else location.name


def _target(case: Case, to: str) -> Path | str:
    if to == SQLITE:
        return case.ledger_path
    if is_postgresql(to):
        from evidencekit.chain.pg_store import check_url

        return check_url(to)
    raise UsageError(
        f"cannot migrate the ledger to {to!r}",
        hint="give a postgresql://… URL (no password), or `sqlite` for custody.sqlite in the "
        "case folder",
    )


def _open_target(target: Path | str, origin: str) -> LedgerStore:
    """The target store: a new one, or one holding a prefix of this ledger (resumed)."""
    if isinstance(target, Path):
        return open_store(target, origin, create=not target.exists())
    from evidencekit.chain.pg_store import PostgreSQLStore

    store = PostgreSQLStore(target, origin)
    try:
        if not store.registered():
            store.close()
            store = PostgreSQLStore(target, origin, create=True)
    except BaseException:
        store.close()
        raise
    return store


def _set_aside(path: Path) -> Path:
    """Rename the SQLite ledger `path` (and a WAL left beside it) out of the way, durably."""
    aside = path.with_name(f"{path.name}.migrated-{compact(utcnow())}")
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{aside}{suffix}"))
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def migrate_ledger(case: Case, identity: Identity, to: str) -> Migrated:
    """Move `case`'s ledger to `to` (a postgresql:// URL, or "sqlite"), prove the copy, switch
    `case.toml`, and record a signed `ledger_migrated` event in the moved ledger.

    Raises:
        UsageError: `to` is not a PostgreSQL URL or "sqlite", or is where the ledger already is.
        IntegrityError: the ledger does not verify, or the target holds another ledger's rows.
        CustodyError: a backend cannot be reached or written; the case keeps its ledger.
    """
    source = case.ledger_location
    target = _target(case, to)
    if target == source:
        raise UsageError(f"the case's ledger is already at {_describe(source)!r}")
    status = verify_custody(case)
    if not status.ok:
        first = status.problems[0].message if status.problems else "it does not verify"
        raise IntegrityError(
            f"refusing to migrate a custody ledger that does not verify: {first}",
            hint="run: evidencekit custody verify; nothing was copied",
        )
    origin = ledger_origin(case)
    names = (_describe(source), _describe(target))
    with open_ledger(case, writable=True) as src:
        size = src.size()
        dst = _open_target(target, origin)
        try:
            copied = copy_ledger(src.store, dst, size, names)
            last = dst.latest_checkpoint()
        finally:
            dst.close()
        if last is None or last.tree_size != size:
            raise IntegrityError(f"the copied ledger has no checkpoint at its size {size}")
        # the switch under the source's write lock: no append can commit to it in between
        with src.store.write() as tx:
            if tx.size() != size:
                raise CustodyError(
                    f"another command appended to the ledger during the migration "
                    f"({tx.size() - size} event(s)); case.toml still names {names[0]!r}",
                    hint="stop the case's other writers and run the migration again (it goes "
                    "on from what it copied)",
                )
            case.set_ledger(target if isinstance(target, str) else None)
    aside = _set_aside(source) if isinstance(source, Path) else None
    result = record(
        case,
        identity,
        "ledger_migrated",
        None,
        description=described(case, "ledger_moved", source=names[0], target=names[1]),
        details={
            "from": names[0],
            "to": names[1],
            "tree_size": copied.size,
            "root": copied.root.hex(),
            "checkpoint": last.note,
        },
    )
    return Migrated(
        names[0],
        names[1],
        copied,
        last.note,
        result.events[0].seq,
        None if aside is None else aside.name,
    )
