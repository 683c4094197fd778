"""A native EnCase-6-style EWF-E01 writer with parallel chunk compression.

Layout, following libewf's "Expert Witness Compression Format (EWF)" document and what
`ewfacquire -f encase6` writes (see docs/e01.md for the section-by-section description):

    segment 1:    header2 header2 header volume (sectors table table2)+ next|…
    segment n>1:  data (sectors table table2)+ next|…
    last segment: … (sectors table table2)+ [error2] digest hash done

Each chunk (sectors_per_chunk × bytes_per_sector, 32 KiB by default) is stored either as a zlib
stream (when that is smaller than the chunk) or raw followed by its Adler-32. Chunks are
compressed in a thread pool (ISA-L's deflate, which releases the GIL and whose output zlib and
libewf read) in batches, with results written in order and at most a few batches in flight, so
memory stays bounded whatever the media size (the encoder is in `encode`).

Every byte goes to each segment file once, in file order: a sectors section's chunks are held in
memory (at most SECTION_SPAN bytes) until the section closes, then written after their
descriptor, whose size is by then known. So the files can be hashed as they are written
(`output_digests`), with no seek back and no second read.

The byte layout of every section is in `format`, the header/volume values in
`metadata`, the segment files and section buffers in `segment`; the names they held here
before are still importable from this module.
"""

from __future__ import annotations

import logging
import os
import uuid
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

from evidencekit.acquire.ewf.encode import ChunkEncoder, EncodePool, Stored
from evidencekit.acquire.ewf.format import (
    COMPRESSED_FLAG,
    COMPRESSION_MODES,
    DESCRIPTOR_SIZE,
    MAX_TABLE_ENTRIES,
    closing_size,
    descriptor,
    digest_bytes,
    error2_bytes,
    error2_extents,
    file_header,
    hash_bytes,
    segment_extension,
    table_bytes,
)
from evidencekit.acquire.ewf.metadata import EwfMetadata, header2_bytes, header_bytes, volume_bytes
from evidencekit.acquire.ewf.segment import SectionBuffers, SegmentFile, patch_volume
from evidencekit.acquire.write_errors import write_error
from evidencekit.errors import AcquisitionError, UsageError
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.parts import PartHasher

log = logging.getLogger(__name__)

_ChunkEncoder = ChunkEncoder  # bench/bench_floor.py times the encoder by this name

# The most a sectors section (descriptor + chunks) holds; we keep it in memory until it closes.
# 16 MiB: 512 raw 32 KiB chunks or more compressed ones per table. ewfacquire writes fewer,
# larger sections; libewf, EnCase and The Sleuth Kit read any number of them. It must stay below
# 2 GiB: table entries are 31-bit offsets from the section's start. Segments may be larger
# (EnCase 6.7+). The tests shrink it, and MAX_TABLE_ENTRIES, through this module's names.
SECTION_SPAN = 16 << 20
MIN_SEGMENT_SIZE = 1 << 20
ERROR2_ALLOWANCE = 512
DEFAULT_SEGMENT_SIZE = 2 << 30


