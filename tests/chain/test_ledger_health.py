"""Issue 14, items 1 and 2: a lost ledger is never started again, and nothing is appended to a
ledger that does not verify.

The tampering is what someone holding the file does: `raw_db` drops the append-only triggers
and edits the SQLite file directly. The oracle for "nothing was appended" is the row count read
back with SQLite itself, not through evidencekit.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.ledger import Ledger
from evidencekit.chain.merkle import leaf_hash
from evidencekit.errors import CustodyError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import start_ledger
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import populate, raw_db, second_examiner

N = 9  # case_opened + the 8 events of `populate`


@pytest.fixture
def ledger_case(
    case_dir: Path, identity: Identity, ek_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    case = Case.open(case_dir)
    populate(case, identity, second_examiner(ek_home, case))
    monkeypatch.setenv("EVIDENCEKIT_IDENTITY", identity.fingerprint)
    return case_dir


def _rows(case_dir: Path) -> int:
    conn = sqlite3.connect(case_dir / "custody.sqlite")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


def _remove_ledger(case_dir: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        (case_dir / f"custody.sqlite{suffix}").unlink(missing_ok=True)


# -- item 1: a lost ledger -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["deleted", "truncated"])
def test_lost_ledger_is_an_integrity_failure_everywhere(
    ledger_case: Path, invoke: Any, how: str
) -> None:
    path = ledger_case / "custody.sqlite"
    if how == "deleted":
        _remove_ledger(ledger_case)
    else:
        for suffix in ("-wal", "-shm"):
            (ledger_case / f"custody.sqlite{suffix}").unlink(missing_ok=True)
        path.write_bytes(b"")
    for args in (
        ("custody", "note", "-", "sau khi mất sổ"),
        ("custody", "note", "HDD01", "ghi chú"),
        ("custody", "verify"),
        ("custody", "log"),
        ("custody", "checkpoint"),
        ("custody", "export"),
        ("report", "build", "--lang", "en"),
    ):
        res = invoke("--case", str(ledger_case), *args)
        assert res.exit_code == 3, (args, res.output)
        assert str(path) in res.stderr, (args, res.stderr)
        assert "case init" in res.stderr
    # nothing was created in its place, and no report was signed over nothing
    if how == "deleted":
        assert not path.exists()
    else:
        assert path.stat().st_size == 0
    assert not list((ledger_case / "reports").iterdir())


def test_a_fresh_case_folder_without_its_ledger_says_how_to_start_again(
    case_dir: Path, invoke: Any
) -> None:
    """`case init` interrupted between case.toml and its first event: the only witness is the
    case file, and the hint says what to do."""
    _remove_ledger(case_dir)
    res = invoke("--case", str(case_dir), "custody", "note", "-", "x")
    assert res.exit_code == 3
    assert "delete the folder" in res.stderr


def test_a_ledger_with_no_events_is_refused(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    case = Case.open(case_dir)
    _remove_ledger(case_dir)
    Ledger.create(case.ledger_path, ledger_origin(case), trusted=case.trusted()).close()
    res = invoke("--case", str(case_dir), "custody", "note", "-", "x")
    assert res.exit_code == 3
    assert "holds no events" in res.stderr
    assert _rows(case_dir) == 0


def test_only_case_init_starts_a_ledger(ledger_case: Path, identity: Identity) -> None:
    case = Case.open(ledger_case)
    with pytest.raises(CustodyError, match="already exists"):
        start_ledger(case, identity, description="lần hai")
    assert _rows(ledger_case) == N


def test_witnesses_name_items_and_reports(ledger_case: Path, invoke: Any) -> None:
    (ledger_case / "evidence" / "HDD01").mkdir()
    (ledger_case / "reports" / "old.pdf").write_bytes(b"%PDF")
    _remove_ledger(ledger_case)
    res = invoke("--case", str(ledger_case), "custody", "verify")
    assert res.exit_code == 3
    assert "1 item(s) under evidence/ (HDD01)" in res.stderr
    assert "1 report(s) under reports/" in res.stderr
    assert "delete the folder" not in res.stderr


# -- item 2: no append on a ledger that does not verify ---------------------------------------


def _edit_bytes(db: sqlite3.Connection) -> None:
    """Event 2 (HDD01 acquired) edited in place: a digest changed."""
    (data,) = db.execute("SELECT data FROM events WHERE seq = 2").fetchone()
    forged = bytes(data).replace(b"sha256:" + b"11" * 32, b"sha256:" + b"33" * 32)
    assert forged != data
    db.execute("UPDATE events SET data = ? WHERE seq = 2", (forged,))


def _edit_bytes_and_leaf(db: sqlite3.Connection) -> None:
    """The same edit, with the row's leaf hash and the stored leaf node updated to match."""
    _edit_bytes(db)
    (data,) = db.execute("SELECT data FROM events WHERE seq = 2").fetchone()
    leaf = leaf_hash(bytes(data))
    db.execute("UPDATE events SET leaf_hash = ? WHERE seq = 2", (leaf,))
    db.execute("UPDATE nodes SET hash = ? WHERE level = 0 AND idx = 2", (leaf,))


