"""Issue 16, insider review: `--working-copy` must name a copy *of the item*. An unrelated item
or a file whose SHA-256 nothing in the ledger records is refused (exit 2) — an analysis on it
proves nothing about the original — and an examination event written past the command with
such a copy is a `rule-violation` in `custody verify` (exit 3). A copy made by `convert`
(derived, also through a second conversion) or a byte-for-byte copy of the image passes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event


def _acquired(invoke: Any, case_dir: Path, tmp_path: Path, item: str, fill: int) -> Path:
    disk = tmp_path / f"{item}.raw"
    disk.write_bytes(bytes([fill]) * 65536 + bytes(range(256)) * 256)
    res = invoke("--case", str(case_dir), "acquire", "disk", str(disk), "--item", item,
                 "--format", "raw")  # fmt: skip
    assert res.exit_code == 0, res.output
    return disk


def _analyse(invoke: Any, case_dir: Path, wc: str) -> Any:
    return invoke("--json", "--case", str(case_dir), "custody", "analyse", "HDD01",
                  "--purpose", "tìm tệp đã xoá", "--working-copy", wc)  # fmt: skip


def test_an_unrelated_item_or_file_is_no_working_copy(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _acquired(invoke, case_dir, tmp_path, "HDD01", 1)
    _acquired(invoke, case_dir, tmp_path, "USB02", 2)  # another exhibit, not a copy
    res = _analyse(invoke, case_dir, "USB02")
    assert res.exit_code == 2, res.output
    assert "not shown to be a copy of 'HDD01'" in res.stderr
    assert len(res.stderr.strip().splitlines()) <= 2, res.stderr  # the line and its hint
    other = tmp_path / "bản khác.raw"
    other.write_bytes(b"\x00" * 4096)
    res = _analyse(invoke, case_dir, str(other))
    assert res.exit_code == 2, res.output
    log = json.loads(invoke("--json", "--case", str(case_dir), "custody", "log").stdout)
    assert "analysed" not in [e["kind"] for e in log["events"]]


def test_a_converted_copy_and_its_conversion_and_a_byte_copy_pass(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    disk = _acquired(invoke, case_dir, tmp_path, "HDD01", 1)
    for src, new, fmt in (("HDD01", "HDD01-E01", "e01"), ("HDD01-E01", "HDD01-WC", "raw")):
        res = invoke("--case", str(case_dir), "convert", src, "--to", fmt, "--item", new)
        assert res.exit_code == 0, res.output
    assert _analyse(invoke, case_dir, "HDD01-WC").exit_code == 0
    copy = tmp_path / "bản sao.raw"
    copy.write_bytes(disk.read_bytes())
    assert _analyse(invoke, case_dir, str(copy)).exit_code == 0
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0, res.output


def test_a_foreign_copy_written_past_the_tool_fails_custody_verify(
    case_dir: Path, invoke: Any, tmp_path: Path, identity: Identity
) -> None:
    _acquired(invoke, case_dir, tmp_path, "HDD01", 1)
    _acquired(invoke, case_dir, tmp_path, "USB02", 2)
    usb = json.loads(invoke("--json", "--case", str(case_dir), "custody", "log").stdout)
    sha = next(e for e in usb["events"] if e["item"] == "USB02" and e["kind"] == "acquired")
    ev = record_event(
        Case.open(case_dir),
        identity,
        "analysed",
        "HDD01",
        description="phân tích",
        details={"working_copy": {"item": "USB02", "path": None,
                                  "sha256": sha["digests"]["sha256"]}},
    )  # fmt: skip
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3, res.output
    found = [p for p in json.loads(res.stdout)["problems"] if p.get("seq") == ev.seq]
    assert found and found[0]["kind"] == "rule-violation", res.stdout
    assert "not shown to be a copy of 'HDD01'" in found[0]["message"]


def test_another_exhibit_stated_with_the_originals_digest_fails_custody_verify(
    case_dir: Path, invoke: Any, tmp_path: Path, identity: Identity
) -> None:
    """The insider's variant: the event names another exhibit but states the original's SHA-256
    (which the ledger does record for the original); the stated digest must be the named item's."""
    _acquired(invoke, case_dir, tmp_path, "HDD01", 1)
    _acquired(invoke, case_dir, tmp_path, "USB02", 2)
    log = json.loads(invoke("--json", "--case", str(case_dir), "custody", "log").stdout)
    hdd = next(e for e in log["events"] if e["item"] == "HDD01" and e["kind"] == "acquired")
    ev = record_event(
        Case.open(case_dir),
        identity,
        "analysed",
        "HDD01",
        description="phân tích",
        details={"working_copy": {"item": "USB02", "path": None,
                                  "sha256": hdd["digests"]["sha256"]}},
    )  # fmt: skip
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3, res.output
    found = [p for p in json.loads(res.stdout)["problems"] if p.get("seq") == ev.seq]
    assert found and found[0]["kind"] == "rule-violation", res.stdout
    assert "which the ledger does not record for 'USB02'" in found[0]["message"]
