"""Durable file writes: the one place that knows temp-file + fsync + rename + folder fsync.

After a crash a file written here holds either its old content or its new content, never a mix,
and a rename that has returned survives a power cut (the folder entry is fsync'ed too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """fsync a folder so the names created or renamed in it are durable."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | Iterable[bytes], *, mode: int | None = None) -> None:
    """Write `data` (bytes, or an iterable of byte chunks) to `path` atomically and durably.

    Args:
        path: the destination; its folder must exist.
        data: the content.
        mode: permission bits for the new file (e.g. 0o444 for files never edited in place);
            default: the usual 0o666 less the umask.

    Raises:
        OSError: the write, fsync or rename failed; `path` is then unchanged.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


_sync_file_range: Callable[[int, int, int], None] | None = None


def _load_sync_file_range() -> Callable[[int, int, int], None]:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.sync_file_range
        func.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    except (OSError, AttributeError):  # not glibc: writeback just starts later, at fsync
        return lambda fd, offset, length: None

    def call(fd: int, offset: int, length: int) -> None:
        func(fd, offset, length, 2)  # SYNC_FILE_RANGE_WRITE: start writeback, do not wait

    return call


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing [offset, offset+length) of `fd` now, without waiting, so
    the final fsync of a large artifact overlaps the work that produced it instead of following
    it. libc is looked up on first use (find_library runs ldconfig: not on every CLI start)."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = _load_sync_file_range()
    _sync_file_range(fd, offset, length)
