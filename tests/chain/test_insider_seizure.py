"""Red team (issue 13 threat model, against issue 16's seizure record): a colleague with write
access to the case folder and a pinned key of their own tries to make the record say what did
not happen while `custody verify` and `verify` still exit 0.

Each test is one attack; the oracle is the exit code and the problem kinds the verifiers report
(and, for the Biên bản's frame, the times the ledger records).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import ledger as ledger_module
from evidencekit.errors import CustodyError, UsageError
from evidencekit.identity import Identity
from evidencekit.workflows import seizure
from tests.chain.helpers import second_examiner

WITNESS = "role=witness,name=Nguyễn Văn An,cccd=001203004567"


def _photos(tmp_path: Path) -> list[Path]:
    """Two photos of the same size and different bytes."""
    out = []
    for i, name in enumerate(("ảnh 1.jpg", "ảnh 2.jpg")):
        p = tmp_path / name
        p.write_bytes(b"\xff\xd8\xff" + bytes([i]) * 4000)
        out.append(p)
    return out


def _register(invoke: Any, case_dir: Path, photos: list[Path]) -> None:
    args = ["--case", str(case_dir), "custody", "register", "HDD01", "--description", "Ổ cứng"]
    for p in photos:
        args += ["--photo", str(p)]
    res = invoke(*args)
    assert res.exit_code == 0, res.output
    # imaged too, so that `verify HDD01` has a seal and exits 0 before any attack
    disk = photos[0].parent / "disk.raw"
    disk.write_bytes(bytes(range(256)) * 64)
    res = invoke("--case", str(case_dir), "acquire", "disk", str(disk), "--item", "HDD01",
                 "--format", "raw")  # fmt: skip
    assert res.exit_code == 0, res.output
    for cmd in (("custody", "verify"), ("verify", "HDD01")):
        assert invoke("--case", str(case_dir), *cmd).exit_code == 0


def _problems(invoke: Any, case_dir: Path, *cmd: str) -> tuple[int, list[dict[str, Any]]]:
    res = invoke("--json", "--case", str(case_dir), *cmd)
    assert res.stdout, (cmd, res.exit_code, res.output)
    doc = json.loads(res.stdout)
    problems = list(doc.get("problems", []))
    for item in doc.get("items", []):
        problems += item["problems"]
    return res.exit_code, problems


def _both_fail(invoke: Any, case_dir: Path, kind: str, *, item: bool = True) -> None:
    cmds = [("custody", "verify"), ("verify", "HDD01")] if item else [("custody", "verify")]
    for cmd in cmds:
        code, problems = _problems(invoke, case_dir, *cmd)
        assert code == 3, (cmd, problems)
        assert kind in {p["kind"] for p in problems}, (cmd, problems)


def test_swapping_two_photos_of_the_same_size_is_caught(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _register(invoke, case_dir, _photos(tmp_path))
    folder = case_dir / "photos" / "HDD01"
    a, b = folder / "ảnh 1.jpg", folder / "ảnh 2.jpg"
    tmp = folder / "x"
    os.rename(a, tmp)
    os.rename(b, a)
    os.rename(tmp, b)
    _both_fail(invoke, case_dir, "digest-mismatch")


@pytest.mark.parametrize("how", ["symlink", "hardlink"])
def test_a_photo_replaced_by_a_link_to_another_is_caught(
    case_dir: Path, invoke: Any, tmp_path: Path, how: str
) -> None:
    _register(invoke, case_dir, _photos(tmp_path))
    folder = case_dir / "photos" / "HDD01"
    a, b = folder / "ảnh 1.jpg", folder / "ảnh 2.jpg"
    a.unlink()
    if how == "symlink":
        a.symlink_to(b.name)
        _both_fail(invoke, case_dir, "unsafe-file")
    else:
        os.link(b, a)
        _both_fail(invoke, case_dir, "digest-mismatch")


@pytest.mark.parametrize("area", ["photos", "documents"])
def test_an_unrecorded_file_beside_the_recorded_ones_is_reported(
    case_dir: Path, invoke: Any, tmp_path: Path, area: str
) -> None:
    """A planted photo (or a second 'signed Biên bản') in an item's folder that no event records
    would pass for part of the record to whoever opens the folder."""
    _register(invoke, case_dir, _photos(tmp_path))
    doc = tmp_path / "biên bản.pdf"
    doc.write_bytes(b"%PDF-1.4 scanned\n")
    res = invoke("--case", str(case_dir), "custody", "attach", "HDD01", str(doc), "--what", "other")
    assert res.exit_code == 0, res.output
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0
    planted = case_dir / area / "HDD01" / "ảnh 3.jpg"
    planted.write_bytes(b"\xff\xd8\xff planted")
    _both_fail(invoke, case_dir, "unrecorded-file")


def test_a_file_browsers_metadata_is_only_noted(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _register(invoke, case_dir, _photos(tmp_path))
    (case_dir / "photos" / "HDD01" / ".DS_Store").write_bytes(b"Bud1")
    code, problems = _problems(invoke, case_dir, "custody", "verify")
    assert code == 0, problems
    doc = json.loads(invoke("--json", "--case", str(case_dir), "custody", "verify").stdout)
    assert any(".DS_Store" in n for n in doc["notes"]), doc


def test_a_photo_folder_of_an_item_never_registered_is_reported(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _register(invoke, case_dir, _photos(tmp_path))
    planted = case_dir / "photos" / "USB02" / "ảnh.jpg"
    planted.parent.mkdir()
    planted.write_bytes(b"\xff\xd8\xff planted")
    _both_fail(invoke, case_dir, "unrecorded-file", item=False)
    assert invoke("--case", str(case_dir), "verify", "HDD01").exit_code == 0


def test_a_session_closed_before_its_own_events_is_refused(
    case_dir: Path, identity: Identity, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close dated before an event of the session would make the Biên bản say the session
    ended before an item was seized in it (a clock set back, or a back-dated close)."""
    case = Case.open(case_dir)
    now = dt.datetime.now(dt.UTC)
    seizure.open_session(case, identity, "S1", place="Số 12 Lê Lợi", agency="Công an tỉnh")
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(hours=3))
        res = invoke(
            "--case", str(case_dir), "custody", "register", "HDD01",
            "--description", "Ổ cứng", "--session", "S1",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(minutes=20))
        with pytest.raises(CustodyError, match="S1"):
            seizure.close_session(case, identity, "S1")
    # the same close signed around the rule (a modified tool) is named on verification
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(minutes=20))
        m.setattr(ledger_module, "check_event", lambda *a, **k: None)
        seizure.close_session(case, identity, "S1")
    code, problems = _problems(invoke, case_dir, "custody", "verify")
    assert code == 3 and "rule-violation" in {p["kind"] for p in problems}, problems


