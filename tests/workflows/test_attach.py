"""Issue 16: `custody attach ITEM FILE --what signed-record|other` — the scanned signed Biên bản
attached back to its item, hashed (oracle: `sha256sum`), kept in CASE/documents/ITEM/ and
re-checked by `custody verify` and `verify` like photos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidencekit.workflows import attach as attach_mod
from tests.conftest import need_peer

SCAN = "biên bản đã ký.pdf"


def _scan(tmp_path: Path) -> Path:
    p = tmp_path / SCAN
    p.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 32 + b"\n%%EOF\n")
    return p


def _attach(invoke: Any, case_dir: Path, scan: Path, *more: str) -> Any:
    return invoke(
        "--json", "--case", str(case_dir), "custody", "attach", "HDD01", str(scan),
        "--what", "signed-record", "--note", "bản quét biên bản thu giữ", *more,
    )  # fmt: skip


@pytest.fixture
def registered(case_dir: Path, invoke: Any) -> Path:
    res = invoke("--case", str(case_dir), "custody", "register", "HDD01", "--description", "Ổ")
    assert res.exit_code == 0, res.output
    return case_dir


def test_attach_records_and_keeps_the_document(
    registered: Path, invoke: Any, tmp_path: Path
) -> None:
    need_peer("sha256sum")
    case_dir = registered
    scan = _scan(tmp_path)
    res = _attach(invoke, case_dir, scan, "--participant",
                  "role=witness,name=Nguyễn Văn An,cccd=001203004567")  # fmt: skip
    assert res.exit_code == 0, res.output
    ev = json.loads(res.stdout)["event"]
    kept = case_dir / "documents" / "HDD01" / SCAN
    oracle = subprocess.run(
        ["sha256sum", str(kept)], capture_output=True, check=True, text=True
    ).stdout.split()[0]
    assert ev["kind"] == "document_attached" and ev["note"] == "bản quét biên bản thu giữ"
    assert ev["details"]["what"] == "signed-record"
    assert ev["details"]["file"] == {
        "name": f"documents/HDD01/{SCAN}",
        "size": scan.stat().st_size,
        "sha256": oracle,
    }
    assert ev["details"]["participants"][0]["name"] == "Nguyễn Văn An"
    assert sorted(p.name for p in kept.parent.iterdir()) == [SCAN]
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0
    # a second document of that name is refused, nothing is recorded
    res = _attach(invoke, case_dir, scan)
    assert res.exit_code == 2 and "already" in res.stderr


@pytest.mark.parametrize("damage", ["flip", "append", "missing"])
def test_damaged_attachment_fails_verification(
    registered: Path, invoke: Any, tmp_path: Path, damage: str
) -> None:
    case_dir = registered
    assert _attach(invoke, case_dir, _scan(tmp_path)).exit_code == 0
    kept = case_dir / "documents" / "HDD01" / SCAN
    if damage == "flip":
        data = bytearray(kept.read_bytes())
        data[20] ^= 0x80
        kept.write_bytes(bytes(data))
    elif damage == "append":
        with kept.open("ab") as fh:
            fh.write(b"\n")
    else:
        kept.unlink()
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3, res.output
    assert f"documents/HDD01/{SCAN}" in res.stdout
    res = invoke("--case", str(case_dir), "verify", "HDD01")
    assert res.exit_code == 3, res.output
    assert f"documents/HDD01/{SCAN}" in res.stdout


def test_attach_to_an_unknown_item_copies_nothing(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    res = _attach(invoke, case_dir, _scan(tmp_path))
    assert res.exit_code == 1 and "no custody events" in res.stderr
    assert not (case_dir / "documents" / "HDD01").exists()


def test_recorded_but_unpublished_document_is_noted_then_published(
    registered: Path, invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped between the event and the link: noted by custody verify, published by the next
    attach of the item once its process is gone."""
    case_dir = registered
    with monkeypatch.context() as m:
        m.setattr(attach_mod, "_publish", lambda partial, target: None)
        assert _attach(invoke, case_dir, _scan(tmp_path)).exit_code == 0
    folder = case_dir / "documents" / "HDD01"
    (partial,) = folder.iterdir()
    proc = subprocess.Popen(["true"])
    proc.wait()
    partial.rename(folder / f".{SCAN}.{proc.pid}.partial")  # as a killed process leaves it
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0, res.output
    assert "is not published yet" in res.stdout
    other = tmp_path / "ảnh khác.jpg"
    other.write_bytes(b"\xff\xd8 other")
    res = invoke("--case", str(case_dir), "custody", "attach", "HDD01", str(other), "--what",
                 "other")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in folder.iterdir()) == sorted([SCAN, other.name])
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0 and "not published" not in res.stdout, res.output
