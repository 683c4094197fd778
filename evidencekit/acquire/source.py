"""The shared source adapter: any regular file, block device or disk image as a media stream.

Disk acquisition, conversion and logical collection all read their media through
:func:`open_source`, so "what is the media of this thing, how big is it, what are its sectors,
what is it" is answered once:

* a regular file or block device is read with plain `pread` on a read-only descriptor (never
  opened for writing, so the source cannot be modified through us);
* a container (E01 incl. split, split raw, QCOW2, VMDK, VHD/VHDX) is decoded by its libyal
  binding in `_libyal.py`, and its media — the bytes of the emulated disk — is what is read.

Reads raise `OSError` (EIO for an unreadable image chunk too) so the resilient reader can treat
every source alike.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import mmap
import os
import re
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from evidencekit.acquire import _libyal, device
from evidencekit.errors import SourceError

Kind = Literal["file", "block-device", "image"]
FORMATS = ("raw", "split-raw", "ewf", "qcow2", "vmdk", "vhd")
_SPLIT_NAME = re.compile(r"\.(\d{2,4}|[a-z]{2}|[A-Z]{2})$")


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is.

    `size` is the media size (for images: of the emulated disk, not of the container files).
    `read_only_flag` is the kernel's BLKROGET flag for block devices (None for others).
    `identity` holds the facts that identify it (sysfs/udev for devices, stored header values
    for E01, inode and times for files); `segments` the container files read.
    """

    path: str
    kind: Kind
    format: str
    size: int
    logical_sector_size: int = 512
    physical_sector_size: int = 512
    segments: tuple[str, ...] = ()
    read_only_flag: bool | None = None
    identity: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "size": self.size,
            "logical_sector_size": self.logical_sector_size,
            "physical_sector_size": self.physical_sector_size,
            "segments": list(self.segments),
            "read_only_flag": self.read_only_flag,
            "identity": dict(self.identity),
        }


class MediaSource:
    """A readable media stream. Use as a context manager; see :func:`open_source`."""

    def __init__(
        self,
        info: SourceInfo,
        *,
        fd: int | None = None,
        media: _libyal.LibyalMedia | _EwfMedia | None = None,
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


class _EwfMedia:
    """An E01 (EWF v1) set through our own chunk reader (`ewf_reader.EwfImage`), which checks
    every chunk: pyewf silently returns the bytes of a corrupted or missing chunk, so an image
    made from a damaged E01 would look complete. Here a bad chunk reads as EIO, and the resilient
    reader zero-fills and reports exactly that chunk's sectors."""

    _CACHE = 8  # decoded chunks kept (Sleuth Kit reads small blocks, a chunk is 32 KiB)

    def __init__(self, path: Path) -> None:
        from evidencekit.acquire.ewf_reader import EwfImage

        self._image = EwfImage(path)  # EwfFormatError (a SourceError) when corrupt/truncated
        info = self._image.info
        self.size = info.media_size
        self.sector_size = info.bytes_per_sector or 512
        self.chunk_size = info.chunk_size
        self.segments = tuple(self._image.paths)
        self.facts: dict[str, str] = {}
        names = {"c": "case_number", "n": "evidence_number", "a": "description", "e": "examiner"}
        for key, name in names.items():
            value = info.header.get(key)
            if value:
                self.facts[f"ewf_{name}"] = value
        if info.md5:
            self.facts["ewf_stored_md5"] = info.md5
        if info.sha1:
            self.facts["ewf_stored_sha1"] = info.sha1
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, bytes] = OrderedDict()

    def _chunk(self, index: int) -> bytes:
        data = self._cache.get(index)
        if data is not None:
            self._cache.move_to_end(index)
            return data
        start = index * self.chunk_size
        want = min(self.chunk_size, self.size - start)
        buf = bytearray(want)
        from evidencekit.acquire.ewf_reader import EwfFormatError

        try:
            self._image.seek(start)
            got = self._image.readinto(memoryview(buf))
        except EwfFormatError as exc:
            raise OSError(errno.EIO, exc.message) from exc
        if got != want:
            raise OSError(errno.EIO, f"E01 chunk {index} is short ({got} of {want} bytes)")
        data = bytes(buf)
        self._cache[index] = data
        while len(self._cache) > self._CACHE:
            self._cache.popitem(last=False)
        return data

    def read_at(self, offset: int, length: int) -> bytes:
        end = min(self.size, offset + length)
        out = bytearray()
        with self._lock:
            pos = offset
            while pos < end:
                index = pos // self.chunk_size
                data = self._chunk(index)
                skip = pos - index * self.chunk_size
                piece = data[skip : skip + end - pos]
                out += piece
                pos += len(piece)
        return bytes(out)

    def close(self) -> None:
        self._image.close()


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat().replace("+00:00", "Z")


