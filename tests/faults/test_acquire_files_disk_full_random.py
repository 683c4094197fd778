"""Disk full at seeded random points of `acquire files` (issue 14 "Done when": the disk fills at
each step and at random points). As in tests/faults/test_acquire_disk_full.py, the case's evidence
folder is a small loop-mounted ext4 (as root); the command is paused at the Nth call of a hot
function of the collection — a member about to be added (`PaxTarWriter.add_file`) or a write of
the tar (`PaxTarWriter._write`), N drawn from EVIDENCEKIT_FAULT_SEED (default 1414; the test id
names the draw, so a failure is re-run exactly) — the file system is filled to its last block, and
the command goes on. It must exit 1 naming the full path (or 0 if it needed no more room), leave
the case truthful (`case show`, `verify`, `custody verify` agree; nothing complete-looking is
unrecorded), and once the filler is gone `case recover` / `--resume` / a re-run ends complete,
each member checked against its source file with GNU tar (`tar -xO … | sha256`, the oracle).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import Paused
from tests.faults._harness import SEED, random_points
from tests.faults.test_acquire_disk_full import _full_at, small_evidence
from tests.faults.test_acquire_kills import _files_source, _finish_files

__all__ = ["small_evidence"]

TAR = "evidencekit.acquire.logical.tar_writer"
# six files of 300,000 bytes: six members added, each written with one call (small files are
# read whole and written with their header), and more for the folders and the end
HOT = [(f"{TAR}:PaxTarWriter.add_file", 6), (f"{TAR}:PaxTarWriter._write", 6)]


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _draws(kind: str) -> list[tuple[str, str]]:
    # the signal of each draw is not used: the fault here is the full disk
    return [(tid.rpartition("-")[0], step) for tid, step, _ in random_points(SEED, kind, HOT, 3)]


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        pytest.param(kind, step, id=f"{kind}-{tid}")
        for kind in ("folder", "image")
        for tid, step in _draws(f"files-full-{kind}")
    ],
)
def test_acquire_files_disk_full_at_a_random_point(
    tmp_path: Path, case_dir: Path, small_evidence: Path, kind: str, step: str
) -> None:
    src = _files_source(tmp_path, kind)
    args = ("acquire", "files", str(src), "--item", "F1")
    state = _full_at(tmp_path, case_dir, small_evidence, step, *args)
    _finish_files(case_dir, src, tmp_path / "tree", state)
