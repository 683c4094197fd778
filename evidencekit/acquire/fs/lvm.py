"""LVM2 logical volumes inside a disk image, read from the physical volume's own metadata.

Linux servers and many laptops keep their ext4 (or other) file systems in LVM logical volumes;
Sleuth Kit's Python binding does not open them, and libvslvm (under dfvfs) fails on the second
logical volume of a volume group. The on-disk format is small, so we read it here, in pure Python,
checking every checksum LVM writes:

    sector 0-3   label: "LABELONE", its sector, CRC, offset of the PV header, "LVM2 001"
    PV header    the PV's UUID, size, data areas, metadata areas (offset, size) lists
    metadata     an area whose header (magic " LVM2 x[5A%r0N*>", CRC) points to the current
                 text metadata (a circular buffer), itself CRC-checked: the volume group with its
                 extent size, physical volumes (pe_start) and logical volumes (segments)

A logical volume is opened when every segment is linear (`striped` with one stripe) on this
physical volume; others (RAID, thin, snapshots, striping, other disks) are listed with the reason.
Reference: the LVM2 sources' on-disk layout (lib/label/label.h, lib/format_text/layout.h) and
`lvmcache`'s text format; tested against volume groups made by pvcreate, vgcreate, vgcfgrestore.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from evidencekit.errors import SourceError

SECTOR = 512
_LABEL_ID = b"LABELONE"
_LABEL_TYPE = b"LVM2 001"
_MDA_MAGIC = b" LVM2 x[5A%r0N*>"
_MDA_HEADER_SIZE = 512
_INITIAL_CRC = 0xF597A6CF
_MAX_METADATA = 16 << 20
_MAX_DEPTH = 32

ReadAt = Callable[[int, int], bytes]


def lvm_crc(data: bytes) -> int:
    """LVM's CRC-32: the usual polynomial, LVM's initial value, no final inversion."""
    return ~zlib.crc32(data, ~_INITIAL_CRC & 0xFFFFFFFF) & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Segment:
    """Bytes [lv_offset, lv_offset+length) of a logical volume are at `pv_offset` of the PV."""

    lv_offset: int
    length: int
    pv_offset: int


@dataclass(frozen=True, slots=True)
class LogicalVolume:
    name: str
    size: int
    segments: tuple[Segment, ...]  # empty when `unsupported`
    unsupported: str | None = None  # why it cannot be read from this image


@dataclass(frozen=True, slots=True)
class VolumeGroup:
    name: str
    volumes: tuple[LogicalVolume, ...]


def is_physical_volume(read_at: ReadAt) -> bool:
    """Whether one of the first four sectors holds an LVM2 label."""
    head = read_at(0, 4 * SECTOR)
    return any(
        head[i : i + 8] == _LABEL_ID and head[i + 24 : i + 32] == _LABEL_TYPE
        for i in range(0, len(head) - 31, SECTOR)
    )


def read_volume_group(read_at: ReadAt, size: int, label: str) -> VolumeGroup:
    """The volume group described on the physical volume that `read_at` reads (bytes from its
    start; `size` bytes long).

    Raises:
        SourceError: no LVM2 label, a checksum that does not match, or metadata we cannot parse.
    """
    head = read_at(0, 4 * SECTOR)
    for at in range(0, len(head) - SECTOR + 1, SECTOR):
        sector = head[at : at + SECTOR]
        if sector[:8] == _LABEL_ID and sector[24:32] == _LABEL_TYPE:
            break
    else:
        raise SourceError(f"{label} holds no LVM2 label")
    number, crc, offset = struct.unpack_from("<QII", sector, 8)
    if number != at // SECTOR or lvm_crc(sector[20:]) != crc or not 32 <= offset < SECTOR - 40:
        raise SourceError(f"the LVM2 label of {label} is damaged (checksum or fields)")
    pv_uuid = sector[offset : offset + 32].decode("ascii", "replace")
    areas = _locations(sector, offset + 40)
    if len(areas) < 2 or not areas[1]:
        raise SourceError(f"the LVM2 physical volume in {label} has no metadata area")
    text = _metadata_text(read_at, size, areas[1][0], label)
    return _volume_group(parse_metadata(text, label), pv_uuid, size, label)


def _locations(sector: bytes, at: int) -> list[list[tuple[int, int]]]:
    """The PV header's lists of (offset, size): data areas, then metadata areas."""
    lists: list[list[tuple[int, int]]] = [[], []]
    for current in lists:
        while at + 16 <= len(sector):
            off, length = struct.unpack_from("<QQ", sector, at)
            at += 16
            if off == 0:
                break
            current.append((off, length))
    return lists


def _metadata_text(read_at: ReadAt, pv_size: int, mda: tuple[int, int], label: str) -> str:
    start, size = mda
    header = read_at(start, _MDA_HEADER_SIZE)
    if len(header) < _MDA_HEADER_SIZE or header[4:20] != _MDA_MAGIC:
        raise SourceError(f"the LVM2 metadata area of {label} is damaged (no magic)")
    if lvm_crc(header[4:]) != struct.unpack_from("<I", header, 0)[0]:
        raise SourceError(f"the LVM2 metadata area header of {label} fails its checksum")
    offset, length, checksum, _flags = struct.unpack_from("<QQII", header, 40)
    if not length or length > _MAX_METADATA or offset >= size or start + size > pv_size:
        raise SourceError(f"the LVM2 metadata of {label} is missing or out of bounds")
    first = min(length, size - offset)  # the text is a circular buffer after the header
    raw = read_at(start + offset, first)
    if first < length:
        raw += read_at(start + _MDA_HEADER_SIZE, length - first)
    if lvm_crc(raw) != checksum:
        raise SourceError(f"the LVM2 metadata of {label} fails its checksum")
    return raw.rstrip(b"\0").decode("utf-8", "replace")


