"""A writer or hasher that stops taking data never hangs a command (issue 14: "no thread join can
hang"). Fault injection: the command runs in its own process with the Nth call of a consumer
paused at a barrier that is never released (tests/paused.py: the call runs in one
of the pump's threads, as a write to a share that stopped answering would), and the stall limit
set to a few seconds (EVIDENCEKIT_STALL_TIMEOUT). The stuck call never returns, so the command
must give up by itself whatever the machine's speed: exit 1 with one clear line, nothing sealed
from the stuck output, and `case show`, `verify` and `custody verify` agreeing afterwards. Before
the fix the command waited for ever (the harness's 300 s bound then fails the test).

Oracles: `sha256sum` of the source against the finished image, `verify` / `custody verify`.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import Paused, assert_truthful, media_sha256, run, sha256

MiB = 1 << 20
STALL = "3"  # seconds; the stuck consumer never comes back, so any limit is reached


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _stuck(tmp_path: Path, case_dir: Path, step: str, *args: str) -> tuple[int, str, str]:
    """Run `args` with `step` stuck for ever; how the command ended by itself."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCEKIT_STALL_TIMEOUT", STALL)
        p = Paused(tmp_path, step, case_dir, *args)
    assert p.reached, p.release()
    try:
        out, err = p.proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the command still waits on the stuck {step} after 300 s")
    stderr = err.decode()
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    return p.proc.returncode, out.decode(), stderr


@pytest.mark.parametrize("fmt", ["raw", "split"])
def test_acquire_disk_writer_stuck(tmp_path: Path, case_dir: Path, fmt: str) -> None:
    """The image writer stops inside its 2nd write: exit 1 naming it; the partial image stays
    unfinished in staging (never sealed: the stuck write may still land), and `--resume`
    ends complete with the source's bytes."""
    src = tmp_path / "source.bin"
    src.write_bytes(random.Random(14).randbytes(4 * MiB))
    fmt_args = ("--format", "split", "--segment-size", "1MiB") if fmt == "split" else ()
    rc, _, err = _stuck(
        tmp_path,
        case_dir,
        "evidencekit.acquire.imaging.writers:SplitRawWriter.consume#2",
        *("acquire", "disk", str(src), "--item", "D1", *fmt_args),
    )
    assert rc == 1, err
    assert "took no data for 3 s" in err and "the writer of" in err, err
    assert "--resume D1" in err, err
    assert assert_truthful(case_dir, "D1") == "unfinished"
    staged = case_dir / "evidence" / ".staging" / "D1"
    assert not (staged / "D1.seal.json").exists()
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "D1") == "complete"
    folder = case_dir / "evidence" / "D1"
    files = [folder / "D1.raw"] if fmt == "raw" else sorted(folder.glob("D1.[0-9][0-9][0-9]"))
    assert media_sha256(files) == sha256(src)


def test_seal_copy_stuck(tmp_path: Path, case_dir: Path) -> None:
    """`seal`'s copy stops: exit 1, the attempt is removed (nothing was sealed), and the same
    command then ends complete."""
    src = tmp_path / "biên bản.bin"
    src.write_bytes(random.Random(15).randbytes(3 * MiB))
    rc, _, err = _stuck(
        tmp_path,
        case_dir,
        "evidencekit.workflows.seal:_Writer.consume#2",
        *("seal", str(src), "--item", "S1"),
    )
    assert rc == 1, err
    assert "took no data for 3 s" in err and "the writer of" in err, err
    assert assert_truthful(case_dir, "S1") == "absent"
    r = run(case_dir, "seal", str(src), "--item", "S1")
    assert r.returncode == 0, r.stderr
    v = run(case_dir, "verify", "S1")
    assert v.returncode == 0, v.stdout + v.stderr


def test_hash_digest_stuck(tmp_path: Path, case_dir: Path) -> None:
    """`hash`: a digest thread stops: exit 1 naming the digest, no sums printed."""
    src = tmp_path / "a.bin"
    src.write_bytes(random.Random(16).randbytes(3 * MiB))
    rc, out, err = _stuck(
        tmp_path,
        case_dir,
        "evidencekit.hash.multihash:_AlgorithmConsumer.consume#2",
        *("hash", "-a", "sha256", str(src)),
    )
    assert rc == 1, err
    assert "the sha256 digest took no data for 3 s" in err, err
    assert out == ""


def test_acquire_files_member_write_stuck(tmp_path: Path, case_dir: Path) -> None:
    """`acquire files`: the tar's writer stops while a large member is copied: exit 1, the
    attempt removed (nothing was sealed), then the same command ends complete."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "ảnh lớn.bin").write_bytes(random.Random(17).randbytes(6 * MiB))  # > 1 MiB: pumped
    rc, _, err = _stuck(
        tmp_path,
        case_dir,
        "evidencekit.acquire.logical.tar_writer:_Feed.consume#2",
        *("acquire", "files", str(tree), "--item", "F1"),
    )
    assert rc == 1, err
    assert "took no data for 3 s" in err and ("F1.tar" in err or "digest" in err), err
    assert assert_truthful(case_dir, "F1") == "absent"
    r = run(case_dir, "acquire", "files", str(tree), "--item", "F1")
    assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "F1") == "complete"
