"""SIGHUP in the fault matrix: a field laptop's terminal closing (issue 14). The command must
behave as under SIGTERM: the interruption is recorded, what was done is sealed `incomplete` or
left visibly unfinished, and the same id is then resumed or redone to complete.

Two ways in:

- the matrix: `acquire disk` (raw, split) and `acquire files` (folder) paused at every step
  boundary of the commit protocol and sent SIGHUP there (the paused-process harness);
- a real hang-up: the command runs with a pseudo-terminal as its controlling terminal (stdin,
  stdout, stderr, in a session of its own), paused mid-imaging, and the terminal's master side
  is closed: the kernel sends SIGHUP to the command and every later write to the terminal fails
  with EIO (a progress line, the error message). The state on disk must still be right.

After each: `case show`, `verify` and `custody verify` agree (assert_truthful), and `--resume`
or a re-run ends complete with the source's bytes (`sha256sum`, GNU `tar -xO`: the oracles).
"""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import REPO, Paused, assert_truthful, env, media_sha256
from tests.faults._acquire_harness import sha256 as sha256sum
from tests.faults.test_acquire_kills import (
    DISK_STEPS,
    FILES_STEPS,
    _disk_args,
    _files_source,
    _finish_disk,
    _finish_files,
    _image_files,
    _source,
)

READ = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _hangup_at(tmp_path: Path, case_dir: Path, step: str, *args: str) -> str:
    p = Paused(tmp_path, step, case_dir, *args)
    assert p.reached, p.release()
    rc, _, err = p.signal(signal.SIGHUP)
    # handled like SIGTERM: exit 1 (interrupted), or 0 when the work was already done
    assert rc in (0, 1), (rc, err)
    assert "internal error" not in err and "Traceback" not in err, err
    if rc == 1:
        assert "interrupted" in err, err
    return assert_truthful(case_dir, args[args.index("--item") + 1])


@pytest.mark.parametrize("step", list(DISK_STEPS))
@pytest.mark.parametrize("fmt", ["raw", "split"])
def test_acquire_disk_hung_up(tmp_path: Path, case_dir: Path, fmt: str, step: str) -> None:
    src = _source(tmp_path)
    args = ("acquire", "disk", str(src), "--item", "D1", *_disk_args(fmt))
    state = _hangup_at(tmp_path, case_dir, DISK_STEPS[step], *args)
    if step == "guarded":
        assert state == "absent"
    elif step == "published":
        assert state == "complete"
    _finish_disk(case_dir, src, fmt, state)


@pytest.mark.parametrize("step", list(FILES_STEPS))
def test_acquire_files_hung_up(tmp_path: Path, case_dir: Path, step: str) -> None:
    src = _files_source(tmp_path, "folder")
    args = ("acquire", "files", str(src), "--item", "F1")
    state = _hangup_at(tmp_path, case_dir, FILES_STEPS[step], *args)
    if step == "guarded":
        assert state == "absent"
    elif step == "published":
        assert state == "complete"
    _finish_files(case_dir, src, tmp_path / "tree", state)


def _controlling_terminal() -> None:  # in the child, after setsid (start_new_session)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_terminal_closed_during_acquisition(tmp_path: Path, case_dir: Path) -> None:
    """The examiner's terminal closes while `acquire disk` images (paused before its 3rd read
    of 1 MiB, progress lines drawn on the terminal): sealed incomplete and recorded though
    nothing can be printed any more, then resumed to complete."""
    src = _source(tmp_path)
    ready, go = tmp_path / "ready", tmp_path / "go"
    for fifo in (ready, go):
        os.mkfifo(fifo)
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.paused", *f"{READ}#3".split(":")),
            *(str(ready), str(go), "--case", str(case_dir), "acquire", "disk", str(src)),
            *("--item", "D1"),
        ],
        cwd=REPO,
        env=env(),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=_controlling_terminal,
    )
    Paused.running.append(proc)  # type: ignore[arg-type]
    os.close(slave)
    # wait for the barrier, showing what the terminal gets meanwhile (so the command never
    # blocks writing to it); one thread only: a read in progress on the master side would
    # keep it open after close(), and the terminal would not hang up
    shown: list[bytes] = []
    fd = os.open(ready, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while True:
            readable, _, _ = select.select([fd, master], [], [], 1.0)
            if master in readable:
                try:
                    shown.append(os.read(master, 4096))
                except OSError:
                    pass
            if fd in readable and os.read(fd, 64):
                break
            assert proc.poll() is None, b"".join(shown).decode(errors="replace")
    finally:
        os.close(fd)
    os.close(master)  # the terminal goes away: SIGHUP, then EIO on every write to it
    rc = proc.wait(timeout=300)
    assert rc != -signal.SIGHUP, "the hang-up killed the command instead of stopping it"
    assert assert_truthful(case_dir, "D1") == "incomplete"
    _finish_disk(case_dir, src, "raw", "incomplete")
    assert media_sha256(_image_files(case_dir, "D1", "raw")) == sha256sum(src)
