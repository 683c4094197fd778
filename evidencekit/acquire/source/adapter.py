"""The shared source adapter: any regular file, block device or disk image as a media stream.

Disk acquisition, conversion and logical collection all read their media through
:func:`open_source`, so "what is the media of this thing, how big is it, what are its sectors,
what is it" is answered once:

* a regular file or block device is read with plain `pread` on a read-only descriptor (never
  opened for writing, so the source cannot be modified through us);
* a container (E01 incl. split, split raw, QCOW2, VMDK, VHD/VHDX) is decoded by its libyal
  binding in `_libyal.py` (E01 by our own checking reader, `ewf.py`), and its media — the
  bytes of the emulated disk — is what is read.

Reads raise `OSError` (EIO for an unreadable image chunk too) so the resilient reader can treat
every source alike. This module opens and describes; the description is `info.py`, the
reading `media.py`, recognising and opening containers `image.py`.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

from evidencekit.acquire.source import device
from evidencekit.acquire.source.image import detect_format, open_media
from evidencekit.acquire.source.info import FORMATS, Kind, SourceInfo
from evidencekit.acquire.source.media import MediaSource
from evidencekit.errors import SourceError
from evidencekit.timeutil import isoformat

__all__ = ["FORMATS", "Kind", "MediaSource", "SourceInfo", "open_source"]


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
    if as_format not in (None, "raw"):
        raise SourceError(f"unknown source format {as_format!r}", hint="use 'raw' or leave it out")
    fmt, head = detect_format(path, fd, st.st_size) if as_format is None else (None, b"")
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
    media = open_media(path, fmt, head)
    os.close(fd)  # the image's reader holds its own read-only handles
    identity.update(media.facts)
    info = SourceInfo(
        path=name,
        kind="image",
        format=fmt,
        size=media.size,
        logical_sector_size=media.sector_size,
        physical_sector_size=media.sector_size,
        segments=tuple(str(p) for p in media.segments),
        identity=identity,
    )
    return MediaSource(info, media=media)


def _utc(ts: float) -> str:
    return isoformat(dt.datetime.fromtimestamp(ts, dt.UTC))