_TOKEN = re.compile(
    r"\s+|#[^\n]*"
    r'|(?P<str>"(?:[^"\\]|\\.)*")'
    r"|(?P<num>-?\d+(?:\.\d+)?)(?![\w.+-])"
    r"|(?P<word>[\w.+-]+)"
    r"|(?P<punct>[=\[\]{},])"
)


def parse_metadata(text: str, label: str = "the volume group") -> dict[str, object]:
    """LVM's text format: `key = value` (string, number, [list]) and `name { ... }` sections.

    Raises:
        SourceError: text that is not in that format.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise SourceError(f"cannot parse the LVM2 metadata of {label} at character {pos}")
        pos = m.end()
        if m.lastgroup:
            tokens.append((m.lastgroup, m.group(m.lastgroup)))
    items = iter(tokens)

    def bad(near: str) -> SourceError:
        return SourceError(f"cannot parse the LVM2 metadata of {label} near {near!r}")

    def value(kind: str, tok: str, depth: int) -> object:
        if kind == "str":
            return re.sub(r"\\(.)", r"\1", tok[1:-1])
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if tok == "[" and depth < _MAX_DEPTH:
            out: list[object] = []
            for k, t in items:
                if t == "]":
                    return out
                if t != ",":
                    out.append(value(k, t, depth + 1))
        raise bad(tok)

    def section(closing: bool, depth: int = 0) -> dict[str, object]:
        if depth > _MAX_DEPTH:  # LVM nests 4 deep; hostile text must not exhaust the stack
            raise bad("{")
        out: dict[str, object] = {}
        while True:
            kind, tok = next(items, ("end", ""))
            if (kind == "end" and not closing) or (tok == "}" and closing):
                return out
            op = next(items, ("end", ""))[1]
            if kind != "word" or op not in ("{", "="):
                raise bad(tok)
            if op == "{":
                out[tok] = section(True, depth + 1)
            else:
                nkind, ntok = next(items, ("end", ""))
                out[tok] = value(nkind, ntok, depth)

    return section(False)


def _volume_group(doc: dict[str, object], pv_uuid: str, pv_size: int, label: str) -> VolumeGroup:
    groups = [(k, v) for k, v in doc.items() if isinstance(v, dict)]
    if len(groups) != 1:
        raise SourceError(f"the LVM2 metadata of {label} holds no single volume group")
    name, vg = groups[0]
    extent = _int(vg, "extent_size", label) * SECTOR
    pvs = vg.get("physical_volumes")
    here = None
    for key, pv in pvs.items() if isinstance(pvs, dict) else ():
        if isinstance(pv, dict) and str(pv.get("id", "")).replace("-", "") == pv_uuid:
            here = (key, _int(pv, "pe_start", label) * SECTOR)
    if here is None:
        raise SourceError(f"the LVM2 metadata of {label} does not list this physical volume")
    lvs = vg.get("logical_volumes")
    volumes = []
    for lv_name, lv in lvs.items() if isinstance(lvs, dict) else ():
        status = lv.get("status") if isinstance(lv, dict) else None
        if isinstance(lv, dict) and isinstance(status, list) and "VISIBLE" in status:
            volumes.append(_logical_volume(lv_name, lv, extent, here, pv_size, label))
    return VolumeGroup(name, tuple(volumes))


def _logical_volume(
    name: str,
    lv: dict[str, object],
    extent: int,
    here: tuple[str, int],
    pv_size: int,
    label: str,
) -> LogicalVolume:
    segments: list[Segment] = []
    reason = None
    size = 0
    for key in sorted((k for k in lv if k.startswith("segment") and k[7:].isdigit()), key=_num):
        seg = lv[key]
        if not isinstance(seg, dict):
            continue
        start = _int(seg, "start_extent", label) * extent
        length = _int(seg, "extent_count", label) * extent
        size = max(size, start + length)
        stripes = seg.get("stripes")
        if seg.get("type") != "striped" or seg.get("stripe_count") != 1:
            reason = reason or f"LVM segment type {seg.get('type')!r} (only linear is read)"
        elif not (isinstance(stripes, list) and len(stripes) == 2 and stripes[0] == here[0]):
            reason = reason or "it lies on another physical volume (another disk)"
        elif not isinstance(stripes[1], int) or here[1] + (stripes[1] * extent) + length > pv_size:
            reason = reason or "its extents lie past the end of the physical volume"
        else:
            segments.append(Segment(start, length, here[1] + stripes[1] * extent))
    if reason is None and (not segments or sum(s.length for s in segments) != size):
        reason = "its segments do not cover it"
    return LogicalVolume(name, size, () if reason else tuple(segments), reason)


def _num(key: str) -> int:
    return int(key[7:])


def _int(section: dict[str, object], key: str, label: str) -> int:
    value = section.get(key)
    if not isinstance(value, int) or value < 0:
        raise SourceError(f"the LVM2 metadata of {label} has no valid {key!r}")
    return value


class VolumeMedia:
    """A logical volume as a media stream (`read_at`, `size`) over its physical volume's."""

    def __init__(self, read_at: ReadAt, volume: LogicalVolume) -> None:
        if volume.unsupported:
            raise ValueError(volume.unsupported)
        self._read = read_at
        self._segments = sorted(volume.segments, key=lambda s: s.lv_offset)
        self.size = volume.size

    def read_at(self, offset: int, size: int) -> bytes:
        out = bytearray()
        end = min(offset + size, self.size)
        for seg in self._segments:
            lo, hi = max(offset, seg.lv_offset), min(end, seg.lv_offset + seg.length)
            if lo < hi:
                out += self._read(seg.pv_offset + lo - seg.lv_offset, hi - lo)
        return bytes(out)
