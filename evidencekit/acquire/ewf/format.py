"""The EWF-E01 on-disk byte layout, in one place for the writer and the reader.

Following libewf's "Expert Witness Compression Format (EWF)" document (see docs/e01.md): a
segment file is a 13-byte file header, then sections, each a 76-byte descriptor (type name, next
section's offset, size, Adler-32) and a payload. Most payloads end in an Adler-32 of what comes
before it. Packing and unpacking live side by side here, so an offset fixed in one is fixed in
the other. The header/header2 text and the volume's values from `EwfMetadata` are in
`metadata`.
"""

from __future__ import annotations

import struct
from typing import Literal, NamedTuple, get_args

from isal import isal_zlib

from evidencekit.errors import AcquisitionError

FILE_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
FILE_HEADER_SIZE = 13  # signature, 1, segment number (16-bit), 0 (16-bit)
DESCRIPTOR_SIZE = 76
TABLE_HEADER_SIZE = 24
VOLUME_DATA_SIZE = 1052
DIGEST_DATA_SIZE = 80
HASH_DATA_SIZE = 36
ERROR2_HEADER_SIZE = 520
COMPRESSED_FLAG = 0x80000000
OFFSET_MASK = 0x7FFFFFFF
# [ASR02] via the libewf document: a table holds at most 16375 entries (FTK has a bug past 16 Ki).
MAX_TABLE_ENTRIES = 16375

Compression = Literal["none", "empty", "fast", "best"]
"""E01 chunk compression: none, only all-zero chunks (`empty`), zlib fast or best."""
COMPRESSION_MODES: tuple[Compression, ...] = get_args(Compression)
# volume section "compression level" byte: 0 none, 1 fast/good, 2 best.
VOLUME_COMPRESSION = {"none": 0, "empty": 0, "fast": 1, "best": 2}
MEDIA_TYPES = {"removable": 0x00, "fixed": 0x01, "optical": 0x03, "memory": 0x10}
MEDIA_FLAG_IMAGE = 0x01
MEDIA_FLAG_PHYSICAL = 0x02


def adler32(data: bytes | bytearray | memoryview) -> int:
    """Adler-32 (ISA-L's SIMD version: about 5x zlib's on 32 KiB)."""
    return int(isal_zlib.adler32(data)) & 0xFFFFFFFF


def with_adler32(body: bytes | bytearray) -> bytes:
    """`body` followed by its Adler-32, as most EWF structures end."""
    return bytes(body) + struct.pack("<I", adler32(body))


def checksum_ok(raw: bytes, at: int) -> bool:
    """Whether the Adler-32 stored at `at` is that of raw[:at] (raw holds at least at+4 bytes)."""
    return bool(struct.unpack_from("<I", raw, at)[0] == adler32(raw[:at]))


# -- file header and section descriptors --------------------------------------------------------


def file_header(number: int) -> bytes:
    """A segment file's 13-byte header: signature, 1, the 1-based segment number, 0."""
    return FILE_SIGNATURE + struct.pack("<BHH", 1, number, 0)


def file_header_number(head: bytes) -> int | None:
    """The segment number in a 13-byte file header; None when it is not an EWF (E01) header."""
    if head[:8] != FILE_SIGNATURE or head[8] != 1:
        return None
    return int(struct.unpack_from("<H", head, 9)[0])


def descriptor(kind: str, offset: int, next_offset: int | None, size: int) -> bytes:
    """The 76-byte section descriptor; `next_offset` None means "points to itself" (next/done)."""
    head = struct.pack(
        "<16sQQ40x",
        kind.encode("ascii"),
        offset if next_offset is None else next_offset,
        size,
    )
    return head + struct.pack("<I", adler32(head))


class Descriptor(NamedTuple):
    """A section descriptor read back: its type name, next section's offset, section size."""

    kind: str
    next_offset: int
    size: int


def unpack_descriptor(desc: bytes) -> Descriptor:
    """Decode a 76-byte descriptor (check it first with `descriptor_ok`)."""
    next_offset, size = struct.unpack_from("<QQ", desc, 16)
    return Descriptor(desc[:16].rstrip(b"\0").decode("ascii", "replace"), next_offset, size)


def descriptor_ok(desc: bytes) -> bool:
    """Whether a 76-byte descriptor's Adler-32 matches."""
    return checksum_ok(desc, DESCRIPTOR_SIZE - 4)


