"""The errors of `--session` on the item-writing commands and of `case init --participant`,
raised for real, are Vietnamese in the Vietnamese interface (with the same exit code), and
English otherwise (issue 16: every new message in the catalog)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity


def test_a_session_not_open_is_vietnamese(
    case_dir: Path, runner: CliRunner, identity: Identity, tmp_path: Path
) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a", encoding="utf-8")
    args = ["--case", str(case_dir), "seal", str(f), "--item", "S1", "--session", "P9"]
    vi = runner.invoke(cli, ["--lang", "vi", *args])
    en = runner.invoke(cli, ["--lang", "en", *args])
    assert vi.exit_code == en.exit_code == 1
    assert "phiên thu giữ 'P9' chưa được mở: không có gì được thực hiện" in vi.output
    assert "evidencekit custody session open P9 --place" in vi.output
    assert "hãy mở phiên trước" in vi.output
    assert "seizure session 'P9' is not open: nothing was done" in en.output
    runner.invoke(cli, ["--case", str(case_dir), "custody", "session", "open", "P9",
                        "--place", "p", "--agency", "a"])  # fmt: skip
    runner.invoke(cli, ["--case", str(case_dir), "custody", "session", "close", "P9"])
    vi = runner.invoke(cli, ["--lang", "vi", *args])
    assert vi.exit_code == 1
    assert "phiên thu giữ 'P9' đã kết thúc: không có gì được thực hiện" in vi.output
    assert "hãy chạy lệnh không có --session" in vi.output


def test_case_init_key_error_is_vietnamese(
    tmp_path: Path, runner: CliRunner, identity: Identity
) -> None:
    args = ["case", "init", str(tmp_path / "c"), "--case-number", "N", "--title", "T",
            "--participant", "role=investigator,key=Ai Đó"]  # fmt: skip
    vi = runner.invoke(cli, ["--lang", "vi", *args])
    assert vi.exit_code == 2
    assert "có 0 cán bộ được ghim trong vụ án khớp với key='Ai Đó'" in vi.output
    en = runner.invoke(cli, ["--lang", "en", *args])
    assert "0 examiner(s) pinned by the case match key='Ai Đó'" in en.output
