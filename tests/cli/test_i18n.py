"""The interface language (issue #16): `--lang`, EVIDENCEKIT_LANG, the case's language, then
LANGUAGE/LC_ALL/LC_MESSAGES/LANG; JSON never changes with it.

Oracle: the real `evidencekit` process (a subprocess, on a pseudo-terminal for the prompt and
the progress line), its stdout/stderr and exit code, in both languages."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from evidencekit.cli import i18n
from evidencekit.cli.progress import Progress
from tests.conftest import PASSPHRASE

CLI = [sys.executable, "-m", "evidencekit"]
LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "EVIDENCEKIT_LANG")


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    env.pop("EVIDENCEKIT_CASE", None)
    env.update(values)
    return env


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120
    )


def test_help_follows_LANG(tmp_path: Path) -> None:
    vi = run("--help", cwd=tmp_path, LANG="vi_VN.UTF-8")
    assert vi.returncode == 0
    assert "Cách dùng: evidencekit" in vi.stdout
    assert "Tuỳ chọn:" in vi.stdout and "Lệnh:" in vi.stdout
    assert "Tạo ảnh đĩa, thu thập tệp." in vi.stdout  # a command's one-line help
    assert "Hiện hướng dẫn này và thoát." in vi.stdout  # click's own --help text
    assert "Usage:" not in vi.stdout and "Show this message" not in vi.stdout
    en = run("--help", cwd=tmp_path, LANG="C.UTF-8")
    assert "Usage: evidencekit" in en.stdout and "Cách dùng" not in en.stdout


def test_lang_option_overrides_the_environment(tmp_path: Path) -> None:
    en = run("--lang", "en", "--help", cwd=tmp_path, LANG="vi_VN.UTF-8", EVIDENCEKIT_LANG="vi")
    assert "Usage: evidencekit" in en.stdout and "Cách dùng" not in en.stdout
    vi = run("--lang=vi", "case", "init", "--help", cwd=tmp_path, LANG="en_US.UTF-8")
    assert "Số vụ án" in vi.stdout and "Case number" not in vi.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"EVIDENCEKIT_LANG": "vi", "LANG": "en_US.UTF-8"}, "vi"),
        ({"EVIDENCEKIT_LANG": "en", "LANG": "vi_VN.UTF-8"}, "en"),
        ({"LANGUAGE": "fr:vi", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LC_ALL": "vi_VN.utf8", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LC_MESSAGES": "vi_VN", "LANG": "en_US.UTF-8"}, "vi"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_order_of_the_environment(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.chdir(tmp_path)
    assert i18n.choose(None, None) == expected
    assert i18n.choose("en", None) == "en"


def test_a_usage_error_is_vietnamese_with_the_same_exit_code(tmp_path: Path) -> None:
    vi = run("no-such-command", cwd=tmp_path, LANG="vi_VN.UTF-8")
    en = run("no-such-command", cwd=tmp_path, LANG="en_US.UTF-8")
    assert vi.returncode == en.returncode == 2
    assert "Lỗi: Không có lệnh 'no-such-command'." in vi.stderr
    assert "Error: No such command 'no-such-command'." in en.stderr
    vi = run("case", "init", cwd=tmp_path, LANG="vi_VN.UTF-8")
    assert vi.returncode == 2 and "Thiếu đối số 'DIRECTORY'" in vi.stderr
    vi = run("hash", cwd=tmp_path, LANG="vi_VN.UTF-8")  # an error raised by the CLI itself
    en = run("hash", cwd=tmp_path, LANG="en_US.UTF-8")
    assert vi.returncode == en.returncode == 2
    assert "evidencekit: lỗi: chưa nêu PATH" in vi.stderr and "  gợi ý: " in vi.stderr
    assert "evidencekit: error: no PATH given" in en.stderr


def test_the_case_language_chooses_the_interface(case_dir: Path, tmp_path: Path) -> None:
    home = os.environ["EVIDENCEKIT_HOME"]
    vi = run("--case", str(case_dir), "case", "show", cwd=tmp_path, EVIDENCEKIT_HOME=home)
    assert vi.returncode == 0, vi.stderr
    assert "Số vụ án:" in vi.stdout and "Case number" not in vi.stdout
    # EVIDENCEKIT_LANG comes before the case; so does --lang
    en = run("case", "show", cwd=case_dir, EVIDENCEKIT_HOME=home, EVIDENCEKIT_LANG="en")
    assert "Case number:" in en.stdout
    en = run("--lang", "en", "case", "show", cwd=case_dir, EVIDENCEKIT_HOME=home)
    assert "Case number:" in en.stdout


def test_json_is_the_same_in_both_languages(case_dir: Path, tmp_path: Path) -> None:
    home = os.environ["EVIDENCEKIT_HOME"]
    docs = [
        run(
            "--json",
            "--lang",
            lang,
            "--case",
            str(case_dir),
            "case",
            "show",
            cwd=tmp_path,
            EVIDENCEKIT_HOME=home,
        )
        for lang in ("en", "vi")
    ]
    assert docs[0].returncode == docs[1].returncode == 0
    assert docs[0].stdout == docs[1].stdout
    assert json.loads(docs[0].stdout)["case"]["number"] == "VKS-2024-06"
    # an error document: the same type (the fixed code) and exit code, the message translated
    errors = [run("--json", "--lang", lang, "hash", cwd=tmp_path) for lang in ("en", "vi")]
    en, vi = (json.loads(e.stdout) for e in errors)
    assert errors[0].returncode == errors[1].returncode == en["exit_code"] == vi["exit_code"] == 2
    assert en["error"]["type"] == vi["error"]["type"] == "UsageError"
    assert en["error"]["code"] == vi["error"]["code"] == "usage"
    assert en["schema"] == vi["schema"] and set(en) == set(vi)
    assert en["error"]["message"] == "no PATH given"
    assert vi["error"]["message"] == "chưa nêu PATH"
    # click's own usage errors: the same code in both languages, the message translated
    errors = [run("--json", "--lang", lang, "no-such", cwd=tmp_path) for lang in ("en", "vi")]
    en, vi = (json.loads(e.stdout) for e in errors)
    assert errors[0].returncode == errors[1].returncode == 2
    assert en["error"]["code"] == vi["error"]["code"] == "no_such_command"
    assert vi["error"]["message"] == "Không có lệnh 'no-such'."


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str], answer: str | None) -> str:
    """Run the CLI with stdin/stdout/stderr on a pseudo-terminal; type `answer` when it asks."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [*CLI, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    out = b""
    answered = answer is None
    try:
        while True:
            ready, _w, _x = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if not answered and b": " in out.split(b"\n")[-1]:
                os.write(master, answer.encode() + b"\r")  # type: ignore[union-attr]
                answered = True
    finally:
        proc.wait(timeout=120)
        os.close(master)
    return out.decode("utf-8", "replace")


