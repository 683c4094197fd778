"""The two ledger backends through their one row mapping and one list of key-row queries
(`chain.store`): what each returns is what a plain reading of the stored rows says it must be."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidencekit.chain.kinds import PHYSICAL_SEAL_KINDS, SESSION_KINDS
from evidencekit.chain.pg_store import PostgreSQLStore
from evidencekit.chain.sqlite_store import SQLiteStore
from evidencekit.chain.store import EventRow, LedgerStore, stored_bytes
from evidencekit.errors import IntegrityError

# kinds and items in an order that puts every key row somewhere else than its neighbour's
_EVENTS: list[tuple[str, str | None]] = [
    ("case_opened", None),
    ("registered", "HDD01"),
    ("acquired", "HDD01"),
    ("seal_applied", "HDD01"),
    ("transferred", "HDD01"),
    ("session_opened", None),
    ("received", "HDD01"),
    ("seal_opened", "HDD01"),
    ("collected", "USB02"),
    ("resealed", "HDD01"),
    ("note", None),
    ("sealed", "USB02"),
    ("session_closed", None),
    ("analysed", "HDD01"),
    ("transferred", "USB02"),
    ("received", "USB02"),
    ("note", "USB02"),
    ("returned", "Ổ-01"),
]


def _rows() -> list[EventRow]:
    return [
        EventRow(
            seq,
            item,
            kind,
            f"2026-12-05T10:00:{seq:02d}Z",
            f"signer-{seq % 3}",
            f"event {seq}".encode(),
            bytes([seq]) * 64,
            bytes([seq]) * 32,
        )
        for seq, (kind, item) in enumerate(_EVENTS)
    ]


def _expected_key_rows(rows: list[EventRow], item: str | None) -> list[EventRow]:
    """`WriteTxn.item_key_rows` as its docstring says, over the plain list."""
    mine = [r for r in rows if r.item == item]
    if not mine:
        return []
    picks = {mine[0].seq, mine[-1].seq}
    handed = [r for r in mine if r.kind in ("transferred", "received")]
    if handed:
        picks.add(handed[-1].seq)
    acquired = [r for r in mine if r.kind in ("acquired", "collected", "sealed")]
    if acquired:  # the first and the latest (a resume supersedes the latest: issue 16)
        picks |= {acquired[0].seq, acquired[-1].seq}
    picks |= {r.seq for r in mine if r.kind in PHYSICAL_SEAL_KINDS | SESSION_KINDS}
    return [r for r in mine if r.seq in picks]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerStore]:
    s: LedgerStore
    if request.param == "sqlite":
        s = SQLiteStore(tmp_path / "custody.sqlite", create=True)
    else:
        url = request.getfixturevalue("pg_url")
        s = PostgreSQLStore(url, f"store-rows-{uuid.uuid4().hex}", create=True)
    try:
        yield s
    finally:
        s.close()


def test_rows_and_key_rows_read_back(store: LedgerStore) -> None:
    rows = _rows()
    for i, row in enumerate(rows):
        with store.write() as tx:
            for item in (None, "HDD01", "USB02", "Ổ-01", "NEVER"):
                assert tx.item_key_rows(item) == _expected_key_rows(rows[:i], item), (i, item)
            tx.add_event(row)
            tx.add_node(0, row.seq, row.leaf_hash)
    assert store.size() == len(rows)
    assert list(store.rows()) == rows
    assert list(store.rows(3, 11)) == rows[3:11]
    assert list(store.rows(item=None)) == [r for r in rows if r.item is None]
    assert list(store.rows(2, 15, item="USB02")) == [r for r in rows[2:15] if r.item == "USB02"]
    assert list(store.rows(item="Ổ-01")) == [rows[-1]]
    assert list(store.rows(item=True)) == rows
    with store.write() as tx:
        assert [r[0] for r in tx.scan(5)] == [r.seq for r in rows[5:]]
        # a key row holds every column as stored, the bytes included
        assert tx.item_key_rows("Ổ-01") == [rows[-1]]


def test_checkpoints_read_back(store: LedgerStore) -> None:
    assert store.latest_checkpoint() is None and store.checkpoints() == []
    with store.write() as tx:
        tx.add_checkpoint(1, b"\x01" * 32, "fp-a", "2026-12-05T10:00:00Z", "note một\n")
        tx.add_checkpoint(2, b"\x02" * 32, "fp-b", "2026-12-05T10:00:01Z", "note hai\n")
        latest = tx.latest_checkpoint()
    assert latest is not None and (latest.id, latest.tree_size, latest.note) == (2, 2, "note hai\n")
    got = [(c.id, c.tree_size, c.root, c.signer, c.created, c.note) for c in store.checkpoints()]
    assert got == [
        (1, 1, b"\x01" * 32, "fp-a", "2026-12-05T10:00:00Z", "note một\n"),
        (2, 2, b"\x02" * 32, "fp-b", "2026-12-05T10:00:01Z", "note hai\n"),
    ]
    assert store.latest_checkpoint() == store.checkpoints()[-1]


def test_missing_node_is_an_integrity_error(store: LedgerStore) -> None:
    with store.write() as tx:
        tx.add_node(0, 0, b"\xaa" * 32)
    assert store.node(0, 0) == b"\xaa" * 32
    with pytest.raises(IntegrityError, match=r"Merkle node \(level 1, index 0\) is missing"):
        store.node(1, 0)


def test_stored_bytes_of_what_an_edit_may_leave() -> None:
    assert stored_bytes(b"\x00\xff") == b"\x00\xff"
    assert stored_bytes(memoryview(b"ab")) == b"ab"
    assert stored_bytes(bytearray(b"ab")) == b"ab"
    assert stored_bytes("Bủng") == "Bủng".encode()
    assert stored_bytes(12) == b"12"
    assert stored_bytes(None) == b""
