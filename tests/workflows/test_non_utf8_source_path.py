"""A source whose *path* is not UTF-8 (a Latin-1 file name, as a USB stick from an old
Windows machine holds) is sealed, imaged and collected: the commands used to die with
"internal error: UnicodeEncodeError" while writing the attempt record, the log or the signed
JSON. Records people read show each such byte as `\\xNN` (as `ls -b` does); the item verifies
and the ledger verifies."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli


def _cli(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize(
    "command",
    [
        ("seal",),
        ("acquire", "disk", "--format", "raw"),
        ("acquire", "files"),
    ],
)
def test_a_source_path_that_is_not_utf8(
    case_dir: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9 b\xe1o c\xe1o.bin"
    with open(raw, "wb") as fh:
        fh.write(b"n\xf4i dung\n" * 64)
    src = os.fsdecode(raw)  # surrogate escapes, as Python hands argv to the CLI
    res = _cli("--case", str(case_dir), *command, src, "--item", "NU")
    assert res.exit_code == 0, (res.output, res.stderr)
    assert "internal error" not in res.output + res.stderr
    res = _cli("--case", str(case_dir), "verify", "NU")
    assert res.exit_code == 0, res.output
    assert _cli("--case", str(case_dir), "custody", "verify").exit_code == 0
    item = case_dir / "evidence" / "NU"
    for f in item.iterdir():  # every text record stays valid UTF-8
        if f.suffix in (".log", ".json", ".txt"):
            text = f.read_bytes().decode("utf-8")
            # the name in any form ("caf" alone also occurs inside hex digests and keys)
            if re.search(r"caf\S{0,8} b\S{0,8}o c\S{0,8}o\.bin", text):
                assert "caf\\xe9" in text or "caf\\\\xe9" in text, f.name