def _move_to_other_item(db: sqlite3.Connection) -> None:
    """The transfer's item column pointed elsewhere, so HDD01's history looks shorter."""
    db.execute("UPDATE events SET item = 'USB02' WHERE seq = 5")


def _delete_last(db: sqlite3.Connection) -> None:
    db.execute(f"DELETE FROM events WHERE seq = {N - 1}")


def _delete_middle(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM events WHERE seq = 4")


def _extra_row(db: sqlite3.Connection) -> None:
    """A copy of the last event appended outside evidencekit (no checkpoint covers it)."""
    cols = "item, kind, time, signer, data, signature, leaf_hash"
    db.execute(f"INSERT INTO events (seq, {cols}) SELECT {N}, {cols} FROM events WHERE seq = 8")


def _bad_checkpoint(db: sqlite3.Connection) -> None:
    (cid, note) = db.execute("SELECT id, note FROM checkpoints ORDER BY id DESC").fetchone()
    db.execute(
        "UPDATE checkpoints SET note = ? WHERE id = ?", (note.replace("\n9\n", "\n8\n"), cid)
    )


def _no_checkpoints(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM checkpoints")


def _bad_node(db: sqlite3.Connection) -> None:
    db.execute("UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 0")


def _bad_signature_of_key_row(db: sqlite3.Connection) -> None:
    """HDD01's first event keeps its bytes but loses its signature."""
    db.execute("UPDATE events SET signature = zeroblob(70) WHERE seq = 1")


TAMPERS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "edited bytes": _edit_bytes,
    "edited bytes and leaf": _edit_bytes_and_leaf,
    "item column moved": _move_to_other_item,
    "last event deleted": _delete_last,
    "middle event deleted": _delete_middle,
    "row added outside": _extra_row,
    "checkpoint edited": _bad_checkpoint,
    "checkpoints deleted": _no_checkpoints,
    "tree node zeroed": _bad_node,
}


def test_untampered_ledger_accepts_appends(ledger_case: Path, invoke: Any) -> None:
    """The control for the tests below: the same commands succeed on an untouched ledger."""
    for args in (("custody", "note", "-", "ghi chú"), ("custody", "note", "HDD01", "ghi chú")):
        res = invoke("--case", str(ledger_case), *args)
        assert res.exit_code == 0, res.output
    assert _rows(ledger_case) == N + 2


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
@pytest.mark.parametrize("item", ["-", "HDD01", "USB02"])
def test_no_append_on_a_tampered_ledger(
    ledger_case: Path, invoke: Any, ek_home: Path, tamper: str, item: str
) -> None:
    with raw_db(ledger_case) as db:
        TAMPERS[tamper](db)
    before = _rows(ledger_case)
    assert invoke("--case", str(ledger_case), "custody", "verify").exit_code == 3
    # this examiner saw the ledger before: its home's checkpoint (chain.checkpoint_memory) or the
    # append's own check refuses
    res = invoke("--case", str(ledger_case), "custody", "note", item, "sau khi sửa")
    assert res.exit_code == 3, res.output
    assert _rows(ledger_case) == before
    # an examiner who never saw it (no remembered checkpoint): the append's check alone
    shutil.rmtree(ek_home / "checkpoints", ignore_errors=True)
    res = invoke("--case", str(ledger_case), "custody", "note", item, "sau khi sửa")
    assert res.exit_code == 3, res.output
    assert "refusing to append" in res.stderr or "does not verify" in res.stderr, res.stderr
    assert "nothing was recorded" in res.stderr
    assert _rows(ledger_case) == before


def test_a_rule_row_with_a_broken_signature_stops_appends_to_its_item(
    ledger_case: Path, invoke: Any
) -> None:
    with raw_db(ledger_case) as db:
        _bad_signature_of_key_row(db)
    res = invoke("--case", str(ledger_case), "custody", "note", "HDD01", "x")
    assert res.exit_code == 3, res.output
    assert "event 1" in res.stderr
    assert _rows(ledger_case) == N


@pytest.mark.parametrize("tamper", ["edited bytes", "item column moved", "tree node zeroed"])
def test_report_build_refuses_a_ledger_that_does_not_verify(
    ledger_case: Path, invoke: Any, tamper: str
) -> None:
    with raw_db(ledger_case) as db:
        TAMPERS[tamper](db)
    res = invoke("--case", str(ledger_case), "report", "build", "--lang", "en")
    assert res.exit_code == 3, res.output
    assert "custody ledger" in res.stderr
    assert not list((ledger_case / "reports").iterdir())
    assert _rows(ledger_case) == N
