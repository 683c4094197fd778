"""Durable file writes (the one place that knows temp-file + fsync + rename + folder fsync), and
the file checks that keep evidencekit from following what a document or a planted link names.

After a crash a file written here holds either its old content or its new content, never a mix,
and a rename that has returned survives a power cut (the folder entry is fsync'ed too).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from evidencekit.errors import IntegrityError


class UnsafeFileError(IntegrityError):
    """A path that must be a regular file or a real folder is a link, a device, a FIFO … (a
    planted file or a hostile name: never followed, opened or written through)."""


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


# ---------------------------------------------------------------------------------------------
# reading what an untrusted document names, and writing into a case without leaving it

_NOATIME = getattr(os, "O_NOATIME", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(folder: Path, parts: Sequence[str]) -> int:
    """Open `folder/parts[0]/…/parts[-1]` read-only, refusing anything but a regular file.

    A seal, a report or any document that names files is untrusted until it verifies, and even
    a trusted one may sit in a folder someone else can write: no component below `folder` may be
    a symbolic link (each is opened with O_NOFOLLOW relative to its parent's descriptor, so a
    link swapped in between a check and the open is refused too), and the file itself must be
    regular. It is checked with `lstat` *before* it is opened (opening a device can act on it,
    opening a FIFO waits for a writer) and again with `fstat` after (O_NONBLOCK keeps a FIFO
    swapped in meanwhile from blocking the open). `folder` itself is opened as given.

    Returns:
        The descriptor (the caller closes it); opened with O_NOATIME where allowed.

    Raises:
        UnsafeFileError: a component is a link or not a folder, or the file is not regular.
        OSError: missing (FileNotFoundError), unreadable, or a name holding a NUL.
    """
    if not parts or any(not p or "\x00" in p or "/" in p for p in parts):
        raise UnsafeFileError(f"unsafe file name {'/'.join(parts)!r}")
    dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts[:-1]):
            try:
                nfd = os.open(part, _DIR_FLAGS, dir_fd=dfd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                where = "/".join(parts[: i + 1])
                raise UnsafeFileError(f"{where!r} is a symbolic link or not a folder") from exc
            os.close(dfd)
            dfd = nfd
        name = parts[-1]
        st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{'/'.join(parts)!r} is {_kind(st.st_mode)}, not a regular file")
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
        try:
            fd = os.open(name, flags | _NOATIME, dir_fd=dfd)
        except PermissionError:
            if not _NOATIME:
                raise
            fd = os.open(name, flags, dir_fd=dfd)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise UnsafeFileError(f"{'/'.join(parts)!r} is a symbolic link") from exc
    finally:
        os.close(dfd)
    after = os.fstat(fd)
    if not stat.S_ISREG(after.st_mode) or (after.st_dev, after.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise UnsafeFileError(f"{'/'.join(parts)!r} was replaced while it was being opened")
    return fd


def read_regular(path: Path, *, limit: int) -> bytes:
    """The bytes of the regular file `path` (not a link, device or FIFO), at most `limit`.

    Raises:
        UnsafeFileError: `path` is not a regular file, or holds more than `limit` bytes.
        OSError: it cannot be read.
    """
    fd = open_regular(path.parent, [path.name])
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnsafeFileError(f"{path.name!r} holds more than {limit} bytes")
    return data


def make_dirs_inside(root: Path, parts: Sequence[str]) -> bool:
    """Create `root/parts[0]/…` (each missing folder), refusing to pass through a symbolic link.

    Every writer into a case (seal, acquire, collect, convert) makes its item folder here: a
    link planted at `evidence/` or `evidence/ITEM` would otherwise make it write outside the
    case. `root` itself (the case folder) is used as given.

    Returns:
        True when the last folder was created (False: it existed).

    Raises:
        UnsafeFileError: a component exists and is a link or not a folder.
        OSError: a folder cannot be created.
    """
    created = False
    path = root
    for part in parts:
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            os.mkdir(path)
            created = True
            continue
        created = False
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafeFileError(
                f"{str(path)!r} is {_kind(st.st_mode)}: evidencekit writes only into real "
                "folders of the case"
            )
    return created


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command line as text every record can hold (attempt records, logs, DFXML, seal facts):
    the arguments joined by spaces, each byte of a non-UTF-8 argument (a file name in Latin-1,
    say, which Python carries as a surrogate escape) shown as `\\xNN`. Never raises: writing a
    record must not fail on the name of what it records."""
    import sys

    args = list(sys.argv if argv is None else argv)
    return " ".join(names_shown(a) for a in args)


def names_shown(value: Any) -> Any:
    """`value` (JSON values) with every string that holds a name which is not UTF-8 (surrogate
    escapes: a source path in Latin-1, say) shown with `\\xNN` for each such byte, as `ls -b`
    shows it, so it can be signed as canonical JSON. For records people read (seal facts, event
    details); names that must round-trip exactly are a seal's artifacts (`name_bytes`)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if isinstance(value, dict):
        return {names_shown(k): names_shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [names_shown(v) for v in value]
    return value
