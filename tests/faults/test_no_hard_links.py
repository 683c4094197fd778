"""A case on a file system without hard links (exFAT, as on many field USB disks; mounted with
exfat-fuse over a loop device): the attempt
record cannot be linked, so the id is reserved by the folder's `mkdir` and the record renamed
in after it (docs/commit-protocol.md); a report is renamed to a name still free. Everything
still ends complete, recorded and verified, and a killed seal is still recoverable."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import need_peer, need_root
from tests.faults._harness import (
    World,
    assert_done,
    cli_run,
    kill_at,
    make_world,
    no_paused_command_outlives_its_test,
    recover_all,
    truth,
)

__all__ = ["no_paused_command_outlives_its_test"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    need_root()
    need_peer("mkfs.exfat", "mount.exfat-fuse", "losetup", "umount")
    base = tmp_path_factory.mktemp("exfat")
    img, mnt = base / "exfat.img", base / "mnt"
    mnt.mkdir()
    with img.open("wb") as fh:
        fh.truncate(32 << 20)
    subprocess.run(["mkfs.exfat", str(img)], check=True, capture_output=True)
    loop = subprocess.run(
        ["losetup", "--find", "--show", str(img)], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        subprocess.run(["mount.exfat-fuse", loop, str(mnt)], check=True, capture_output=True)
        try:
            yield from make_world(base, mnt)
        finally:
            subprocess.run(["umount", str(mnt)], check=False)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)


def test_seal_and_report_on_exfat(world: World) -> None:
    src = world.base / "tệp.txt"
    src.write_text("nội dung", encoding="utf-8")
    with pytest.raises(OSError):  # the premise: no hard links here
        (world.case_dir / "probe").touch()
        (world.case_dir / "probe").hardlink_to(world.case_dir / "probe2")
    (world.case_dir / "probe").unlink()
    item = world.new_id("F")
    args = ["seal", str(src), "--item", item]
    code, _, err = cli_run(world.case_dir, *args)
    assert code == 0, err
    code, _, err = cli_run(world.case_dir, *args)  # the id is taken: refused, nothing touched
    assert code == 1 and "already exists" in err, err
    assert truth(world).items[item] == "complete"
    code, _, err = cli_run(world.case_dir, "report", "build", "--lang", "en")
    assert code == 0, err
    truth(world)


@pytest.mark.parametrize(
    "step",
    [
        "evidencekit.workflows.commit:_rename_record",  # folder made, record not in place
        "evidencekit.workflows.seal:_seal_reserved",
        "evidencekit.workflows.commit:Reservation.publish",
        "evidencekit.workflows.commit:Reservation._settle",
    ],
)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_seal_on_exfat_is_recovered(world: World, step: str, sig: int) -> None:
    src = world.base / "tệp.txt"
    src.write_text("nội dung", encoding="utf-8")
    item = world.new_id("K")
    args = ["seal", str(src), "--item", item]
    kill_at(world, step, sig, *args)
    recover_all(world, truth(world))
    assert_done(world, item, args)
