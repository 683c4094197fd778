"""Sleuth Kit adapter: the only module that imports pytsk3.

The media stream comes from the shared source adapter (`source.open_source`), so every image
format it reads (raw, split raw, E01, qcow2, VMDK, VHD) reaches Sleuth Kit through one
`Img_Info` subclass. pytsk3 objects never leave this module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytsk3

from evidencekit.acquire.fs import exfat_times, luks, lvm, lvm_listing
from evidencekit.acquire.fs.exfat_times import ExfatGeometry
from evidencekit.acquire.fs.media_damage import Damage, describe, read_tolerant
from evidencekit.acquire.fs.model import (
    FS_TYPES,
    AmbiguousFileSystemError,
    Credentials,
    DiskImage,
    FileEntry,
    FileSystem,
    Partition,
)
from evidencekit.acquire.fs.stream_entries import stream_entry
from evidencekit.acquire.fs.tsk_reader import TskReader
from evidencekit.acquire.fs.tsk_times import epoch_ns, local_ns, utc_process_zone
from evidencekit.errors import SourceError, UsageError

log = logging.getLogger(__name__)

_FS_NAMES = {
    0x01: "NTFS",
    0x02: "FAT12",
    0x04: "FAT16",
    0x08: "FAT32",
    0x0A: "exFAT",
    0x10: "UFS1",
    0x20: "UFS1b",
    0x40: "UFS2",
    0x80: "ext2",
    0x100: "ext3",
    0x800: "ISO 9660",
    0x1000: "HFS+",
    0x2000: "ext4",
    0x4000: "YAFFS2",
}
_EXFAT = 0x0A
_LOCAL_TIME_FS = {0x02, 0x04, 0x08, _EXFAT}  # FAT and exFAT keep local wall-clock times
_KIND = {0: "-", 1: "r", 2: "d", 3: "p", 4: "c", 5: "b", 6: "l", 7: "h", 8: "s", 9: "w"}
_NAME_KIND = {0: "-", 1: "p", 2: "c", 3: "d", 4: "b", 5: "r", 6: "l", 7: "s", 8: "h", 9: "w"}
_VIRT, _VIRT_DIR = 10, 11
_NAME_UNALLOC = 0x02
_META_ALLOC = 0x01
_ATTR_NTFS_DATA = 128
_ATTR_HFS_RSRC = 4353
_FS_HEAD = 1 << 20  # where a file system's boot sector and first metadata lie
_TRIED = (
    "Sleuth Kit (ext2/3/4, NTFS, FAT12/16/32, exFAT, HFS+, ISO 9660), LUKS and LVM (ours) "
    "and dfvfs (APFS, BitLocker, FileVault)"
)


class _MediaImg(pytsk3.Img_Info):  # type: ignore[misc]
    """Sleuth Kit reads the shared media stream through this. A read never raises (pytsk3 would
    turn it into a RuntimeError that ends everything): unreadable pieces are zeros, recorded in
    `damage` for the callers to turn into errors (see `media_damage`)."""

    def __init__(self, media: Any, damage: Damage | None = None) -> None:
        self._media = media
        self.damage = damage if damage is not None else Damage()
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def close(self) -> None:
        pass

    def read(self, offset: int, size: int) -> bytes:
        return read_tolerant(self._media.read_at, offset, size, self.damage)

    def get_size(self) -> int:
        return int(self._media.size)


def open_media(path: Path) -> Any:
    """The image's media stream, through the shared source adapter (`source.open_source`).

    Raises:
        SourceError: the image cannot be opened.
    """
    from evidencekit.acquire.source.adapter import open_source

    return open_source(path)


class TskFileSystem:
    """One file system opened by Sleuth Kit at a byte offset of the media."""

    def __init__(
        self,
        img: Any,
        offset: int,
        label: str,
        local_zone: dt.tzinfo | None,
        fs_type: str | None = None,
    ) -> None:
        self._damage: Damage = img.damage
        self._offset = offset
        before = self._damage.count
        try:
            self._fs = pytsk3.FS_Info(img, offset=offset, type=_tsk_type(fs_type))
        except OSError as exc:
            both = _ambiguous(exc)
            if both is not None and fs_type is None:
                raise AmbiguousFileSystemError(
                    f"{label} holds more than one file-system signature ({both}): which one "
                    "is the file system to read is ambiguous",
                    hint="say which with --fs-type (" + "|".join(FS_TYPES) + "), e.g. after "
                    "comparing `fsstat -f ntfs IMAGE` with `fsstat -f ext2 IMAGE`",
                ) from exc
            # (what Sleuth Kit read while probing for a partition table is cached: look at the
            # region where a file system's first structures would be, too)
            bad = self._damage.since(before) or self._damage.overlapping(
                [(offset, offset + _FS_HEAD)]
            )
            why = f" (the media is damaged there: {describe(bad)})" if bad else ""
            raise SourceError(f"Sleuth Kit found no file system in {label}: {exc}{why}") from exc
        ftype = int(self._fs.info.ftype)
        self.fs_name = _fs_name(ftype)
        self.description = f"{self.fs_name} (Sleuth Kit)"
        self._local = ftype in _LOCAL_TIME_FS
        self._zone = local_zone or dt.UTC
        self._exfat: ExfatGeometry | None = None
        if ftype == _EXFAT:
            try:
                self._exfat = ExfatGeometry(img.read, offset)
            except ValueError as exc:
                log.debug("exFAT UTC offsets not read in %s: %s", label, exc)
        self._label = label
        self._fs_size = int(self._fs.info.block_count) * int(self._fs.info.block_size)

    def _times(self, meta: Any) -> tuple[dict[str, int | None], str | None]:
        """The entry's times in UTC, and for exFAT a note saying how they were converted."""
        names = ("mtime", "atime", "ctime", "crtime", "dtime")
        recorded: dict[str, int | None] = {}
        if self._exfat is not None:
            raw = self._exfat.entry(int(meta.addr))
            recorded = exfat_times.offsets(raw) if raw is not None else {}
        out: dict[str, int | None] = {}
        used: list[str] = []
        zoned: list[str] = []
        for name in names:
            sec = getattr(meta, name, 0) or 0
            nano = getattr(meta, name + "_nano", 0) or 0
            minutes = recorded.get(name)
            if minutes is not None:
                # the wall clock minus the offset its writer recorded (Sleuth Kit gave the
                # wall clock as if it were UTC)
                wall = epoch_ns(sec, nano)
                out[name + "_ns"] = None if wall is None else wall - minutes * 60_000_000_000
                if wall is not None:
                    used.append(f"{name} {exfat_times.offset_text(minutes)}")
            elif self._local:
                out[name + "_ns"] = local_ns(sec, nano, self._zone)
                if self._exfat is not None and (sec or nano):
                    zoned.append(name)
            else:
                out[name + "_ns"] = epoch_ns(sec, nano)
        if self._exfat is None or not (used or zoned):
            return out, None
        parts = []
        if used:
            parts.append("UTC offset recorded in the entry: " + ", ".join(used))
        if zoned:
            parts.append(
                f"no UTC offset recorded for {', '.join(zoned)}: read as local time in {self._zone}"
            )
        return out, "exFAT times: " + "; ".join(parts)

    def _entry(self, file: Any, path: bytes, name_alloc: bool) -> Iterator[FileEntry]:
        meta = file.info.meta
        meta_addr = int(file.info.name.meta_addr or 0)
        if meta is None and meta_addr:
            try:  # orphans are listed without their metadata loaded
                file = self._fs.open_meta(inode=meta_addr)
                meta = file.info.meta
            except OSError:
                meta = None
        if meta is None:
            yield FileEntry(
                path=path,
                kind=_NAME_KIND.get(int(file.info.name.type), "-"),
                allocated=False,
                note="deleted name without recoverable metadata (no inode): no content",
            )
            return
        mtype = int(meta.type)
        kind = _KIND.get(mtype, "-")
        if self._local and path.endswith(b" (Volume Label Entry)"):
            # Sleuth Kit shows a FAT volume label as a file. A label holds no data, but its
            # entry can be given a cluster chain and a size to hide some: never drop that
            size = int(meta.size)
            if not 0 < size <= self._fs_size:
                yield FileEntry(path=path, kind="v", inode=int(meta.addr), note="FAT volume label")
                return
            times, _note = self._times(meta)
            yield FileEntry(
                path=path,
                kind="r",
                size=size,
                inode=int(meta.addr),
                allocated=name_alloc and bool(int(meta.flags) & _META_ALLOC),
                note=f"FAT volume label entry that holds data ({size} bytes in a cluster chain, "
                "where a label has none): collected as a file",
                ref=(int(meta.addr), None),
                **times,  # type: ignore[arg-type]
            )
            return
        allocated = name_alloc and bool(int(meta.flags) & _META_ALLOC)
        link = meta.link if kind == "l" else None
        if isinstance(link, str):
            link = link.encode("utf-8", "surrogateescape")
        size = int(meta.size) if kind == "r" else 0
        error = None
        ref: tuple[int, None] | None = (int(meta.addr), None)
        if size > self._fs_size:
            # Corrupt metadata (or a sparse file larger than its file system): copying would
            # fill the destination with zeros after the first unreadable block.
            error = (
                f"listed size {size} is larger than the file system ({self._fs_size} bytes): "
                "corrupt metadata or a sparse file; content not copied"
            )
            size, ref = 0, None
        times, time_note = self._times(meta)
        base = FileEntry(
            path=path,
            kind=kind,
            size=size,
            inode=int(meta.addr),
            mode=int(meta.mode) & 0o7777,
            uid=int(meta.uid),
            gid=int(meta.gid),
            nlink=int(meta.nlink),
            allocated=allocated,
            link_target=link or None,
            error=error,
            ref=ref,
            note=time_note,
            **times,  # type: ignore[arg-type]
        )
        yield base
        if kind != "r" or ref is None or self.fs_name not in ("NTFS", "HFS+"):
            return  # (listing a file's attributes makes Sleuth Kit load its whole block map)
        # NTFS alternate data streams and HFS+ resource forks become their own entries.
        try:
            attrs = [
                (int(a.info.type), a.info.name, int(a.info.id), int(a.info.size)) for a in file
            ]
        except OSError:
            attrs = []
        for atype, aname, aid, asize in attrs:
            stream: bytes | None = None
            if atype == _ATTR_NTFS_DATA and aname and aname != b"$Data":
                stream = aname if isinstance(aname, bytes) else str(aname).encode()
            elif atype == _ATTR_HFS_RSRC and asize > 0:
                stream = b"rsrc"
            if stream is None or (self.fs_name == "NTFS" and path == b"$BadClus"):
                # $BadClus:$Bad is a sparse stream as large as the volume that lists bad
                # clusters; it holds no data (Sleuth Kit's icat gives 0 bytes for it).
                continue
            stream_error = None
            stream_ref: tuple[int, tuple[int, int]] | None = (int(meta.addr), (atype, aid))
            if asize > self._fs_size:
                stream_error = (
                    f"listed stream size {asize} is larger than the file system: "
                    "corrupt metadata; content not copied"
                )
                asize, stream_ref = 0, None
            yield stream_entry(base, stream, asize, stream_ref, stream_error)

    def walk(
        self, start: bytes = b"/", *, include_deleted: bool = False, recursive: bool = True
    ) -> Iterator[FileEntry]:
        ctx = utc_process_zone() if self._local else contextlib.nullcontext()
        with ctx:
            yield from self._walk(start, include_deleted, recursive)

    def _walk(self, start: bytes, include_deleted: bool, recursive: bool) -> Iterator[FileEntry]:
        norm = b"/" + b"/".join(p for p in start.split(b"/") if p)
        try:
            top = self._fs.open(norm.decode("utf-8", "surrogateescape"))
        except OSError as exc:
            raise SourceError(
                f"no path {norm.decode('utf-8', 'replace')!r} in {self._label}",
                hint="list the file system with `evidencekit ls IMAGE [PATH]`",
            ) from exc
        rel = norm.lstrip(b"/")
        meta = top.info.meta
        if meta is not None and int(meta.type) != 2:
            yield from self._entry(top, rel, True)
            return
        if rel:
            yield from self._entry(top, rel, True)
        yield from self._walk_dir(
            int(meta.addr) if meta else 0, rel, include_deleted, set(), recursive
        )

    def _walk_dir(
        self, addr: int, prefix: bytes, include_deleted: bool, seen: set[int], recursive: bool
    ) -> Iterator[FileEntry]:
        seen = seen | {addr}
        before = self._damage.count
        try:
            directory = self._fs.open_dir(inode=addr)
            children = list(directory)
        except OSError as exc:
            bad = self._damage.since(before)
            why = f" (the media is damaged there: {describe(bad)})" if bad else ""
            yield FileEntry(
                path=prefix,
                kind="d",
                error=f"Sleuth Kit cannot list directory (inode {addr}): {exc}{why}",
            )
            return
        bad = self._damage.since(before)
        if bad:
            # zeros stood in for what could not be read: entries may be missing or wrong
            yield FileEntry(
                path=prefix,
                kind="d",
                inode=addr,
                error=f"directory (inode {addr}) read from damaged media, its listing may be "
                f"incomplete: {describe(bad)}",
            )
        subdirs: list[tuple[int, bytes]] = []
        for child in children:
            name = child.info.name
            raw = name.name
            if raw in (b".", b".."):
                continue
            name_alloc = not (int(name.flags) & _NAME_UNALLOC)
            if not name_alloc and not include_deleted:
                continue
            path = prefix + b"/" + raw if prefix else raw
            meta = child.info.meta
            if meta is None and not name_alloc and int(name.meta_addr or 0):
                # a deleted name is listed without its metadata: load it, or a deleted
                # directory would not be seen as one (NTFS) and its files never listed
                with contextlib.suppress(OSError):
                    meta = self._fs.open_meta(inode=int(name.meta_addr)).info.meta
            if meta is not None and int(meta.type) in (_VIRT, _VIRT_DIR):
                # Sleuth Kit's own virtual entries ($MBR, $FAT1, $OrphanFiles) are not files
                # of the file system; $OrphanFiles is walked for deleted entries when asked.
                if int(meta.type) == _VIRT_DIR and include_deleted and raw == b"$OrphanFiles":
                    subdirs.append((int(meta.addr), path))
                continue
            if not name_alloc and meta is not None and int(meta.type) == 2:
                # a deleted directory: descend (as `fls -r -d` does) unless its metadata is in
                # use again, when what it would list belongs to another, living directory
                reused = bool(int(meta.flags) & _META_ALLOC)
                for entry in self._entry(child, path, name_alloc):
                    if reused and entry.stream is None:
                        entry = replace(
                            entry,
                            note="deleted directory whose inode is in use again: its former "
                            "contents cannot be listed",
                        )
                    yield entry
                if not reused and int(meta.addr) not in seen:
                    subdirs.append((int(meta.addr), path))
                continue
            yield from self._entry(child, path, name_alloc)
            if meta is not None and int(meta.type) == 2 and int(meta.addr) not in seen:
                subdirs.append((int(meta.addr), path))
        if not recursive:
            return
        for sub_addr, sub_path in subdirs:
            yield from self._walk_dir(sub_addr, sub_path, include_deleted, seen, recursive)

    def open(self, entry: FileEntry) -> TskReader:
        if not isinstance(entry.ref, tuple):
            raise OSError(errno.ENOENT, "entry has no Sleuth Kit address")
        addr, attr = entry.ref
        try:
            file = self._fs.open_meta(inode=addr)
        except OSError as exc:
            raise OSError(errno.EIO, f"Sleuth Kit cannot open inode {addr}: {exc}") from exc
        what = f"inode {addr}" + (f" stream {entry.stream!r}" if entry.stream else "")
        where = (self._offset, int(self._fs.info.block_size))
        return TskReader(file, entry.size, attr, what, self._damage, where)

    def close(self) -> None:
        pass


