"""Disk full at each step of `acquire disk` and `acquire files` (issue 14 "Done when"): the case's
evidence folder is a small loop-mounted ext4; the command is paused at a step boundary, the file
system is filled to the last block, and the command goes on. It must exit 1 naming the path (or
0 when what was left needs no space, such as the publishing rename), leave the case truthful
(`case show`, `verify`, `custody verify` agree; nothing complete-looking unrecorded), and once
space is freed, `case recover` / `--resume` / a re-run ends complete and verified.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import Paused, assert_truthful
from tests.faults.test_acquire_kills import (
    DISK_HOT,
    DISK_STEPS,
    FILES_STEPS,
    SEED,
    _disk_args,
    _files_source,
    _finish_disk,
    _finish_files,
    _source,
)
from tests.peers import need_peer, need_root


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


@pytest.fixture
def small_evidence(case_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """The case's evidence folder on a 24 MiB ext4 of its own (loop-mounted)."""
    need_root()
    need_peer("mkfs.ext4", "mount", "umount")
    fs = tmp_path / "evidence.ext4"
    subprocess.run(["truncate", "-s", "24M", str(fs)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(fs)], check=True, capture_output=True)
    evidence = case_dir / "evidence"
    evidence.mkdir(exist_ok=True)
    assert not any(evidence.iterdir())
    subprocess.run(["mount", "-o", "loop", str(fs), str(evidence)], check=True)
    (evidence / "lost+found").rmdir()
    try:
        yield evidence
    finally:
        subprocess.run(["umount", "-l", str(evidence)], check=False)


def _fill(evidence: Path) -> Path:
    """Fill the file system to its last block (as root: the reserved blocks too)."""
    filler = evidence / ".filler"
    with open(filler, "wb") as fh:
        chunk = bytes(1 << 20)
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
        try:
            while True:  # the last partial megabyte, a block at a time
                fh.write(bytes(4096))
                fh.flush()
        except OSError:
            pass
    return filler


def _full_at(tmp_path: Path, case_dir: Path, evidence: Path, where: str, *args: str) -> str:
    p = Paused(tmp_path, where, case_dir, *args)
    assert p.reached
    filler = _fill(evidence)
    rc, _, err = p.release()
    assert "internal error" not in err and "Traceback" not in err, err
    assert rc in (0, 1), err
    if rc == 1:
        assert str(evidence) in err, err  # which path is full
    state = assert_truthful(case_dir, args[args.index("--item") + 1])
    filler.unlink()
    return state


@pytest.mark.parametrize("step", ["guarded", "reserved", "written", "sealed", "recorded", "random"])
@pytest.mark.parametrize("fmt", ["raw", "split", "e01"])
def test_acquire_disk_on_a_full_disk(
    tmp_path: Path, case_dir: Path, small_evidence: Path, fmt: str, step: str
) -> None:
    src = _source(tmp_path)
    where = (
        f"{DISK_HOT}#{random.Random(f'{SEED}-{fmt}').randint(1, 4)}"
        if step == "random"
        else DISK_STEPS[step]
    )
    args = ("acquire", "disk", str(src), "--item", "D1", *_disk_args(fmt))
    state = _full_at(tmp_path, case_dir, small_evidence, where, *args)
    _finish_disk(case_dir, src, fmt, state)


@pytest.mark.parametrize("step", ["guarded", "reserved", "written", "sealed", "recorded"])
def test_acquire_files_on_a_full_disk(
    tmp_path: Path, case_dir: Path, small_evidence: Path, step: str
) -> None:
    src = _files_source(tmp_path, "folder")
    args = ("acquire", "files", str(src), "--item", "F1")
    state = _full_at(tmp_path, case_dir, small_evidence, FILES_STEPS[step], *args)
    _finish_files(case_dir, src, tmp_path / "tree", state)
