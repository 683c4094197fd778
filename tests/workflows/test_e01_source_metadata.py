"""An E01 made from another tool's E01 keeps that E01's metadata where it belongs (issue #19,
item 11): our header names our case and examiner, the source's case number, evidence number,
examiner, notes, acquisition date and software go into our header's notes and the seal's facts,
and "is physical" is the source's, the same through `acquire disk --format e01` and `convert`.

The source E01 is written by ewfacquire with its own case values and the "logical" media flag;
the oracle for what every E01 says is libewf's `ewfinfo`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.hash.seal.read import load_seal
from tests.conftest import need_peer


def _run(case_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--case", str(case_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _ewfinfo(first: Path) -> str:
    return subprocess.run(
        ["ewfinfo", str(first)], capture_output=True, text=True, check=True
    ).stdout


def test_source_e01_metadata_is_kept_not_claimed(case_dir: Path, tmp_path: Path) -> None:
    need_peer("ewfacquire", "ewfinfo")
    disk = tmp_path / "disk.bin"
    disk.write_bytes(bytes(range(256)) * 4096)
    base = tmp_path / "other"
    subprocess.run(
        [
            *("ewfacquire", "-u", "-q", "-t", str(base), "-f", "encase6", "-M", "logical"),
            *("-C", "CASE-OTHER-7", "-E", "EV-9", "-e", "Other Examiner", "-N", "their notes"),
            str(disk),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    source = Path(f"{base}.E01")
    theirs = _ewfinfo(source)
    assert "Is physical:\t\tno" in theirs and "Case number:\t\tCASE-OTHER-7" in theirs

    code, out, err = _run(
        case_dir, "acquire", "disk", str(source), "--item", "E1", "--format", "e01"
    )
    assert code == 0, out + err
    ours = _ewfinfo(case_dir / "evidence" / "E1" / "E1.E01")
    assert "Case number:\t\tVKS-2024-06" in ours
    assert "Other Examiner" not in ours.split("Notes:")[0]  # not claimed as our examiner
    notes = next(line for line in ours.splitlines() if line.strip().startswith("Notes:"))
    for value in ("CASE-OTHER-7", "EV-9", "Other Examiner", "their notes", "software"):
        assert value in notes, notes
    assert "Is physical:\t\tno" in ours  # the source's flag, not "yes"
    facts = load_seal(case_dir / "evidence" / "E1" / "E1.seal.json").facts
    identity = facts["source"]["identity"]
    assert identity["ewf_case_number"] == "CASE-OTHER-7"
    assert identity["ewf_examiner"] == "Other Examiner"
    assert identity["ewf_notes"] == "their notes"
    assert identity["ewf_is_physical"] == "no"

    # the same source acquired raw, then converted: the same flag, the same notes
    code, out, err = _run(case_dir, "acquire", "disk", str(source), "--item", "R1")
    assert code == 0, out + err
    code, out, err = _run(case_dir, "convert", "R1", "--to", "e01", "--item", "R1-E01")
    assert code == 0, out + err
    converted = _ewfinfo(case_dir / "evidence" / "R1-E01" / "R1-E01.E01")
    assert "Is physical:\t\tno" in converted and "Case number:\t\tVKS-2024-06" in converted
    assert "CASE-OTHER-7" in converted.split("Notes:")[1].splitlines()[0]

    code, out, err = _run(case_dir, "convert", "E1", "--to", "e01", "--item", "E1-E01")
    assert code == 0, out + err
    again = _ewfinfo(case_dir / "evidence" / "E1-E01" / "E1-E01.E01")
    assert "Is physical:\t\tno" in again and "Case number:\t\tVKS-2024-06" in again
