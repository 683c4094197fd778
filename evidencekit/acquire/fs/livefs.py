"""Live folders and files as a :class:`~evidencekit.acquire.fs.model.FileSystem`.

Everything comes from `lstat`: symbolic links are recorded as links (their target kept) and
not followed unless asked; FIFOs, sockets and devices are recorded but never opened (reading a
FIFO can block forever, reading a device is an acquisition of its own). Extended attributes are
kept. Files are opened with O_NOFOLLOW (a file swapped for a link after the walk is not
followed) and O_NOATIME where allowed, and checked to be the same file the walk saw.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

from evidencekit.acquire.fs.model import FileEntry
from evidencekit.errors import SourceError

_KIND = {
    stat.S_IFREG: "r",
    stat.S_IFDIR: "d",
    stat.S_IFLNK: "l",
    stat.S_IFIFO: "p",
    stat.S_IFCHR: "c",
    stat.S_IFBLK: "b",
    stat.S_IFSOCK: "s",
}


_STATX_BTIME = 0x800
_AT_SYMLINK_NOFOLLOW = 0x100
_AT_FDCWD = -100


def _load_statx() -> Callable[[bytes, bool], int | None]:
    """Birth time through statx(2) (Python 3.11's os.stat has none on Linux); None when the
    C library, the kernel or the file system does not give one."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.statx
    except (OSError, AttributeError):
        return lambda path, follow: None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_void_p]
    buf = ctypes.create_string_buffer(256)
    mask_fmt, btime_fmt = struct.Struct("<I"), struct.Struct("<qI")

    def birth_ns(path: bytes, follow: bool) -> int | None:
        flags = 0 if follow else _AT_SYMLINK_NOFOLLOW
        if func(_AT_FDCWD, path, flags, _STATX_BTIME, buf) != 0:
            return None
        raw = buf.raw
        if not mask_fmt.unpack_from(raw, 0)[0] & _STATX_BTIME:
            return None
        sec, nsec = btime_fmt.unpack_from(raw, 80)  # struct statx: stx_btime at offset 80
        return int(sec) * 1_000_000_000 + int(nsec)

    return birth_ns


_birth_ns = _load_statx()


def _xattrs(path: bytes, follow: bool) -> tuple[tuple[tuple[bytes, bytes], ...], str | None]:
    try:
        names = os.listxattr(path, follow_symlinks=follow)
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.ENOENT):
            return (), None
        return (), f"cannot list extended attributes: {exc.strerror}"
    found: list[tuple[bytes, bytes]] = []
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=follow)
        except OSError as exc:
            return tuple(found), f"cannot read extended attribute {name!r}: {exc.strerror}"
        found.append((os.fsencode(name), value))
    return tuple(found), None