class EwfWriter:
    """Writes one media stream as an E01 segment set: `write()` sequentially, then `finish()`.

    Usable as a pump consumer (`consume` = `write`). Not thread-safe: one caller thread.

    Args:
        base_path: the set's path without extension (`…/ITEM` -> `…/ITEM.E01`, `…/ITEM.E02` …);
            a trailing `.E01` is accepted and dropped.
        segment_size: largest segment file in bytes (≥ 1 MiB).
        compression: none | empty (only all-zero chunks) | fast | best.
        metadata: the header/volume values.
        media_size: bytes that will be written (a multiple of the sector size).
        workers: compression threads (default: CPU count, at most 8).
        output_digests: algorithms to hash each segment file with as it is written; the
            digests are in `output_digests` after `finish()`.

    Raises:
        UsageError: invalid size, mode or metadata.
        AcquisitionError: the first segment file cannot be created (or already exists).
    """

    def __init__(
        self,
        base_path: Path,
        *,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
        compression: str = "fast",
        metadata: EwfMetadata | None = None,
        media_size: int,
        workers: int | None = None,
        output_digests: Sequence[str] = (),
    ) -> None:
        meta = metadata or EwfMetadata()
        meta.check()
        if compression not in COMPRESSION_MODES:
            raise UsageError(
                f"unknown E01 compression {compression!r}",
                hint="use none, empty, fast or best",
            )
        if media_size < 0 or media_size % meta.bytes_per_sector:
            raise UsageError(
                f"media size {media_size} is not a whole number of "
                f"{meta.bytes_per_sector}-byte sectors: E01 stores whole sectors",
                hint="acquire it as raw instead",
            )
        if -(-media_size // meta.chunk_size) > 0xFFFFFFFF:
            raise UsageError(
                f"media of {media_size} bytes has more chunks than E01 can count",
                hint="use more sectors per chunk, or raw",
            )
        smallest = max(MIN_SEGMENT_SIZE, 4 * meta.chunk_size)
        if segment_size < smallest:
            raise UsageError(
                f"E01 segment size {segment_size} is too small (at least {smallest} bytes)"
            )
        path = Path(base_path)
        if path.suffix.upper() == ".E01":
            path = path.with_suffix("")
        self.base_path = path
        self.meta = meta
        self.segment_size = segment_size
        self.compression = compression
        self.media_size = media_size
        self.chunk_size = meta.chunk_size
        self.guid = uuid.uuid4().bytes
        count = workers or min(8, os.cpu_count() or 1)
        encoder = ChunkEncoder(compression, self.chunk_size)
        self._encoding = EncodePool(encoder, count, self._write_chunks)
        self._written = 0
        self._chunks = 0
        self._errors: list[tuple[int, int]] = []
        self._paths: list[Path] = []
        self._segment: SegmentFile | None = None
        # The open sectors section's chunks, copied into a recycled buffer.
        self._buffers = SectionBuffers(max(SECTION_SPAN, DESCRIPTOR_SIZE + self.chunk_size + 4))
        self._section: bytearray | None = None
        self._section_bytes = 0
        self._entries: list[int] = []
        self._done = False
        self._tee = PartHasher(output_digests) if output_digests else None
        self._output_digests: list[dict[str, str]] | None = None
        try:
            self._open_segment()
        except BaseException:
            self._encoding.shutdown(wait=False)
            if self._tee is not None:
                self._tee.abort()
            raise

    # -- public API -------------------------------------------------------------------------

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    @property
    def output_digests(self) -> list[dict[str, str]] | None:
        """Each segment file's digests (`output_digests` algorithms), after `finish()`; None
        when not asked for, or when a file was patched after being written (then read it)."""
        return self._output_digests

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append media bytes (any length). Raises AcquisitionError on a write error."""
        view = memoryview(data).cast("B")
        self._written += len(view)
        self._encoding.write(view)

    consume = write

    @property
    def max_held(self) -> int:
        """Pump hook: the most buffers `hold` keeps at once (the pump adds that many)."""
        return self._encoding.max_held

    def hold(self, buffer: bytearray, length: int, release: Callable[[], None]) -> None:
        """Pump hook: `write(buffer[:length])` without copying it; `release()` once done."""
        self._written += length
        self._encoding.hold(buffer, length, release)

    def close(self) -> None:
        """Pump consumer hook: nothing to do until `finish()` brings the digests."""

    def mark_unreadable(self, offset: int, length: int) -> None:
        """Record media bytes [offset, offset+length) as unreadable (error2, in sectors)."""
        if length <= 0:
            return
        bps = self.meta.bytes_per_sector
        start = offset // bps
        end = -(-(offset + length) // bps)
        self._errors.append((start, end - start))

    def finish(self, md5_hex: str, sha1_hex: str | None = None) -> list[Path]:
        """Write the last chunk, tables, error2, digest, hash and done; fsync; return the paths.

        Raises:
            AcquisitionError: on a write error, or when the bytes written are not whole sectors.
        """
        if self._done:
            raise AcquisitionError("E01 writer already finished")
        try:
            md5 = bytes.fromhex(md5_hex)
            sha1 = bytes.fromhex(sha1_hex) if sha1_hex else bytes(20)
            if len(md5) != 16 or len(sha1) != 20:
                raise ValueError("digest length")
        except ValueError as exc:
            raise UsageError(f"invalid MD5/SHA-1 for the E01 hash sections: {md5_hex}") from exc
        if self._written % self.meta.bytes_per_sector:
            self.abort()
            raise AcquisitionError(
                f"E01 media of {self._written} bytes is not a whole number of sectors",
                hint="acquire it as raw instead",
            )
        try:
            self._encoding.drain()
            seg = self._segment
            assert seg is not None
            self._close_sectors()
            if self._errors:
                kept, cut = error2_extents(self._errors)
                if cut:  # those past 2 TiB (512-byte sectors) are in the seal, log and map only
                    log.warning("error2 cannot hold unreadable extents past sector 2^32")
                seg.section("error2", error2_bytes(kept))
            seg.section("digest", digest_bytes(md5, sha1))
            seg.section("hash", hash_bytes(md5))
            seg.section("done", b"", last=True)
            seg.close(sync=True)
            self._segment = None
            if self._tee is not None:
                self._tee.end_part()
                digests = self._tee.close()
                if self._written == self.media_size:
                    self._output_digests = digests
            if self._written != self.media_size:
                self._patch_volumes()
            fsync_dir(self.base_path.parent)
        except OSError as exc:
            self.abort()
            raise write_error(self.base_path.parent, exc) from exc
        except BaseException:
            self.abort()
            raise
        finally:
            self._encoding.shutdown(wait=True)
        self._done = True
        return self.paths

    def abort(self) -> list[Path]:
        """Stop: drop queued work, close files (left without a done section); return them."""
        self._encoding.cancel()
        if self._tee is not None:
            self._tee.abort()
        self._section = None  # chunks of a section never written: the image is incomplete
        if self._segment is not None:
            try:
                self._segment.close(sync=True)
            except OSError as exc:
                log.warning("closing %s after abort: %s", self._segment.path, exc)
            self._segment = None
        self._done = True
        return self.paths

    # -- internals --------------------------------------------------------------------------

    def _volume(self, total: int) -> bytes:
        chunks = -(-total // self.chunk_size)
        return volume_bytes(
            self.meta, chunks, total // self.meta.bytes_per_sector, self.compression, self.guid
        )

    def _open_segment(self) -> None:
        number = len(self._paths) + 1
        path = self.base_path.with_name(f"{self.base_path.name}.{segment_extension(number)}")
        try:
            seg = SegmentFile(path, number, self._tee)
        except OSError as exc:
            raise AcquisitionError(
                f"cannot create E01 segment {path}: {exc.strerror or exc}",
                hint="the item folder must be writable and must not hold an earlier image",
            ) from exc
        self._paths.append(path)
        self._segment = seg
        seg.write(file_header(number))
        if number == 1:
            h2 = zlib.compress(header2_bytes(self.meta), 9)
            seg.section("header2", h2)
            seg.section("header2", h2)
            seg.section("header", zlib.compress(header_bytes(self.meta), 9))
            seg.section("volume", self._volume(self.media_size))
        else:
            seg.section("data", self._volume(self.media_size))

    def _reserve(self, entries: int) -> int:
        """Bytes still needed after the chunks: both tables and the last segment's sections."""
        # error2 room: the imager reports unreadable extents after the pump, so keep space for
        # ERROR2_ALLOWANCE of them beyond those known now (more may make the last segment
        # exceed the segment size by 8 bytes each).
        return closing_size(entries, len(self._errors) + ERROR2_ALLOWANCE)

    def _write_chunks(self, stored: list[Stored]) -> None:
        for pieces, compressed in stored:
            length = sum(len(p) for p in pieces)
            seg = self._segment
            assert seg is not None
            if self._entries and (
                len(self._entries) >= MAX_TABLE_ENTRIES
                or DESCRIPTOR_SIZE + self._section_bytes + length > SECTION_SPAN
            ):
                self._close_sectors()
            # where the chunk will end in the file once its section is written
            end = seg.pos + DESCRIPTOR_SIZE + self._section_bytes + length
            if end + self._reserve(len(self._entries) + 1) > self.segment_size and seg.chunks:
                self._close_sectors()
                seg.section("next", b"", last=True)
                seg.close(sync=True)
                if self._tee is not None:
                    self._tee.end_part()
                self._open_segment()
                seg = self._segment
                assert seg is not None
            entry = DESCRIPTOR_SIZE + self._section_bytes  # from the sectors section's start
            self._entries.append(entry | (COMPRESSED_FLAG if compressed else 0))
            buf = self._section if self._section is not None else self._buffers.take()
            self._section = buf
            pos = self._section_bytes
            for piece in pieces:
                buf[pos : pos + len(piece)] = piece
                pos += len(piece)
            self._section_bytes = pos
            seg.chunks += 1
            self._chunks += 1

    def _close_sectors(self) -> None:
        seg = self._segment
        assert seg is not None
        if not self._entries:
            return
        start = seg.pos
        size = DESCRIPTOR_SIZE + self._section_bytes
        buf = self._section
        assert buf is not None
        self._section = None
        buffers = self._buffers
        seg.write(
            descriptor("sectors", start, start + size, size),
            memoryview(buf)[: self._section_bytes],
            release=lambda: buffers.release(buf),
        )
        table = table_bytes(start, self._entries)
        seg.section("table", table)
        seg.section("table2", table)
        self._section_bytes = 0
        self._entries = []

    def _patch_volumes(self) -> None:
        """The media turned out shorter/longer than announced: fix every volume/data section."""
        payload = self._volume(self._written)
        for path in self._paths:
            patch_volume(path, payload, first=path == self._paths[0])
