"""The item commit protocol (docs/commit-protocol.md): one atomic reservation per item id, the
loser of a race fails without touching the winner, a killed command leaves only a visibly
unfinished attempt (never a complete-looking item), and `case show` lists it.

The races and kills use real processes paused at a step boundary by a FIFO barrier
(tests/paused.py): no sleeping, the test decides when each step happens.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import CaseError
from evidencekit.workflows.custody import list_events
from tests.json_contract import check_stdout
from tests.paused import REPO, Paused
from tests.paused import env as _env


def _cli(case_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--case", str(case_dir), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_paused_command_outlives_its_test() -> Iterator[None]:
    yield
    Paused.reap()


def _run(case_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    check_stdout(args, result.stdout)  # a --json document validates (docs/json.md)
    return result


def _reserve_after(barrier: object, case_dir: str, out: object) -> None:  # pragma: no cover
    try:
        from evidencekit.workflows.commit import reserve

        barrier.wait()  # type: ignore[attr-defined]
        try:
            res = reserve(Case.open(Path(case_dir)), "RACE")
        except CaseError as exc:
            out.put(("lost", str(exc)))  # type: ignore[attr-defined]
            return
        (res.folder / "mine").write_text(str(os.getpid()))
        out.put(("won", str(os.getpid())))  # type: ignore[attr-defined]
    except BaseException as exc:  # never leave the parent waiting for an answer
        out.put(("error", repr(exc)))  # type: ignore[attr-defined]
        raise


def test_reservation_race_has_exactly_one_winner(case_dir: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    n = 8
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=_reserve_after, args=(barrier, str(case_dir), out)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    results = [out.get() for _ in range(n)]
    for p in procs:
        p.join()
    assert not [r for r in results if r[0] == "error"]
    won = [r for r in results if r[0] == "won"]
    lost = [r for r in results if r[0] == "lost"]
    assert len(won) == 1 and len(lost) == n - 1
    assert all("'RACE' is reserved by another attempt" in text for _, text in lost)
    # the losers removed nothing of the winner's
    staged = case_dir / "evidence" / ".staging" / "RACE"
    assert (staged / "mine").read_text() == won[0][1]
    record = json.loads((staged.parent / "RACE.attempt.json").read_text())
    assert record["pid"] == int(won[0][1])


@pytest.fixture
def src_folder(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "thư mục").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a" * 1000)
    (src / "thư mục" / "Trương Đình Bủng.txt").write_bytes("xin chào".encode())
    return src


@pytest.fixture
def image(tmp_path: Path) -> Path:
    img = tmp_path / "disk.raw"
    img.write_bytes(os.urandom(1 << 20))
    return img


# (step the first command pauses in, its arguments, the racing command's arguments)
RACES = {
    # the reported case: acquire files holds the id while acquire disk tries it; before, the
    # collection then removed the whole folder with the disk image in it
    "collect-vs-disk": (
        "evidencekit.workflows.collect:collect",
        ("acquire", "files", "{src}", "--item", "X"),
        ("acquire", "disk", "{img}", "--item", "X"),
    ),
    "seal-vs-collect": (
        "evidencekit.workflows.seal:_copy_and_hash",
        ("seal", "{src}", "--item", "X"),
        ("acquire", "files", "{src}", "--item", "X"),
    ),
    "disk-vs-disk": (
        "evidencekit.workflows.acquire_disk.run:run_imaging",
        ("acquire", "disk", "{img}", "--item", "X"),
        ("acquire", "disk", "{img}", "--item", "X"),
    ),
}


CREATES = {"seal": "sealed", "files": "collected", "disk": "acquired"}


@pytest.mark.parametrize("race", sorted(RACES))
def test_racing_commands_loser_leaves_the_winner_alone(
    race: str, case_dir: Path, tmp_path: Path, src_folder: Path, image: Path
) -> None:
    step, first, second = RACES[race]
    fill = {"src": str(src_folder), "img": str(image)}
    winner = Paused(tmp_path, step, case_dir, *(a.format(**fill) for a in first))
    staged = case_dir / "evidence" / ".staging" / "X"
    before = sorted(p.name for p in staged.rglob("*"))
    loser = _run(case_dir, *(a.format(**fill) for a in second))
    assert loser.returncode == 1, loser.stderr
    assert "item 'X' is reserved by another attempt" in loser.stderr
    assert f"pid {winner.proc.pid}" in loser.stderr and "still running" in loser.stderr
    assert len(loser.stderr.strip().splitlines()) <= 2  # one line and a hint
    assert sorted(p.name for p in staged.rglob("*")) == before  # nothing touched
    assert not (case_dir / "evidence" / "X").exists()
    code, _, err = winner.release()
    assert code == 0, err
    assert not (case_dir / "evidence" / ".staging").exists()  # published, nothing left
    verify = _run(case_dir, "verify", "--no-record", "X")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    kinds = [e["kind"] for e in list_events(Case.open(case_dir), "X")]
    assert kinds == [CREATES[first[0] if first[0] == "seal" else first[1]]]


# SIGTERM while copying is handled like Ctrl-C (sealed incomplete, recorded, published):
# tests/cli/test_signals.py. At the later boundaries it lands in the commit itself, which leaves
# the attempt in staging rather than publish under an event that may or may not be committed.
@pytest.mark.parametrize(
    ("step", "sig"),
    [
        ("evidencekit.workflows.seal:_copy_and_hash", signal.SIGKILL),  # copying
        ("evidencekit.workflows.seal:_record_sealed", signal.SIGKILL),  # sealed, not recorded
        ("evidencekit.workflows.seal:_record_sealed", signal.SIGTERM),
        ("evidencekit.workflows.commit:Reservation.publish", signal.SIGKILL),  # recorded
        ("evidencekit.workflows.commit:Reservation.publish", signal.SIGTERM),
    ],
    ids=[
        "copying-kill-9",
        "sealed-kill-9",
        "sealed-sigterm",
        "recorded-kill-9",
        "recorded-sigterm",
    ],
)
def test_killed_seal_leaves_only_an_unfinished_attempt(
    step: str, sig: int, case_dir: Path, tmp_path: Path, src_folder: Path
) -> None:
    from evidencekit.workflows.commit import unfinished

    paused = Paused(tmp_path, step, case_dir, "seal", str(src_folder), "--item", "K")
    pid = paused.proc.pid
    paused.kill(sig)
    case = Case.open(case_dir)
    # nothing complete-looking under the final name, and case show tells the truth
    assert not (case_dir / "evidence" / "K").exists()
    assert case.items() == []
    [attempt] = unfinished(case)
    assert attempt.item_id == "K" and attempt.pid == pid and attempt.running is False
    code, text, _ = _cli(case_dir, "case", "show")
    assert code == 0 and "Items: (none)" in text
    assert "Unfinished" in text and "K: `evidencekit --case" in text
    assert "no longer running" in text
    code, out, _ = _cli(case_dir, "--json", "case", "show")
    doc = json.loads(out)
    assert doc["items"] == [] and [a["item"] for a in doc["unfinished"]] == ["K"]
    # the ledger holds an event only once the seal was recorded, and case show says which
    recorded = step.endswith("publish")
    kinds = [e["kind"] for e in list_events(case, "K")]
    assert kinds == (["sealed"] if recorded else [])
    assert doc["unfinished"][0]["recorded"] is recorded
    assert ("custody event recorded" if recorded else "no custody event") in text
    # the id stays reserved: a new attempt is refused without touching it, and says why
    code, _, err = _cli(case_dir, "seal", str(src_folder), "--item", "K")
    assert code == 1 and "reserved by another attempt" in err and "no longer running" in err
    assert [a.item_id for a in unfinished(case)] == ["K"]
