"""`MediaSource`: the one reading interface over a file, a block device or an image's media.

A file or device is read with plain `pread` on the read-only descriptor :func:`open_source`
opened; an image through its `Media` (libyal binding or our E01 reader). Both raise `OSError`
(EIO for an unreadable sector or chunk), so the resilient reader treats every source alike.
"""

from __future__ import annotations

import errno
import io
import mmap
import os
from types import TracebackType

from evidencekit.acquire.source.info import Media, SourceInfo


class MediaSource:
    """A readable media stream. Use as a context manager; see :func:`open_source`."""

    def __init__(
        self,
        info: SourceInfo,
        *,
        fd: int | None = None,
        media: Media | None = None,
    ) -> None:
        self.info = info
        self._fd = fd
        self._media = media
        self._direct_fd: int | None = None
        self._direct_ok = True
        self._pos = 0
        self.closed = False

    # -- facts ------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.info.size

    @property
    def sector_size(self) -> int:
        return self.info.logical_sector_size

    @property
    def stored_digests(self) -> tuple[tuple[str, str, str], ...]:
        """The digests the image stores about its media, each as (algorithm, where, hex):
        an E01's digest and hash sections. Empty for files, devices and other formats."""
        return tuple(getattr(self._media, "stored", ()) or ())

    def stored_tail(self) -> bytes:
        """The bytes an image stores past its media that its stored digests cover (libewf
        keeps the last partial sector of a stream there); usually empty.

        Raises:
            SourceError: the last chunk is corrupt.
        """
        tail = getattr(self._media, "stored_tail", None)
        return bytes(tail()) if tail is not None else b""

    def fileno(self) -> int | None:
        """The read-only descriptor of a file or device source (None for images)."""
        return self._fd

    # -- random access ----------------------------------------------------------------------
    def readinto_at(self, buf: memoryview, offset: int) -> int:
        """One read attempt into `buf` at `offset`; may be short; 0 at the end of the media.

        Raises:
            OSError: the source could not deliver the bytes (EIO for bad sectors/chunks).
        """
        n = min(len(buf), self.info.size - offset)
        if n <= 0:
            return 0
        if self._fd is not None:
            return os.preadv(self._fd, [buf[:n]], offset)
        assert self._media is not None
        data = self._media.read_at(offset, n)
        buf[: len(data)] = data
        return len(data)

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to `length` bytes at `offset` (fewer only at the end of the media).

        Raises:
            OSError: the source could not deliver the bytes.
        """
        length = max(0, min(length, self.info.size - offset))
        buf = bytearray(length)
        view = memoryview(buf)
        done = 0
        while done < length:
            n = self.readinto_at(view[done:], offset + done)
            if n == 0:
                break
            done += n
        return bytes(view[:done])

    def read_direct(self, offset: int, length: int) -> bytes:
        """Read around the page cache (O_DIRECT) where the source allows it.

        Buffered reads of a failing disk fail whole read-ahead windows; sector-sized O_DIRECT
        reads fail exactly the bad sectors. `offset` and `length` should be sector-aligned.
        Falls back to a plain read for images and for files on file systems without O_DIRECT.

        Raises:
            OSError: the sector could not be read.
        """
        length = max(0, min(length, self.info.size - offset))
        if self._fd is None or not self._direct_ok or length == 0:
            return self.read_at(offset, length)
        if self._direct_fd is None:
            try:
                self._direct_fd = os.open(self.info.path, os.O_RDONLY | os.O_DIRECT | os.O_CLOEXEC)
            except OSError:
                self._direct_ok = False
                return self.read_at(offset, length)
        align = max(self.info.logical_sector_size, 512)
        start = offset - offset % align
        end = -(-(offset + length) // align) * align
        buf = mmap.mmap(-1, end - start)  # page-aligned, as O_DIRECT wants
        try:
            try:
                got = os.preadv(self._direct_fd, [buf], start)
            except OSError as exc:
                if exc.errno != errno.EINVAL:
                    raise
                self._direct_ok = False
                return self.read_at(offset, length)
            have = max(0, min(got, offset + length - start) - (offset - start))
            data = bytes(buf[offset - start : offset - start + have])
        finally:
            buf.close()
        if len(data) < length:
            data += self.read_at(offset + len(data), length - len(data))
        return data

    # -- sequential -------------------------------------------------------------------------
    def readinto(self, buf: memoryview) -> int:
        """Fill `buf` from the current position; returns the count (short only at the end)."""
        done = 0
        while done < len(buf):
            n = self.readinto_at(buf[done:], self._pos)
            if n == 0:
                break
            done += n
            self._pos += n
        return done

    def read(self, length: int = -1) -> bytes:
        if length < 0:
            length = self.info.size - self._pos
        data = self.read_at(self._pos, length)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self.info.size
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._pos = offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    # -- life cycle -------------------------------------------------------------------------
    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self._direct_fd, self._fd):
            if fd is not None:
                os.close(fd)
        if self._media is not None:
            self._media.close()

    def __enter__(self) -> MediaSource:
        return self

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
