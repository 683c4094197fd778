"""A report is never written over another file (found by the fault suite: two builds in one
second shared the default name, and the second replaced the first, recorded, report)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.report import build_report, verify_report


def test_two_builds_in_one_second_keep_both(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    now = dt.datetime(2026, 12, 5, 8, 0, 0, tzinfo=dt.UTC)
    first = build_report(case, identity, lang="en", now=now)
    data = first.path.read_bytes()
    second = build_report(case, identity, lang="en", now=now)
    assert second.path != first.path and second.path.name.endswith("-2.pdf")
    assert first.path.read_bytes() == data  # untouched
    for built in (first, second):
        assert verify_report(built.path, case=case).ok


def test_out_that_exists_is_refused_before_anything(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    out = tmp_path / "báo cáo.pdf"
    out.write_bytes(b"someone else's file")
    res = CliRunner().invoke(cli, ["--case", str(case_dir), "report", "build", "--out", str(out)])
    assert res.exit_code == 2 and "never written over another file" in res.stderr
    assert out.read_bytes() == b"someone else's file"
    assert not list((case_dir / "reports").glob("*"))
