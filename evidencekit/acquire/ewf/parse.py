"""The section walk of an E01 segment set: geometry, header values, chunk map, stored digests.

Every section descriptor's and structure's Adler-32 is checked and every offset bounds-checked;
section walks only move forward, so a truncated or corrupt file gives an `EwfFormatError` naming
the file and offset, never a hang. A damaged table is read from its table2 mirror, and
differences that do not stop reading (a table2 that differs, a bad digest checksum …) are listed
as problems. The byte layouts are in `format`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path

from evidencekit.acquire.ewf.format import (
    COMPRESSED_FLAG,
    DESCRIPTOR_SIZE,
    DIGEST_DATA_SIZE,
    ERROR2_HEADER_SIZE,
    FILE_HEADER_SIZE,
    HASH_DATA_SIZE,
    MEDIA_TYPES,
    OFFSET_MASK,
    TABLE_HEADER_SIZE,
    VOLUME_DATA_SIZE,
    Volume,
    descriptor_ok,
    file_header_number,
    segment_extension,
    table_entries,
    table_header,
    unpack_descriptor,
    unpack_digest,
    unpack_error2,
    unpack_hash,
    volume_ok,
)
from evidencekit.acquire.ewf.info import Chunk, EwfFormatError, EwfInfo
from evidencekit.acquire.ewf.metadata import parse_header_text

_MAX_HEADER = 16 << 20  # a header/header2 section larger than this is not a header
_MAX_CHUNK = 64 << 20
_MEDIA_TYPE_NAMES = {v: k for k, v in MEDIA_TYPES.items()}
_MAX_TABLE = 64 << 20  # table/table2/error2 bodies: far above any real one (16375 entries)

# pread(segment index, length, offset): the caller's reader, which keeps few files open.
PRead = Callable[[int, int, int], bytes]


def segment_paths(first: Path) -> list[Path]:
    """The existing segment files of the set that `first` (the .E01) starts.

    Raises:
        EwfFormatError: `first` does not exist.
    """
    first = Path(first)
    if not first.is_file():
        raise EwfFormatError(f"E01 file {first} does not exist", hint="give the .E01 segment")
    if first.suffix.upper() != ".E01":
        return [first]
    lower = first.suffix == ".e01"
    paths = [first]
    number = 2
    while True:
        ext = segment_extension(number)
        candidate = first.with_suffix("." + (ext.lower() if lower else ext))
        if not candidate.is_file():
            return paths
        paths.append(candidate)
        number += 1


def parse_segments(paths: list[Path], pread: PRead) -> tuple[EwfInfo, list[Chunk], list[str]]:
    """Walk every segment's sections: what they say, the chunk map, and the problems that do not
    stop reading (a table2 that differs, a digest checksum …).

    Raises:
        EwfFormatError: a segment is missing, truncated or corrupt where the chunk map lives.
        OSError: a segment file cannot be read.
    """
    walk = _Walk(paths, pread)
    walk.parse()
    return walk.info, walk.chunks, walk.problems


class _Walk:
    """One walk over a set's sections, collecting what they say."""

    def __init__(self, paths: list[Path], pread: PRead) -> None:
        self.paths = paths
        self._pread = pread
        self.info = EwfInfo()
        self.chunks: list[Chunk] = []
        self.problems: list[str] = []

    def _fail(self, seg: int, offset: int, what: str) -> EwfFormatError:
        return EwfFormatError(
            f"E01 {self.paths[seg].name} is corrupt or truncated at offset {offset}: {what}",
            hint="the segment files were damaged or are incomplete; use another copy",
        )

    def _read(self, seg: int, offset: int, length: int, file_size: int, what: str) -> bytes:
        if offset < 0 or length < 0 or offset + length > file_size:
            raise self._fail(seg, offset, f"{what} extends past the end of the file")
        data = self._pread(seg, length, offset)
        if len(data) != length:
            raise self._fail(seg, offset, f"short read of {what}")
        return data

    def parse(self) -> None:
        have_volume = False
        done = False
        for seg, path in enumerate(self.paths):
            if done:
                self.problems.append(f"{path.name}: segment after the one with the done section")
                break
            file_size = path.stat().st_size
            head = self._read(seg, 0, FILE_HEADER_SIZE, file_size, "file header")
            number = file_header_number(head)
            if number is None:
                raise self._fail(seg, 0, "not an EWF (E01) file header")
            if number != seg + 1:
                raise self._fail(seg, 9, f"segment number {number}, expected {seg + 1}")
            offset = FILE_HEADER_SIZE
            sectors: tuple[int, int] | None = None
            last_table: bytes | None = None
            broken: EwfFormatError | None = None  # a damaged table, until its table2 is read
            while True:
                desc = self._read(seg, offset, DESCRIPTOR_SIZE, file_size, "section descriptor")
                if not descriptor_ok(desc):
                    raise self._fail(seg, offset, "section descriptor checksum mismatch")
                kind, next_offset, size = unpack_descriptor(desc)
                if broken is not None and kind != "table2":
                    raise broken
                if kind in ("next", "done"):
                    done = kind == "done"
                    break
                if next_offset <= offset or next_offset > file_size:
                    raise self._fail(seg, offset, f"{kind} section points to offset {next_offset}")
                end = offset + size if size else next_offset
                if end > file_size or end < offset + DESCRIPTOR_SIZE:
                    raise self._fail(seg, offset, f"{kind} section size {size}")
                body_len = end - offset - DESCRIPTOR_SIZE
                data_at = offset + DESCRIPTOR_SIZE
                if kind in ("header", "header2"):
                    if not self.info.header or kind == "header2":
                        raw = self._read(seg, data_at, min(body_len, _MAX_HEADER), file_size, kind)
                        self._header(seg, offset, kind, raw)
                elif kind in ("volume", "disk", "data"):
                    raw = self._read(seg, data_at, min(body_len, VOLUME_DATA_SIZE), file_size, kind)
                    if not have_volume:
                        self._volume(seg, offset, raw)
                        have_volume = True
                elif kind == "sectors":
                    sectors = (data_at, end)
                elif kind in ("table", "table2"):
                    if not have_volume:
                        raise self._fail(seg, offset, "table before the volume section")
                    if body_len > _MAX_TABLE:
                        raise self._fail(seg, offset, f"{kind} section of {body_len} bytes")
                    raw = self._read(seg, data_at, body_len, file_size, kind)
                    if kind == "table2" and last_table is not None:
                        if raw[: len(last_table)] != last_table:
                            self.problems.append(
                                f"{path.name} offset {offset}: table2 differs from table"
                            )
                        last_table = None
                    elif kind == "table2" and broken is not None:
                        # the table was damaged: its mirror copy is what table2 is for
                        self._table(seg, offset, raw, sectors)
                        self.problems.append(f"{broken.message}; read table2 instead")
                        broken = None
                    else:
                        if broken is not None:
                            raise broken
                        try:
                            self._table(seg, offset, raw, sectors)
                            last_table = raw
                        except EwfFormatError as exc:
                            if kind != "table":
                                raise
                            broken, last_table = exc, None
                elif kind == "error2":
                    if body_len > _MAX_TABLE:
                        raise self._fail(seg, offset, f"{kind} section of {body_len} bytes")
                    raw = self._read(seg, data_at, body_len, file_size, kind)
                    self._error2(seg, offset, raw)
                elif kind in ("digest", "hash"):
                    need = DIGEST_DATA_SIZE if kind == "digest" else HASH_DATA_SIZE
                    raw = self._read(seg, data_at, min(body_len, need), file_size, kind)
                    self._stored_digests(seg, offset, kind, raw, need)
                offset = next_offset
            if not done and seg == len(self.paths) - 1:
                nxt = segment_extension(seg + 2)
                raise EwfFormatError(
                    f"E01 set {self.paths[0].name} is incomplete: segment .{nxt} is missing "
                    f"(or {path.name} was not finished)",
                    hint="copy every segment file of the set into the same folder",
                )
        if not have_volume:
            raise EwfFormatError(f"E01 {self.paths[0].name} has no volume section")
        info = self.info
        expected = -(-info.media_size // info.chunk_size) if info.chunk_size else 0
        if len(self.chunks) != expected:
            raise EwfFormatError(
                f"E01 {self.paths[0].name}: tables list {len(self.chunks)} chunks, the volume "
                f"section {expected} ({info.media_size} bytes)",
                hint="the set is incomplete or corrupt",
            )

    def _stored_digests(self, seg: int, offset: int, kind: str, raw: bytes, need: int) -> None:
        """The MD5 (and SHA-1) a digest or hash section stores; a damaged one is a problem."""
        where = f"{self.paths[seg].name} offset {offset}: {kind}"
        if len(raw) < need:
            self.problems.append(f"{where} too short")
            return
        if kind == "digest":
            md5, sha1, ok = unpack_digest(raw)
            self.info.md5 = md5.hex()
            self.info.sha1 = sha1.hex() if any(sha1) else None
            found = [("md5", md5)] + ([("sha1", sha1)] if any(sha1) else [])
        else:
            md5, ok = unpack_hash(raw)
            if self.info.md5 is None:
                self.info.md5 = md5.hex()
            found = [("md5", md5)]
        for algo, value in found:
            if any(value):  # all zeros: the writer stored no digest there
                self.info.stored.append((algo, f"{kind} section", value.hex()))
        if not ok:
            self.problems.append(f"{where} checksum")

    def _header(self, seg: int, offset: int, kind: str, raw: bytes) -> None:
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(raw, _MAX_HEADER)
        except zlib.error as exc:
            self.problems.append(f"{self.paths[seg].name} offset {offset}: {kind}: {exc}")
            return
        values = parse_header_text(text, kind == "header2")
        if values:
            self.info.header = values

    def _volume(self, seg: int, offset: int, raw: bytes) -> None:
        if len(raw) < VOLUME_DATA_SIZE:
            raise self._fail(seg, offset, "volume section too short (not an EnCase 2+ image)")
        if not volume_ok(raw):
            raise self._fail(seg, offset, "volume section checksum mismatch")
        info = self.info
        volume = Volume.unpack(raw)
        info.chunk_count = volume.chunk_count
        info.sectors_per_chunk = volume.sectors_per_chunk
        info.bytes_per_sector = volume.bytes_per_sector
        info.sector_count = volume.sector_count
        media = volume.media_type
        info.media_type = _MEDIA_TYPE_NAMES.get(media, f"0x{media:02x}")
        info.media_flags = volume.media_flags
        info.compression_level = volume.compression_level
        info.error_granularity = volume.error_granularity
        info.guid = volume.guid
        if not (0 < info.chunk_size <= _MAX_CHUNK) or info.bytes_per_sector == 0:
            raise self._fail(
                seg,
                offset,
                f"{info.sectors_per_chunk} sectors per chunk of {info.bytes_per_sector} bytes",
            )

    def _table(self, seg: int, offset: int, raw: bytes, sectors: tuple[int, int] | None) -> None:
        if len(raw) < TABLE_HEADER_SIZE:
            raise self._fail(seg, offset, "table section too short")
        count, base, header_ok = table_header(raw)
        if not header_ok:
            raise self._fail(seg, offset, "table header checksum mismatch")
        if TABLE_HEADER_SIZE + 4 * count > len(raw):
            raise self._fail(seg, offset, f"table of {count} entries does not fit its section")
        entries, footer_ok = table_entries(raw, count)
        if footer_ok is False:
            raise self._fail(seg, offset, "table entries checksum mismatch")
        if sectors is None:
            raise self._fail(seg, offset, "table without a sectors section before it")
        start, end = sectors
        limit = 2 * self.info.chunk_size + 1024
        found: list[Chunk] = []
        for i, entry in enumerate(entries):
            here = base + (entry & OFFSET_MASK)
            there = base + (entries[i + 1] & OFFSET_MASK) if i + 1 < count else end
            stored = there - here
            if here < start or there > end or not 4 < stored <= limit:
                raise self._fail(
                    seg, offset, f"table entry {i} points to {here} (+{stored}) outside its data"
                )
            found.append(
                Chunk(len(self.chunks) + i, seg, here, stored, bool(entry & COMPRESSED_FLAG))
            )
        self.chunks.extend(found)

    def _error2(self, seg: int, offset: int, raw: bytes) -> None:
        if len(raw) < ERROR2_HEADER_SIZE:
            self.problems.append(f"{self.paths[seg].name} offset {offset}: error2 too short")
            return
        header_ok, extents = unpack_error2(raw)
        if not header_ok:
            self.problems.append(f"{self.paths[seg].name} offset {offset}: error2 checksum")
        if extents is None:
            self.problems.append(f"{self.paths[seg].name} offset {offset}: error2 truncated")
            return
        self.info.errors = extents
