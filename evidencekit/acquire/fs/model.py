"""Files inside disk images: the typed model (partitions, file entries) and the one entry point,
:func:`~evidencekit.acquire.fs.open.open_image` (in `open.py`), that picks the back-end.

Sleuth Kit (through `_tsk.py`) reads the volume system and the file systems it knows (ext2/3/4,
NTFS, FAT12/16/32, exFAT, HFS+, ISO 9660) and can still list deleted entries; dfvfs (through
`_dfvfs.py`) takes over where Sleuth Kit's Python binding cannot go: APFS containers and
encrypted volumes (BitLocker, FileVault), which it can also unlock. LUKS1/LUKS2 volumes
(`luks.py`) and LVM2 logical volumes (`lvm.py`) are read by evidencekit itself and handed to
Sleuth Kit as media of their own. Neither binding's objects leave the adapters: callers get
:class:`Partition`, :class:`FileEntry` and readers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from evidencekit.acquire.fs.names import name_fields, ns_to_text
from evidencekit.errors import SourceError, UsageError

if TYPE_CHECKING:
    from evidencekit.acquire.ewf.stored_digests import StoredDigestCheck

log = logging.getLogger(__name__)

# DFXML name_type letters (Sleuth Kit's): r regular, d directory, l symlink, p FIFO, c char
# device, b block device, s socket, - unknown, v/V Sleuth Kit's virtual files/directories.
KIND_FILE = "r"
KIND_DIR = "d"
KIND_LINK = "l"
KINDS = frozenset("rdlpcbs-vVhw")

# --fs-type values: Sleuth Kit's detection flag for each (when a volume holds several signatures)
FS_TYPES = {
    "ntfs": "TSK_FS_TYPE_NTFS_DETECT",
    "fat": "TSK_FS_TYPE_FAT_DETECT",
    "exfat": "TSK_FS_TYPE_EXFAT",
    "ext": "TSK_FS_TYPE_EXT_DETECT",
    "ufs": "TSK_FS_TYPE_FFS_DETECT",
    "hfs": "TSK_FS_TYPE_HFS_DETECT",
    "iso9660": "TSK_FS_TYPE_ISO9660_DETECT",
}


class AmbiguousFileSystemError(SourceError):
    """A volume holds the signatures of more than one file system (NTFS and ext2, say): which
    one to read is the examiner's choice (`--fs-type`), never a back-end's silent guess."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One row of the volume system (like `mmls`); `number` is what `--partition` takes."""

    number: int | None  # None: an unallocated or metadata slot that holds no file system
    slot: int
    start: int  # bytes from the start of the media
    length: int  # bytes
    description: str
    filesystem: str | None = None  # detected file system, e.g. "ext4", "NTFS", "APFS"
    encryption: str | None = None  # "BitLocker", "LUKS2", "LUKS1 unlocked", "FileVault" …

    def to_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "slot": self.slot,
            "start": self.start,
            "length": self.length,
            "description": self.description,
            "filesystem": self.filesystem,
            "encryption": self.encryption,
        }


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file, directory, link, special file or data stream, from an image or a live folder.

    `path` is the name as stored (bytes, `/`-separated, relative to the root of the file system
    or of the collected folder); never normalised. Times are nanoseconds since the Unix epoch,
    UTC, or None when the file system does not keep that time.
    """

    path: bytes
    kind: str
    size: int = 0
    inode: int | None = None
    mode: int | None = None  # permission bits (0o7777 part) as the file system gives them
    uid: int | None = None
    gid: int | None = None
    nlink: int | None = None
    mtime_ns: int | None = None
    atime_ns: int | None = None
    ctime_ns: int | None = None
    crtime_ns: int | None = None
    dtime_ns: int | None = None
    allocated: bool = True
    link_target: bytes | None = None
    device: tuple[int, int] | None = None  # (major, minor) of a character or block device
    xattrs: tuple[tuple[bytes, bytes], ...] = ()
    stream: bytes | None = None  # NTFS alternate data stream / HFS+ resource fork name
    note: str | None = None  # a fact worth recording that is not an error
    error: str | None = None  # why metadata could not be read (the entry is still listed)
    ref: Hashable = field(default=None, compare=False, repr=False)  # back-end token for open()

    @property
    def deleted(self) -> bool:
        return not self.allocated

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = dict(name_fields("path", self.path))
        doc.update(
            {
                "kind": self.kind,
                "size": self.size,
                "inode": self.inode,
                "mode": self.mode,
                "uid": self.uid,
                "gid": self.gid,
                "mtime": ns_to_text(self.mtime_ns),
                "atime": ns_to_text(self.atime_ns),
                "ctime": ns_to_text(self.ctime_ns),
                "crtime": ns_to_text(self.crtime_ns),
                "deleted": self.deleted,
            }
        )
        if self.stream is not None:
            doc.update(name_fields("stream", self.stream))
        if self.link_target is not None:
            doc.update(name_fields("link_target", self.link_target))
        if self.note:
            doc["note"] = self.note
        if self.error:
            doc["error"] = self.error
        return doc


class Reader(Protocol):
    """An open file's contents: fill `buf` from the current position, 0 at the end."""

    def readinto(self, buf: memoryview) -> int: ...

    def close(self) -> None: ...


