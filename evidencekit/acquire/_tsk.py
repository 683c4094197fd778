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
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytsk3

from evidencekit.acquire import luks, lvm, lvm_listing
from evidencekit.acquire.filesystems import (
    Credentials,
    DiskImage,
    FileEntry,
    FileSystem,
    Partition,
)
from evidencekit.acquire.stream_entries import stream_entry
from evidencekit.acquire.tsk_times import epoch_ns, local_ns, utc_process_zone
from evidencekit.errors import SourceError

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
_LOCAL_TIME_FS = {0x02, 0x04, 0x08, 0x0A}  # FAT and exFAT keep local wall-clock times
_KIND = {0: "-", 1: "r", 2: "d", 3: "p", 4: "c", 5: "b", 6: "l", 7: "h", 8: "s", 9: "w"}
_NAME_KIND = {0: "-", 1: "p", 2: "c", 3: "d", 4: "b", 5: "r", 6: "l", 7: "s", 8: "h", 9: "w"}
_VIRT, _VIRT_DIR = 10, 11
_NAME_UNALLOC = 0x02
_META_ALLOC = 0x01
_ATTR_NTFS_DATA = 128
_ATTR_HFS_RSRC = 4353
_TRIED = (
    "Sleuth Kit (ext2/3/4, NTFS, FAT12/16/32, exFAT, HFS+, ISO 9660), LUKS and LVM (ours) "
    "and dfvfs (APFS, BitLocker, FileVault)"
)


class _MediaImg(pytsk3.Img_Info):  # type: ignore[misc]
    """Sleuth Kit reads the shared media stream through this."""

    def __init__(self, media: Any) -> None:
        self._media = media
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def close(self) -> None:
        pass

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self._media.read_at(offset, size))

    def get_size(self) -> int:
        return int(self._media.size)


def open_media(path: Path) -> Any:
    """The image's media stream, through the shared source adapter (`source.open_source`).

    Raises:
        SourceError: the image cannot be opened.
    """
    from evidencekit.acquire.source import open_source

    return open_source(path)