def _fs_name(ftype: int) -> str:
    return _FS_NAMES.get(ftype, f"type 0x{ftype:x}")


def _fs_probe(img: Any, offset: int) -> str | None:
    try:
        fs = pytsk3.FS_Info(img, offset=offset)
    except OSError as exc:
        both = _ambiguous(exc)
        return f"ambiguous: {both}" if both else None
    return _fs_name(int(fs.info.ftype))


def _ambiguous(exc: OSError) -> str | None:
    """The file systems Sleuth Kit found at once ("EXT2/3/4 or NTFS"), from its error."""
    found = re.search(r"Multiple file system types detected \(([^)]*)\)", str(exc))
    return found.group(1) if found else None


def _tsk_type(name: str | None) -> int:
    """Sleuth Kit's detection flag for an --fs-type value (None: detect).

    Raises:
        UsageError: an unknown value.
    """
    if name is None:
        return int(pytsk3.TSK_FS_TYPE_DETECT)
    attr = FS_TYPES.get(name.lower())
    if attr is None:
        raise UsageError(
            f"unknown file-system type {name!r}", hint=f"use one of {', '.join(FS_TYPES)}"
        )
    return int(getattr(pytsk3, attr))


def open_disk(
    path: Path,
    credentials: Credentials,
    local_zone: dt.tzinfo | None,
    fs_type: str | None = None,
) -> DiskImage:
    """Open `path` for logical access (see :func:`evidencekit.acquire.fs.open.open_image`)."""
    from evidencekit.acquire.fs import _dfvfs

    media = open_media(path)
    try:
        img = _MediaImg(media)
    except OSError as exc:
        media.close()
        raise SourceError(f"Sleuth Kit cannot read image {str(path)!r}: {exc}") from exc
    partitions: list[Partition] = []
    vs_name = "no partition table"
    inside = _Inside(media, credentials)
    try:
        vol = pytsk3.Volume_Info(img)
    except OSError:
        vol = None
    if vol is not None:
        vs_name = f"{_vs_name(int(vol.info.vstype))} partition table"
        block = int(vol.info.block_size)
        number = 0
        for part in vol:
            flags = int(part.flags)
            start, length = int(part.start) * block, int(part.len) * block
            desc = (
                part.desc.decode("utf-8", "replace")
                if isinstance(part.desc, bytes)
                else str(part.desc)
            )
            if flags & 0x01:  # TSK_VS_PART_FLAG_ALLOC
                number += 1
                row = Partition(number, int(part.addr), start, length, desc)
                row = replace(row, filesystem=_fs_probe(img, start))
                if row.filesystem is None:
                    row = inside.look(row, f"partition {number} of {path.name!r}")
                if row.filesystem is None and row.encryption is None:
                    fs_name, enc = _dfvfs.probe(path, start, length)
                    row = replace(row, filesystem=fs_name, encryption=enc)
                partitions.append(row)
            else:
                partitions.append(Partition(None, int(part.addr), start, length, desc))
    else:
        whole = Partition(None, 0, 0, int(media.size), "whole image")
        row = inside.look(whole, repr(path.name))
        if row != whole:
            partitions.append(row)
            vs_name = row.encryption or "LVM physical volume"
    volumes = lvm_listing.add_logical_volumes(
        partitions, inside.pvs, lambda view: _fs_probe(_MediaImg(view), 0)
    )

    def opener(part: Partition | None) -> FileSystem:
        offset = part.start if part else 0
        length = part.length if part else int(media.size)
        label = f"partition {part.number} of {path.name!r}" if part else repr(path.name)
        if part is not None and part.number in volumes:
            return _open_volume(volumes[part.number][1], part, path, local_zone, fs_type)
        slot = part.slot if part is not None else 0
        pv = inside.pvs.get(slot)
        if pv is not None and offset == pv.row.start:
            raise lvm_listing.pv_refusal(label, pv, volumes)
        if slot in inside.luks and offset == inside.luks[slot][0]:
            _start, unlocked, name = inside.luks[slot]
            if isinstance(unlocked, SourceError):
                raise unlocked
            fs = TskFileSystem(
                _MediaImg(unlocked), 0, f"{label} ({name}, unlocked)", local_zone, fs_type
            )
            fs.description += f", {name} unlocked"
            return fs
        if _is_bitlocker(img.read(offset, 512)):
            # BitLocker To Go wraps its volume in a readable FAT that holds only the unlock
            # tool: never list that as if it were the volume's content
            return _encrypted_fs(path, offset, length, label, credentials, local_zone, fs_type)
        try:
            return TskFileSystem(img, offset, label, local_zone, fs_type)
        except AmbiguousFileSystemError:
            raise  # dfvfs would pick one of them silently
        except SourceError as tsk_error:
            if fs_type is not None:
                raise  # the examiner chose the type: no other back-end second-guesses it
            bad = img.damage.overlapping([(offset, offset + _FS_HEAD)])
            if bad:
                raise SourceError(
                    f"no file system recognised in {label}: the image is damaged where it "
                    f"would start: {describe(bad)}",
                    hint="the image is corrupt there (check it with `evidencekit verify` or "
                    "ewfverify); other partitions may still be read",
                ) from tsk_error
            try:
                return _encrypted_fs(path, offset, length, label, credentials, local_zone, None)
            except SourceError as dfvfs_error:
                if dfvfs_error.hint:  # encrypted and locked, or similar: the specific reason
                    raise
                raise SourceError(
                    f"no file system recognised in {label} (tried {_TRIED})",
                    hint=f"Sleuth Kit: {tsk_error.message}; dfvfs: {dfvfs_error.message}",
                ) from dfvfs_error

    return DiskImage(path, partitions, opener, vs_name, media.close, source=media)


