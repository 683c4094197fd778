"""The custody rules an investigator meets during a seizure, in Vietnamese when the interface
is (evidencekit/cli/library_messages.py): a hand-over with the physical seal open, an
examination of an original without a working copy, a working copy that is no copy of the item,
a session never opened. Oracle: the real errors, raised by the real process, in both languages
(a library message whose wording drifts from its pattern makes these fail)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "evidencekit"]


def run(case_dir: Path, lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "EVIDENCEKIT_CASE"}
    env["EVIDENCEKIT_LANG"] = lang
    return subprocess.run(
        [*CLI, "--case", str(case_dir), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def both(case_dir: Path, *args: str) -> tuple[str, str]:
    vi, en = run(case_dir, "vi", *args), run(case_dir, "en", *args)
    assert vi.returncode == en.returncode != 0, (vi.stderr, en.stderr)
    return vi.stderr, en.stderr


def ok(case_dir: Path, *args: str) -> None:
    res = run(case_dir, "en", *args)
    assert res.returncode == 0, res.stderr


def test_seizure_rules_speak_vietnamese(case_dir: Path, tmp_path: Path) -> None:
    ok(case_dir, "custody", "register", "USB01", "--description", "USB Kingston 32GB")
    ok(case_dir, "custody", "seal-apply", "USB01", "--seal-number", "NP-1", "--method", "túi")
    ok(case_dir, "custody", "seal-open", "USB01", "--seal-number", "NP-1", "--state",
       "intact", "--reason", "sao chép dữ liệu")  # fmt: skip
    vi, en = both(case_dir, "custody", "transfer", "USB01", "--to", "Lê Văn Nhận",
                  "--to-role", "receiver", "--to-id", "cccd:001099001234",
                  "--purpose", "bàn giao")  # fmt: skip
    assert "the physical seal of 'USB01' is open (NP-1); it must be re-sealed before it is " \
        "transferred" in en  # fmt: skip
    assert "niêm phong của 'USB01' đang mở (NP-1); phải niêm phong lại trước khi bàn giao" in vi
    assert "transferred" not in vi

    vi, en = both(case_dir, "custody", "note", "USB01", "ghi chú", "--session", "S9")
    assert "seizure session 'S9' is not open" in en
    assert "phiên thu giữ 'S9' chưa được mở" in vi


def test_working_copy_rules_speak_vietnamese(case_dir: Path, tmp_path: Path) -> None:
    disk = tmp_path / "gốc.raw"
    disk.write_bytes(bytes(range(256)) * 512)
    ok(case_dir, "acquire", "disk", str(disk), "--item", "HDD01", "--format", "raw")
    vi, en = both(case_dir, "custody", "analyse", "HDD01", "--purpose", "tìm tệp")
    assert "'HDD01' is an original acquired image" in en
    assert "'HDD01' là ảnh gốc đã thu thập" in vi and "Điều 107 BLTTHS 2015" in vi
    other = tmp_path / "khác.raw"
    other.write_bytes(b"\x01" * 4096)
    vi, en = both(case_dir, "custody", "analyse", "HDD01", "--purpose", "tìm tệp",
                  "--working-copy", str(other))  # fmt: skip
    assert "is not shown to be a copy of 'HDD01'" in en
    assert "không chứng minh được tệp" in vi and "là bản sao của 'HDD01'" in vi
    assert "gợi ý: tạo bản làm việc bằng `evidencekit convert HDD01 --to raw" in vi