def segment_extension(number: int) -> str:
    """1 -> 'E01' … 99 -> 'E99', 100 -> 'EAA' … 'EZZ', 'FAA' … 'ZZZ' (libewf's naming).

    Raises:
        AcquisitionError: past .ZZZ (14,971 segments).
    """
    if 1 <= number <= 99:
        return f"E{number:02d}"
    index = number - 100
    if number < 1 or index >= (ord("Z") - ord("E") + 1) * 26 * 26:
        raise AcquisitionError(
            f"segment number {number} is past the last E01 extension (.ZZZ)",
            hint="use a larger --segment-size",
        )
    first = chr(ord("E") + index // 676)
    return first + chr(ord("A") + (index // 26) % 26) + chr(ord("A") + index % 26)


# -- volume / data --------------------------------------------------------------------------------


class Volume(NamedTuple):
    """The values of a volume (segment 1) or data (other segments) section."""

    media_type: int
    chunk_count: int
    sectors_per_chunk: int
    bytes_per_sector: int
    sector_count: int
    media_flags: int
    compression_level: int
    error_granularity: int
    guid: bytes

    def pack(self) -> bytes:
        """The 1052-byte payload."""
        body = bytearray(VOLUME_DATA_SIZE - 4)
        struct.pack_into(
            "<B3xIIIQ",
            body,
            0,
            self.media_type,
            self.chunk_count,
            self.sectors_per_chunk,
            self.bytes_per_sector,
            self.sector_count,
        )
        body[36] = self.media_flags
        body[52] = self.compression_level
        struct.pack_into("<I", body, 56, self.error_granularity)
        body[64:80] = self.guid
        return with_adler32(body)

    @classmethod
    def unpack(cls, raw: bytes) -> Volume:
        """Decode a payload of at least VOLUME_DATA_SIZE bytes (check it with `volume_ok`)."""
        media, chunks, per_chunk, per_sector, sectors = struct.unpack_from("<B3xIIIQ", raw, 0)
        granularity = struct.unpack_from("<I", raw, 56)[0]
        return cls(
            media, chunks, per_chunk, per_sector, sectors, raw[36], raw[52], granularity, raw[64:80]
        )


def volume_ok(raw: bytes) -> bool:
    """Whether a volume payload's Adler-32 matches."""
    return checksum_ok(raw, VOLUME_DATA_SIZE - 4)


# -- table / table2 ----------------------------------------------------------------------------


def table_bytes(base: int, entries: list[int]) -> bytes:
    """table / table2 payload: header (count, base offset, Adler-32), entries, entries' Adler-32."""
    head = with_adler32(struct.pack("<I4xQ4x", len(entries), base))
    return head + with_adler32(struct.pack(f"<{len(entries)}I", *entries))


def table_header(raw: bytes) -> tuple[int, int, bool]:
    """Entry count, base offset and whether the header's Adler-32 matches (raw ≥ 24 bytes)."""
    count, base = struct.unpack_from("<I4xQ", raw, 0)
    return count, base, checksum_ok(raw, TABLE_HEADER_SIZE - 4)


def table_entries(raw: bytes, count: int) -> tuple[tuple[int, ...], bool | None]:
    """The `count` entries after the header, and whether their Adler-32 matches (None: the
    section ends before it; EnCase 5 and earlier wrote none). raw holds 24 + 4 × count bytes."""
    array = raw[TABLE_HEADER_SIZE : TABLE_HEADER_SIZE + 4 * count]
    footer_ok = None
    if len(raw) >= TABLE_HEADER_SIZE + 4 * count + 4:
        footer_ok = checksum_ok(raw[TABLE_HEADER_SIZE:], 4 * count)
    return struct.unpack(f"<{count}I", array), footer_ok


# -- error2, digest, hash ------------------------------------------------------------------------


def error2_bytes(extents: list[tuple[int, int]]) -> bytes:
    """error2 payload: header (count, Adler-32), (first sector, sector count) pairs, Adler-32."""
    head = bytearray(ERROR2_HEADER_SIZE - 4)
    struct.pack_into("<I", head, 0, len(extents))
    return with_adler32(head) + with_adler32(b"".join(struct.pack("<II", s, n) for s, n in extents))


def error2_extents(extents: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], bool]:
    """(first sector, sector count) extents sorted and merged as error2 can hold them, with
    32-bit sector numbers; and whether some had to be cut for that."""
    merged: list[tuple[int, int]] = []
    for start, count in sorted(extents):
        if merged and start <= merged[-1][0] + merged[-1][1]:
            last_start, last_count = merged[-1]
            merged[-1] = (last_start, max(last_count, start + count - last_start))
        else:
            merged.append((start, count))
    kept = [(a, min(n, 0xFFFFFFFF - a)) for a, n in merged if a < 0xFFFFFFFF]
    return kept, kept != merged


def closing_size(entries: int, extents: int) -> int:
    """The bytes a segment file needs after a sectors section of `entries` chunks, at most: its
    table and table2, and, should it be the last, error2 (of `extents`), digest, hash, done."""
    table = DESCRIPTOR_SIZE + TABLE_HEADER_SIZE + 4 * entries + 4
    tail = DESCRIPTOR_SIZE * 3 + DIGEST_DATA_SIZE + HASH_DATA_SIZE
    tail += DESCRIPTOR_SIZE + ERROR2_HEADER_SIZE + 8 * extents + 4
    return 2 * table + tail


def unpack_error2(raw: bytes) -> tuple[bool, list[tuple[int, int]] | None]:
    """Whether the header's Adler-32 matches, and the extents (None: the section is cut short).
    raw holds at least ERROR2_HEADER_SIZE bytes."""
    count = struct.unpack_from("<I", raw, 0)[0]
    array = raw[ERROR2_HEADER_SIZE : ERROR2_HEADER_SIZE + 8 * count]
    header_ok = checksum_ok(raw, ERROR2_HEADER_SIZE - 4)
    if len(array) != 8 * count:
        return header_ok, None
    return header_ok, [struct.unpack_from("<II", array, 8 * i) for i in range(count)]


def digest_bytes(md5: bytes, sha1: bytes) -> bytes:
    """digest payload: MD5, SHA-1 (zeros when unknown), 40 bytes of padding, Adler-32."""
    return with_adler32(md5 + sha1 + bytes(40))


def unpack_digest(raw: bytes) -> tuple[bytes, bytes, bool]:
    """MD5, SHA-1 and whether the Adler-32 matches, from an 80-byte digest payload."""
    return raw[:16], raw[16:36], checksum_ok(raw, DIGEST_DATA_SIZE - 4)


def hash_bytes(md5: bytes) -> bytes:
    """hash payload: MD5, 16 bytes of padding, Adler-32."""
    return with_adler32(md5 + bytes(16))


def unpack_hash(raw: bytes) -> tuple[bytes, bool]:
    """MD5 and whether the Adler-32 matches, from a 36-byte hash payload."""
    return raw[:16], checksum_ok(raw, HASH_DATA_SIZE - 4)
