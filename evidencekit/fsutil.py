"""Durable file writes: the one place that knows temp-file + fsync + rename + folder fsync.

After a crash a file written here holds either its old content or its new content, never a mix,
and a rename that has returned survives a power cut (the folder entry is fsync'ed too).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
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
