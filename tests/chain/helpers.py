"""Helpers for the custody tests: a second examiner, a populated ledger, raw SQLite edits."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evidencekit.case import Case
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import record_opened
from evidencekit.workflows.custody import list_events, record_event
from tests.conftest import PASSPHRASE, TEST_KDF

SECOND = "Trương Đình Bủng"


def second_examiner(ek_home: Path, case: Case | None = None) -> Identity:
    """Another examiner in the same home, pinned in `case` when given.

    Pinned in the case's first event, as `case init --pin` does (the case's ledger is started
    again, by its creator, the home's first identity), so the tests' event positions stay those
    of a case with one trust event; `case add-examiner` would append an `examiner_added`.
    """
    store = IdentityStore(ek_home)
    other = store.create(
        SECOND,
        PASSPHRASE.encode(),
        org="Viện KSND",
        kdf=TEST_KDF,  # fixture: docs/keys.md
    )
    if case is not None:
        creator = store.load(case.info.examiners[0].fingerprint, lambda _: PASSPHRASE.encode())
        assert list_events(case)[-1]["seq"] == 0, "pin at creation: the case must be new"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{case.ledger_path}{suffix}").unlink(missing_ok=True)
        # the home remembers the ledger `case init` started; this one replaces it as if
        # `case init --pin` had made it
        shutil.rmtree(ek_home / "checkpoints", ignore_errors=True)
        record_opened(case, creator, [other.certificate])
        case.add_examiner(other.certificate)
    return other


def populate(case: Case, a: Identity, b: Identity) -> None:
    """Events 1..8 after case_opened (0): a registers/acquires/verifies/transfers, b receives."""
    record_event(case, a, "registered", "HDD01", description="Ổ cứng", seal_number="NB-0001")
    record_event(case, a, "acquired", "HDD01", digests={"sha256": "11" * 32, "md5": "22" * 16})
    record_event(case, a, "verified", "HDD01", digests={"sha256": "11" * 32})
    record_event(case, a, "collected", "USB02", description="USB của Bủng")
    record_event(
        case, a, "transferred", "HDD01", counterpart=SECOND, purpose="phân tích", location="P3"
    )
    record_event(case, b, "received", "HDD01", counterpart=a.fingerprint, condition="nguyên vẹn")
    # on a working copy (Art. 107 BLTTHS: an original acquired image is examined through one)
    copy = {"item": None, "path": "/lab/HDD01-copy.raw", "sha256": "11" * 32}
    record_event(
        case, b, "analysed", "HDD01", purpose="tìm tệp đã xoá", details={"working_copy": copy}
    )
    record_event(case, a, "note", "USB02", note="đã chụp ảnh")


@contextmanager
def raw_db(case_dir: Path) -> Iterator[sqlite3.Connection]:
    """The ledger with its append-only triggers dropped: what an attacker with the file does."""
    conn = sqlite3.connect(case_dir / "custody.sqlite", isolation_level=None)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for n in names:
        conn.execute(f"DROP TRIGGER {n}")
    try:
        yield conn
    finally:
        conn.close()
