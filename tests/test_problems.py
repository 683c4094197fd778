"""Issue 15: seal, custody and report verification return one problem type.

A real case (`case init`, `seal`, `report build` through the CLI) is verified clean, then
tampered as an attacker would (a flipped byte in a sealed file, an edited ledger row with the
append-only triggers dropped, a truncated or extended PDF); every verifier must answer with
`evidencekit.problems.Problem`s whose subject says what each is about, and keep notes apart.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.problems import (
    KNOWN_KINDS,
    EventSubject,
    FileSubject,
    Problem,
    ReportSubject,
)
from evidencekit.workflows.custody import verify_custody
from evidencekit.workflows.report import verify_report
from evidencekit.workflows.verify import verify_items
from tests.chain.helpers import raw_db


def _ok(*args: str) -> Any:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, res.output
    return res


@pytest.fixture
def sealed_case(case_dir: Path, tmp_path: Path, identity: Identity) -> tuple[Path, Path]:
    """A case with one sealed item (two files) and a signed report: (case folder, report)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "ghi chú.txt").write_text("Biên bản thu giữ\n" * 100, encoding="utf-8")
    (src / "b.bin").write_bytes(bytes(range(256)) * 64)
    _ok(
        "--case",
        str(case_dir),
        "seal",
        "--item",
        "DOC01",
        str(src / "ghi chú.txt"),
        str(src / "b.bin"),
    )
    res = _ok("--json", "--case", str(case_dir), "report", "build")
    return case_dir, Path(json.loads(res.stdout)["path"])


def _all_of_the_type(problems: tuple[Problem, ...], subject: type) -> None:
    assert problems
    for p in problems:
        assert type(p) is Problem, p
        assert isinstance(p.subject, subject), p
        assert p.kind in KNOWN_KINDS, p.kind
        assert p.message and not p.message.startswith("!"), p


def test_clean_case_has_no_problems(sealed_case: tuple[Path, Path]) -> None:
    case_dir, pdf = sealed_case
    case = Case.open(case_dir)
    (status,) = verify_items(case, ["DOC01"])
    assert status.ok and status.problems == ()
    assert verify_custody(case).ok
    result = verify_report(pdf, case=case)
    assert result.ok and result.problems == ()
    # notes are plain text, never a problem in disguise
    assert result.notes and all(type(n) is str and not n.startswith("!") for n in result.notes)


def test_seal_verification_names_the_file(sealed_case: tuple[Path, Path]) -> None:
    case_dir, _pdf = sealed_case
    target = case_dir / "evidence" / "DOC01" / "b.bin"
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01
    target.write_bytes(bytes(data))
    (status,) = verify_items(Case.open(case_dir), ["DOC01"])
    _all_of_the_type(status.problems, FileSubject)
    digest = [p for p in status.problems if p.kind == "digest-mismatch"]
    assert [p.file for p in digest] == ["b.bin"]
    assert digest[0].expected and digest[0].found and digest[0].expected != digest[0].found
    assert digest[0].seq is None and digest[0].item is None


def test_ledger_verification_names_the_event(sealed_case: tuple[Path, Path]) -> None:
    case_dir, _pdf = sealed_case
    with raw_db(case_dir) as db:
        seq, data = db.execute(
            "SELECT seq, data FROM events WHERE item = 'DOC01' ORDER BY seq LIMIT 1"
        ).fetchone()
        edited = bytes(data).replace(b"DOC01", b"DOC02", 1)
        assert edited != bytes(data)
        db.execute("UPDATE events SET data = ? WHERE seq = ?", (edited, seq))
    status = verify_custody(Case.open(case_dir))
    assert not status.ok
    _all_of_the_type(status.problems, EventSubject)
    assert status.first_bad_event == seq
    assert any(p.seq == seq and p.kind == "bad-signature" for p in status.problems), status


