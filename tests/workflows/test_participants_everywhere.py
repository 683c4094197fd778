"""Participants and seizure sessions beyond the custody commands (issue 16): `case init
--participant` (the case's standing participants, in its signed first event), and
`--participant` / `--session` on `acquire disk`, `acquire files`, `seal` and `convert`, under the
custody events' rules (the session must be open; `custody verify` replays it).

Oracles: the signed events as `custody log --json` shows them; `custody verify`'s replay (a
forged acquisition naming a closed session, signed with the rule check switched off, is a
rule-violation); images and files made by `mkfs.vfat`; `pdftotext` on the Biên bản."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain import ledger as ledger_module
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.origin import ledger_origin
from tests.conftest import EXAMINER, need_peer

OFFICER = "role=officer,name=Lê Văn Tám,cccd=001085002222,unit=Đội Cảnh sát hình sự"
WITNESS = 'role=witness,name=Lê Thị Hoa,cccd=001203004567,yob=1990,address="12 Lê Lợi, Huế"'


def _ek(runner: CliRunner, *args: str, code: int = 0) -> Any:
    res = runner.invoke(cli, list(args))
    assert res.exit_code == code, (args, res.output)
    return res


def _events(runner: CliRunner, case: Path, item: str | None = None) -> list[dict[str, Any]]:
    args = ["--case", str(case), "--json", "custody", "log"] + ([item] if item else [])
    return json.loads(_ek(runner, *args).stdout)["events"]


@pytest.fixture
def case(tmp_path: Path, runner: CliRunner, identity: Identity) -> Path:
    path = tmp_path / "case"
    _ek(runner, "case", "init", str(path), "--case-number", "VKS-2026-16", "--title", "Vụ án",
        "--agency", "Công an thành phố Huế",
        "--participant", f"role=investigator,key={EXAMINER},unit=Đội Cảnh sát hình sự",
        "--participant", OFFICER)  # fmt: skip
    return path


def test_case_init_records_the_standing_participants(
    case: Path, runner: CliRunner, identity: Identity
) -> None:
    (opened,) = [e for e in _events(runner, case) if e["kind"] == "case_opened"]
    people = opened["details"]["participants"]
    assert [(p["name"], p["role"], p["holds_key"]) for p in people] == [
        (EXAMINER, "investigator", True),
        ("Lê Văn Tám", "officer", False),
    ]
    assert people[0]["fingerprint"] == identity.fingerprint
    assert people[0]["unit"] == "Đội Cảnh sát hình sự"
    assert people[1]["document"] == {"type": "cccd", "number": "001085002222"}
    assert "Custody ledger OK" in _ek(runner, "--case", str(case), "custody", "verify").output
    # the report's custody section names them in the case's opening
    pdf = case.parent / "r.pdf"
    _ek(runner, "--case", str(case), "report", "build", "--lang", "vi", "--out", str(pdf))
    need_peer("pdftotext")
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "Có mặt: Nguyễn Bá Tùng (điều tra viên), Lê Văn Tám (cán bộ điều tra)." in text, text[
        :3000
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("role=investigator,key=Người Không Có", "match key="),
        ("name=Lê Văn Tám,cccd=001085002222", "has no role"),
        ("role=witness,name=Lê Văn Tám", "holds no key"),
        ("role=witness,name=Lê Văn Tám,cccd=12", "cccd"),
    ],
)
def test_case_init_refuses_a_bad_participant_before_anything_is_written(
    tmp_path: Path, runner: CliRunner, identity: Identity, spec: str, message: str
) -> None:
    path = tmp_path / "c2"
    res = _ek(runner, "case", "init", str(path), "--case-number", "X", "--title", "T",
              "--participant", spec, code=2)  # fmt: skip
    assert message in res.output
    assert not path.exists() or not any(path.iterdir())


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    need_peer("mkfs.vfat")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-C", "-n", "USB", str(img), "1024"], check=True, capture_output=True
    )
    return img


def test_acquire_collect_seal_convert_name_participants_and_session(
    case: Path, runner: CliRunner, identity: Identity, usb: Path, tmp_path: Path
) -> None:
    c = ["--case", str(case)]
    _ek(runner, *c, "custody", "session", "open", "S1", "--place", "Số 12 Lê Lợi, Huế",
        "--agency", "Cơ quan CSĐT", "--basis", "Điều 107 BLTTHS 2015")  # fmt: skip
    docs = tmp_path / "tài liệu"
    docs.mkdir()
    (docs / "báo cáo.txt").write_text("nội dung", encoding="utf-8")
    present = ("--session", "S1", "--participant", WITNESS)
    _ek(runner, *c, "acquire", "disk", str(usb), "--item", "USB01", "--format", "raw", *present)
    _ek(runner, *c, "acquire", "files", str(docs), "--item", "DOCS01", *present)
    _ek(runner, *c, "seal", str(docs / "báo cáo.txt"), "--item", "FILE01", *present)
    _ek(runner, *c, "convert", "USB01", "--to", "e01", "--item", "USB01-E01", *present)
    kinds = {}
    for e in _events(runner, case):
        if e["item"] in ("USB01", "DOCS01", "FILE01", "USB01-E01"):
            kinds[(e["item"], e["kind"])] = e["details"]
    assert set(kinds) == {
        ("USB01", "acquired"),
        ("DOCS01", "collected"),
        ("FILE01", "sealed"),
        ("USB01-E01", "sealed"),
        ("USB01-E01", "converted"),
    }
    for key, d in kinds.items():
        assert d["session"] == "S1", key
        assert [p["name"] for p in d["participants"]] == ["Lê Thị Hoa"], key
        assert d["participants"][0]["document"]["number"] == "001203004567", key
    assert "Custody ledger OK" in _ek(runner, *c, "custody", "verify").output
    # the session's Biên bản lists the items made in it and everyone present
    _ek(runner, *c, "custody", "session", "close", "S1")
    pdf = tmp_path / "bb.pdf"
    _ek(runner, *c, "report", "build", "--form", "bien-ban", "--session", "S1",
        "--out", str(pdf))  # fmt: skip
    need_peer("pdftotext")
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split()
    )
    for needle in ("Lê Văn Tám", "cán bộ điều tra", "Lê Thị Hoa", "người chứng kiến", "USB01",
                   "DOCS01", "FILE01", "Nguyễn Bá Tùng", "điều tra viên"):  # fmt: skip
        assert needle in text, needle
    # one item collected in the session: its record is the session's (place, witness)
    one = tmp_path / "one.pdf"
    _ek(runner, *c, "report", "build", "--form", "bien-ban", "--item", "DOCS01",
        "--out", str(one))  # fmt: skip
    text = " ".join(
        subprocess.run(["pdftotext", str(one), "-"], capture_output=True, text=True).stdout.split()
    )
    assert "Số 12 Lê Lợi, Huế" in text and "Lê Thị Hoa" in text and "S1" in text


@pytest.mark.parametrize("command", ["acquire disk", "acquire files", "seal", "convert"])
def test_a_closed_or_unknown_session_is_refused_before_any_work(
    case: Path, runner: CliRunner, identity: Identity, usb: Path, command: str
) -> None:
    c = ["--case", str(case)]
    _ek(runner, *c, "acquire", "disk", str(usb), "--item", "SRC", "--format", "raw")
    _ek(runner, *c, "custody", "session", "open", "S9", "--place", "P", "--agency", "A")
    _ek(runner, *c, "custody", "session", "close", "S9")
    args = {
        "acquire disk": ["acquire", "disk", str(usb), "--item", "NEW", "--format", "raw"],
        "acquire files": ["acquire", "files", str(usb.parent), "--item", "NEW"],
        "seal": ["seal", str(usb), "--item", "NEW"],
        "convert": ["convert", "SRC", "--to", "raw", "--item", "NEW"],
    }[command]
    before = len(_events(runner, case))
    for session, said in (("S9", "is closed"), ("NOPE", "is not open")):
        res = _ek(runner, *c, *args, "--session", session, code=1)
        assert f"seizure session '{session}' {said}" in res.output
    res = _ek(runner, *c, *args, "--participant", "role=witness,name=X", code=2)
    assert "holds no key" in res.output
    assert len(_events(runner, case)) == before  # nothing recorded
    assert not (case / "evidence" / "NEW").exists()
    assert not any((case / "evidence" / ".staging").glob("NEW*"))


def test_verify_replays_the_session_of_an_acquisition(
    case: Path,
    runner: CliRunner,
    identity: Identity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An `acquired` event naming a closed session, signed around the rules (a modified copy of
    the tool), is a rule-violation on replay: the session is among the details the rules read
    of an acquisition too."""
    c = ["--case", str(case)]
    _ek(runner, *c, "custody", "session", "open", "S1", "--place", "P", "--agency", "A")
    _ek(runner, *c, "custody", "session", "close", "S1")
    cs = Case.open(case)
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "check_event", lambda *a, **k: None)
        with Ledger.open(cs.ledger_path, ledger_origin(cs), trusted=cs.trusted()) as ledger:
            ledger.append(
                identity,
                [Draft(kind="acquired", item_id="X1", details={"session": "S1"})],
            )
    res = _ek(runner, *c, "--json", "custody", "verify", code=3)
    problems = json.loads(res.stdout)["problems"]
    assert any(p["kind"] == "rule-violation" and "is closed" in p["message"] for p in problems), (
        problems
    )