def test_a_prompt_and_a_progress_line_are_vietnamese(case_dir: Path, tmp_path: Path) -> None:
    env = _env(EVIDENCEKIT_HOME=os.environ["EVIDENCEKIT_HOME"], LANG="vi_VN.UTF-8")
    env.pop("EVIDENCEKIT_PASSPHRASE", None)
    evidence = tmp_path / "tệp.bin"
    evidence.write_bytes(os.urandom(3 << 20))
    out = _on_a_terminal(
        ["--case", str(case_dir), "seal", "--item", "T1", str(evidence)], tmp_path, env, PASSPHRASE
    )
    assert "Cụm mật khẩu của Nguyễn Bá Tùng:" in out
    assert "đang chốt giá trị băm T1: " in out  # the progress line while sealing
    assert "Passphrase" not in out
    assert "Đã chốt giá trị băm và ký số vật chứng T1" in out
    out = _on_a_terminal(["--case", str(case_dir), "verify", "T1"], tmp_path, env, None)
    assert "đang kiểm tra T1" in out  # the progress line, drawn on the terminal
    assert "T1: ĐẠT: " in out and "người ký: Nguyễn Bá Tùng" in out
    assert "trạng thái hoàn tất" in out  # the seal's status, as the report names it


def test_progress_line_in_both_languages() -> None:
    try:
        i18n.install("vi")
        bar = Progress("imaging E1", 4 << 20, enabled=False)
        text = bar.line(1 << 20, bad=3)
        assert text.startswith("đang tạo ảnh E1: 1.0 MiB / 4.0 MiB ( 25.0 %)")
        assert "3 sector lỗi" in text
    finally:
        i18n.install("en")
    text = Progress("imaging E1", 4 << 20, enabled=False).line(1 << 20, bad=1)
    assert text.startswith("imaging E1: 1.0 MiB of 4.0 MiB") and "1 bad sector" in text
    assert "1 bad sectors" not in text


def test_custody_log_names_kinds_and_fields_in_vietnamese(case_dir: Path, tmp_path: Path) -> None:
    home = os.environ["EVIDENCEKIT_HOME"]
    env = {"EVIDENCEKIT_HOME": home, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    reg = run(
        "--lang", "vi", "--case", str(case_dir), "custody", "register", "USB1",
        "--description", "USB Kingston 16GB", "--seal-number", "NP-01",
        cwd=tmp_path, **env,
    )  # fmt: skip
    assert reg.returncode == 0, reg.stderr
    assert reg.stdout.startswith("Đã ghi #1 ") and "đăng ký vật chứng USB1" in reg.stdout
    vi = run("--lang", "vi", "--case", str(case_dir), "custody", "log", cwd=tmp_path, **env)
    assert "mở vụ án" in vi.stdout and "(vụ án)" in vi.stdout
    assert "mô tả: USB Kingston 16GB" in vi.stdout and "số niêm phong: NP-01" in vi.stdout
    en = run("--lang", "en", "--case", str(case_dir), "custody", "log", cwd=tmp_path, **env)
    assert "registered" in en.stdout and "description: USB Kingston 16GB" in en.stdout
    js = [
        run("--json", "--lang", lang, "--case", str(case_dir), "custody", "log", cwd=tmp_path,
            **env).stdout
        for lang in ("en", "vi")
    ]  # fmt: skip
    assert js[0] == js[1] and json.loads(js[0])["events"][1]["kind"] == "registered"


def test_the_case_comes_before_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in LOCALE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "vi_VN.UTF-8")
    english_case = tmp_path / "en-case"
    english_case.mkdir()
    (english_case / "case.toml").write_text('[case]\nlanguage = "en"\n', encoding="utf-8")
    assert i18n.choose(None, english_case) == "en"
    monkeypatch.setenv("EVIDENCEKIT_CASE", str(english_case))
    assert i18n.choose(None, None) == "en"
    monkeypatch.setenv("EVIDENCEKIT_LANG", "vi")
    assert i18n.choose(None, None) == "vi"
    # no case, or an unreadable case.toml: the environment decides (the command then reports
    # the broken case itself)
    monkeypatch.delenv("EVIDENCEKIT_LANG")
    (english_case / "case.toml").write_text("[case\n", encoding="utf-8")
    assert i18n.choose(None, None) == "vi"
    monkeypatch.delenv("EVIDENCEKIT_CASE")
    monkeypatch.chdir(tmp_path)
    assert i18n.choose(None, None) == "vi"