def test_report_verification_names_the_part(sealed_case: tuple[Path, Path]) -> None:
    case_dir, pdf = sealed_case
    with raw_db(case_dir) as db:
        db.execute("UPDATE events SET signature = zeroblob(length(signature)) WHERE seq = 1")
    result = verify_report(pdf, case=Case.open(case_dir))
    assert not result.ok
    _all_of_the_type(result.problems, ReportSubject)
    ledger = [p for p in result.problems if p.kind == "ledger-invalid"]
    assert ledger and all(p.subject == ReportSubject("ledger") for p in ledger), result.problems
    assert all(type(n) is str for n in result.notes)


def test_report_signature_problems_are_problems(sealed_case: tuple[Path, Path]) -> None:
    _case_dir, pdf = sealed_case
    pdf.write_bytes(pdf.read_bytes() + b"%appended\n")
    result = verify_report(pdf, case=None)
    _all_of_the_type(result.problems, ReportSubject)
    assert {p.kind for p in result.problems} == {"report-signature"}
    assert all(p.subject.part == "signature" for p in result.problems)  # type: ignore[union-attr]


def test_a_removed_history_is_a_problem_not_a_note(sealed_case: tuple[Path, Path]) -> None:
    """The embedded checkpoint's check used to pass `"!"`-prefixed lines; a ledger that no longer
    extends the report's checkpoint must come back as a Problem about the ledger."""
    case_dir, pdf = sealed_case
    with raw_db(case_dir) as db:
        size = db.execute("SELECT count(*) FROM events").fetchone()[0]
        db.execute("DELETE FROM events WHERE seq = ?", (size - 1,))
        db.execute("DELETE FROM checkpoints WHERE tree_size = ?", (size,))
    result = verify_report(pdf, case=Case.open(case_dir))
    _all_of_the_type(result.problems, ReportSubject)
    kinds = {p.kind for p in result.problems}
    assert kinds & {"rolled-back", "not-extended"}, result.problems  # from the checkpoint check
    assert not any("extends the report's checkpoint" in n for n in result.notes), result.notes


def test_kind_rule() -> None:
    """A plug-in may name its own kind, only in lower-case-with-hyphens."""
    assert Problem.of_file("checksum-gap", "X.bin", "a plug-in's finding").kind == "checksum-gap"
    for bad in ("", "Digest-Mismatch", "!digest", "digest mismatch", "digest--x", "-x"):
        with pytest.raises(ValueError):
            Problem.of_file(bad, "X.bin", "m")


def test_raw_db_is_what_the_attack_uses(sealed_case: tuple[Path, Path]) -> None:
    """The tamper helper really bypasses the ledger's append-only triggers (else the negative
    tests above would prove nothing)."""
    case_dir, _pdf = sealed_case
    with sqlite3.connect(case_dir / "custody.sqlite") as db, pytest.raises(sqlite3.DatabaseError):
        db.execute("UPDATE events SET kind = kind WHERE seq = 0")
    with raw_db(case_dir) as db:
        db.execute("UPDATE events SET kind = kind WHERE seq = 0")


def test_every_kind_the_code_reports_is_documented() -> None:
    """Each kind written literally where a problem is made is in KNOWN_KINDS (and so in the
    docs' lists): a new kind cannot slip in undocumented."""
    import ast

    import evidencekit

    root = Path(evidencekit.__file__).parent
    makers = {"of_file", "of_event", "of_report", "problem", "bad_ledger"}
    seen: dict[str, str] = {}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            first = node.args[0]
            if name in makers and isinstance(first, ast.Constant) and isinstance(first.value, str):
                seen[first.value] = str(path.relative_to(root))
        if path.name == "verify_events.py":  # (kind, message) pairs, made Problems by chain.verify
            for node in ast.walk(tree):
                if isinstance(node, ast.Tuple) and len(node.elts) == 2:
                    first = node.elts[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        seen[first.value] = str(path.relative_to(root))
    assert len(seen) > 40, seen  # the scan finds the makers
    assert {k: f for k, f in seen.items() if k not in KNOWN_KINDS} == {}