def open_source(path: Path | str, *, as_format: str | None = None) -> MediaSource:
    """Open a file, block device or disk image read-only as its media stream.

    Args:
        path: the source.
        as_format: None to detect; "raw" to read the file's own bytes even if it is a
            container (e.g. to image an E01 file as such).

    Raises:
        SourceError: missing, not a file or block device, or a corrupt/unsupported image.
    """
    path = Path(os.path.abspath(path))
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOATIME", 0))
    except PermissionError:
        try:  # O_NOATIME needs ownership; keep the read-only open without it
            fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise SourceError(f"cannot open source {name!r}: {exc.strerror}") from exc
    except FileNotFoundError as exc:
        raise SourceError(
            f"source {name!r} does not exist", hint="check the device or file name (lsblk)"
        ) from exc
    except OSError as exc:
        raise SourceError(f"cannot open source {name!r}: {exc.strerror}") from exc
    try:
        return _open_fd(path, fd, as_format)
    except BaseException:
        os.close(fd)
        raise


def _open_fd(path: Path, fd: int, as_format: str | None) -> MediaSource:
    name = str(path)
    st = os.fstat(fd)
    if stat.S_ISBLK(st.st_mode):
        size = device.device_size(fd)
        logical, physical = device.sector_sizes(fd)
        info = SourceInfo(
            path=name,
            kind="block-device",
            format="raw",
            size=size,
            logical_sector_size=logical,
            physical_sector_size=physical,
            segments=(name,),
            read_only_flag=device.get_readonly(fd),
            identity=device.sysfs_identity(name, st.st_rdev),
        )
        return MediaSource(info, fd=fd)
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(
            f"source {name!r} is neither a regular file nor a block device",
            hint="give a disk (/dev/sdX, /dev/nvme0n1) or an image file",
        )
    identity = {
        "inode": str(st.st_ino),
        "file_size": str(st.st_size),
        "mtime": _utc(st.st_mtime),
        "ctime": _utc(st.st_ctime),
    }
    fmt = None
    if as_format not in (None, "raw"):
        raise SourceError(f"unknown source format {as_format!r}", hint="use 'raw' or leave it out")
    if as_format is None and st.st_size:
        head = os.pread(fd, 512, 0)
        tail = os.pread(fd, 512, max(0, st.st_size - 512))
        fmt = _libyal.detect(path, head, tail)
        if fmt is None and _SPLIT_NAME.search(path.name):
            segments = _libyal.split_raw_segments(path)
            if len(segments) > 1:
                fmt = "split-raw"
    if fmt is None:
        info = SourceInfo(
            path=name,
            kind="file",
            format="raw",
            size=st.st_size,
            segments=(name,),
            identity=identity,
        )
        return MediaSource(info, fd=fd)
    if fmt == "ewf" and head.startswith(_libyal.EWF_SIGNATURES[0]):
        ewf = _EwfMedia(path)
        os.close(fd)
        identity.update(ewf.facts)
        info = SourceInfo(
            path=name,
            kind="image",
            format="ewf",
            size=ewf.size,
            logical_sector_size=ewf.sector_size,
            physical_sector_size=ewf.sector_size,
            segments=tuple(str(p) for p in ewf.segments),
            identity=identity,
        )
        return MediaSource(info, media=ewf)
    segs = {
        "ewf": _libyal.ewf_segments,
        "split-raw": _libyal.split_raw_segments,
    }.get(fmt, lambda p: [p])(path)
    media = _libyal.LibyalMedia(fmt, path, segs)
    os.close(fd)  # the binding holds its own read-only handles
    identity.update(media.facts)
    info = SourceInfo(
        path=name,
        kind="image",
        format=fmt,
        size=media.size,
        logical_sector_size=media.sector_size,
        physical_sector_size=media.sector_size,
        segments=tuple(str(p) for p in segs),
        identity=identity,
    )
    return MediaSource(info, media=media)
