"""Checkpoints remembered in the examiner's home catch a truncated or rebuilt ledger (issue 13,
scenarios 5 and 6), with the ledger edited as an insider would (SQLite, triggers dropped)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.checkpoint_memory import CheckpointMemory, check_extends
from evidencekit.chain.ledger import Ledger
from evidencekit.errors import IntegrityError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import latest_checkpoint, record_event
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import raw_db


def _events(case: Case, identity: Identity, n: int) -> None:
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    for i in range(n - 1):
        record_event(case, identity, "note", "HDD01", note=f"ghi chú {i}")


def _check(case: Case, memory: CheckpointMemory) -> None:
    with Ledger.open(case.ledger_path, ledger_origin(case), trusted=case.trusted()) as ledger:
        remembered = memory.recall(ledger.origin)
        assert remembered is not None
        check_extends(remembered, ledger.size(), ledger.node)


def _truncate(case_dir: Path, keep: int) -> None:
    """Drop every event from `keep` on with its checkpoints and tree nodes: what is left is a
    ledger that verifies on its own."""
    with raw_db(case_dir) as db:
        db.execute("DELETE FROM events WHERE seq >= ?", (keep,))
        db.execute("DELETE FROM checkpoints WHERE tree_size > ?", (keep,))
        for level in range(8):
            db.execute(
                "DELETE FROM nodes WHERE level = ? AND (idx + 1) << ? > ?", (level, level, keep)
            )


def test_remember_keeps_the_newest_and_is_private(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    case = Case.open(case_dir)
    memory = CheckpointMemory(tmp_path / "home")
    _events(case, identity, 3)
    newer = latest_checkpoint(case)
    assert newer is not None
    memory.remember(newer)
    record_event(case, identity, "note", "HDD01", note="sau")
    newest = latest_checkpoint(case)
    assert newest is not None
    memory.remember(newest)
    memory.remember(newer)  # an older one never replaces a newer one
    got = memory.recall(ledger_origin(case))
    assert got is not None and got.size == 5 and got.note == newest
    assert stat.S_IMODE(os.stat(got.path).st_mode) == 0o600
    _check(case, memory)


@pytest.mark.parametrize("removed", [1, 3])
def test_a_truncated_ledger_is_caught(
    case_dir: Path, identity: Identity, tmp_path: Path, removed: int
) -> None:
    case = Case.open(case_dir)
    memory = CheckpointMemory(tmp_path / "home")
    _events(case, identity, 5)
    cp = latest_checkpoint(case)
    assert cp is not None
    memory.remember(cp)
    _truncate(case_dir, 6 - removed)
    with pytest.raises(IntegrityError, match=f"{removed} event\\(s\\) were removed"):
        _check(case, memory)


def test_a_ledger_rebuilt_to_the_same_length_is_caught(
    case_dir: Path, identity: Identity, tmp_path: Path, ek_home: Path
) -> None:
    case = Case.open(case_dir)
    memory = CheckpointMemory(tmp_path / "home")
    _events(case, identity, 3)
    cp = latest_checkpoint(case)
    assert cp is not None
    memory.remember(cp)
    # the insider drops the last two events and records two of their own in their place
    # (from a home that never saw the longer ledger)
    _truncate(case_dir, 2)
    shutil.rmtree(ek_home / "checkpoints")
    record_event(case, identity, "note", "HDD01", note="bản ghi thay thế 1")
    record_event(case, identity, "note", "HDD01", note="bản ghi thay thế 2")
    with pytest.raises(IntegrityError, match="rewritten"):
        _check(case, memory)


def test_a_damaged_memory_is_named(case_dir: Path, identity: Identity, tmp_path: Path) -> None:
    case = Case.open(case_dir)
    memory = CheckpointMemory(tmp_path / "home")
    _events(case, identity, 2)
    cp = latest_checkpoint(case)
    assert cp is not None
    memory.remember(cp)
    got = memory.recall(ledger_origin(case))
    assert got is not None
    got.path.write_text(got.path.read_text().replace("\n3\n", "\n9\n"), "utf-8")
    assert memory.recall(ledger_origin(case)) is not None  # still parses: a bigger size ...
    with pytest.raises(IntegrityError, match="removed"):  # ... which the ledger cannot show
        _check(case, memory)
    got.path.write_text("seen x\nnot a checkpoint\n", "utf-8")
    with pytest.raises(IntegrityError, match=r"remembered checkpoint .* is damaged"):
        memory.recall(ledger_origin(case))


def test_the_next_command_of_an_examiner_who_saw_the_longer_ledger_refuses(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    """Scenario 5 end to end: events deleted with their checkpoints and tree nodes (triggers
    dropped) leave a ledger that verifies on its own; this examiner's next command says so."""
    case = Case.open(case_dir)
    _events(case, identity, 4)
    _truncate(case_dir, 3)
    for args in (("custody", "note", "HDD01", "sau"), ("custody", "log"), ("report", "build")):
        res = invoke("--case", str(case_dir), *args)
        assert res.exit_code == 3, (args, res.output)
        assert "2 event(s) were removed" in res.stderr, res.stderr
    res = invoke("--case", str(case_dir), "--json", "custody", "verify")
    assert res.exit_code == 3
    (problem,) = json.loads(res.stdout)["problems"]
    assert problem["kind"] == "rolled-back"


def test_appends_recheck_only_what_this_home_has_not_checked(
    case_dir: Path, identity: Identity, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An append re-hashes the events after the remembered checkpoint; after this examiner's
    `custody verify` fails, the next append checks every event again (and refuses)."""
    from evidencekit.chain import ledger as ledger_module

    seen: list[int] = []
    real = ledger_module.check_base

    def spy(tx: Any, origin: str, trusted: Any, verified: int = 0) -> int:
        seen.append(verified)
        return real(tx, origin, trusted, verified)

    monkeypatch.setattr(ledger_module, "check_base", spy)
    case = Case.open(case_dir)
    _events(case, identity, 3)
    assert seen == [1, 2, 3]  # case_opened was remembered by case init, then each append
    # an old event edited in place (its leaf and the tree left as they were)
    with raw_db(case_dir) as db:
        db.execute("UPDATE events SET data = replace(data, 'ghi chú 0', 'ghi chú X') WHERE seq = 2")
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 3
    res = invoke("--case", str(case_dir), "custody", "note", "HDD01", "sau")
    assert res.exit_code == 3 and "edited" in res.stderr, res.output
    assert seen[-1] == 0  # the whole ledger was checked