class _LiveReader:
    def __init__(self, fd: int, size: int, st: os.stat_result, where: bytes) -> None:
        self._fh = open(fd, "rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._st = st
        self._where = where

    def readinto(self, buf: memoryview) -> int:
        return self._fh.readinto(buf) or 0

    def changed(self) -> str | None:
        """Why the file is not what was walked any more (it grew, or was modified), or None."""
        try:
            if self._fh.read(1):
                return "file grew while it was being collected; only the walked size is stored"
            now = os.fstat(self._fh.fileno())
        except OSError:
            return None
        if now.st_mtime_ns != self._st.st_mtime_ns or now.st_size != self._st.st_size:
            return "file changed while it was being collected"
        return None

    def close(self) -> None:
        self._fh.close()


class LiveFileSystem:
    """A live folder or file. Entry paths are relative to it (the folder itself is `b""`)."""

    def __init__(self, path: Path, *, follow_symlinks: bool = False) -> None:
        self.root = os.fsencode(path)
        self.follow = follow_symlinks
        try:
            st = os.stat(self.root) if follow_symlinks else os.lstat(self.root)
        except OSError as exc:
            raise SourceError(f"cannot open source {str(path)!r}: {exc.strerror}") from exc
        self._root_is_dir = stat.S_ISDIR(st.st_mode)
        self.description = "live folder" if self._root_is_dir else "live file"

    def _abs(self, rel: bytes) -> bytes:
        return os.path.join(self.root, rel) if rel else self.root

    def _entry(self, rel: bytes, st: os.stat_result | None, error: str | None) -> FileEntry:
        where = self._abs(rel)
        if st is None:
            return FileEntry(path=rel, kind="-", error=error)
        kind = _KIND.get(stat.S_IFMT(st.st_mode), "-")
        link = None
        if kind == "l":
            try:
                link = os.readlink(where)
            except OSError as exc:
                error = error or f"cannot read link target: {exc.strerror}"
        xattrs, xerr = _xattrs(where, self.follow) if kind != "l" else ((), None)
        device = None
        if kind in ("c", "b"):
            device = (os.major(st.st_rdev), os.minor(st.st_rdev))
        return FileEntry(
            path=rel,
            kind=kind,
            size=st.st_size if kind == "r" else 0,
            inode=st.st_ino,
            mode=stat.S_IMODE(st.st_mode),
            uid=st.st_uid,
            gid=st.st_gid,
            nlink=st.st_nlink,
            mtime_ns=st.st_mtime_ns,
            atime_ns=st.st_atime_ns,
            ctime_ns=st.st_ctime_ns,
            crtime_ns=_birth_ns(where, self.follow),
            link_target=link,
            device=device,
            xattrs=xattrs,
            error=error or xerr,
            ref=(where, st.st_dev, st.st_ino),
        )

    def _stat(self, where: bytes) -> os.stat_result:
        if self.follow:
            try:
                return os.stat(where)
            except FileNotFoundError:  # a dangling link: record the link itself
                return os.lstat(where)
        return os.lstat(where)

    def walk(
        self, start: bytes = b"/", *, include_deleted: bool = False, recursive: bool = True
    ) -> Iterator[FileEntry]:
        rel = b"/".join(p for p in start.split(b"/") if p)
        where = self._abs(rel)
        try:
            st = self._stat(where)
        except OSError as exc:
            raise SourceError(f"cannot read {os.fsdecode(where)!r}: {exc.strerror}") from exc
        yield self._entry(rel, st, None)
        if stat.S_ISDIR(st.st_mode):
            yield from self._walk_dir(rel, {(st.st_dev, st.st_ino)}, recursive)

    def _walk_dir(
        self, rel: bytes, ancestors: set[tuple[int, int]], recursive: bool
    ) -> Iterator[FileEntry]:
        where = self._abs(rel)
        try:
            with os.scandir(where) as it:
                names = sorted(e.name for e in it)
        except OSError as exc:
            yield FileEntry(path=rel, kind="d", error=f"cannot list folder: {exc.strerror or exc}")
            return
        subdirs: list[tuple[bytes, tuple[int, int]]] = []
        for name in names:
            child = rel + b"/" + name if rel else name
            try:
                st = self._stat(self._abs(child))
            except OSError as exc:
                yield self._entry(child, None, f"cannot stat: {exc.strerror}")
                continue
            key = (st.st_dev, st.st_ino)
            if stat.S_ISDIR(st.st_mode) and key in ancestors:
                yield FileEntry(
                    path=child,
                    kind="l",
                    inode=st.st_ino,
                    note="symbolic link loop: not followed again",
                    link_target=os.readlink(self._abs(child))
                    if os.path.islink(self._abs(child))
                    else None,
                )
                continue
            yield self._entry(child, st, None)
            if stat.S_ISDIR(st.st_mode):
                subdirs.append((child, key))
        if not recursive:
            return
        for child, key in subdirs:
            yield from self._walk_dir(child, ancestors | {key}, recursive)

    def open(self, entry: FileEntry) -> _LiveReader:
        if not isinstance(entry.ref, tuple):
            raise OSError(errno.ENOENT, "entry has no path")
        where, dev, ino = entry.ref
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOATIME", 0)
        if not self.follow:
            flags |= os.O_NOFOLLOW
        try:
            fd = os.open(where, flags)
        except PermissionError:
            fd = os.open(where, flags & ~getattr(os, "O_NOATIME", 0))
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != (dev, ino) or not stat.S_ISREG(st.st_mode):
                raise OSError(errno.ESTALE, "file was replaced after it was listed")
            os.set_blocking(fd, True)
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            except OSError:
                pass
        except BaseException:
            os.close(fd)
            raise
        return _LiveReader(fd, entry.size, st, where)

    def close(self) -> None:
        pass