class _TskReader:
    def __init__(self, file: Any, size: int, attr: tuple[int, int] | None, what: str) -> None:
        self._file = file
        self._size = size
        self._attr = attr
        self._pos = 0
        self._what = what

    def readinto(self, buf: memoryview) -> int:
        n = min(len(buf), self._size - self._pos)
        if n <= 0:
            return 0
        try:
            if self._attr is None:
                data = self._file.read_random(self._pos, n)
            else:
                data = self._file.read_random(self._pos, n, self._attr[0], self._attr[1])
        except OSError as exc:
            raise OSError(
                errno.EIO, f"Sleuth Kit cannot read {self._what} at offset {self._pos}: {exc}"
            ) from exc
        if not data:  # nothing more Sleuth Kit will give (the caller records the short read)
            return 0
        buf[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        pass


class TskFileSystem:
    """One file system opened by Sleuth Kit at a byte offset of the media."""

    def __init__(self, img: Any, offset: int, label: str, local_zone: dt.tzinfo | None) -> None:
        try:
            self._fs = pytsk3.FS_Info(img, offset=offset)
        except OSError as exc:
            raise SourceError(f"Sleuth Kit found no file system in {label}: {exc}") from exc
        ftype = int(self._fs.info.ftype)
        self.fs_name = _fs_name(ftype)
        self.description = f"{self.fs_name} (Sleuth Kit)"
        self._local = ftype in _LOCAL_TIME_FS
        self._zone = local_zone or dt.UTC
        self._label = label
        self._fs_size = int(self._fs.info.block_count) * int(self._fs.info.block_size)

    def _times(self, meta: Any) -> dict[str, int | None]:
        names = ("mtime", "atime", "ctime", "crtime", "dtime")
        out: dict[str, int | None] = {}
        for name in names:
            sec = getattr(meta, name, 0) or 0
            nano = getattr(meta, name + "_nano", 0) or 0
            if self._local:
                out[name + "_ns"] = local_ns(sec, nano, self._zone)
            else:
                out[name + "_ns"] = epoch_ns(sec, nano)
        return out

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
            # Sleuth Kit shows a FAT volume label as a file; it holds no data
            yield FileEntry(path=path, kind="v", inode=int(meta.addr), note="FAT volume label")
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
            **self._times(meta),  # type: ignore[arg-type]
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
        try:
            directory = self._fs.open_dir(inode=addr)
            children = list(directory)
        except OSError as exc:
            yield FileEntry(
                path=prefix,
                kind="d",
                error=f"Sleuth Kit cannot list directory (inode {addr}): {exc}",
            )
            return
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
            if meta is not None and int(meta.type) in (_VIRT, _VIRT_DIR):
                # Sleuth Kit's own virtual entries ($MBR, $FAT1, $OrphanFiles) are not files
                # of the file system; $OrphanFiles is walked for deleted entries when asked.
                if int(meta.type) == _VIRT_DIR and include_deleted and raw == b"$OrphanFiles":
                    subdirs.append((int(meta.addr), path))
                continue
            if not name_alloc and meta is not None and int(meta.type) == 2:
                # a deleted directory whose inode may have been reused: list it, don't descend
                yield from self._entry(child, path, name_alloc)
                continue
            yield from self._entry(child, path, name_alloc)
            if meta is not None and int(meta.type) == 2 and int(meta.addr) not in seen:
                subdirs.append((int(meta.addr), path))
        if not recursive:
            return
        for sub_addr, sub_path in subdirs:
            yield from self._walk_dir(sub_addr, sub_path, include_deleted, seen, recursive)

    def open(self, entry: FileEntry) -> _TskReader:
        if not isinstance(entry.ref, tuple):
            raise OSError(errno.ENOENT, "entry has no Sleuth Kit address")
        addr, attr = entry.ref
        try:
            file = self._fs.open_meta(inode=addr)
        except OSError as exc:
            raise OSError(errno.EIO, f"Sleuth Kit cannot open inode {addr}: {exc}") from exc
        what = f"inode {addr}" + (f" stream {entry.stream!r}" if entry.stream else "")
        return _TskReader(file, entry.size, attr, what)

    def close(self) -> None:
        pass


def _fs_name(ftype: int) -> str:
    return _FS_NAMES.get(ftype, f"type 0x{ftype:x}")


def _fs_probe(img: Any, offset: int) -> str | None:
    try:
        fs = pytsk3.FS_Info(img, offset=offset)
    except OSError:
        return None
    return _fs_name(int(fs.info.ftype))


def open_disk(path: Path, credentials: Credentials, local_zone: dt.tzinfo | None) -> DiskImage:
    """Open `path` for logical access (see :func:`filesystems.open_image`)."""
    from evidencekit.acquire import _dfvfs

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
            return _open_volume(volumes[part.number][1], part, path, local_zone)
        slot = part.slot if part is not None else 0
        pv = inside.pvs.get(slot)
        if pv is not None and offset == pv.row.start:
            raise lvm_listing.pv_refusal(label, pv, volumes)
        if slot in inside.luks and offset == inside.luks[slot][0]:
            _start, unlocked, name = inside.luks[slot]
            if isinstance(unlocked, SourceError):
                raise unlocked
            fs = TskFileSystem(_MediaImg(unlocked), 0, f"{label} ({name}, unlocked)", local_zone)
            fs.description += f", {name} unlocked"
            return fs
        try:
            return TskFileSystem(img, offset, label, local_zone)
        except SourceError as tsk_error:
            try:
                return _dfvfs.open_filesystem(path, offset, length, credentials, label)
            except SourceError as dfvfs_error:
                if dfvfs_error.hint:  # encrypted and locked, or similar: the specific reason
                    raise
                raise SourceError(
                    f"no file system recognised in {label} (tried {_TRIED})",
                    hint=f"Sleuth Kit: {tsk_error.message}; dfvfs: {dfvfs_error.message}",
                ) from dfvfs_error

    return DiskImage(path, partitions, opener, vs_name, media.close)


class _Inside:
    """What a partition (or the whole image) without a file system of its own holds: a LUKS
    volume (unlocked with our own `luks` reader when a password is given) and, in it or bare,
    an LVM physical volume (`lvm`). Filled while the partitions are listed."""

    def __init__(self, media: Any, credentials: Credentials) -> None:
        self._media = media
        self._password = credentials.password
        self.pvs: dict[int, lvm_listing.PhysicalVolume] = {}  # by slot
        # by slot: (start, decrypted media or why not, "LUKS1"/"LUKS2")
        self.luks: dict[int, tuple[int, luks.LuksMedia | SourceError, str]] = {}

    def look(self, row: Partition, label: str) -> Partition:
        """`row` with what it holds filled in (file system, encryption) when we read it."""
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
                    "the password",
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
    volume: lvm.VolumeMedia | str, part: Partition, path: Path, zone: Any
) -> FileSystem:
    label = f"partition {part.number} of {path.name!r} ({part.description})"
    if isinstance(volume, str):
        raise SourceError(f"cannot read {label}: {volume}")
    return TskFileSystem(_MediaImg(volume), 0, label, zone)


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
