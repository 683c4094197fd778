"""Parties who hold no key (issue 13 "Custody rules", issue 16's participant record): one schema,
recorded as such, never bound by name; Vietnamese names that coincide are told apart by their
document; hostile names are escaped on the terminal."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import parties
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.chain.parties import Party, keyless
from evidencekit.errors import CustodyError, UsageError
from evidencekit.identity import Identity
from evidencekit.report.model import custody_from_events
from evidencekit.report.render.sections import _who
from evidencekit.workflows.custody import (
    list_events,
    open_ledger,
    record_event,
    resolve_party,
    trusted_with,
)
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import SECOND, second_examiner

AN = "Nguyễn Văn An"
CCCD_1 = "001203004567"
CCCD_2 = "079088001234"


def _transfer(invoke: Any, case_dir: Path, *extra: str) -> Any:
    return invoke(
        "--case", str(case_dir), "custody", "transfer", "HDD01", "--purpose", "giám định", *extra
    )


@pytest.fixture
def held(case_dir: Path, identity: Identity) -> Case:
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    return case


def test_the_schema_rules() -> None:
    p = keyless(f"  {AN} ", "witness", f"cccd:{CCCD_1}")
    assert p == Party(AN, None, "witness", False, "cccd", CCCD_1)
    assert p.to_dict() == {
        "name": AN,
        "fingerprint": None,
        "role": "witness",
        "holds_key": False,
        "document": {"type": "cccd", "number": CCCD_1},
    }
    assert parties.problem(p.to_dict()) is None
    assert Party.from_dict(p.to_dict()) == p
    assert p.describe("vi") == f"{AN} (người chứng kiến, không giữ khoá, CCCD {CCCD_1})"
    assert keyless("Bộ Công an", "court", "other:Quyết định 12/QĐ-TA").document_type == "other"
    assert keyless("John Smith", "defence", "passport:b1234567").document_number == "B1234567"
    for role, doc, match in [
        ("witness", "cccd:00120300456", "12 digits"),  # 11 digits
        ("witness", "cccd:00120300456a", "12 digits"),
        ("witness", "cmnd:12345678", "9 digits"),
        ("witness", CCCD_1, "KIND:NUMBER"),
        ("witness", "licence:123", "unknown identity document"),
        ("judge", f"cccd:{CCCD_1}", "unknown participant role"),
        ("witness", "other:\x1b[2J", "control codes"),
        ("witness", "other: ", "empty"),
    ]:
        with pytest.raises(UsageError, match=match):
            keyless(AN, role, doc)
    with pytest.raises(UsageError, match="needs a name"):
        keyless("  ", "witness", f"cccd:{CCCD_1}")
    # the details a Vietnamese record carries (issue 16), optional
    full = keyless(AN, "witness", f"cccd:{CCCD_1}", year_of_birth=1985, address="Hà Nội", unit="")
    assert full.to_dict()["year_of_birth"] == 1985 and "unit" not in full.to_dict()
    assert Party.from_dict(full.to_dict()) == full and parties.problem(full.to_dict()) is None
    with pytest.raises(UsageError, match="not a year"):
        keyless(AN, "witness", f"cccd:{CCCD_1}", year_of_birth=85)
    # what a signed event may hold: legacy, or a complete and consistent record
    assert parties.problem({"name": "X", "fingerprint": None}) is None
    bad = [
        {"name": "X", "fingerprint": None, "role": "witness", "holds_key": False, "document": None},
        {"name": "X", "fingerprint": "ab" * 32, "role": None, "holds_key": False, "document": None},
        {"name": "X", "fingerprint": None, "role": None, "holds_key": True, "document": None},
        {"name": "X", "fingerprint": None, "role": "witness", "holds_key": False},
        {**p.to_dict(), "extra": 1},
        {**p.to_dict(), "holds_key": 0},
        {**p.to_dict(), "year_of_birth": "1985"},
        {**p.to_dict(), "address": 5},
    ]
    for doc in bad:
        assert parties.problem(doc) is not None, doc


def test_a_bare_name_is_refused_and_a_keyless_party_recorded_as_such(
    case_dir: Path, held: Case, invoke: Any
) -> None:
    res = _transfer(invoke, case_dir, "--to", AN)
    assert res.exit_code == 2 and "no examiner pinned in case" in res.stderr
    res = _transfer(invoke, case_dir, "--to", AN, "--to-id", f"cccd:{CCCD_1}")
    assert res.exit_code == 2 and "needs --to-role" in res.stderr
    res = _transfer(invoke, case_dir, "--to", AN, "--to-role", "witness", "--to-id", "cccd:12")
    assert res.exit_code == 2 and "12 digits" in res.stderr
    assert len(list_events(Case.open(case_dir))) == 2  # nothing recorded
    res = _transfer(
        invoke, case_dir, "--to", AN, "--to-role", "receiver", "--to-id", f"cccd:{CCCD_1}"
    )
    assert res.exit_code == 0, res.output
    assert f"→ {AN} (receiver, holds no key, citizen ID {CCCD_1})" in res.stdout
    ev = list_events(Case.open(case_dir), "HDD01")[-1]
    assert ev["counterpart"]["holds_key"] is False
    assert ev["counterpart"]["document"] == {"type": "cccd", "number": CCCD_1}
    ok = invoke("--case", str(case_dir), "custody", "verify")
    assert ok.exit_code == 0, ok.output
    # nobody's signature stands for their receipt
    res = invoke("--case", str(case_dir), "custody", "receive", "HDD01")
    assert res.exit_code == 1 and "who holds no key" in res.stderr


def test_namesakes_without_keys_are_told_apart_by_their_document(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    case = Case.open(case_dir)
    for item in ("A1", "A2"):
        record_event(case, identity, "registered", item, description="Điện thoại")
    nfd = unicodedata.normalize("NFD", AN)
    for item, cccd, name in (("A1", CCCD_1, AN), ("A2", CCCD_2, nfd)):
        res = invoke(
            "--case", str(case_dir), "custody", "release", item, "--reason", "trả chủ sở hữu",
            "--to", name, "--to-role", "owner", "--to-id", f"cccd:{cccd}",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
    events = list_events(Case.open(case_dir))
    a1, a2 = (e["counterpart"] for e in events if e["kind"] == "released")
    assert a1["name"] == a2["name"] == AN  # NFC, whatever was typed
    assert a1["document"]["number"] != a2["document"]["number"]
    log = invoke("--case", str(case_dir), "custody", "log").stdout
    assert f"citizen ID {CCCD_1}" in log and f"citizen ID {CCCD_2}" in log
    # the report names them the same way (the PDF's custody table uses _who)
    with open_ledger(Case.open(case_dir)) as ledger:
        entries = custody_from_events(se.event for se in ledger.events())
    released = [e for e in entries if e.event_type == "released"]
    assert [_who(e, "vi") for e in released] == [
        f"{AN} (người có phương tiện / chủ sở hữu, không giữ khoá, CCCD {CCCD_1})",
        f"{AN} (người có phương tiện / chủ sở hữu, không giữ khoá, CCCD {CCCD_2})",
    ]
    assert released[0].to_dict()["counterpart_party"]["document"]["number"] == CCCD_1


def test_a_pinned_examiner_is_bound_by_fingerprint_whatever_the_spelling(
    case_dir: Path, held: Case, identity: Identity, ek_home: Path, tmp_path: Path, invoke: Any
) -> None:
    other = second_examiner(ek_home)
    pem = tmp_path / "b.pem"
    pem.write_text(other.cert_pem())
    res = invoke(
        "--case", str(case_dir), "--identity", identity.name, "case", "add-examiner", str(pem)
    )
    assert res.exit_code == 0, res.output
    nfd = unicodedata.normalize("NFD", SECOND)
    res = invoke(
        "--case", str(case_dir), "--identity", identity.name, "custody", "transfer", "HDD01",
        "--purpose", "giám định", "--to", nfd, "--to-role", "examiner",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    cp = list_events(Case.open(case_dir), "HDD01")[-1]["counterpart"]
    assert cp == {
        "name": SECOND,
        "fingerprint": other.fingerprint,
        "role": "examiner",
        "holds_key": True,
        "document": None,
    }
    # a party claiming a key that is not a pinned examiner's is refused
    fake = Party(SECOND, "ab" * 32, "examiner", True)
    with pytest.raises(UsageError, match="no examiner pinned"):
        resolve_party(Case.open(case_dir), fake)
    with pytest.raises(UsageError, match="is 'Trương Đình Bủng'"):
        resolve_party(Case.open(case_dir), Party("Người Khác", other.fingerprint, "examiner", True))
    # a bare legacy party without key or document cannot be made through the workflow
    with pytest.raises(UsageError, match="neither a key nor an identity document"):
        resolve_party(Case.open(case_dir), Party("X"))


def test_hostile_names_are_kept_exactly_and_escaped_on_the_terminal(
    case_dir: Path, held: Case, invoke: Any
) -> None:
    hostile = "Kẻ\x1b[2J\x1b]0;pwned\x07 xấu\u202e"
    res = _transfer(
        invoke, case_dir, "--to", hostile, "--to-role", "witness", "--to-id", f"cccd:{CCCD_1}"
    )
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.stdout and "\u202e" not in res.stdout
    assert "\\x1b[2J" in res.stdout and "\\u202e" in res.stdout
    log = invoke("--case", str(case_dir), "custody", "log", "HDD01").stdout
    assert "\x1b" not in log and "\\x1b" in log
    js = invoke("--case", str(case_dir), "--json", "custody", "log", "HDD01").stdout
    assert json.loads(js)["events"][-1]["counterpart"]["name"] == hostile


def test_events_before_participants_keep_verifying(
    case_dir: Path, held: Case, identity: Identity, invoke: Any
) -> None:
    """An event with the legacy counterpart (a bare name, fingerprint null), as every case
    before this change recorded one, still verifies, reads and shows."""
    case = Case.open(case_dir)
    with Ledger.open(
        case.ledger_path, ledger_origin(case), trusted=trusted_with(case), writable=True
    ) as ledger:
        ledger.append(
            identity,
            [
                Draft(
                    kind="transferred", item_id="HDD01", counterpart=Party("Lê Văn C"), purpose="x"
                )
            ],
        )
    ok = invoke("--case", str(case_dir), "custody", "verify")
    assert ok.exit_code == 0, ok.output
    ev = list_events(Case.open(case_dir), "HDD01")[-1]
    assert ev["counterpart"] == {"name": "Lê Văn C", "fingerprint": None}
    log = invoke("--case", str(case_dir), "custody", "log", "HDD01").stdout
    assert "→ Lê Văn C (holds no key)" in log


def test_a_malformed_participant_in_a_signed_event_is_caught(
    case_dir: Path, held: Case, identity: Identity, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pinned colleague signs an event whose counterpart claims no key and carries no
    document (what the workflows refuse): the ledger will not store it, and an insider whose
    copy of the tool skips that check is caught by `custody verify`."""
    import types

    from evidencekit.chain import ledger as ledger_module

    case = Case.open(case_dir)
    bad = Party(AN, None, "witness", False)  # no document
    draft = Draft(kind="transferred", item_id="HDD01", counterpart=bad, purpose="x")

    def append() -> None:
        with Ledger.open(
            case.ledger_path, ledger_origin(case), trusted=trusted_with(case), writable=True
        ) as ledger:
            ledger.append(identity, [draft])

    with pytest.raises(CustodyError, match="an identity document must tell them apart"):
        append()
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "parties", types.SimpleNamespace(problem=lambda _d: None))
        append()
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3, res.output
    assert "malformed custody event" in res.stdout + res.stderr
