"""`acquire disk --resume` on a disk with unreadable sectors (a FUSE file with EIO on chosen
sectors behind a direct-I/O loop device, tests/fixtures/faulty.py): the sectors found before the
interruption come from the map the attempt kept (written before their zeros reached the image,
so they survive kill -9), those after it are found by the resumed run; the image has zeros exactly
there and the source's bytes everywhere else (compared with the backing file), the seal and map
list every extent, and `verify` exits 4 (complete-with-errors)."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import Paused, assert_truthful, run
from tests.fixtures.faulty import faulty_loop
from tests.peers import need_peer, need_root

BAD = [100, 101, 102, 5000]  # the first three in the first 1 MiB read, 5000 in the third
SIZE = 6000 * 512
READ = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _wait_for_mapped(case_dir: Path, line: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for m in case_dir.rglob("BAD.map"):
            try:
                if line in m.read_text():
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"the attempt's map never listed {line!r}")


@pytest.mark.root
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resume_carries_the_bad_sectors_found_before(
    case_dir: Path, tmp_path: Path, sig: int
) -> None:
    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    good = bytes((i * 31 + 7) % 253 or 1 for i in range(SIZE))  # no zero bytes anywhere
    backing.write_bytes(good)
    with faulty_loop(backing, BAD) as dev:
        args = ("acquire", "disk", dev.device, "--item", "BAD", "--retries", "0")
        p = Paused(tmp_path, f"{READ}#3", case_dir, *args)
        assert p.reached
        # the first bad extent reaches the attempt's map from the writer's side: wait for it
        # (under load the paused reader can be ahead of it), so "found before" is what it says
        _wait_for_mapped(case_dir, "0x0000C800  0x00000600  -")
        p.signal(sig)
        state = assert_truthful(case_dir, "BAD")
        assert state == ("unfinished" if sig == signal.SIGKILL else "incomplete")
        # killed, the image holds what the writer thread had written by then (it may lag
        # behind the reads under load): the bad sectors before that are the ones carried
        staged = case_dir / "evidence" / ".staging" / "BAD" / "BAD.raw"
        written = staged.stat().st_size if sig == signal.SIGKILL else SIZE
        r = run(case_dir, "--json", "acquire", "disk", dev.device, "--resume", "BAD")
    assert r.returncode == 4, r.stderr
    item = case_dir / "evidence" / "BAD"
    expected = bytearray(good)
    for s in BAD:
        expected[s * 512 : (s + 1) * 512] = bytes(512)
    assert (item / "BAD.raw").read_bytes() == bytes(expected)
    seal = json.loads((item / "BAD.seal.json").read_text())
    facts = seal["facts"]
    assert seal["status"] == "complete-with-errors"
    assert [(e["offset"], e["length"]) for e in facts["read_errors"]] == [
        (100 * 512, 3 * 512),
        (5000 * 512, 512),
    ]
    assert facts["resumed"]["carried_read_errors"] == (1 if written > 100 * 512 else 0)
    assert facts["bad_sectors"] == 4
    mapped = (item / "BAD.map").read_text()
    assert "0x0000C800  0x00000600  -" in mapped and "0x00271000  0x00000200  -" in mapped
    assert assert_truthful(case_dir, "BAD") == "complete-with-errors"
