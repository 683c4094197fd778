"""A killed split-raw `acquire disk --resume`, resumed again, leaves exactly the sealed segments
(issue 14). The resume continues an item sealed `incomplete`; it is killed while it adds
segments, or between its steps, with SIGKILL, SIGTERM or SIGINT (the paused-process harness of
tests/faults). Its staging folder then holds the earlier seal beside segments it never sealed.
After `--resume` once more:

- the segment files in `evidence/D1/` are exactly the ones the final seal lists, and every file in
  the folder is sealed or one of the side files the seal names (`verify` re-hashes them);
- a segment the earlier attempts wrote past the point the resume goes on from is never deleted:
  it is moved to `evidence/.discarded/D1.<UTC time>/` and the seal's `resumed` facts, the log and
  the custody event name it;
- `verify` exits 0, `custody verify` exits 0, and the image is the source (`sha256sum` of the
  source against `cat D1.001 … | sha256sum`, the coreutils oracle).
"""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import (
    Paused,
    assert_truthful,
    events,
    media_sha256,
    run,
    sha256,
)

KiB, MiB = 1 << 10, 1 << 20
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}
SPLIT = ("--format", "split", "--segment-size", "768KiB")
READ = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"
# where the second run (the resume) is stopped: while it adds segments (the Nth read of the
# source), all written but not sealed, sealed but not recorded, recorded but not published
RESUME_POINTS = {
    "read2": f"{READ}#2",
    "read3": f"{READ}#3",
    "written": "evidencekit.workflows.acquire_disk.record:seal_item",
    "sealed": "evidencekit.workflows.custody:record_event",
    "recorded": "evidencekit.workflows.commit:Reservation.publish",
}


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _interrupt(tmp: Path, case_dir: Path, step: str, sig: str, *args: str) -> int:
    p = Paused(tmp, step, case_dir, *args)
    assert p.reached, p.release()
    rc, _, err = p.signal(SIGNALS[sig])
    assert "internal error" not in err and "Traceback" not in err, err
    return rc


def _segments(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("D1.[0-9][0-9][0-9]")}


def _assert_exactly_sealed(case_dir: Path) -> dict[str, object]:
    folder = case_dir / "evidence" / "D1"
    seal = json.loads((folder / "D1.seal.json").read_text("utf-8"))
    sealed = {a["name"] for a in seal["artifacts"]}
    assert _segments(folder) == {n for n in sealed if n[3:].isdigit()}, (
        sorted(_segments(folder)),
        sorted(sealed),
    )
    # nothing else lies beside them but the seal and its sums files
    beside = {"D1.seal.json", *seal["sums"].values()}
    for entry in folder.iterdir():
        assert entry.name in sealed or entry.name in beside, (entry.name, sorted(sealed))
    return dict(seal)


