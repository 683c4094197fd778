"""Every non-acquisition command on a full disk (issue 14).

The case lives on a small (64 MiB) ext4 file system (mkfs.ext4 on a file, losetup, mount),
which a filler file, sized from statvfs, fills to leave just the room to fail at one step: no
room at all (the id cannot be reserved), room for part of the copy, room for the copy and its
seal but not the ledger's append (an append needs 1 MiB free to start: docs/custody.md). Each
command then exits 1 naming the path it could not write and with a hint; nothing is reported
damaged or as an internal error; `case show`, `verify` and `custody verify` (run while the disk
is still full: reading never needs room) agree; an append is committed and acknowledged, or
neither; and once the filler is removed the same command with the same id ends complete and
verified.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from evidencekit.chain.sqlite_store import MIN_FREE
from tests.conftest import need_peer, need_root
from tests.faults._harness import World, cli_run, make_world, truth

MiB = 1 << 20
SOURCE = 2 * MiB  # what is sealed, and the media converted


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A 64 MiB ext4 (no reserved blocks) on a loop device, mounted; always cleaned up."""
    need_root()
    need_peer("mkfs.ext4", "losetup", "mount", "umount")
    base = tmp_path_factory.mktemp("diskfull")
    img, mnt = base / "disk.img", base / "mnt"
    mnt.mkdir()
    with img.open("wb") as fh:
        fh.truncate(64 * MiB)  # room for every item the tests complete
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(img)], check=True)
    loop = subprocess.run(
        ["losetup", "--find", "--show", str(img)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        subprocess.run(["mount", loop, str(mnt)], check=True)
        try:
            yield mnt
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)


@pytest.fixture(scope="module")
def world(disk: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("diskfull-home")  # the home and sources: not on the disk
    yield from make_world(base, disk)


@pytest.fixture(scope="module")
def source(world: World) -> Path:
    path = world.base / "ảnh đĩa.raw"
    path.write_bytes(os.urandom(SOURCE))
    code, _, err = cli_run(world.case_dir, "seal", str(path), "--item", "ORIG")
    assert code == 0, err
    return path


def _free(mnt: Path) -> int:
    st = os.statvfs(mnt)
    return st.f_bavail * st.f_frsize


def _fill(mnt: Path, leave: int) -> Path:
    """Take the disk's free space but `leave` bytes (as near as its blocks allow)."""
    filler = mnt / "filler"
    want = _free(mnt) - leave
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while want > 0:  # the filler's own metadata needs blocks too: ask a little less
            try:
                os.posix_fallocate(fd, 0, want)
                break
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                want -= 4096
    finally:
        os.close(fd)
    assert _free(mnt) <= leave + 8192
    return filler


# command -> its arguments (the item id last) and the room each step leaves
COMMANDS = {
    "seal": lambda src: ["seal", str(src)],
    "convert-e01": lambda src: ["convert", "ORIG", "--to", "e01"],
    "convert-raw": lambda src: ["convert", "ORIG", "--to", "raw"],
}
ROOM = {
    "nothing": 0,  # the attempt record cannot be written: the id is not even reserved
    "half-the-copy": SOURCE // 2,
    "all-but-the-ledger": SOURCE + 256 * 1024,  # copy and seal fit; the append needs 1 MiB
}


def _failed_cleanly(code: int, err: str, mnt: Path) -> None:
    assert code == 1, err
    assert "internal error" not in err and "damaged" not in err and "Traceback" not in err
    assert str(mnt) in err, err  # the path it could not write
    assert "hint:" in err and "free space" in err, err
    assert "cannot read" not in err, err  # a full destination is not an unreadable source


@pytest.mark.parametrize("room", list(ROOM))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_item_command_on_a_full_disk(
    world: World, disk: Path, source: Path, command: str, room: str
) -> None:
    item = world.new_id(command.replace("-", "").upper())
    args = [*COMMANDS[command](source), "--item", item]
    events = len(truth(world).events)
    filler = _fill(disk, ROOM[room])
    try:
        code, _, err = cli_run(world.case_dir, *args)
        _failed_cleanly(code, err, disk)
        state = truth(world)  # still full: reading, verifying and case show need no room
        assert len(state.events) == events  # nothing recorded, and nothing said to be
        assert item not in state.items and item not in state.unfinished
    finally:
        filler.unlink()
    code, _, err = cli_run(world.case_dir, *args)
    assert code == 0, err
    code, out, err = cli_run(world.case_dir, "verify", item)
    assert code == 0, out + err
    assert truth(world).items[item] == "complete"


@pytest.mark.parametrize("room", [0, 256 * 1024, MIN_FREE - 64 * 1024])
def test_report_build_on_a_full_disk(world: World, disk: Path, source: Path, room: int) -> None:
    """No room for the PDF, or room for it but not for the ledger's append: no report under
    any name, no event; with room again the same command publishes a recorded report."""
    world.new_id("REP")
    events = len(truth(world).events)
    filler = _fill(disk, room)
    try:
        code, _, err = cli_run(world.case_dir, "report", "build", "--lang", "en")
        _failed_cleanly(code, err, disk)
        assert len(truth(world).events) == events
        assert not list((world.case_dir / "reports").glob("*"))
    finally:
        filler.unlink()
    code, out, err = cli_run(world.case_dir, "--json", "report", "build", "--lang", "en")
    assert code == 0, err
    pdf = Path(json.loads(out)["path"])
    code, out, err = cli_run(world.case_dir, "report", "verify", str(pdf))
    assert code == 0, out + err
    pdf.unlink()  # the next test starts with an empty reports/ again


@pytest.mark.parametrize("room", [0, 64 * 1024, MIN_FREE - 4096])
@pytest.mark.parametrize(
    "args",
    [
        ["custody", "note", "-", "ghi chú khi đĩa đầy"],
        ["case", "recover", "{item}", "--discard", "đĩa đầy"],
    ],
    ids=["custody-note", "case-recover-discard"],
)
def test_append_on_a_full_disk(
    world: World, disk: Path, source: Path, args: list[str], room: int
) -> None:
    """An append that cannot start is refused, acknowledged as not recorded, and nothing is in
    the ledger; with room it is recorded once."""
    item = world.new_id("N")
    if "{item}" in args:
        _unrecorded_attempt(world, item, source)
    args = [a.format(item=item) for a in args]
    events = len(truth(world).events)
    filler = _fill(disk, room)
    try:
        code, _, err = cli_run(world.case_dir, *args)
        _failed_cleanly(code, err, disk)
        assert "nothing was recorded" in err
        assert len(truth(world).events) == events
    finally:
        filler.unlink()
    code, _, err = cli_run(world.case_dir, *args)
    assert code == 0, err
    state = truth(world)
    assert len(state.events) == events + 1 and not state.unfinished


def _unrecorded_attempt(world: World, item: str, source: Path) -> None:
    """An attempt left unrecorded in staging (a seal killed before its event)."""
    from tests.faults._harness import kill_at

    kill_at(
        world, "evidencekit.workflows.seal:_record_sealed", 9, "seal", str(source), "--item", item
    )
    assert truth(world).unfinished == {item: False}


# the disk fills while the command is paused before a step (the barrier of tests/faults)
FILLS = {
    "seal": {
        "written": ("evidencekit.workflows.seal:seal_item", 1),  # the seal cannot be written
        "sealed": ("evidencekit.workflows.seal:_record_sealed", 1),  # the append cannot start
        "recorded": ("evidencekit.workflows.commit:Reservation.publish", 0),  # a rename fits
    },
    "convert-e01": {
        "written": ("evidencekit.workflows.convert:_seal_item", 1),
        "sealed": ("evidencekit.workflows.convert:_record", 1),
        "recorded": ("evidencekit.workflows.commit:Reservation.publish", 0),
    },
}


@pytest.mark.parametrize(("command", "step"), [(c, s) for c, steps in FILLS.items() for s in steps])
def test_disk_fills_before_a_step(
    world: World, disk: Path, source: Path, command: str, step: str
) -> None:
    from tests.faults._harness import Paused

    item = world.new_id(command.replace("-", "").upper())
    args = [*COMMANDS[command](source), "--item", item]
    events = len(truth(world).events)
    where, code_wanted = FILLS[command][step]
    paused = Paused(world, where, *args)
    filler = _fill(disk, 0)
    try:
        done = paused.release()
        if code_wanted:
            _failed_cleanly(done.returncode, done.stderr, disk)
        else:
            assert done.returncode == 0, done.stderr
        state = truth(world)
        assert len(state.events) == events + (0 if code_wanted else len(_kinds(command)))
        assert not state.unfinished  # refused before recording: the attempt is removed
    finally:
        filler.unlink()
    if code_wanted:
        code, _, err = cli_run(world.case_dir, *args)
        assert code == 0, err
    code, out, err = cli_run(world.case_dir, "verify", item)
    assert code == 0, out + err


def _kinds(command: str) -> list[str]:
    return ["sealed"] if command == "seal" else ["sealed", "converted"]


@pytest.mark.parametrize(
    "step",
    [
        "evidencekit.chain.sqlite_store:_SQLiteTxn.add_checkpoint",  # uncommitted WAL frames
        "evidencekit.workflows.custody:_remember",  # committed, not checkpointed into the file
    ],
    ids=["inside-the-commit", "after-the-commit"],
)
def test_a_killed_append_then_a_full_disk(world: World, disk: Path, step: str) -> None:
    """kill -9 in an append leaves the WAL (and its index) as they were; on a disk then full,
    reading and verifying still work (without a shared-memory index) and say nothing of damage;
    with room, the next append commits."""
    from tests.faults._harness import kill_at

    world.new_id("W")
    events = len(truth(world).events)
    kill_at(world, step, 9, "custody", "note", "-", "bị ngắt")
    filler = _fill(disk, 0)
    try:
        state = truth(world)  # custody verify, case show, verify: all read on a full disk
        committed = step.endswith("_remember")
        assert len(state.events) == events + (1 if committed else 0)
        code, _, err = cli_run(world.case_dir, "custody", "log")
        assert code == 0 and "damaged" not in err, err
    finally:
        filler.unlink()
    code, _, err = cli_run(world.case_dir, "custody", "note", "-", "lần nữa")
    assert code == 0, err
