"""Which backend holds a ledger: a SQLite file (a path) or a PostgreSQL database (a URL).

A case names its ledger in `case.toml` (`[ledger] url`, or nothing for `custody.sqlite` in the
folder); everything above `chain` passes that location here and gets a `LedgerStore`.
"""

from __future__ import annotations

from pathlib import Path

from evidencekit.chain.sqlite_store import SQLiteStore
from evidencekit.chain.store import LedgerStore
from evidencekit.errors import CustodyError

SCHEMES = ("postgresql://", "postgres://")


def is_postgresql(location: Path | str) -> bool:
    """Whether `location` names a PostgreSQL ledger (a postgresql:// URL)."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def open_store(
    location: Path | str, name: str, *, create: bool = False, writable: bool = True
) -> LedgerStore:
    """The store at `location`: a SQLite file, or the ledger `name` (the checkpoint origin) in
    the PostgreSQL database a URL names.

    Raises:
        UsageError: a URL that is not PostgreSQL's or carries a password.
        CustodyError: the store cannot be opened (or created); psycopg is not installed.
        IntegrityError: the SQLite file is not a ledger.
    """
    if is_postgresql(location):
        assert isinstance(location, str)
        try:
            from evidencekit.chain.pg_store import PostgreSQLStore
        except ImportError as exc:
            raise CustodyError(
                f"the case's ledger is in PostgreSQL ({location}) but psycopg is not installed",
                hint="pip install 'evidencekit[postgresql]'",
            ) from exc
        return PostgreSQLStore(location, name, create=create, writable=writable)
    return SQLiteStore(Path(location), create=create, writable=writable)
