"""Fault injection for `acquire disk` (raw, split, E01) and `acquire files` (folder, image) — issue
14 "Done when", acquisition part. Each command is paused at a step boundary of the commit protocol
(docs/commit-protocol.md) or at a seeded random call of its hot function, and killed there with
SIGKILL, SIGTERM or SIGINT. Then:

- `case show` tells the truth and `verify` / `custody verify` agree with it (assert_truthful:
  an item is listed iff it is published with a seal the ledger recorded and that verifies with
  the exit code of its status; an unfinished attempt iff a staging folder exists; nothing
  complete-looking is unrecorded);
- the same id then ends complete and verified: `case recover ITEM` (recorded, unpublished),
  `--resume` (disk), `case recover --discard` and a re-run (files, unrecorded), or a re-run.

Oracle for the final image: `sha256sum` of the source against the image's concatenation.
"""

from __future__ import annotations

import hashlib
import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import (
    Paused,
    assert_truthful,
    case_show,
    media_sha256,
    run,
    sha256,
)
from tests.peers import need_peer

MiB = 1 << 20
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}

# the step boundaries: paused just before the named call, i.e. just after the step before it
DISK_STEPS = {
    "guarded": "evidencekit.workflows.commit:reserve",
    "reserved": "evidencekit.workflows.acquire_disk.run:open_writers",
    "written": "evidencekit.workflows.acquire_disk.record:seal_item",
    "sealed": "evidencekit.workflows.custody:record_event",
    "recorded": "evidencekit.workflows.commit:Reservation.publish",
    "published": "evidencekit.workflows.acquire_disk.run:_result",
}
FILES_STEPS = {
    "guarded": "evidencekit.workflows.commit:reserve",
    "reserved": "evidencekit.workflows.collect:collect",
    "written": "evidencekit.workflows.collect:seal_item",
    "sealed": "evidencekit.workflows.custody:record_event",
    "recorded": "evidencekit.workflows.commit:Reservation.publish",
    "published": "evidencekit.workflows.collect:CollectResult",
}
DISK_HOT = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"
FILES_HOT = "evidencekit.acquire.logical.tar_writer:PaxTarWriter.add_file"
SEED = 20261205


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "source.bin"
    src.write_bytes(random.Random(SEED).randbytes(4 * MiB))  # whole sectors: E01 too
    return src


def _disk_args(fmt: str) -> tuple[str, ...]:
    return {
        "raw": (),
        "split": ("--format", "split", "--segment-size", "1MiB"),
        "e01": ("--format", "e01"),
    }[fmt]


def _image_files(case_dir: Path, item: str, fmt: str) -> list[Path]:
    folder = case_dir / "evidence" / item
    if fmt == "raw":
        return [folder / f"{item}.raw"]
    return sorted(folder.glob(f"{item}.[0-9][0-9][0-9]"))


def _recorded(case_dir: Path, item: str) -> bool:
    for a in case_show(case_dir)["unfinished"]:
        if a["item"] == item:
            return bool(a["recorded"])
    return False


def _finish_disk(case_dir: Path, src: Path, fmt: str, state: str) -> None:
    """Bring D1 to complete the way an examiner would, and check it is the source."""
    if state == "unfinished" and _recorded(case_dir, "D1"):
        r = run(case_dir, "case", "recover", "D1")
        assert r.returncode == 0, r.stderr
        state = assert_truthful(case_dir, "D1")
    if state in ("unfinished", "incomplete"):
        r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
        assert r.returncode == 0, r.stderr
    elif state == "absent":
        r = run(case_dir, "acquire", "disk", str(src), "--item", "D1", *_disk_args(fmt))
        assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "D1") == "complete"
    if fmt != "e01":
        assert media_sha256(_image_files(case_dir, "D1", fmt)) == sha256(src)
    else:
        need_peer("ewfverify")
        folder = case_dir / "evidence" / "D1"
        v = subprocess.run(["ewfverify", "-q", str(folder / "D1.E01")], capture_output=True)
        assert v.returncode == 0, v.stdout


