"""Issue 13: names, notes, titles and certificate fields never act on the terminal.

An examiner whose name holds "\\x1b[2J" (clear the screen) and U+202E (right-to-left override:
shows what follows reversed) is made with `keys init`; the case, its custody log, `case show`,
`verify` and error messages print those characters escaped, while `--json` keeps the exact
values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.cli.runtime import terminal_text
from tests.conftest import TEST_KDF

HOSTILE = "Mallory\x1b[2J\u202eTùng"
SHOWN = "Mallory\\x1b[2J\\u202eTùng"


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def _ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def _clean(text: str) -> None:
    assert "\x1b" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Nguyễn Bá Tùng", "Nguyễn Bá Tùng"),  # precomposed
        ("Nguye\u0302\u0303n", "Nguye\u0302\u0303n"),  # combining marks stay
        ("a\tb", "a\tb"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x9b2J", "\\x9b2J"),  # C1 CSI
        ("line\nfake OK", "line\\x0afake OK"),
        ("\r", "\\x0d"),
        ("\x7f\x00", "\\x7f\\x00"),
        ("abc\u202edef\u2066\u2069\u200f\u061c", "abc\\u202edef\\u2066\\u2069\\u200f\\u061c"),
        ("x\u2028y", "x\\u2028y"),
    ],
)
def test_terminal_text(raw: str, shown: str) -> None:
    assert terminal_text(raw) == shown


def test_hostile_names_are_escaped_in_human_output(ek_home: Path, tmp_path: Path) -> None:
    _ok(_cli("keys", "init", "--name", HOSTILE))
    case_dir = tmp_path / "case"
    res = _ok(
        _cli(
            "case",
            "init",
            str(case_dir),
            "--case-number",
            "VKS\x1b]0;owned\x07",
            "--title",
            "Vụ án \u202eTRỘM",
        )
    )
    _clean(res.stdout)
    assert f"pinned examiner: {SHOWN}" in res.stdout
    res = _ok(_cli("--case", str(case_dir), "case", "show"))
    _clean(res.stdout)
    assert "Title:       Vụ án \\u202eTRỘM" in res.stdout
    assert f"Examiner:    {SHOWN}" in res.stdout
    assert "Case number: VKS\\x1b]0;owned\\x07" in res.stdout

    src = tmp_path / "f.txt"
    src.write_text("nội dung")
    _ok(_cli("--case", str(case_dir), "seal", str(src), "--item", "IT", "--description", "\x1b[2J"))
    _ok(_cli("--case", str(case_dir), "custody", "note", "IT", "ghi chú \x1b[2J\u202e"))
    for args in (["verify", "IT"], ["custody", "log"], ["keys", "show"]):
        res = _ok(_cli("--case", str(case_dir), *args))
        _clean(res.stdout)
        assert SHOWN in res.stdout, (args, res.stdout)
    res = _ok(_cli("--case", str(case_dir), "custody", "log"))
    assert "ghi chú \\x1b[2J\\u202e" in res.stdout

    # JSON carries the exact values
    doc = json.loads(_ok(_cli("--case", str(case_dir), "--json", "case", "show")).stdout)
    assert doc["case"]["examiner"] == HOSTILE and doc["case"]["title"] == "Vụ án \u202eTRỘM"
    doc = json.loads(_ok(_cli("--case", str(case_dir), "--json", "verify", "IT")).stdout)
    assert doc["items"][0]["signer"] == HOSTILE


def test_error_messages_are_escaped(ek_home: Path, tmp_path: Path) -> None:
    # the custody rules name the current custodian as recorded: here, the hostile name
    from evidencekit.identity import IdentityStore

    _ok(_cli("keys", "init", "--name", HOSTILE))
    case_dir = tmp_path / "case"
    _ok(
        _cli(
            "case",
            "init",
            str(case_dir),
            "--case-number",
            "C1",
            "--title",
            "T",
        )
    )
    other = IdentityStore(ek_home).create("Lê Văn B", b"mat khau B 2026", kdf=TEST_KDF)
    pem = tmp_path / "b.pem"
    pem.write_text(other.cert_pem())
    a = ["--case", str(case_dir), "--identity", HOSTILE]
    _ok(_cli(*a, "case", "add-examiner", str(pem)))
    _ok(_cli(*a, "custody", "register", "IT", "--description", "USB"))
    res = CliRunner().invoke(
        cli,
        [
            "--case",
            str(case_dir),
            "--identity",
            "Lê Văn B",
            "custody",
            "transfer",
            "IT",
            "--to",
            "Lê Văn B",
            "--purpose",
            "x",
        ],
        env={"EVIDENCEKIT_PASSPHRASE": "mat khau B 2026"},
    )
    assert res.exit_code == 1, (res.stdout, res.stderr)
    _clean(res.stderr)
    assert f"is not the current custodian of 'IT' ({SHOWN})" in res.stderr
