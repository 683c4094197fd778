"""Is a folder on a network file system? (Then no SQLite ledger may live there.)

SQLite's locks and its WAL index (a memory-mapped `-shm` file shared by every process that has
the database open) do not work across hosts on NFS, SMB or network FUSE mounts: two
workstations appending to one `custody.sqlite` there can corrupt it or lose events, and SQLite's
own documentation says not to. So a SQLite ledger on such a mount is refused (`sqlite_store`),
pointing to the PostgreSQL ledger a lab shares instead (docs/postgresql.md).

The decision is the kernel's own word for the file system of the folder: `statfs(2)`'s
`f_type` magic number (linux/magic.h), and, for FUSE, whose magic number says nothing about
what is behind it, the subtype in `/proc/self/mountinfo` (`fuse.sshfs`, `fuse.glusterfs`, …):
local FUSE file systems (ntfs-3g, exfat-fuse, a test's faulty disk) are not refused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

# statfs(2) f_type of network file systems (linux/magic.h and the file systems' own sources).
NETWORK_MAGIC: dict[int, str] = {
    0x6969: "nfs",
    0xFF534D42: "cifs",
    0xFE534D42: "smb2",
    0x517B: "smb",
    0x564C: "ncp",
    0x5346414F: "afs",
    0x6B414653: "afs",  # kAFS
    0x00C36400: "ceph",
    0x73757245: "coda",
    0x01021997: "9p",
    0x0BD00BD0: "lustre",
    0x01161970: "gfs2",
    0x7461636F: "ocfs2",
    0x47504653: "gpfs",
    0x19830326: "beegfs",
}
FUSE_MAGIC = 0x65735546
# FUSE subtypes (mountinfo `fuse.<subtype>`) that reach another host.
NETWORK_FUSE: frozenset[str] = frozenset(
    {
        "sshfs",
        "glusterfs",
        "s3fs",
        "rclone",
        "gcsfuse",
        "goofys",
        "ceph-fuse",
        "cephfs",
        "davfs",
        "davfs2",
        "smbnetfs",
        "curlftpfs",
        "juicefs",
        "objectivefs",
        "mfs",
        "moosefs",
        "lizardfs",
        "beegfs",
        "blobfuse",
        "blobfuse2",
        "azurefs",
        "nfs",
        "afpfs",
        "ftpfs",
        "webdav",
    }
)


def network_fs_name(f_type: int, fuse_subtype: str | None = None) -> str | None:
    """The name of the network file system that `f_type` (statfs magic) and, for FUSE,
    `fuse_subtype` (from mountinfo, e.g. "sshfs") describe; None for a local one."""
    f_type &= 0xFFFFFFFF  # f_type is a signed word on some ABIs: 0xFF534D42 comes back negative
    name = NETWORK_MAGIC.get(f_type)
    if name is not None:
        return name
    if f_type == FUSE_MAGIC and fuse_subtype is not None:
        sub = fuse_subtype.lower()
        if sub in NETWORK_FUSE:
            return f"fuse.{sub}"
    return None


class _StatFS(ctypes.Structure):
    # Only the first member is read: `f_type` leads `struct statfs` on every Linux ABI; the
    # buffer is sized for the whole structure (120 bytes on 64-bit, less elsewhere).
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 256)]


_libc: ctypes.CDLL | None = None


def statfs_type(path: Path) -> int | None:
    """`statfs(path).f_type`, or None when it cannot be asked (not Linux, an error)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    buf = _StatFS()
    fn = getattr(_libc, "statfs", None)
    if fn is None:
        return None
    if fn(os.fsencode(path), ctypes.byref(buf)) != 0:
        return None
    return int(buf.f_type)


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and len(field[i + 1 : i + 4]) == 3 and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mount_fs_type(path: Path, mountinfo: str | None = None) -> str | None:
    """The file-system type (`fuse.sshfs`, `ext4`, …) of the mount holding `path`, from
    `/proc/self/mountinfo` (the longest mount point containing the resolved path)."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text("utf-8", "surrogateescape")
        except OSError:
            return None
    target = os.path.realpath(path)
    best, best_len = None, -1
    for line in mountinfo.splitlines():
        head, sep, tail = line.partition(" - ")
        fields = head.split()
        if not sep or len(fields) < 5:
            continue
        point = _unescape(fields[4])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best_len:  # later lines mount over earlier ones
            fstype = tail.split()[0] if tail.split() else None
            best, best_len = fstype, len(point)
    return best


def network_fs(folder: Path) -> str | None:
    """The network file system `folder` is on (nfs, cifs, smb2, fuse.sshfs, …), or None."""
    f_type = statfs_type(folder)
    if f_type is None:
        return None
    sub = None
    if f_type & 0xFFFFFFFF == FUSE_MAGIC:
        fstype = mount_fs_type(folder) or ""
        sub = fstype.partition(".")[2] or None
    return network_fs_name(f_type, sub)