def _kill_at(tmp_path: Path, case_dir: Path, step: str, sig: str, *args: str) -> str:
    p = Paused(tmp_path, step, case_dir, *args)
    if not p.reached:  # e.g. a raw image has no `open_writers` second call: never happens here
        rc, _, err = p.release()
        pytest.fail(f"{step} not reached (exit {rc}): {err}")
    rc, _, err = p.signal(SIGNALS[sig])
    if sig == "KILL":
        assert rc == -signal.SIGKILL
    else:
        # handled like Ctrl-C: exit 1 (interrupted), or 0 if the work was already done
        assert rc in (0, 1), err
        assert "internal error" not in err and "Traceback" not in err, err
    return assert_truthful(case_dir, args[args.index("--item") + 1])


@pytest.mark.parametrize("sig", list(SIGNALS))
@pytest.mark.parametrize("step", [*DISK_STEPS, "random"])
@pytest.mark.parametrize("fmt", ["raw", "split", "e01"])
def test_acquire_disk_killed(tmp_path: Path, case_dir: Path, fmt: str, step: str, sig: str) -> None:
    src = _source(tmp_path)
    if step == "random":
        # a seeded call count of the block read (4 MiB in 1 MiB reads: calls 1-4)
        n = random.Random(f"{SEED}-{fmt}-{sig}").randint(1, 4)
        where = f"{DISK_HOT}#{n}"
    else:
        where = DISK_STEPS[step]
    args = ("acquire", "disk", str(src), "--item", "D1", *_disk_args(fmt))
    state = _kill_at(tmp_path, case_dir, where, sig, *args)
    if step == "guarded":
        assert state == "absent"
    elif step == "published" and sig != "KILL":
        assert state == "complete"
    elif sig == "KILL" and step != "published":
        assert state == "unfinished"
    _finish_disk(case_dir, src, fmt, state)


def _tree(tmp_path: Path) -> Path:
    rnd = random.Random(SEED)
    tree = tmp_path / "tree"
    (tree / "Biên bản").mkdir(parents=True)
    for n in range(6):
        (tree / "Biên bản" / f"tệp {n}.bin").write_bytes(rnd.randbytes(300_000))
    return tree


def _files_source(tmp_path: Path, kind: str) -> Path:
    tree = _tree(tmp_path)
    if kind == "folder":
        return tree
    need_peer("mkfs.ext4")
    image = tmp_path / "the disk.bin"  # recognised by content, not by name
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(tree), str(image)], check=True, capture_output=True
    )
    return image


def _finish_files(case_dir: Path, src: Path, tree: Path, state: str) -> None:
    if state == "unfinished" and _recorded(case_dir, "F1"):
        r = run(case_dir, "case", "recover", "F1")
        assert r.returncode == 0, r.stderr
        state = assert_truthful(case_dir, "F1")
    if state in ("unfinished", "incomplete"):
        r = run(case_dir, "acquire", "files", str(src), "--resume", "F1")
        assert r.returncode == 0, r.stderr
    elif state == "absent":
        r = run(case_dir, "acquire", "files", str(src), "--item", "F1")
        assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "F1") == "complete"
    tar = case_dir / "evidence" / "F1" / "F1.tar"
    for n in (0, 5):  # the oracle: GNU tar's copy of a member against the source file
        member = f"{src.name}/Biên bản/tệp {n}.bin"
        out = subprocess.run(["tar", "-xOf", str(tar), member], capture_output=True, check=True)
        assert hashlib.sha256(out.stdout).hexdigest() == sha256(tree / "Biên bản" / f"tệp {n}.bin")


@pytest.mark.parametrize("sig", list(SIGNALS))
@pytest.mark.parametrize("step", [*FILES_STEPS, "random"])
@pytest.mark.parametrize("kind", ["folder", "image"])
def test_acquire_files_killed(
    tmp_path: Path, case_dir: Path, kind: str, step: str, sig: str
) -> None:
    src = _files_source(tmp_path, kind)
    if step == "random":
        n = random.Random(f"{SEED}-{kind}-{sig}").randint(1, 6)
        where = f"{FILES_HOT}#{n}"
    else:
        where = FILES_STEPS[step]
    state = _kill_at(tmp_path, case_dir, where, sig, "acquire", "files", str(src), "--item", "F1")
    if step == "guarded":
        assert state == "absent"
    elif step == "published" and sig != "KILL":
        assert state == "complete"
    elif sig == "KILL" and step != "published":
        assert state == "unfinished"
    _finish_files(case_dir, src, tmp_path / "tree", state)
