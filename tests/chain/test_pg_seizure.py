"""Issue 16's rules on the PostgreSQL ledger: its store returns every physical-seal and session
event the rules replay (`item_key_rows`), so each append — its own transaction — is refused as
on SQLite: a transfer while the seal is open, an event naming a closed session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.workflows.custody import verify_custody


def _cli(invoke: Any, case_dir: Path, *args: str) -> Any:
    return invoke("--case", str(case_dir), "custody", *args)


def test_seal_and_session_rules_on_postgresql(pg_case: Path, invoke: Any) -> None:
    steps: list[tuple[tuple[str, ...], int]] = [
        (("session", "open", "S1", "--place", "Số 12 Lê Lợi", "--agency", "Công an tỉnh"), 0),
        (("register", "HDD01", "--description", "Ổ cứng", "--session", "S1"), 0),
        (("seal-apply", "HDD01", "--seal-number", "NP-1", "--method", "túi", "--session", "S1"), 0),
        (("note", "HDD01", "đã niêm phong"), 0),  # the seal event is no longer the last one
        (("session", "close", "S1"), 0),
        (("note", "HDD01", "sau phiên", "--session", "S1"), 1),  # closed
        (("seal-open", "HDD01", "--seal-number", "NP-9", "--state", "intact", "--reason", "x"), 1),
        (("seal-open", "HDD01", "--seal-number", "NP-1", "--state", "intact", "--reason", "x"), 0),
        (("note", "HDD01", "sao chép"), 0),
        (
            (
                "transfer",
                "HDD01",
                "--to",
                "Lê Văn Tám",
                "--to-role",
                "receiver",
                "--to-id",
                "cccd:001203004567",
                "--purpose",
                "giám định",
            ),
            1,
        ),
        (("reseal", "HDD01", "--seal-number", "NP-2", "--replaces", "NP-1", "--method", "túi"), 0),
        (
            (
                "transfer",
                "HDD01",
                "--to",
                "Lê Văn Tám",
                "--to-role",
                "receiver",
                "--to-id",
                "cccd:001203004567",
                "--purpose",
                "giám định",
            ),
            0,
        ),
    ]
    for args, code in steps:
        res = _cli(invoke, pg_case, *args)
        assert res.exit_code == code, (args, res.output)
    status = verify_custody(Case.open(pg_case))
    assert status.ok, status.problems
