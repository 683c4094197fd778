"""Issue 14, item 9: the ledger on a full disk.

A real 4 MiB ext4 file system (mkfs.ext4 without reserved blocks, loop-mounted) holds the case;
a filler file takes the space, then gives back exactly `free` bytes. The commands run in child
processes, so a SIGBUS or a crash shows as a signal instead of killing the test run. After each
one the space is freed and the ledger is read back with SQLite itself: an append that said it
was recorded is there, one that failed is not, and the ledger still verifies.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidencekit.chain.sqlite_store import MIN_FREE
from tests.conftest import need_peer, need_root
from tests.json_contract import check_stdout

REPO = Path(__file__).resolve().parents[2]


def _ek(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "evidencekit", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    check_stdout(args, result.stdout)  # a --json document validates (docs/json.md)
    return result


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    need_root()
    need_peer("mkfs.ext4", "mount", "umount")
    img = tmp_path / "disk.img"
    with img.open("wb") as fh:
        fh.truncate(4 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(img)], check=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["mount", "-o", "loop", str(img), str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def _fill(mnt: Path, free: int) -> Path:
    """Take every free block of `mnt`, then give back `free` bytes."""
    filler = mnt / "filler"
    chunk = b"\xa5" * 65536
    with filler.open("wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    while True:  # the last partial chunk and the file's own metadata
        try:
            with filler.open("ab") as fh:
                fh.write(b"\xa5" * 1024)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
            break
    if free:
        size = filler.stat().st_size
        os.truncate(filler, max(0, size - free))
    return filler


def _count(case: Path) -> int:
    conn = sqlite3.connect(case / "custody.sqlite")
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def full_case(small_disk: Path, identity: object) -> Path:
    case = small_disk / "vụ án"
    res = _ek("case", "init", str(case), "--case-number", "C-14", "--title", "Đĩa đầy")
    assert res.returncode == 0, res.stderr
    for n in range(3):
        assert _ek("--case", str(case), "custody", "note", "-", f"ghi chú {n}").returncode == 0
    return case


def _assert_operational(res: subprocess.CompletedProcess[str], case: Path) -> None:
    assert res.returncode in (0, 1), (res.returncode, res.stderr)
    assert "internal error" not in res.stderr
    assert "damaged" not in res.stderr
    if res.returncode == 1:
        assert str(case / "custody.sqlite") in res.stderr, res.stderr
        assert "disk is full" in res.stderr and "free space" in res.stderr, res.stderr


def test_reading_and_verifying_on_a_full_disk(full_case: Path) -> None:
    _fill(full_case.parent, 0)
    res = _ek("--case", str(full_case), "custody", "verify")
    assert res.returncode == 0, res.stderr
    assert "Custody ledger OK: 4 events" in res.stdout
    res = _ek("--case", str(full_case), "custody", "log")
    assert res.returncode == 0, res.stderr
    assert "ghi chú 2" in res.stdout


@pytest.mark.parametrize("free", [0, 4096, 36864, 69632, MIN_FREE - 4096])
def test_no_append_starts_on_a_full_disk(full_case: Path, free: int) -> None:
    before = _count(full_case)
    filler = _fill(full_case.parent, free)
    res = _ek("--case", str(full_case), "custody", "note", "-", "khi đĩa đầy")
    _assert_operational(res, full_case)
    assert res.returncode == 1
    assert "nothing was recorded" in res.stderr
    filler.unlink()
    assert _count(full_case) == before
    assert _ek("--case", str(full_case), "custody", "verify").returncode == 0


BIG_APPEND = """
import sys
from pathlib import Path
from evidencekit.case import Case
from evidencekit.errors import EvidenceKitError
from evidencekit.identity import IdentityStore
from evidencekit.workflows.custody import record_event

case = Case.open(Path(sys.argv[1]))
identity = IdentityStore().load(None, lambda name: b"")
size = int(sys.argv[2])
try:
    se = record_event(case, identity, "note", None, note="lớn", details={"blob": "x" * size})
except EvidenceKitError as exc:
    print(exc.message, exc.hint, file=sys.stderr)
    sys.exit(exc.exit_code)
print("ACK", se.seq)
"""


@pytest.mark.parametrize("size", [100, 3 << 20])
def test_an_append_larger_than_the_free_space_is_committed_and_said_or_neither(
    full_case: Path, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Room to start, not to finish: SQLite runs out of space inside the transaction (or at
    COMMIT) and must roll back cleanly; a small append in the same room commits."""
    from tests.conftest import PASSPHRASE

    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    before = _count(full_case)
    filler = _fill(full_case.parent, MIN_FREE + 65536)
    script = BIG_APPEND.replace('b""', repr(PASSPHRASE.encode()))
    res = subprocess.run(
        [sys.executable, "-c", script, str(full_case), str(size)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )
    _assert_operational(res, full_case)
    assert res.returncode == (0 if size < MIN_FREE else 1), res.stderr
    filler.unlink()
    assert _count(full_case) == before + (1 if res.returncode == 0 else 0)
    assert _ek("--case", str(full_case), "custody", "verify").returncode == 0


@pytest.mark.parametrize("free", [0, 600 * 1024])
def test_report_build_on_a_full_disk_leaves_no_report(full_case: Path, free: int) -> None:
    """Issue 14, item 10: no room for the PDF (0), or room for the PDF but not for the ledger's
    append (600 KiB, under MIN_FREE): exit 1, no report under any name, no event."""
    before = _count(full_case)
    filler = _fill(full_case.parent, free)
    res = _ek("--case", str(full_case), "report", "build", "--lang", "en")
    assert res.returncode == 1, res.stdout + res.stderr
    assert "internal error" not in res.stderr and "damaged" not in res.stderr
    assert "nothing was recorded" in res.stderr
    assert not list((full_case / "reports").iterdir())
    filler.unlink()
    assert _count(full_case) == before
    # with room again, the same command publishes a recorded report
    res = _ek("--json", "--case", str(full_case), "report", "build", "--lang", "en")
    assert res.returncode == 0, res.stderr
    pdf = Path(json.loads(res.stdout)["path"])
    assert [p.name for p in (full_case / "reports").iterdir()] == [pdf.name]
    assert _ek("--case", str(full_case), "report", "verify", str(pdf)).returncode == 0
