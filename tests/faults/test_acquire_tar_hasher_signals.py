"""Ctrl-C while the tar's hashing thread is stuck (issue 14 item 5): no wait of `acquire files`
may hang. The hashing thread is paused at its start (the barrier of tests/paused.py)
and never goes on, so the writer's queue fills. One Ctrl-C must still end the command by itself
(the interrupted tar is hashed again from its file; nothing waits for the stuck thread): sealed
`incomplete`, exit 1, `verify` exit 4 (not 3). Two Ctrl-C in a row end it too, sealed or left
visibly unfinished. `communicate()` has a timeout: a hang fails the test.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import Paused, assert_truthful, run

HASHER = "evidencekit.acquire.logical.tar_hasher:BackgroundHasher._work"


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _collecting(p: Paused, case_dir: Path) -> None:
    """Wait (for a state, not a time) until the command is inside the collection with the
    hasher's queue full: 6 MiB of the tar written while the hashing thread never started."""
    tar = case_dir / "evidence" / ".staging" / "F1" / "F1.tar"
    while not (tar.exists() and tar.stat().st_size >= 6 << 20):
        assert p.proc.poll() is None, "the command ended before it filled the queue"
        select.select([], [], [], 0.02)


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    for n in range(24):  # 12 MiB: more than the hasher's queue holds
        (tree / f"f{n:02d}.bin").write_bytes(os.urandom(512 << 10))
    return tree


def test_ctrl_c_with_a_stuck_hasher_ends_and_seals_incomplete(
    tmp_path: Path, case_dir: Path
) -> None:
    p = Paused(tmp_path, HASHER, case_dir, "acquire", "files", str(_tree(tmp_path)), "--item", "F1")
    assert p.reached
    _collecting(p, case_dir)
    rc, _, err = p.signal(signal.SIGINT)  # the hasher is never released
    assert rc == 1, err
    assert "interrupted" in err
    assert assert_truthful(case_dir, "F1") == "incomplete"


def test_two_ctrl_c_with_a_stuck_hasher_end_it(tmp_path: Path, case_dir: Path) -> None:
    p = Paused(tmp_path, HASHER, case_dir, "acquire", "files", str(_tree(tmp_path)), "--item", "F1")
    assert p.reached
    _collecting(p, case_dir)
    p.proc.send_signal(signal.SIGINT)
    rc, _, err = p.signal(signal.SIGINT)
    assert rc == 1, err
    state = assert_truthful(case_dir, "F1")
    assert state in ("incomplete", "unfinished")
    if state == "unfinished":
        assert run(case_dir, "case", "recover", "F1", "--discard", "test").returncode == 0
        r = run(case_dir, "acquire", "files", str(tmp_path / "tree"), "--item", "F1")
        assert r.returncode == 0, r.stderr
        assert assert_truthful(case_dir, "F1") == "complete"


def test_one_ctrl_c_then_the_hasher_goes_on_seals_incomplete(
    tmp_path: Path, case_dir: Path
) -> None:
    p = Paused(tmp_path, HASHER, case_dir, "acquire", "files", str(_tree(tmp_path)), "--item", "F1")
    assert p.reached
    _collecting(p, case_dir)
    p.proc.send_signal(signal.SIGINT)
    rc, _, err = p.release()
    assert rc == 1, err
    assert "interrupted" in err
    assert assert_truthful(case_dir, "F1") == "incomplete"  # verify exits 4, not 3