def test_a_second_opening_of_a_session_by_a_colleague_is_refused(
    case_dir: Path, identity: Identity, ek_home: Path
) -> None:
    case = Case.open(case_dir)
    colleague = second_examiner(ek_home, case)
    seizure.open_session(case, identity, "S1", place="Số 12 Lê Lợi", agency="Công an tỉnh")
    with pytest.raises(CustodyError, match="already opened"):
        seizure.open_session(case, colleague, "S1", place="Nơi khác", agency="Công an tỉnh")


def test_an_nfd_participant_name_is_stored_nfc(case_dir: Path, identity: Identity) -> None:
    """Two spellings of one name (NFC, NFD) must not make two participants that look alike but
    differ in bytes: the ledger stores NFC only, so the same person typed twice is one name
    named twice (refused), and a refusal typed NFD names the participant recorded NFC."""
    case = Case.open(case_dir)
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert nfd != "Nguyễn Văn An"
    with pytest.raises(UsageError, match="named twice"):
        seizure.open_session(
            case, identity, "S0", place="Số 12 Lê Lợi", agency="Công an tỉnh",
            participants=[f"role=witness,name={nfd},cccd=001203004567", WITNESS],
        )  # fmt: skip
    res = seizure.open_session(
        case, identity, "S1", place="Số 12 Lê Lợi", agency="Công an tỉnh",
        participants=[f"role=witness,name={nfd},cccd=001203004567"],
    )  # fmt: skip
    (p,) = res.events[0].event.details["participants"]
    assert p["name"] == "Nguyễn Văn An"
    closed = seizure.close_session(case, identity, "S1", refusals=[(f"name={nfd}", "không ký")])
    (refusal,) = closed.events[0].event.details["refusals"]
    assert refusal["participant"] == p


def test_an_event_back_dated_into_a_closed_session_is_refused(
    case_dir: Path, identity: Identity, ek_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the close, a colleague's event naming the session dated inside it (their clock set
    back): the ledger's order, not the claimed time, says the session is closed."""
    case = Case.open(case_dir)
    colleague = second_examiner(ek_home, case)
    now = dt.datetime.now(dt.UTC)
    seizure.open_session(case, identity, "S1", place="Số 12 Lê Lợi", agency="Công an tỉnh")
    seizure.close_session(case, identity, "S1")
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: now + dt.timedelta(seconds=1))
        with pytest.raises(CustodyError, match="is closed"):
            seizure.apply_seal(
                case, colleague, "HDD01", seal_numbers=["NP-1"], method="túi", session="S1"
            )


def test_a_document_recorded_in_the_photos_folder_is_refused(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    """`document_attached` recorded through the library (not `custody attach`) naming a file
    in photos/ITEM: it would record a planted file as one more photo of the item."""
    import hashlib

    from evidencekit.workflows.custody import record_event

    _register(invoke, case_dir, _photos(tmp_path))
    planted = case_dir / "photos" / "HDD01" / "ảnh 3.jpg"
    planted.write_bytes(b"\xff\xd8\xff planted")
    file = {
        "name": "photos/HDD01/ảnh 3.jpg",
        "size": planted.stat().st_size,
        "sha256": hashlib.sha256(planted.read_bytes()).hexdigest(),
    }
    record_event(
        Case.open(case_dir), identity, "document_attached", "HDD01",
        details={"what": "other", "file": file},
    )  # fmt: skip
    _both_fail(invoke, case_dir, "unsafe-file")
