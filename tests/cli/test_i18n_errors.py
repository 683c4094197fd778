"""The library errors an investigator meets most, shown in Vietnamese by the CLI
(evidencekit/cli/library_messages.py). Oracle: the real errors, raised by the real process;
a library message whose wording drifts from its pattern makes these fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from evidencekit.cli import i18n
from evidencekit.cli.library_messages import localized

CLI = [sys.executable, "-m", "evidencekit"]


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("EVIDENCEKIT_CASE",)}
    full.update(env)
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120
    )


def test_no_case_and_not_a_case_folder(tmp_path: Path) -> None:
    vi = run("custody", "log", cwd=tmp_path, EVIDENCEKIT_LANG="vi")
    en = run("custody", "log", cwd=tmp_path, EVIDENCEKIT_LANG="en")
    assert vi.returncode == en.returncode != 0
    assert (
        "evidencekit: lỗi: chưa chỉ định vụ án và thư mục hiện tại không phải thư mục vụ án"
        in vi.stderr
    )
    assert "  gợi ý: dùng --case DIR hoặc đặt EVIDENCEKIT_CASE" in vi.stderr
    assert "no case given and the current folder is not a case" in en.stderr
    vi = run("--case", str(tmp_path), "custody", "log", cwd=tmp_path, EVIDENCEKIT_LANG="vi")
    assert f"{str(tmp_path)!r} không phải thư mục vụ án (không có case.toml)" in vi.stderr


def test_wrong_passphrase(case_dir: Path, tmp_path: Path) -> None:
    args = ("--case", str(case_dir), "custody", "note", "-", "ghi chú")
    vi = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="vi", EVIDENCEKIT_PASSPHRASE="sai mật khẩu")
    en = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="en", EVIDENCEKIT_PASSPHRASE="sai mật khẩu")
    assert vi.returncode == en.returncode == 1
    assert "sai cụm mật khẩu của danh tính 'Nguyễn Bá Tùng' (hoặc tệp khoá bị hỏng)" in vi.stderr
    assert "wrong passphrase for identity 'Nguyễn Bá Tùng'" in en.stderr
    doc = json.loads(
        run(
            "--json", *args, cwd=tmp_path, EVIDENCEKIT_LANG="vi", EVIDENCEKIT_PASSPHRASE="sai"
        ).stdout
    )
    assert doc["error"]["type"] == "IdentityError" and doc["exit_code"] == 1
    assert doc["error"]["message"].startswith("sai cụm mật khẩu")


def test_an_unknown_item_in_the_custody_record(case_dir: Path, tmp_path: Path) -> None:
    args = ("--case", str(case_dir), "custody", "seal-open", "KHONG-CO", "--seal-number", "1")
    args += ("--reason", "giám định", "--state", "intact")
    vi = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="vi")
    en = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="en")
    assert vi.returncode == en.returncode != 0, en.stderr
    assert (
        "evidencekit: lỗi: vật chứng 'KHONG-CO' chưa có sự kiện nào trong sổ hành trình; "
        "sự kiện đầu tiên phải là một trong " in vi.stderr
    )
    assert "  gợi ý: hãy đăng ký trước: evidencekit custody register KHONG-CO" in vi.stderr
    assert "evidencekit: error: item 'KHONG-CO' has no custody events yet" in en.stderr


def test_unknown_messages_stay_as_written() -> None:
    try:
        i18n.install("vi")
        assert localized("something the table does not know") == "something the table does not know"
        assert localized(None) is None
        assert localized("no identity matches 'ab'") == "không có danh tính nào khớp với 'ab'"
    finally:
        i18n.install("en")
    assert localized("no identity matches 'ab'") == "no identity matches 'ab'"


def test_a_weak_passphrase(tmp_path: Path) -> None:
    args = ("keys", "init", "--name", "Lê Thị B")
    env = {"EVIDENCEKIT_HOME": str(tmp_path / "home"), "EVIDENCEKIT_PASSPHRASE": "abc"}
    vi = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="vi", **env)
    en = run(*args, cwd=tmp_path, EVIDENCEKIT_LANG="en", **env)
    assert vi.returncode == en.returncode == 2
    assert (
        "evidencekit: lỗi: cụm mật khẩu quá yếu (chỉ có 3 ký tự; chỉ có chữ cái; chỉ có 3 ký tự "
        "khác nhau): khoá mới cần ít nhất 12 ký tự (đếm sau khi chuẩn hoá NFC)" in vi.stderr
    )
    assert "gợi ý: vài từ cách nhau bằng dấu cách là đạt" in vi.stderr
    assert "the passphrase is too weak (it has 3 characters;" in en.stderr
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("*.pem"))
