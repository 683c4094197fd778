"""`case recover` (issue 14, recovery): an attempt killed between recording and publishing is
published after its staged seal is checked against the ledger; one killed before recording is
set aside — moved, never deleted — with a signed event, freeing its id. Real processes killed at
a FIFO barrier (tests/paused.py)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from evidencekit.case import Case
from evidencekit.workflows.custody import list_events
from tests.seals import resign
from tests.workflows.test_commit_protocol import (  # the barrier and its clean-up fixture
    Paused,
    _cli,
    _no_paused_command_outlives_its_test,
    src_folder,
)

__all__ = ["_no_paused_command_outlives_its_test", "src_folder"]

RECORDED = "evidencekit.workflows.commit:Reservation.publish"
COPYING = "evidencekit.workflows.seal:_copy_and_hash"


def _killed(tmp_path: Path, case_dir: Path, step: str, src: Path) -> Path:
    paused = Paused(tmp_path, step, case_dir, "seal", str(src), "--item", "K")
    paused.kill(signal.SIGKILL)
    staged = case_dir / "evidence" / ".staging" / "K"
    assert staged.is_dir() and not (case_dir / "evidence" / "K").exists()
    return staged


def test_a_recorded_attempt_is_published(case_dir: Path, tmp_path: Path, src_folder: Path) -> None:
    _killed(tmp_path, case_dir, RECORDED, src_folder)
    code, out, err = _cli(case_dir, "--json", "case", "recover", "K")
    assert code == 0, err
    assert json.loads(out)["action"] == "published"
    assert (case_dir / "evidence" / "K" / "K.seal.json").is_file()
    assert not (case_dir / "evidence" / ".staging").exists()
    code, out, _ = _cli(case_dir, "verify", "--no-record", "K")  # (a plain verify records)
    assert code == 0, out
    assert [e["kind"] for e in list_events(Case.open(case_dir), "K")] == ["sealed"]


def test_a_recorded_attempt_that_was_changed_is_not_published(
    case_dir: Path, tmp_path: Path, src_folder: Path, identity: object
) -> None:
    staged = _killed(tmp_path, case_dir, RECORDED, src_folder)
    copy = staged / "src" / "a.txt"
    copy.chmod(0o644)
    copy.write_bytes(b"b" + copy.read_bytes()[1:])
    code, _, err = _cli(case_dir, "case", "recover", "K")
    assert code == 3 and "does not verify" in err, err
    assert not (case_dir / "evidence" / "K").exists()
    # a seal re-signed to match the change is not the one the ledger recorded
    resign(staged / "K.seal.json", identity, {"description": "sửa lại"})  # type: ignore[arg-type]
    code, _, err = _cli(case_dir, "case", "recover", "K")
    assert code == 3 and "not the one the ledger recorded" in err, err
    assert not (case_dir / "evidence" / "K").exists()


def test_an_unrecorded_attempt_is_set_aside_and_frees_its_id(
    case_dir: Path, tmp_path: Path, src_folder: Path
) -> None:
    _killed(tmp_path, case_dir, COPYING, src_folder)
    code, _, err = _cli(case_dir, "case", "recover", "K")
    assert code == 1 and "nothing to publish" in err and "--discard" in err
    code, _, err = _cli(case_dir, "case", "recover", "K", "--discard", "  ")
    assert code == 2
    code, out, err = _cli(case_dir, "--json", "case", "recover", "K", "--discard", "mất điện")
    assert code == 0, err
    done = json.loads(out)
    assert done["action"] == "discarded"
    moved = Path(done["folder"])
    assert moved.parent == case_dir / "evidence" / ".discarded" and moved.is_dir()
    (event,) = [e for e in list_events(Case.open(case_dir)) if e["kind"] == "attempt_discarded"]
    assert event["item"] is None and event["reason"] == "mất điện"
    assert event["details"]["item"] == "K" and event["details"]["moved_to"].endswith(moved.name)
    on_disk = sorted(str(p.relative_to(moved)) for p in moved.rglob("*") if p.is_file())
    assert sorted(f["name"] for f in event["details"]["files"]) == on_disk
    assert Case.open(case_dir).items() == []
    # the id is free again, and the record holds together
    code, _, err = _cli(case_dir, "seal", str(src_folder), "--item", "K")
    assert code == 0, err
    code, out, _ = _cli(case_dir, "custody", "verify")
    assert code == 0, out


def test_a_running_attempt_is_left_alone(case_dir: Path, tmp_path: Path, src_folder: Path) -> None:
    paused = Paused(tmp_path, COPYING, case_dir, "seal", str(src_folder), "--item", "K")
    code, _, err = _cli(case_dir, "case", "recover", "K", "--discard", "x")
    assert code == 1 and "still running" in err, err
    code, _, err = _cli(case_dir, "case", "recover", "NOPE")
    assert code == 2 and "no unfinished attempt" in err
    code, _, err = paused.release()
    assert code == 0, err


def test_a_discard_killed_after_its_event_is_finished_without_another(
    case_dir: Path, tmp_path: Path, src_folder: Path
) -> None:
    _killed(tmp_path, case_dir, COPYING, src_folder)
    paused = Paused(
        tmp_path, "evidencekit.workflows.recover:_move", case_dir, "case", "recover", "K",
        "--discard", "mất điện",
    )  # fmt: skip
    paused.kill(signal.SIGKILL)
    events = [e for e in list_events(Case.open(case_dir)) if e["kind"] == "attempt_discarded"]
    assert len(events) == 1 and (case_dir / "evidence" / ".staging" / "K").is_dir()
    code, out, err = _cli(case_dir, "--json", "case", "recover", "K", "--discard", "lần hai")
    assert code == 0, err
    done = json.loads(out)
    assert done["event"] == events[0]["seq"]  # the recorded event, not a new one
    assert Path(done["folder"]).name == Path(events[0]["details"]["moved_to"]).name
    assert (
        len([e for e in list_events(Case.open(case_dir)) if e["kind"] == "attempt_discarded"]) == 1
    )
    assert not (case_dir / "evidence" / ".staging").exists()
