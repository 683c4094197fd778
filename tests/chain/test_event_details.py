"""Issue 16: the shape of the seizure-record details (`chain.details`), refused by the ledger
before signing and named as a malformed event by `custody verify` when written past it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import details
from evidencekit.errors import CustodyError
from evidencekit.workflows.casefiles import RecordedFile, check_files
from evidencekit.workflows.custody import record_event, verify_custody

WITNESS = {
    "name": "Nguyễn Văn An",
    "fingerprint": None,
    "role": "witness",
    "holds_key": False,
    "document": {"type": "cccd", "number": "001203004567"},
}
OPENED = {
    "session": "S1",
    "place": "Số 12 Lê Lợi",
    "agency": "Công an tỉnh",
    "record_number": None,
    "legal_basis": ["Điều 107 BLTTHS 2015"],
    "participants": [WITNESS],
}


def test_good_shapes_pass() -> None:
    assert details.problem("session_opened", OPENED) is None
    closed = {
        "session": "S1",
        "refusals": [{"participant": WITNESS, "reason": "không ký"}],
        "statements": None,
    }
    assert details.problem("session_closed", closed) is None
    applied = {"seal_numbers": ["NP-1"], "method": "túi", "participants": [], "session": None}
    assert details.problem("seal_applied", applied) is None
    assert details.problem("registered", {"photos": [], "session": "S1"}) is None
    assert details.problem("acquired", {"anything": 1.5}) is None  # free details stay free


@pytest.mark.parametrize(
    ("kind", "value", "why"),
    [
        ("session_opened", {**OPENED, "extra": 1}, "unknown extra"),
        ("session_opened", {k: v for k, v in OPENED.items() if k != "place"}, "lack place"),
        ("session_opened", {**OPENED, "session": "../x"}, "not a session id"),
        ("session_opened", {**OPENED, "legal_basis": ["a", "a"]}, "twice"),
        ("session_opened", {**OPENED, "place": "Nguye\u0302\u0303n"}, "place"),  # not NFC
        (
            "session_opened",
            {**OPENED, "participants": [{"name": "A", "fingerprint": None}]},
            "needs a role",
        ),
        ("session_opened", {**OPENED, "participants": [{**WITNESS, "document": None}]}, "document"),
        (
            "session_closed",
            {"session": "S1", "refusals": [{"reason": "x"}], "statements": None},
            "refusal",
        ),
        (
            "seal_applied",
            {"seal_numbers": [], "method": "x", "participants": [], "session": None},
            "non-empty",
        ),
        (
            "seal_opened",
            {
                "seal_numbers": ["1"],
                "seal_state": "broken",
                "state_note": None,
                "reason": "x",
                "participants": [],
            },
            "seal_state",
        ),
        (
            "resealed",
            {"seal_numbers": ["1"], "replaces": ["1"], "method": "x", "participants": []},
            "both new and replaced",
        ),
        (
            "document_attached",
            {"what": "signed-record", "file": {"name": "documents/A/x", "size": 1, "sha256": "AB"}},
            "sha256",
        ),
        (
            "analysed",
            {"working_copy": {"item": "A", "path": "/x", "sha256": "ab" * 32}},
            "either",
        ),
        ("note", {"session": 5}, "not a session id"),
    ],
)
def test_bad_shapes_are_named(kind: str, value: dict[str, Any], why: str) -> None:
    problem = details.problem(kind, value)
    assert problem is not None and why in problem, problem


def test_ledger_refuses_and_verify_names_bad_details(case_dir: Path, identity: Any) -> None:
    case = Case.open(case_dir)
    with pytest.raises(CustodyError, match="details"):
        record_event(case, identity, "session_opened", None, details={**OPENED, "place": ""})
    assert verify_custody(case).ok


def test_a_photo_name_outside_its_folder_is_refused(case_dir: Path) -> None:
    """A forged record naming a file outside photos/ITEM/ is never opened."""
    case = Case.open(case_dir)
    (case_dir / "secret").write_bytes(b"x")
    recs = [
        RecordedFile(1, "HDD01", "registered", "photos/HDD01/../../secret", 1, "ab" * 32),
        RecordedFile(1, "HDD01", "registered", "photos/OTHER/x.jpg", 1, "ab" * 32),
        RecordedFile(1, "HDD01", "registered", "custody.sqlite", 1, "ab" * 32),
    ]
    problems, notes = check_files(case, recs)
    assert [p.kind for p in problems] == ["unsafe-file"] * 3 and notes == []