@pytest.mark.parametrize("sig", list(SIGNALS))
@pytest.mark.parametrize("point", list(RESUME_POINTS))
def test_killed_split_resume_ends_with_exactly_the_sealed_segments(
    tmp_path: Path, case_dir: Path, point: str, sig: str
) -> None:
    src = tmp_path / "source.bin"
    src.write_bytes(random.Random(1414).randbytes(4 * MiB))
    # 1: Ctrl-C before the 3rd read of 1 MiB: sealed incomplete at 2 MiB (D1.001-.003, the
    # last one part full), recorded and published
    rc = _interrupt(
        tmp_path, case_dir, f"{READ}#3", "INT", "acquire", "disk", str(src), "--item", "D1", *SPLIT
    )
    assert rc == 1
    assert assert_truthful(case_dir, "D1") == "incomplete"
    # 2: the resume, stopped at `point` (the resume re-reads the image first, then the source)
    _interrupt(
        tmp_path, case_dir, RESUME_POINTS[point], sig, "acquire", "disk", str(src), "--resume", "D1"
    )
    state = assert_truthful(case_dir, "D1")
    assert state in ("unfinished", "incomplete", "complete"), state
    # the segments the killed resume added beside the seal in staging: never to be deleted
    added: dict[str, str] = {}
    staged = case_dir / "evidence" / ".staging" / "D1"
    if state == "unfinished":
        earlier = json.loads((staged / "D1.seal.json").read_text("utf-8"))
        listed = {a["name"] for a in earlier["artifacts"]}
        added = {
            p.name: sha256(p) for p in staged.glob("D1.[0-9][0-9][0-9]") if p.name not in listed
        }
    if sig == "KILL" and point == "written":  # (at a read, the writer thread may lag)
        assert added, "the resume was killed after it added segments"
    acquired = [e for e in events(case_dir, "D1") if e["kind"] == "acquired"]
    if state == "unfinished" and acquired[-1]["details"]["status"] == "complete":
        # the resume's own seal was recorded before the kill: publishing it finishes it
        r = run(case_dir, "case", "recover", "D1")
        assert r.returncode == 0, r.stderr
        state = assert_truthful(case_dir, "D1")
    # 3: resumed to the end
    if state != "complete":
        r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
        assert r.returncode == 0, r.stderr
        assert assert_truthful(case_dir, "D1") == "complete"
    seal = _assert_exactly_sealed(case_dir)
    folder = case_dir / "evidence" / "D1"
    files = sorted(folder.glob("D1.[0-9][0-9][0-9]"))
    assert media_sha256(files) == sha256(src)
    v = run(case_dir, "verify", "D1")
    assert v.returncode == 0, v.stdout + v.stderr
    # whatever was set aside is named where it went, with its size, and is there
    moved = (seal.get("facts") or {}).get("resumed", {}).get("discarded_segments") or []  # type: ignore[union-attr]
    discarded = case_dir / "evidence" / ".discarded"
    for m in moved:
        assert (case_dir / m["moved_to"]).is_file(), m
        assert (case_dir / m["moved_to"]).stat().st_size == m["size"]
    for name, digest in added.items():
        found = [p for p in discarded.glob(f"*/{name}") if sha256(p) == digest]
        assert found, f"{name}, written by the killed resume, was not set aside"
        rel = found[0].relative_to(case_dir).as_posix()
        assert rel in {m["moved_to"] for m in moved}, (rel, moved)
    if discarded.is_dir():
        on_disk = {
            p.relative_to(case_dir).as_posix() for p in discarded.rglob("D1.*") if p.is_file()
        }
        named = set()
        for e in events(case_dir, "D1"):
            for m in (e.get("details") or {}).get("discarded_segments") or []:
                named.add(m["moved_to"])
        assert on_disk <= named, (on_disk, named)


@pytest.mark.parametrize("nth", [1, 2, 3])
def test_resume_killed_while_setting_segments_aside(
    tmp_path: Path, case_dir: Path, nth: int
) -> None:
    """A resume killed half way through moving stray segments aside: the next one moves the
    rest (to a folder of its own) and its seal and event name all of them, each where it is."""
    src = tmp_path / "source.bin"
    src.write_bytes(random.Random(1515).randbytes(4 * MiB))
    acquire = ("acquire", "disk", str(src))
    assert _interrupt(tmp_path, case_dir, f"{READ}#3", "INT", *acquire, "--item", "D1", *SPLIT)
    # a resume killed once it wrote everything: D1.004-.006 lie past the earlier seal
    _interrupt(tmp_path, case_dir, RESUME_POINTS["written"], "KILL", *acquire, "--resume", "D1")
    staged = case_dir / "evidence" / ".staging" / "D1"
    added = {p.name: sha256(p) for p in staged.glob("D1.00[4-6]")}
    assert sorted(added) == ["D1.004", "D1.005", "D1.006"]
    # the next resume is killed before its `nth` move
    where = "evidencekit.workflows.acquire_disk.resume:shutil.move"
    _interrupt(tmp_path, case_dir, f"{where}#{nth}", "KILL", *acquire, "--resume", "D1")
    assert assert_truthful(case_dir, "D1") == "unfinished"
    r = run(case_dir, *acquire, "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "D1") == "complete"
    seal = _assert_exactly_sealed(case_dir)
    files = sorted((case_dir / "evidence" / "D1").glob("D1.[0-9][0-9][0-9]"))
    assert media_sha256(files) == sha256(src)
    moved = seal["facts"]["resumed"]["discarded_segments"]  # type: ignore[index]
    assert sorted(m["name"] for m in moved) == sorted(added)
    for m in moved:
        assert sha256(case_dir / m["moved_to"]) == added[m["name"]], m
    last = [e for e in events(case_dir, "D1") if e["kind"] == "acquired"][-1]
    assert last["details"]["discarded_segments"] == moved
    log = (case_dir / "evidence" / "D1" / "D1.log").read_text("utf-8")
    for m in moved:
        assert f"set aside to {m['moved_to']}" in log