# BitLocker's identifier GUID {4967d63b-2e29-4ad8-8399-f6a339e3d001}, as stored on disk
_BITLOCKER_GUID = bytes.fromhex("3bd66749292ed84a8399f6a339e3d001")


def _is_bitlocker(boot: bytes) -> bool:
    """A BitLocker volume ("-FVE-FS-") or BitLocker To Go (a FAT boot sector carrying the
    BitLocker GUID)."""
    return boot[3:11] == b"-FVE-FS-" or _BITLOCKER_GUID in boot[:512]


def _encrypted_fs(
    path: Path,
    offset: int,
    length: int,
    label: str,
    credentials: Credentials,
    local_zone: dt.tzinfo | None,
    fs_type: str | None,
) -> FileSystem:
    """The file system of a volume Sleuth Kit cannot read as it is: BitLocker or Core Storage
    unlocked by dfvfs and read by Sleuth Kit (with its deleted entries) where it can, else by
    dfvfs (APFS, FileVault, and what Sleuth Kit does not know).

    Raises:
        SourceError: no key, a key that does not unlock it, or an unlocked volume whose file
            system neither back-end can read (said as such, never as a wrong key).
    """
    from evidencekit.acquire.fs import _dfvfs

    inner_error: SourceError | None = None
    found = _dfvfs.unlock(path, offset, length, credentials, label)
    if found is not None:
        decrypted, name = found
        try:
            fs = TskFileSystem(
                _MediaImg(decrypted), 0, f"{label} ({name}, unlocked)", local_zone, fs_type
            )
        except SourceError as exc:
            inner_error = exc
        else:
            fs.description += f", {name} unlocked"
            return fs
    try:
        return _dfvfs.open_filesystem(path, offset, length, credentials, label)
    except SourceError as dfvfs_error:
        if inner_error is None:
            raise
        raise SourceError(
            f"{label} was unlocked with the key given, but the file system inside it could not "
            "be read",
            hint=f"Sleuth Kit: {inner_error.message}; dfvfs: {dfvfs_error.message}",
        ) from dfvfs_error


