"""`custody register --make --model --serial --capacity` (issue 16): the device's details in the
signed `registered` event, the registered values in the Biên bản and the report, and a note —
never a silent choice — when an acquisition measures another capacity or serial.

Oracles: the media's size from `stat` of an image made by `mkfs.vfat`; an E01 source whose
serial `ewfinfo` (libewf) reads back; `pdftotext` on the PDFs; the signed event's bytes as
`custody log --json` shows them."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.chain.details import device_differences, problem
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.conftest import need_peer


def _ek(runner: CliRunner, case_dir: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, ["--case", str(case_dir), *args])
    assert res.exit_code == code, (args, res.output)
    return res.output


def _pdftext(pdf: Path) -> str:
    need_peer("pdftotext")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


@pytest.fixture
def usb(tmp_path: Path) -> Path:
    need_peer("mkfs.vfat")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-C", "-n", "USB", str(img), "2048"], check=True, capture_output=True
    )
    assert img.stat().st_size == 2048 * 1024
    return img


def _registered(runner: CliRunner, case_dir: Path, item: str) -> dict:
    doc = json.loads(_ek(runner, case_dir, "--json", "custody", "log", item))
    return next(e for e in doc["events"] if e["kind"] == "registered")


def test_device_details_are_signed_and_a_matching_capacity_is_no_note(
    runner: CliRunner, case_dir: Path, identity: Identity, usb: Path
) -> None:
    _ek(runner, case_dir, "custody", "register", "USB01", "--description", "Ổ USB Kingston",
        "--make", "Kingston", "--model", "DataTraveler 100 G3", "--serial", "  AB12 cd34 ",
        "--capacity", "2MiB")  # fmt: skip
    ev = _registered(runner, case_dir, "USB01")
    assert ev["details"]["device"] == {
        "make": "Kingston",
        "model": "DataTraveler 100 G3",
        "serial": "AB12 cd34",
        "capacity": 2 * 1024 * 1024,
        "capacity_text": "2MiB",
    }
    log = _ek(runner, case_dir, "custody", "log", "USB01")
    assert "capacity: 2MiB (2 097 152 bytes)" in log and "make: Kingston" in log
    _ek(runner, case_dir, "acquire", "disk", str(usb), "--item", "USB01", "--format", "raw")
    out = _ek(runner, case_dir, "custody", "verify")
    assert "registered with" not in out  # the measured size is the registered one
    assert "note:" not in _ek(runner, case_dir, "custody", "log", "USB01")


def test_another_measured_capacity_is_noted_everywhere(
    runner: CliRunner, case_dir: Path, identity: Identity, usb: Path, tmp_path: Path
) -> None:
    _ek(runner, case_dir, "custody", "register", "USB02", "--description", "Ổ USB 2 MB",
        "--make", "Kingston", "--serial", "KT-0042", "--capacity", "2MB")  # fmt: skip
    assert _registered(runner, case_dir, "USB02")["details"]["device"]["capacity"] == 2_000_000
    _ek(runner, case_dir, "acquire", "disk", str(usb), "--item", "USB02", "--format", "raw")
    size = usb.stat().st_size
    out = _ek(runner, case_dir, "custody", "verify")  # a note, not a problem: exit 0
    assert "Custody ledger OK" in out
    assert (
        "note: item USB02: registered with capacity 2MB (2 000 000 bytes), but its acquisition "
        f"(event 2) measured {size:_} bytes".replace("_", " ")
    ) in out
    doc = json.loads(_ek(runner, case_dir, "--json", "custody", "verify"))
    assert any("item 'USB02': registered with capacity 2MB" in n for n in doc["notes"])
    log = _ek(runner, case_dir, "custody", "log", "USB02")
    assert "note: item USB02: registered with capacity 2MB" in log
    # the reports keep the registered values and state the difference
    bb = tmp_path / "bb.pdf"
    _ek(runner, case_dir, "report", "build", "--form", "bien-ban", "--item", "USB02",
        "--lang", "en", "--out", str(bb))  # fmt: skip
    text = _pdftext(bb)
    assert "KT-0042" in text and "Kingston" in text
    assert "2 000 000" in text  # the registered capacity, not the measured one
    assert (
        "Note: registered with capacity 2MB (2 000 000 bytes), but the acquisition measured "
        "2 097 152 bytes."
    ) in text
    rep = tmp_path / "rep.pdf"
    _ek(runner, case_dir, "report", "build", "--lang", "vi", "--out", str(rep))
    text = _pdftext(rep)
    assert "Đặc điểm khi đăng ký" in text and "KT-0042" in text
    assert "khi đăng ký, dung lượng ghi là 2MB (2 000 000 byte), nhưng khi thu thập đo được" in text


def test_an_e01_source_serial_differing_from_the_label_is_noted(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    from evidencekit.acquire.ewf.metadata import EwfMetadata
    from evidencekit.acquire.ewf.writer import EwfWriter

    need_peer("ewfinfo")
    data = bytes(range(256)) * 4096  # 1 MiB
    w = EwfWriter(
        tmp_path / "src",
        metadata=EwfMetadata(serial_number="WD-WX11A1234567", model="WDC WD10EZEX"),
        media_size=len(data),
    )
    w.write(data)
    w.finish(hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest())
    info = subprocess.run(
        ["ewfinfo", str(tmp_path / "src.E01")], capture_output=True, text=True, check=True
    ).stdout
    assert "WD-WX11A1234567" in info  # libewf reads the serial we compare with
    _ek(
        runner,
        case_dir,
        "custody",
        "register",
        "HDD01",
        "--description",
        "Ổ cứng WD",
        "--serial",
        "wd-wx11a1234567",
    )  # fmt: skip  (same serial, other case: no note)
    _ek(runner, case_dir, "custody", "register", "HDD02", "--description", "Ổ cứng WD khác",
        "--serial", "WD-WX99Z0000000")  # fmt: skip
    src = str(tmp_path / "src.E01")
    _ek(runner, case_dir, "acquire", "disk", src, "--item", "HDD01", "--format", "raw")
    _ek(runner, case_dir, "acquire", "disk", src, "--item", "HDD02", "--format", "raw")
    out = _ek(runner, case_dir, "custody", "verify")
    assert "HDD01" not in out
    assert (
        "item HDD02: registered with serial number 'WD-WX99Z0000000', but its acquisition "
        "(event 4) read 'WD-WX11A1234567'"
    ) in out


def test_bad_capacity_and_empty_texts_are_usage_errors(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    for bad in ("64XB", "1.5", "-3", "lots"):
        out = _ek(runner, case_dir, "custody", "register", "X1", "--description", "d",
                  "--capacity", bad, code=2)  # fmt: skip
        assert "capacity" in out
    _ek(runner, case_dir, "custody", "register", "X1", "--description", "d", "--make", "  ",
        code=2)  # fmt: skip
    # nothing was recorded
    assert "X1" not in _ek(runner, case_dir, "custody", "log")


def test_the_device_schema_refuses_malformed_details() -> None:
    good = {"make": "A", "model": None, "serial": None, "capacity": 5, "capacity_text": "5"}
    assert problem("registered", {"device": good}) is None
    for bad in (
        {**good, "capacity": "5"},
        {**good, "capacity": -1},
        {**good, "capacity": True},
        {**good, "capacity_text": None},
        {k: v for k, v in good.items() if k != "serial"},
        {**good, "extra": 1},
        {"make": None, "model": None, "serial": None, "capacity": None, "capacity_text": None},
        {**good, "make": "A\nB"},
        {**good, "make": "e\u0301"},  # not NFC
    ):
        assert problem("registered", {"device": bad}) is not None, bad


def test_differences_compare_serials_without_spaces_or_case() -> None:
    dev = {"make": None, "model": None, "serial": "AB 12", "capacity": 10, "capacity_text": "10"}
    assert device_differences(dev, capacity=10, serial="ab12") == []
    assert device_differences(dev, capacity=None, serial=None) == []
    found = device_differences(dev, capacity=11, serial="AB13", item="I")
    assert [(d.what, d.registered, d.measured) for d in found] == [
        ("capacity", 10, 11),
        ("serial", "AB 12", "AB13"),
    ]
