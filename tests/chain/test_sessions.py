"""Issue 16: seizure sessions and participants. A session opens once and closes once, events
naming it fall between; participants (with and without a key) round-trip byte-exact through the
ledger, `custody log --json` and `custody export`."""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import parties
from evidencekit.errors import CustodyError, UsageError
from evidencekit.workflows.custody import verify_custody
from tests.conftest import EXAMINER

WITNESS = (
    "role=witness,name=Nguyễn Văn An,cccd=001203004567,yob=1980,"
    'address="Số 5, phố Hàng Bài, Hoàn Kiếm, Hà Nội",unit=Tổ dân phố 3'
)
OWNER = "role=owner,name=Trương Thị Bủng,passport=b1234567"


def _ok(res: Any) -> dict[str, Any]:
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def _open(invoke: Any, case_dir: Path, sid: str = "S1") -> Any:
    return invoke(
        "--json", "--case", str(case_dir), "custody", "session", "open", sid,
        "--place", "Số 12 Lê Lợi, Quận 1, TP. Hồ Chí Minh", "--agency", "Cơ quan CSĐT Công an tỉnh",
        "--record-number", "05/BB-TG", "--basis", "Điều 107 BLTTHS 2015",
        "--basis", "Lệnh khám xét số 12/LKX", "--participant", WITNESS,
        "--participant", f"role=investigator,key={EXAMINER}", "--participant", OWNER,
    )  # fmt: skip


def test_session_round_trip(case_dir: Path, invoke: Any) -> None:
    opened = _ok(_open(invoke, case_dir))["event"]
    d = opened["details"]
    assert opened["kind"] == "session_opened" and opened["item"] is None
    assert d["legal_basis"] == ["Điều 107 BLTTHS 2015", "Lệnh khám xét số 12/LKX"]
    w, inv, owner = d["participants"]
    assert w == {
        "name": "Nguyễn Văn An", "fingerprint": None, "role": "witness", "holds_key": False,
        "document": {"type": "cccd", "number": "001203004567"}, "year_of_birth": 1980,
        "address": "Số 5, phố Hàng Bài, Hoàn Kiếm, Hà Nội", "unit": "Tổ dân phố 3",
    }  # fmt: skip
    assert inv["holds_key"] is True and inv["name"] == EXAMINER and len(inv["fingerprint"]) == 64
    assert owner["document"] == {"type": "passport", "number": "B1234567"}
    # a case-level event in between: the rules read every session event, not only the last
    assert invoke("--case", str(case_dir), "custody", "note", "-", "bắt đầu").exit_code == 0
    reg = _ok(
        invoke(
            "--json",
            "--case",
            str(case_dir),
            "custody",
            "register",
            "HDD01",
            "--description",
            "Ổ cứng",
            "--session",
            "S1",
            "--participant",
            WITNESS,
        )
    )["event"]
    assert reg["details"]["session"] == "S1"
    closed = _ok(
        invoke(
            "--json",
            "--case",
            str(case_dir),
            "custody",
            "session",
            "close",
            "S1",
            "--refused",
            "name=Trương Thị Bủng",
            "--reason",
            "không đồng ý với biên bản",
            "--statement",
            "Không có khiếu nại.",
        )
    )["event"]
    (refusal,) = closed["details"]["refusals"]
    assert refusal["participant"] == owner and refusal["reason"] == "không đồng ý với biên bản"
    assert closed["details"]["statements"] == "Không có khiếu nại."
    # the Vietnamese texts, byte-exact, in the signed bytes, the log and the export
    raw = (
        sqlite3.connect(case_dir / "custody.sqlite")
        .execute("SELECT data FROM events WHERE kind = 'session_opened'")
        .fetchone()[0]
    )
    assert "Số 5, phố Hàng Bài, Hoàn Kiếm, Hà Nội".encode() in raw
    log = _ok(invoke("--json", "--case", str(case_dir), "custody", "log"))
    assert [e["details"] for e in log["events"] if e["kind"] == "session_opened"] == [d]
    export = invoke("--case", str(case_dir), "custody", "export", "--format", "jsonl").stdout_bytes
    assert "Số 5, phố Hàng Bài, Hoàn Kiếm, Hà Nội".encode() in export
    assert "Trương Thị Bủng".encode() in export
    text = invoke("--case", str(case_dir), "custody", "log").stdout
    assert "participant: Nguyễn Văn An (witness, holds no key, citizen ID 001203004567)" in text
    assert "refused to sign: Trương Thị Bủng" in text
    assert verify_custody(Case.open(case_dir)).ok
    shown = _ok(invoke("--json", "--case", str(case_dir), "custody", "session", "show", "S1"))
    assert [e["kind"] for e in shown["events"]] == [
        "session_opened", "registered", "session_closed",
    ]  # fmt: skip
    assert shown["closed"] is True
    res = invoke("--case", str(case_dir), "custody", "session", "show", "S2")
    assert res.exit_code == 2