class _Inside:
    """What a partition (or the whole image) without a file system of its own holds: a LUKS
    volume (unlocked with our own `luks` reader when a password is given) and, in it or bare,
    an LVM physical volume (`lvm`). Filled while the partitions are listed."""

    def __init__(self, media: Any, credentials: Credentials) -> None:
        self._media = media
        self._password: str | bytes | None = credentials.password
        if self._password is None and credentials.key_file is not None:
            # cryptsetup's --key-file: the file's bytes, all of them, are the passphrase
            try:
                self._password = credentials.key_file.read_bytes()
            except OSError as exc:
                raise SourceError(
                    f"cannot read the key file {str(credentials.key_file)!r}: {exc.strerror}"
                ) from exc
        self.pvs: dict[int, lvm_listing.PhysicalVolume] = {}  # by slot
        # by slot: (start, decrypted media or why not, "LUKS1"/"LUKS2")
        self.luks: dict[int, tuple[int, luks.LuksMedia | SourceError, str]] = {}

    def look(self, row: Partition, label: str) -> Partition:
        """`row` with what it holds filled in (file system, encryption) when we read it; as it
        is when its first sectors cannot be read (a corrupt E01 chunk: Sleuth Kit says more)."""
        try:
            return self._look(row, label)
        except OSError as exc:
            log.debug("cannot look inside %s: %s", label, exc)
            return row

    def _look(self, row: Partition, label: str) -> Partition:
        read_at = lvm_listing.reader(self._media, row.start, row.length)
        size, mapped, enc = row.length, True, None
        inner: luks.LuksMedia | None = None
        found = luks.version(read_at)
        if found in (1, 2):
            name = f"LUKS{found}"
            if self._password is None:
                error = SourceError(
                    f"{label} is encrypted ({name}) and no key was given",
                    hint="pass --password-env VAR naming an environment variable that holds "
                    "the password, or --key-file FILE",
                )
                self.luks[row.slot] = (row.start, error, name)
                return replace(row, encryption=name)
            try:
                unlocked = luks.unlock(read_at, row.length, self._password, label)
            except SourceError as exc:
                self.luks[row.slot] = (row.start, exc, name)
                return replace(row, encryption=name)
            self.luks[row.slot] = (row.start, unlocked, name)
            inner, enc = unlocked, name + " unlocked"
            read_at, size, mapped = unlocked.read_at, unlocked.size, False
        if lvm.is_physical_volume(read_at):
            pv = lvm_listing.physical_volume(row, read_at, size, label, mapped=mapped)
            self.pvs[row.slot] = pv
            return replace(row, filesystem=lvm_listing.describe(pv), encryption=enc)
        if inner is not None:  # an unlocked LUKS volume: the file system inside it
            return replace(row, filesystem=_fs_probe(_MediaImg(inner), 0), encryption=enc)
        return row


