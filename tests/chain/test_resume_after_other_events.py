"""An acquisition sealed `incomplete`, resumed (superseded) and sealed `incomplete` again, may be
resumed once more after other events of the item (a `verified` event that a plain `verify`
now records, a note): the rules compare the new event's `details.supersedes` with the item's
LATEST acquisition, which the store must hand them (`Store.item_key_rows`), not only the first.

Oracle: the real ledger (SQLite, and PostgreSQL when a server can be started) through the
workflow that appends events, and `custody verify` over the result."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import CustodyError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event

A, B, C = "a" * 64, "b" * 64, "c" * 64


def _acquired(case: Case, who: Identity, seal: str, status: str, supersedes: str | None) -> int:
    details: dict[str, object] = {"status": status, "seal_sha256": seal}
    if supersedes is not None:
        details["supersedes"] = supersedes
    ev = record_event(case, who, "acquired", "D1", description="ổ đĩa", digests={}, details=details)
    return ev.seq


@pytest.fixture(params=["sqlite", "postgresql"])
def any_case(request: pytest.FixtureRequest) -> Path:
    """The case with its ledger in SQLite, or in PostgreSQL (`pg_case`: skipped without one)."""
    name = "case_dir" if request.param == "sqlite" else "pg_case"
    path: Path = request.getfixturevalue(name)
    return path


def test_a_second_resume_after_a_verified_event(any_case: Path, identity: Identity) -> None:
    case_dir = any_case
    case = Case.open(case_dir)
    _acquired(case, identity, A, "incomplete", None)
    _acquired(case, identity, B, "incomplete", A)  # the first resume, stopped again
    record_event(case, identity, "verified", "D1", description="verification passed",
                 digests={}, details={"ok": True})  # fmt: skip
    record_event(case, identity, "note", "D1", note="đĩa nóng, tạm dừng")
    # naming the first seal is refused: it was superseded
    with pytest.raises(CustodyError, match="must name that seal"):
        _acquired(case, identity, C, "complete", A)
    _acquired(case, identity, C, "complete", B)  # the second resume names the latest seal
    # and nothing may supersede a complete acquisition
    with pytest.raises(CustodyError, match="already acquired"):
        _acquired(case, identity, A, "complete", C)
    result = CliRunner().invoke(cli, ["--case", str(case_dir), "custody", "verify"])
    assert result.exit_code == 0, result.output
