"""Issue 14, item 10 and the report side of item 2: a signed report exists under its name only
once the ledger records it, `report verify --case` fails for a report the ledger never recorded,
and a broken seal is never rendered.

Kills are injected deterministically: the CLI runs in a child process in which the step after
which it must die is replaced by SIGKILL to itself.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import CustodyError
from evidencekit.identity import Identity
from tests.report.conftest import assert_pdfsig_valid, make_disk_item

REPO = Path(__file__).resolve().parents[2]

KILL_AT = """
import os, signal, sys
from evidencekit.workflows.report import build
setattr(build, sys.argv[1], lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
from evidencekit.cli.main import main
sys.argv = ["evidencekit", *sys.argv[2:]]
main()
"""


def _kinds(case_dir: Path) -> list[str]:
    conn = sqlite3.connect(case_dir / "custody.sqlite")
    try:
        return [r[0] for r in conn.execute("SELECT kind FROM events ORDER BY seq")]
    finally:
        conn.close()


def _killed_build(case_dir: Path, step: str, out: Path) -> None:
    args = ["--case", str(case_dir), "report", "build", "--lang", "en", "--out", str(out)]
    res = subprocess.run(
        [sys.executable, "-c", KILL_AT, step, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    assert res.returncode == -signal.SIGKILL, res.stderr


def _verify(runner: CliRunner, case_dir: Path, pdf: Path) -> tuple[int, dict[str, object]]:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "verify", str(pdf)])
    return res.exit_code, json.loads(res.stdout)


def test_killed_before_the_event_leaves_no_report(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    out = case_dir / "reports" / "r.pdf"
    _killed_build(case_dir, "_record_report_issued", out)
    assert not out.exists()
    assert "report_issued" not in _kinds(case_dir)
    # What is left is visibly unfinished, and it does not pass for an issued report.
    (partial,) = (case_dir / "reports").iterdir()
    assert partial.name.startswith("r.pdf.partial-")
    assert_pdfsig_valid(partial)
    code, doc = _verify(runner, case_dir, partial)
    assert code == 3
    assert any("never recorded as issued" in str(p) for p in doc["problems"])  # type: ignore[attr-defined]


def test_killed_after_the_event_leaves_a_recorded_report_under_its_partial_name(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    out = case_dir / "reports" / "r.pdf"
    _killed_build(case_dir, "_publish", out)
    assert not out.exists()
    assert _kinds(case_dir)[-1] == "report_issued"
    (partial,) = (case_dir / "reports").iterdir()
    code, doc = _verify(runner, case_dir, partial)
    assert code == 0, doc
    # and the next build publishes normally
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert _verify(runner, case_dir, out)[0] == 0


def test_a_ledger_that_refuses_the_event_leaves_no_report(
    runner: CliRunner, case_dir: Path, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger full (or locked) when the event is appended: no PDF, no partial file."""
    from evidencekit.workflows.report import build

    make_disk_item(case_dir, identity)

    def full(*args: object, **kwargs: object) -> None:
        raise CustodyError("cannot append to the custody ledger: the disk is full")

    monkeypatch.setattr(build, "_record_report_issued", full)
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build"])
    assert res.exit_code == 1
    assert "disk is full" in res.output
    assert not list((case_dir / "reports").iterdir())


def test_report_never_recorded_fails_verification(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    from evidencekit.workflows.report import build_report

    make_disk_item(case_dir, identity)
    case = Case.open(case_dir)
    unrecorded = build_report(case, identity, record=False, out=tmp_path / "u.pdf").path
    recorded = build_report(case, identity, out=tmp_path / "r.pdf").path
    assert _verify(runner, case_dir, recorded)[0] == 0
    code, doc = _verify(runner, case_dir, unrecorded)
    assert code == 3
    assert any("never recorded" in str(p) for p in doc["problems"])  # type: ignore[attr-defined]


def test_report_verify_finds_the_case_like_every_command(
    runner: CliRunner,
    case_dir: Path,
    identity: Identity,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from evidencekit.workflows.report import build_report

    make_disk_item(case_dir, identity)
    pdf = build_report(Case.open(case_dir), identity, record=False, out=tmp_path / "u.pdf").path
    cert = tmp_path / "examiner.pem"
    cert.write_text(identity.cert_pem())
    monkeypatch.chdir(tmp_path)
    # no case anywhere: signature and signer only
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--trust", str(cert)])
    assert res.exit_code == 0, res.output
    # EVIDENCEKIT_CASE: checked against the case, which never recorded this report
    monkeypatch.setenv("EVIDENCEKIT_CASE", str(case_dir))
    res = runner.invoke(cli, ["report", "verify", str(pdf)])
    assert res.exit_code == 3, res.output
    assert "never recorded" in res.output
    # the current folder, when it is a case
    monkeypatch.delenv("EVIDENCEKIT_CASE")
    monkeypatch.chdir(case_dir)
    res = runner.invoke(cli, ["report", "verify", str(pdf)])
    assert res.exit_code == 3, res.output
    # a named folder that is not a case is an error, not a silent skip
    monkeypatch.setenv("EVIDENCEKIT_CASE", str(tmp_path))
    res = runner.invoke(cli, ["report", "verify", str(pdf)])
    assert res.exit_code == 1
    assert "not a case folder" in res.output


def test_a_seal_that_does_not_verify_is_never_rendered(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    seal = case_dir / "evidence" / "USB01" / "USB01.seal.json"
    doc = json.loads(seal.read_bytes())
    doc["description"] = "mô tả đã bị sửa"
    seal.write_text(json.dumps(doc, ensure_ascii=False))
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build"])
    assert res.exit_code == 3, res.output
    assert "USB01" in res.output and "no report was built" in res.output
    assert not list((case_dir / "reports").iterdir())


def test_a_changed_image_is_caught_with_rehash(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    raw = case_dir / "evidence" / "USB01" / "USB01.raw"
    data = bytearray(raw.read_bytes())
    data[1000] ^= 1
    raw.write_bytes(bytes(data))
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build", "--rehash"])
    assert res.exit_code == 3, res.output
    assert "digest-mismatch" in res.output
    assert not list((case_dir / "reports").iterdir())


def test_report_verify_catches_an_event_edited_after_the_report(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    """The consistency proof uses the stored tree, which an in-place edit leaves alone: the
    ledger itself must be verified too (issue 14, item 2: `report verify --case` said OK)."""
    from tests.chain.helpers import raw_db

    make_disk_item(case_dir, identity)
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    assert _verify(runner, case_dir, pdf)[0] == 0
    with raw_db(case_dir) as db:
        (data,) = db.execute("SELECT data FROM events WHERE seq = 0").fetchone()
        forged = bytes(data).replace("Vụ án".encode(), "Vụ việc".encode())
        assert forged != data
        db.execute("UPDATE events SET data = ? WHERE seq = 0", (forged,))
    code, doc = _verify(runner, case_dir, pdf)
    assert code == 3
    assert any("does not verify" in str(p) for p in doc["problems"])  # type: ignore[attr-defined]
