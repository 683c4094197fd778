"""A SQLite ledger on a network file system is refused, pointing to PostgreSQL.

This kernel has no nfs or cifs module: the decision is tested with the kernel's magic numbers
(linux/magic.h) and mountinfo lines as the kernel writes them, and the refusal end to end with
`statfs` answering what it answers on NFS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from evidencekit.chain import netfs
from evidencekit.chain.ledger import Ledger
from evidencekit.errors import CustodyError

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/lab rw,relatime shared:20 - nfs4 srv:/export rw,vers=4.2
41 22 0:36 / /mnt/ssh rw,nosuid,nodev shared:21 - fuse.sshfs user@host:/data rw,user_id=0
42 22 0:37 / /mnt/ntfs rw,relatime shared:22 - fuseblk /dev/sdb1 rw,user_id=0
43 41 0:38 / /mnt/ssh/inner rw shared:23 - tmpfs tmpfs rw
44 22 0:39 / /mnt/with\\040space rw shared:24 - fuse.glusterfs gl:/vol rw
"""


@pytest.mark.parametrize(
    ("f_type", "sub", "expected"),
    [
        (0x6969, None, "nfs"),
        (0xFF534D42, None, "cifs"),
        (0xFE534D42, None, "smb2"),
        (0xFF534D42 - (1 << 32), None, "cifs"),  # a signed f_type as some ABIs report it
        (0x65735546, "sshfs", "fuse.sshfs"),
        (0x65735546, "glusterfs", "fuse.glusterfs"),
        (0x65735546, None, None),  # FUSE whose subtype is unknown: local (ntfs-3g, fusepy)
        (0x65735546, "ntfs-3g", None),
        (0xEF53, None, None),  # ext4
        (0x01021994, None, None),  # tmpfs
        (0x58465342, None, None),  # xfs
        (0x9123683E, None, None),  # btrfs
    ],
)
def test_decision_by_magic_number(f_type: int, sub: str | None, expected: str | None) -> None:
    assert netfs.network_fs_name(f_type, sub) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/mnt/lab/case/custody.sqlite", "nfs4"),
        ("/mnt/ssh/case", "fuse.sshfs"),
        ("/mnt/ssh/inner/case", "tmpfs"),
        ("/mnt/ntfs", "fuseblk"),
        ("/mnt/with space/x", "fuse.glusterfs"),
        ("/mnt/labx", "ext4"),
        ("/home", "ext4"),
    ],
)
def test_mount_type_from_mountinfo(path: str, expected: str) -> None:
    assert netfs.mount_fs_type(Path(path), MOUNTINFO) == expected


def test_this_machine_is_local(tmp_path: Path) -> None:
    assert netfs.statfs_type(tmp_path) is not None
    assert netfs.network_fs(tmp_path) is None
    # the kernel's own answer agrees with mountinfo about what /proc is
    assert netfs.statfs_type(Path("/proc")) == 0x9FA0
    assert netfs.mount_fs_type(Path("/proc")) == "proc"


def test_fuse_subtype_is_read_from_mountinfo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netfs, "statfs_type", lambda p: netfs.FUSE_MAGIC)
    monkeypatch.setattr(netfs, "mount_fs_type", lambda p, m=None: "fuse.sshfs")
    assert netfs.network_fs(tmp_path) == "fuse.sshfs"
    monkeypatch.setattr(netfs, "mount_fs_type", lambda p, m=None: "fuse")
    assert netfs.network_fs(tmp_path) is None


@pytest.mark.parametrize(("magic", "name"), [(0x6969, "nfs"), (0xFE534D42, "smb2")])
def test_sqlite_ledger_on_network_fs_is_refused(
    case_dir: Path, invoke: Any, monkeypatch: pytest.MonkeyPatch, magic: int, name: str
) -> None:
    ledger = case_dir / "custody.sqlite"
    before = ledger.read_bytes()
    real = netfs.statfs_type

    def fake(path: Path) -> int | None:
        # only the case folder is "on the share"
        return magic if os.path.samefile(path, case_dir) else real(path)

    monkeypatch.setattr(netfs, "statfs_type", fake)
    for args in (("custody", "log"), ("custody", "note", "X", "n"), ("custody", "verify")):
        res = invoke("--case", str(case_dir), *args)
        assert res.exit_code == 1, (args, res.output)
        lines = res.stderr.strip().splitlines()
        assert f"is on a network file system ({name})" in lines[0]
        assert "PostgreSQL" in res.stderr and "custody migrate" in res.stderr
    with pytest.raises(CustodyError, match="network file system"):
        Ledger.open(ledger, "x", trusted={}, writable=False)
    assert ledger.read_bytes() == before
