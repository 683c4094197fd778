"""Custody lines on a terminal: each field on a line of its own, and text from the record
escaped, so a note holding a newline cannot print a line that looks like another event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidencekit.identity import Identity


def test_a_note_with_a_newline_stays_on_its_line(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    fake = "thật\n#99    2026-01-01 00:00:00 +07:00  destroyed     HDD01"
    res = invoke("--case", str(case_dir), "custody", "note", "-", fake)
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("Recorded #1")
    assert (
        lines[1] == "         note: thật\\x0a#99    2026-01-01 00:00:00 +07:00  destroyed     HDD01"
    )
    log = invoke("--case", str(case_dir), "custody", "log").stdout.splitlines()
    assert not any(line.startswith("#99") for line in log)
    assert sum(line.startswith("#") for line in log) == 2  # case_opened and the note
