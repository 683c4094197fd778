"""Helpers for the custody tests: a second examiner, a populated ledger, raw SQLite edits."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evidencekit.case import Case
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import add_examiner
from evidencekit.workflows.custody import record_event
from tests.conftest import PASSPHRASE, TEST_KDF

SECOND = "Trương Đình Bủng"


def second_examiner(ek_home: Path, case: Case | None = None) -> Identity:
    """Another examiner in the same home, pinned in `case` when given."""
    other = IdentityStore(ek_home).create(
        SECOND,
        PASSPHRASE.encode(),
        org="Viện KSND",
        kdf=TEST_KDF,  # fixture: docs/keys.md
    )
    if case is not None:
        add_examiner(case, other.certificate)
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
    record_event(case, b, "analysed", "HDD01", purpose="tìm tệp đã xoá")
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