class FileSystem(Protocol):
    """A file system inside an image (or a live folder) that can be walked and read."""

    description: str  # e.g. "ext2 (Sleuth Kit)"

    def walk(
        self, start: bytes = b"/", *, include_deleted: bool = False, recursive: bool = True
    ) -> Iterator[FileEntry]:
        """Every entry under `start` (itself first unless it is the root), parents first;
        with `recursive=False` only `start` and its direct children.

        Raises:
            SourceError: `start` does not exist.
        """
        ...

    def open(self, entry: FileEntry) -> Reader:
        """The contents of `entry` (its stream when `entry.stream` is set).

        Raises:
            OSError: the data cannot be read (the caller records it and goes on).
        """
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for encrypted volumes, taken from the environment by the CLI."""

    password: str | None = None
    recovery_key: str | None = None
    # a BitLocker startup key (.BEK), or a LUKS key file (its bytes are the passphrase)
    key_file: Path | None = None


class DiskImage:
    """An image opened for logical access: its partitions and their file systems."""

    def __init__(
        self,
        path: Path,
        partitions: list[Partition],
        opener: Callable[[Partition | None], FileSystem],
        description: str,
        closer: Callable[[], None],
        source: Any = None,
    ) -> None:
        self.path = path
        self.source = source  # the media stream (`source.MediaSource`) the partitions are in
        self.partitions = partitions
        self.description = description
        self._opener = opener
        self._closer = closer
        # why each partition `filesystems(None)` passed over was not read (locked, no file
        # system …): the collection records them, so nothing is left out unsaid
        self.skipped: list[str] = []

    def numbered(self) -> list[Partition]:
        return [p for p in self.partitions if p.number is not None]

    def filesystems(self, number: int | None) -> list[tuple[Partition | None, FileSystem]]:
        """The file systems to collect from: partition `number`, or every one that has one.

        Raises:
            UsageError: no such partition.
            SourceError: the partition (or the whole image) holds no file system we can read.
        """
        numbered = self.numbered()
        if not numbered:
            if number not in (None, 0, 1):
                raise UsageError(
                    f"{self.path.name!r} has no partition table, so no partition {number}",
                    hint="leave out --partition",
                )
            return [(None, self._opener(None))]
        if number is not None:
            for part in numbered:
                if part.number == number:
                    return [(part, self._opener(part))]
            raise UsageError(
                f"no partition {number} in {self.path.name!r}",
                hint=f"choose one of {', '.join(str(p.number) for p in numbered)} "
                "(see `evidencekit ls IMAGE`)",
            )
        found: list[tuple[Partition | None, FileSystem]] = []
        errors: list[str] = []
        for part in numbered:
            try:
                found.append((part, self._opener(part)))
            except SourceError as exc:
                errors.append(f"partition {part.number}: {exc.message}")
                self.skipped.append(exc.message)
        if not found:
            raise SourceError(
                f"no readable file system in any partition of {self.path.name!r}: "
                + "; ".join(errors)
            )
        return found

    def check_stored_digests(
        self, on_progress: Callable[[int], None] | None = None
    ) -> StoredDigestCheck | None:
        """Read the whole media and compare it with the digests the image stores about it (an
        E01's MD5/SHA-1); None when it stores none. Never raises for unreadable data: the
        check then says why it was not made."""
        from evidencekit.acquire.ewf.stored_digests import check_source

        if self.source is None:
            return None
        return check_source(self.source, on_progress)

    def close(self) -> None:
        self._closer()

    def __enter__(self) -> DiskImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