def _open_volume(
    volume: lvm.VolumeMedia | str, part: Partition, path: Path, zone: Any, fs_type: str | None
) -> FileSystem:
    label = f"partition {part.number} of {path.name!r} ({part.description})"
    if isinstance(volume, str):
        raise SourceError(f"cannot read {label}: {volume}")
    return TskFileSystem(_MediaImg(volume), 0, label, zone, fs_type)


def _vs_name(vstype: int) -> str:
    return {0x01: "DOS/MBR", 0x02: "BSD", 0x04: "Sun", 0x08: "Mac", 0x10: "GPT"}.get(
        vstype, f"type 0x{vstype:x}"
    )


def partition_rows(media: Any, label: str) -> list[Partition]:
    """The numbered partitions of `media` as `open_disk` numbers them (what `ls` shows), read
    from the partition table only: nothing inside them is probed, so a damaged sector inside a
    partition does not stop `acquire disk --decrypt --partition N` from finding it.

    Raises:
        SourceError: the partition table itself cannot be read.
    """
    try:
        vol = pytsk3.Volume_Info(_MediaImg(media))
    except OSError:
        return []  # no partition table (open_disk: the whole image)
    except RuntimeError as exc:  # the read callback failed (EIO) under Sleuth Kit
        raise SourceError(f"cannot read the partition table of {label}: {exc}") from exc
    block = int(vol.info.block_size)
    rows: list[Partition] = []
    for part in vol:
        if int(part.flags) & 0x01:  # TSK_VS_PART_FLAG_ALLOC, numbered as in open_disk
            start, length = int(part.start) * block, int(part.len) * block
            rows.append(Partition(len(rows) + 1, int(part.addr), start, length, "partition"))
    return rows