def test_event_naming_a_closed_or_unknown_session_is_refused(case_dir: Path, invoke: Any) -> None:
    _ok(_open(invoke, case_dir))
    _ok(invoke("--json", "--case", str(case_dir), "custody", "session", "close", "S1"))
    for args in (
        ("register", "HDD01", "--description", "Ổ cứng", "--session", "S1"),
        ("note", "-", "ghi chú", "--session", "S1"),
        ("register", "HDD02", "--description", "Ổ cứng", "--session", "S9"),
        ("session", "close", "S1"),
        ("session", "close", "S9"),
    ):
        res = invoke("--case", str(case_dir), "custody", *args)
        assert res.exit_code == 1, (args, res.output)
        assert "not open" in res.stderr or "is closed" in res.stderr, res.stderr
    res = _open(invoke, case_dir)
    assert res.exit_code == 1 and "already opened" in res.stderr
    events = _ok(invoke("--json", "--case", str(case_dir), "custody", "log"))["events"]
    assert [e["kind"] for e in events] == ["case_opened", "session_opened", "session_closed"]


def test_session_events_are_replayed_by_verify(case_dir: Path, invoke: Any) -> None:
    """An event naming a closed session that got into the ledger (signed outside the tool) is
    a rule violation on verification."""
    from evidencekit.chain.ledger import Draft, Ledger
    from evidencekit.identity import IdentityStore
    from evidencekit.workflows.custody import trusted_with
    from evidencekit.workflows.origin import ledger_origin
    from tests.conftest import PASSPHRASE

    _ok(_open(invoke, case_dir))
    _ok(invoke("--json", "--case", str(case_dir), "custody", "session", "close", "S1"))
    case = Case.open(case_dir)
    ident = IdentityStore().load(None, lambda _: PASSPHRASE.encode())
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=trusted_with(case)) as ledger:
        # the ledger's own check refuses it
        draft = Draft(kind="registered", item_id="X1", details={"session": "S1"})
        with pytest.raises(CustodyError, match="is closed"):
            ledger.append(ident, [draft])
    assert verify_custody(case).ok


def test_participant_spec_syntax() -> None:
    fields = parties.parse_spec(
        'role=witness, name = Lê Thị \\"Hoa\\",cccd=001203004567,'
        'address="Ngõ 1, ""Phố Huế""",unit=Đội 2\\, Phòng PC02'
    )
    assert fields == {
        "role": "witness", "name": 'Lê Thị "Hoa"', "cccd": "001203004567",
        "address": 'Ngõ 1, "Phố Huế"', "unit": "Đội 2, Phòng PC02",
    }  # fmt: skip
    for bad in ("role=witness,nam=X", "role=witness,role=owner", 'address="open', "noequals"):
        try:
            parties.parse_spec(bad)
        except UsageError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_nfd_name_is_stored_nfc_and_nfc_kept_exact(case_dir: Path, invoke: Any) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert nfd != "Nguyễn Văn An"
    res = _ok(
        invoke(
            "--json",
            "--case",
            str(case_dir),
            "custody",
            "register",
            "HDD01",
            "--description",
            "Ổ cứng",
            "--participant",
            f"role=witness,name={nfd},cccd=001203004567",
        )
    )
    assert res["event"]["details"]["participants"][0]["name"] == "Nguyễn Văn An"


def test_bad_participants_are_usage_errors(case_dir: Path, invoke: Any) -> None:
    for spec in (
        "name=Nguyễn Văn An,cccd=001203004567",  # no role
        "role=witness,name=Nguyễn Văn An",  # keyless without a document
        "role=witness,name=Nguyễn Văn An,cccd=12",  # malformed CCCD
        "role=judge,name=Nguyễn Văn An,cccd=001203004567",  # unknown role
        "role=investigator,key=Nobody Pinned",  # key of no pinned examiner
        "role=witness,name=Nguyễn Văn An,cccd=001203004567,yob=19x0",
    ):
        res = invoke(
            "--case", str(case_dir), "custody", "register", "HDD01",
            "--description", "Ổ cứng", "--participant", spec,
        )  # fmt: skip
        assert res.exit_code == 2, (spec, res.output)
        assert len(res.stderr.strip().splitlines()) <= 2, res.stderr
    assert [
        e["kind"]
        for e in _ok(invoke("--json", "--case", str(case_dir), "custody", "log"))["events"]
    ] == ["case_opened"]
