"""Opening a disk image for listing and collecting: :func:`open_image` picks the back-end
(Sleuth Kit, which hands over to dfvfs where it cannot go), and :func:`recognised_image` is the
one rule for whether a file is a disk image at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from evidencekit.acquire.fs.model import AmbiguousFileSystemError, Credentials, DiskImage
from evidencekit.errors import SourceError


def open_image(
    path: Path,
    *,
    credentials: Credentials | None = None,
    local_zone: dt.tzinfo | None = None,
    fs_type: str | None = None,
) -> DiskImage:
    """Open a disk image (raw, split raw, E01, qcow2, VMDK, VHD) for listing and collecting.

    Args:
        path: the image (first segment for split images).
        credentials: password or recovery key for encrypted volumes.
        local_zone: how to read file systems that store local times (FAT, exFAT).
        fs_type: the file system to read (a key of `FS_TYPES`) where a volume holds the
            signatures of several; None detects, and refuses such a volume as ambiguous.

    Raises:
        SourceError: the image cannot be opened or holds nothing we recognise; the message
            says what was tried.
    """
    from evidencekit.acquire.fs import _tsk

    return _tsk.open_disk(path, credentials or Credentials(), local_zone, fs_type)


def recognised_image(path: Path, *, fs_type: str | None = None) -> bool:
    """Whether the file (or block device) `path` is a disk image by its content — the one rule
    `ls` and `acquire files` share, whatever its name: a container we open (E01, qcow2, VMDK,
    VHD, split raw), or raw media holding a partition table, an encrypted or LVM volume, or a
    file system Sleuth Kit or dfvfs recognises (a damaged one too: its problem is then
    reported by the command). A compressed file or an archive, and anything else, is not:
    `acquire files` collects it as a file.

    Raises:
        SourceError: `path` cannot be opened at all, or is a disk image we cannot open (a
            UDIF DMG, AFF, VDI …: refused by name, as `ls` and `acquire disk` do).
    """
    import os as _os

    from evidencekit.acquire.source.image import detect_format
    from evidencekit.acquire.source.unsupported import identify

    try:
        fd = _os.open(path, _os.O_RDONLY | _os.O_CLOEXEC)
    except OSError as exc:
        raise SourceError(f"cannot open source {str(path)!r}: {exc.strerror}") from exc
    try:
        size = _os.lseek(fd, 0, _os.SEEK_END)
        if size == 0:
            return False
        try:
            fmt, _head = detect_format(path, fd, size)
        except SourceError:
            found = identify(_os.pread(fd, 512, 0), _os.pread(fd, 512, max(0, size - 512)))
            if found is not None and "image" in found[0]:
                raise  # a disk image we cannot open (DMG, AFF, VDI …): refused, by name
            return False  # a compressed file or an archive: collected as a file
    finally:
        _os.close(fd)
    if fmt is not None:
        return True  # damaged or not, it is an image: its errors are reported as such
    try:
        with open_image(path, fs_type=fs_type) as disk:
            if disk.partitions:
                return True
            disk.filesystems(None)
            return True
    except AmbiguousFileSystemError:
        return True
    except SourceError as exc:
        # nothing recognised: a plain file. Anything else (a damaged LVM label, a volume that
        # will not unlock …) is an image with a problem, which the command then reports
        return not exc.message.startswith("no file system recognised")
