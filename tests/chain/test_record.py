"""record_event: the append interface other workflows use, and the custody rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from evidencekit.case import Case
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.errors import CustodyError, UsageError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.custody import latest_checkpoint, list_events, record_event
from tests.conftest import PASSPHRASE, TEST_KDF


def test_case_init_records_case_opened(case_dir: Path) -> None:
    case = Case.open(case_dir)
    events = list_events(case)
    assert [e["kind"] for e in events] == ["case_opened"]
    ev = events[0]
    assert ev["seq"] == 0 and ev["item"] is None
    assert ev["actor"]["name"] == "Nguyễn Bá Tùng"
    assert ev["time"].endswith("Z")
    assert ev["details"]["case_number"] == "VKS-2024-06"
    cp = latest_checkpoint(case)
    assert cp is not None
    verified = verify_checkpoint(cp, case.trusted())
    assert verified.checkpoint.size == 1


def test_record_event_fields_and_chain(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    e1 = record_event(
        case,
        identity,
        "registered",
        "HDD01",
        description="Ổ cứng của Trương Đình Bủng",
        seal_number="NB-0001",
        condition="niêm phong nguyên vẹn",
        location="Phòng 3, Công an tỉnh",
    )
    e2 = record_event(
        case,
        identity,
        "acquired",
        "HDD01",
        digests={"sha256": "AB" * 32, "md5": "md5:" + "cd" * 16},
        details={"format": "e01"},
    )
    assert e1.seq == 1 and e2.seq == 2
    assert e1.event.prev is None
    assert e2.event.prev == e1.leaf_hash.hex()
    assert e2.event.digests == {"sha256": "ab" * 32, "md5": "cd" * 16}
    assert e2.to_dict()["digests"] == {"md5": "cd" * 16, "sha256": "ab" * 32}
    assert e2.event.body()["digests"] == ["md5:" + "cd" * 16, "sha256:" + "ab" * 32]
    items = list_events(case, "HDD01")
    assert [e["kind"] for e in items] == ["registered", "acquired"]
    assert items[0]["description"] == "Ổ cứng của Trương Đình Bủng"
    cp = verify_checkpoint(latest_checkpoint(case) or "", case.trusted())
    assert cp.checkpoint.size == 3


def test_rules(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    with pytest.raises(CustodyError, match="first event"):
        record_event(case, identity, "verified", "USB1")
    with pytest.raises(UsageError):
        record_event(case, identity, "registered", "../etc")
    with pytest.raises(CustodyError, match="unknown custody event kind"):
        record_event(case, identity, "stolen", "USB1")
    record_event(case, identity, "collected", "USB1", description="USB")
    with pytest.raises(CustodyError, match="no pending transfer"):
        record_event(case, identity, "received", "USB1")
    record_event(case, identity, "released", "USB1", reason="trả lại chủ sở hữu")
    with pytest.raises(CustodyError, match="no event may follow"):
        record_event(case, identity, "note", "USB1", note="x")
    with pytest.raises(CustodyError, match="first event"):
        record_event(case, identity, "case_opened", None)
    # nothing was appended by the refused events
    assert [e["kind"] for e in list_events(case)] == ["case_opened", "collected", "released"]


def test_unpinned_signer_refused(case_dir: Path, ek_home: Path) -> None:
    case = Case.open(case_dir)
    other = IdentityStore(ek_home).create("Người lạ", PASSPHRASE.encode())
    with pytest.raises(CustodyError, match="not pinned"):
        record_event(case, other, "registered", "X1", description="x")


def test_triggers_refuse_update_and_delete(case_dir: Path) -> None:
    conn = sqlite3.connect(case_dir / "custody.sqlite")
    for sql in (
        "UPDATE events SET kind = 'note'",
        "DELETE FROM events",
        "DELETE FROM checkpoints",
        "UPDATE nodes SET hash = x'00'",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_details_are_plain_json(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    se = record_event(
        case,
        identity,
        "collected",
        "C1",
        details={"path": Path("/mnt/ổ đĩa"), "range": (0, 512), "ratio": 0.5},
    )
    assert se.event.details == {"path": "/mnt/ổ đĩa", "range": [0, 512], "ratio": 0.5}
    from evidencekit.workflows.custody import verify_custody

    assert verify_custody(case).ok
    with pytest.raises(CustodyError, match="JSON"):
        record_event(case, identity, "note", "C1", details={"x": float("nan")})


def test_counterpart_resolution(case_dir: Path, identity: Identity, ek_home: Path) -> None:
    from evidencekit.workflows.casework import add_examiner
    from evidencekit.workflows.custody import resolve_party

    case = Case.open(case_dir)
    assert resolve_party(case, "Nguyễn Bá Tùng").fingerprint == identity.fingerprint
    assert resolve_party(case, identity.fingerprint[:8]).name == "Nguyễn Bá Tùng"
    # a name no pinned examiner has is refused, not recorded as a bare name (issue 13)
    with pytest.raises(UsageError, match="no examiner pinned in case 'VKS-2024-06'"):
        resolve_party(case, " Lê Văn C ")
    # a namesake pinned in case.toml only (pinning one through the ledger is refused,
    # tests/workflows/test_trust.py) is not pinned at all: the name resolves to the examiner
    # the ledger pins, and the namesake's fingerprint to nobody
    namesake = IdentityStore(ek_home).create("Nguyễn Bá Tùng", PASSPHRASE.encode(), kdf=TEST_KDF)
    with pytest.raises(UsageError, match="already pinned under that name"):
        add_examiner(case, identity, namesake.certificate)
    case.add_examiner(namesake.certificate)
    found = resolve_party(Case.open(case_dir), "Nguyễn Bá Tùng")
    assert found.fingerprint == identity.fingerprint
    with pytest.raises(UsageError, match="no examiner pinned"):
        resolve_party(Case.open(case_dir), namesake.fingerprint[:12])
