"""Issue 14, item 11: a broken case.toml is named by its key or line, with what to do (it used
to read "cannot read case.toml: 'case'")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

EDITS = {
    "no case table": (lambda t: t.replace("[case]", "[vu_an]"), "has no [case] table"),
    "no number": (lambda t: re.sub(r"(?m)^number = .*\n", "", t), "[case] has no 'number'"),
    "not toml": (lambda t: t.replace("title = ", "title "), "not valid TOML"),
    "bad time": (
        lambda t: re.sub(r"(?m)^created = .*$", 'created = "hôm qua"', t, count=1),
        "[case].created = 'hôm qua' is not a UTC time",
    ),
    "number not text": (
        lambda t: re.sub(r"(?m)^number = .*$", "number = 2024", t),
        "[case].number must be a quoted text, not int 2024",
    ),
    "examiner without certificate": (
        lambda t: re.sub(r"(?m)^certificate = .*\n", "", t),
        "[[examiners]] number 1 has no 'certificate'",
    ),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_broken_case_file_names_what_is_wrong(case_dir: Path, invoke: Any, edit: str) -> None:
    change, expected = EDITS[edit]
    toml = case_dir / "case.toml"
    text = toml.read_text("utf-8")
    broken = change(text)
    assert broken != text
    toml.write_text(broken, "utf-8")
    res = invoke("--case", str(case_dir), "custody", "log")
    assert res.exit_code == 1
    assert expected in res.stderr, res.stderr
    assert str(toml) in res.stderr
    assert "hint:" in res.stderr and "case.toml" in res.stderr.split("hint:")[1]
    if edit == "not toml":
        assert re.search(r"line \d+", res.stderr), res.stderr
