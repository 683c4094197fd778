"""`custody log` in the Vietnamese interface words what it shows from the ledger in Vietnamese
(kinds, roles, identity documents, seal states, attached documents: the report's words), and the
default descriptions the workflows sign into events are in the case's language (issue 16).

Oracles: the signed event bytes (`custody log --json`: unchanged by the interface language), the
report's own recogniser of the tool's default descriptions (`report.sentences`), images made by
`mkfs.vfat`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.report.sentences import _DEFAULTS
from tests.conftest import need_peer

WITNESS = "role=witness,name=Lê Thị Hoa,cccd=001203004567"


def _ek(runner: CliRunner, *args: str, code: int = 0) -> Any:
    res = runner.invoke(cli, list(args))
    assert res.exit_code == code, (args, res.output)
    return res


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    need_peer("mkfs.vfat")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-C", "-n", "USB", str(img), "1024"], check=True, capture_output=True
    )
    return img


def _seized(runner: CliRunner, case: Path, usb: Path, tmp_path: Path) -> None:
    c = ["--case", str(case)]
    _ek(runner, *c, "custody", "register", "USB01", "--description", "Ổ USB",
        "--participant", WITNESS)  # fmt: skip
    _ek(runner, *c, "custody", "seal-apply", "USB01", "--seal-number", "NP-1", "--method", "túi")
    _ek(runner, *c, "custody", "seal-open", "USB01", "--seal-number", "NP-1",
        "--state", "damaged", "--reason", "sao chép")  # fmt: skip
    _ek(runner, *c, "acquire", "disk", str(usb), "--item", "USB01", "--format", "raw")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 ban chup")
    _ek(runner, *c, "custody", "attach", "USB01", str(scan), "--what", "signed-record")


def test_log_lines_are_vietnamese_in_the_vietnamese_interface(
    case_dir: Path, runner: CliRunner, identity: Identity, usb: Path, tmp_path: Path
) -> None:
    _seized(runner, case_dir, usb, tmp_path)
    vi = _ek(runner, "--lang", "vi", "--case", str(case_dir), "custody", "log", "USB01").output
    for words in (
        "người chứng kiến",  # the role
        "không giữ khoá",  # holds no key
        "CCCD 001203004567",
        "không còn nguyên vẹn",  # seal state damaged
        "bản quét biên bản đã ký",  # what was attached
        "mở niêm phong",  # the kind seal_opened, in the report's words
    ):
        assert words in vi, (words, vi)
    for english in ("witness", "holds no key", "damaged", "signed-record", "citizen ID"):
        assert english not in vi, (english, vi)
    en = _ek(runner, "--lang", "en", "--case", str(case_dir), "custody", "log", "USB01").output
    assert "witness" in en and "damaged" in en and "holds no key" in en
    # --json is the signed record, whatever the interface language
    j_vi = _ek(runner, "--lang", "vi", "--case", str(case_dir), "--json", "custody", "log")
    j_en = _ek(runner, "--lang", "en", "--case", str(case_dir), "--json", "custody", "log")
    assert json.loads(j_vi.stdout) == json.loads(j_en.stdout)


def _description(runner: CliRunner, case: Path, item: str, kind: str) -> str:
    doc = json.loads(_ek(runner, "--case", str(case), "--json", "custody", "log", item).stdout)
    return next(e["description"] for e in doc["events"] if e["kind"] == kind)


def test_default_descriptions_follow_the_case_language(
    tmp_path: Path, runner: CliRunner, identity: Identity, usb: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("a", encoding="utf-8")
    found = {}
    for lang in ("vi", "en"):
        case = tmp_path / f"case-{lang}"
        _ek(runner, "case", "init", str(case), "--case-number", f"N-{lang}", "--title", "T",
            "--lang", lang)  # fmt: skip
        c = ["--case", str(case)]
        _ek(runner, *c, "acquire", "disk", str(usb), "--item", "D1", "--format", "raw")
        _ek(runner, *c, "acquire", "files", str(docs), "--item", "F1")
        _ek(runner, *c, "seal", str(docs / "a.txt"), "--item", "S1")
        _ek(runner, *c, "convert", "D1", "--to", "e01", "--item", "D1-E01")
        found[lang] = {
            "acquired": _description(runner, case, "D1", "acquired"),
            "collected": _description(runner, case, "F1", "collected"),
            "sealed": _description(runner, case, "S1", "sealed"),
            "derived": _description(runner, case, "D1-E01", "sealed"),
            "converted": _description(runner, case, "D1-E01", "converted"),
        }
    vi, en = found["vi"], found["en"]
    assert vi["acquired"] == f"Ảnh đĩa của {usb} (1.0 MiB), hoàn tất"
    assert en["acquired"] == f"Disk image of {usb} (1.0 MiB), complete"
    assert vi["collected"] == "Thu thập tệp từ 1 nguồn: 1 tệp, 0 lỗi"
    assert en["collected"] == "Logical collection of 1 source(s): 1 files, 0 errors"
    assert vi["sealed"] == "Chốt giá trị băm và ký số 1 tệp"
    assert en["sealed"] == "sealed 1 file(s)"
    assert vi["derived"] == "Tạo từ vật chứng D1 (e01)"
    assert vi["converted"] == "Vật chứng D1 được chuyển sang định dạng E01"
    assert en["converted"] == "item D1 converted to E01"
    # the report knows them for the tool's own in either language (not quoted as typed)
    for lang in ("vi", "en"):
        for kind in ("acquired", "collected", "sealed", "derived"):
            assert any(p.match(found[lang][kind]) for p in _DEFAULTS), (lang, kind)
    # a description the examiner typed is never taken for a default
    assert not any(p.match("Ảnh đĩa của ông A") for p in _DEFAULTS)
