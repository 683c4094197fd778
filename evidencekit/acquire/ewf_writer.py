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
memory stays bounded whatever the media size.

Every byte goes to each segment file once, in file order: a sectors section's chunks are held in
memory (at most SECTION_SPAN bytes) until the section closes, then written after their
descriptor, whose size is by then known. So the files can be hashed as they are written
(`output_digests`), with no seek back and no second read.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import queue
import struct
import unicodedata
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from isal import isal_zlib

from evidencekit import __version__
from evidencekit.acquire.writers import write_error
from evidencekit.errors import AcquisitionError, UsageError
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.parts import PartHasher

log = logging.getLogger(__name__)

FILE_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
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
# The most a sectors section (descriptor + chunks) holds; we keep it in memory until it closes.
# 16 MiB: 512 raw 32 KiB chunks or more compressed ones per table. ewfacquire writes fewer,
# larger sections; libewf, EnCase and The Sleuth Kit read any number of them. It must stay below
# 2 GiB: table entries are 31-bit offsets from the section's start. Segments may be larger
# (EnCase 6.7+).
SECTION_SPAN = 16 << 20
_IOV_MAX = 1024
MIN_SEGMENT_SIZE = 1 << 20
ERROR2_ALLOWANCE = 512
DEFAULT_SEGMENT_SIZE = 2 << 30

COMPRESSION_MODES = ("none", "empty", "fast", "best")
# volume section "compression level" byte: 0 none, 1 fast/good, 2 best.
_VOLUME_COMPRESSION = {"none": 0, "empty": 0, "fast": 1, "best": 2}
MEDIA_TYPES = {"removable": 0x00, "fixed": 0x01, "optical": 0x03, "memory": 0x10}
MEDIA_FLAG_IMAGE = 0x01
MEDIA_FLAG_PHYSICAL = 0x02

# header2 "main" keys in the order EnCase 6 / ewfacquire write them.
_HEADER2_KEYS = ("a", "c", "n", "e", "t", "md", "sn", "av", "ov", "m", "u", "p", "dc")
_HEADER_KEYS = ("c", "n", "a", "e", "t", "av", "ov", "m", "u", "p")
_HEADER2_TAIL = (
    "srce\n0\t1\np\tn\tid\tev\ttb\tlo\tpo\tah\tgu\taq\n0\t0\n\t\t\t\t\t-1\t-1\t\t\t\n\n"
    "sub\n0\t1\np\tn\tid\tnu\tco\tgu\n0\t0\n\t\t\t\t1\t\n\n"
)
_BATCH_BYTES = 1 << 20
_SAMPLE = 2048


def adler32(data: bytes | bytearray | memoryview) -> int:
    """Adler-32 (ISA-L's SIMD version: about 5x zlib's on 32 KiB)."""
    return int(isal_zlib.adler32(data)) & 0xFFFFFFFF


def descriptor(kind: str, offset: int, next_offset: int | None, size: int) -> bytes:
    """The 76-byte section descriptor; `next_offset` None means "points to itself" (next/done)."""
    head = struct.pack(
        "<16sQQ40x",
        kind.encode("ascii"),
        offset if next_offset is None else next_offset,
        size,
    )
    return head + struct.pack("<I", adler32(head))


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


def _clean(text: str) -> str:
    # Tabs and line ends separate the header's fields and lines: they cannot be in a value.
    return " ".join(unicodedata.normalize("NFC", text).replace("\t", " ").splitlines())


def _ascii(text: str) -> str:
    """The header section is ASCII: Vietnamese keeps its letters without the marks there
    (header2, which every reader prefers, keeps the exact UTF-16 text)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.encode("ascii", "replace").decode("ascii")


@dataclass(frozen=True, slots=True)
class EwfMetadata:
    """What the header, header2 and volume sections say about the media and the acquisition."""

    case_number: str = ""
    evidence_number: str = ""
    description: str = ""
    examiner: str = ""
    notes: str = ""
    acquired: dt.datetime | None = None
    system_date: dt.datetime | None = None
    os: str = field(default_factory=platform.system)
    software_version: str = f"ek {__version__}"
    media_type: str = "fixed"
    is_physical: bool = True
    bytes_per_sector: int = 512
    sectors_per_chunk: int = 64
    error_granularity: int | None = None
    model: str = ""
    serial_number: str = ""

    @property
    def chunk_size(self) -> int:
        return self.bytes_per_sector * self.sectors_per_chunk

    def to_dict(self) -> dict[str, object]:
        return {
            "case_number": self.case_number,
            "evidence_number": self.evidence_number,
            "description": self.description,
            "examiner": self.examiner,
            "notes": self.notes,
            "acquired": self.acquired.isoformat() if self.acquired else None,
            "system_date": self.system_date.isoformat() if self.system_date else None,
            "os": self.os,
            "software_version": self.software_version,
            "media_type": self.media_type,
            "is_physical": self.is_physical,
            "bytes_per_sector": self.bytes_per_sector,
            "sectors_per_chunk": self.sectors_per_chunk,
            "error_granularity": self.error_granularity or self.sectors_per_chunk,
            "model": self.model,
            "serial_number": self.serial_number,
        }

    def check(self) -> None:
        """Raises UsageError for values EWF cannot hold."""
        if self.media_type not in MEDIA_TYPES:
            raise UsageError(
                f"unknown E01 media type {self.media_type!r}",
                hint=f"use one of {', '.join(MEDIA_TYPES)}",
            )
        if self.bytes_per_sector not in (512, 1024, 2048, 4096):
            raise UsageError(f"unsupported bytes per sector {self.bytes_per_sector} for E01")
        if self.sectors_per_chunk not in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192):
            raise UsageError(f"unsupported sectors per chunk {self.sectors_per_chunk} for E01")


def _epoch(value: dt.datetime | None) -> str:
    return str(int(value.timestamp())) if value is not None else ""


def header2_bytes(meta: EwfMetadata) -> bytes:
    """header2: UTF-16LE with BOM, EnCase 6 layout (main, srce, sub categories)."""
    now = dt.datetime.now(dt.UTC)
    values = (
        meta.description,
        meta.case_number,
        meta.evidence_number,
        meta.examiner,
        meta.notes,
        meta.model,
        meta.serial_number,
        meta.software_version[:11],
        meta.os[:23],
        _epoch(meta.acquired or now),
        _epoch(meta.system_date or now),
        "0",
        "",
    )
    text = (
        "3\nmain\n"
        + "\t".join(_HEADER2_KEYS)
        + "\n"
        + "\t".join(_clean(v) for v in values)
        + "\n\n"
        + _HEADER2_TAIL
    )
    return b"\xff\xfe" + text.encode("utf-16-le")


def _header_date(value: dt.datetime | None) -> str:
    v = (value or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{v.year} {v.month} {v.day} {v.hour} {v.minute} {v.second}"


def header_bytes(meta: EwfMetadata) -> bytes:
    """header: ASCII, CRLF lines, dates as 'Y M D h m s' (written in UTC)."""
    values = (
        meta.case_number,
        meta.evidence_number,
        meta.description,
        meta.examiner,
        meta.notes,
        meta.software_version[:11],
        meta.os[:23],
        _header_date(meta.acquired),
        _header_date(meta.system_date),
        "0",
    )
    text = (
        "1\r\nmain\r\n"
        + "\t".join(_HEADER_KEYS)
        + "\r\n"
        + "\t".join(_ascii(_clean(v)) for v in values)
        + "\r\n\r\n"
    )
    return text.encode("ascii")


def volume_bytes(
    meta: EwfMetadata, chunk_count: int, sector_count: int, compression: str, guid: bytes
) -> bytes:
    """The 1052-byte volume (segment 1) / data (other segments) section payload."""
    flags = MEDIA_FLAG_IMAGE | (MEDIA_FLAG_PHYSICAL if meta.is_physical else 0)
    body = bytearray(VOLUME_DATA_SIZE - 4)
    struct.pack_into(
        "<B3xIIIQ",
        body,
        0,
        MEDIA_TYPES[meta.media_type],
        chunk_count,
        meta.sectors_per_chunk,
        meta.bytes_per_sector,
        sector_count,
    )
    body[36] = flags
    body[52] = _VOLUME_COMPRESSION[compression]
    struct.pack_into("<I", body, 56, meta.error_granularity or meta.sectors_per_chunk)
    body[64:80] = guid
    return bytes(body) + struct.pack("<I", adler32(body))


def table_bytes(base: int, entries: list[int]) -> bytes:
    """table / table2 payload: header (count, base offset, Adler-32), entries, entries' Adler-32."""
    head = struct.pack("<I4xQ4x", len(entries), base)
    head += struct.pack("<I", adler32(head))
    array = struct.pack(f"<{len(entries)}I", *entries)
    return head + array + struct.pack("<I", adler32(array))


def error2_bytes(extents: list[tuple[int, int]]) -> bytes:
    head = bytearray(ERROR2_HEADER_SIZE - 4)
    struct.pack_into("<I", head, 0, len(extents))
    array = b"".join(struct.pack("<II", start, count) for start, count in extents)
    return (
        bytes(head) + struct.pack("<I", adler32(head)) + array + struct.pack("<I", adler32(array))
    )


def digest_bytes(md5: bytes, sha1: bytes) -> bytes:
    body = md5 + sha1 + bytes(40)
    return body + struct.pack("<I", adler32(body))


def hash_bytes(md5: bytes) -> bytes:
    body = md5 + bytes(16)
    return body + struct.pack("<I", adler32(body))


# A stored chunk: the pieces written back to back, and whether it is a zlib stream.
_Stored = tuple[tuple[bytes | memoryview, ...], bool]


def _compressor(mode: str) -> Callable[[bytes | memoryview], bytes] | None:
    if mode == "fast":
        return lambda data: isal_zlib.compress(data, 1)
    if mode == "best":
        return lambda data: zlib.compress(data, 9)
    if mode == "empty":
        return lambda data: zlib.compress(data, 9)
    return None


class _ChunkEncoder:
    """Turns a batch of whole chunks into stored chunks (runs in the pool's threads)."""

    def __init__(self, mode: str, chunk_size: int) -> None:
        self.mode = mode
        self.chunk_size = chunk_size
        self._compress = _compressor(mode)
        self._zero = bytes(chunk_size)
        self._zero_cache: dict[int, bytes] = {}

    def _zero_chunk(self, length: int) -> bytes:
        cached = self._zero_cache.get(length)
        if cached is None:
            cached = zlib.compress(bytes(length), 9)
            self._zero_cache[length] = cached
        return cached

    def _incompressible(self, chunk: memoryview) -> bool:
        """True when a sample from the start and one from the end of the chunk do not shrink
        (random, encrypted or already compressed data): deflating the whole chunk would be
        wasted work, its output would be larger and the chunk stored raw anyway."""
        if self.mode != "fast" or len(chunk) < 4 * _SAMPLE:
            return False
        # ISA-L level 0 costs ~6 us per 2 KiB sample (level 1: ~19 us, a whole 32 KiB chunk
        # ~47 us). On the benchmark's mixed source it misjudges 0.7 % of the chunks it skips,
        # +0.3 % output, for a third less compression CPU.
        limit = _SAMPLE - _SAMPLE // 64
        return (
            len(isal_zlib.compress(chunk[:_SAMPLE], 0)) >= limit
            and len(isal_zlib.compress(chunk[-_SAMPLE:], 0)) >= limit
        )

    def encode(self, blob: bytearray, length: int) -> tuple[bytearray, list[_Stored]]:
        """Encode blob[:length] (whole chunks, the last one may be short); returns the blob too,
        so the writer can reuse it once the stored chunks (which may point into it) are written."""
        out: list[_Stored] = []
        view = memoryview(blob)[:length]
        size = self.chunk_size
        compress = self._compress
        for start in range(0, length, size):
            chunk = view[start : start + size]
            n = len(chunk)
            if compress is not None:
                # a memcmp in place (slicing would copy; memoryviews compare element-wise)
                if blob.startswith(self._zero if n == size else bytes(n), start):
                    out.append(((self._zero_chunk(n),), True))
                    continue
                if self.mode != "empty" and not self._incompressible(chunk):
                    packed = compress(chunk)
                    if len(packed) < n:
                        out.append(((packed,), True))
                        continue
            out.append(((chunk, struct.pack("<I", adler32(chunk))), False))
        return blob, out


class _Segment:
    def __init__(self, path: Path, number: int, tee: PartHasher | None) -> None:
        self.path = path
        self.number = number
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.pos = 0
        self.chunks = 0
        self.tee = tee

    def write(self, *pieces: bytes | memoryview, release: Callable[[], None] | None = None) -> None:
        """Append the pieces; `release()` once they may change (after hashing, if hashed)."""
        total = 0
        try:
            for i in range(0, len(pieces), _IOV_MAX):
                group = pieces[i : i + _IOV_MAX]
                want = sum(len(p) for p in group)
                done = os.writev(self.fd, group) if len(group) > 1 else os.write(self.fd, group[0])
                if done != want:  # short write: finish it piece by piece
                    data = b"".join(group)[done:]
                    while data:
                        n = os.write(self.fd, data)
                        data = data[n:]
                total += want
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        self.pos += total
        if self.tee is not None:
            self.tee.update(*pieces, release=release)
        elif release is not None:
            release()

    def section(self, kind: str, payload: bytes, *, last: bool = False) -> None:
        """Write a section whose size is known; `last` = next/done (points to itself, size 0)."""
        if last:
            self.write(descriptor(kind, self.pos, None, 0))
            return
        size = DESCRIPTOR_SIZE + len(payload)
        self.write(descriptor(kind, self.pos, self.pos + size, size), payload)

    def close(self, sync: bool) -> None:
        if self.fd < 0:
            return
        try:
            if sync:
                os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = -1


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
        self._encoder = _ChunkEncoder(compression, self.chunk_size)
        count = workers or min(8, os.cpu_count() or 1)
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="ewf-compress")
        self._inflight: deque[Future[tuple[bytearray, list[_Stored]]]] = deque()
        self._free: list[bytearray] = []
        self._batch = max(1, _BATCH_BYTES // self.chunk_size) * self.chunk_size
        self._max_inflight = 2 * count + 1
        self._pending = bytearray()
        self._written = 0
        self._chunks = 0
        self._errors: list[tuple[int, int]] = []
        self._paths: list[Path] = []
        self._segment: _Segment | None = None
        # The open sectors section's chunks, copied into a recycled buffer (the blobs they come
        # from are reused at once); a few buffers, so memory stays bounded.
        self._section_size = max(SECTION_SPAN, DESCRIPTOR_SIZE + self.chunk_size + 4)
        self._section_free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._section_buffers = 0
        self._section: bytearray | None = None
        self._section_bytes = 0
        self._entries: list[int] = []
        self._done = False
        self._tee = PartHasher(output_digests) if output_digests else None
        self._output_digests: list[dict[str, str]] | None = None
        try:
            self._open_segment()
        except BaseException:
            self._pool.shutdown(wait=False)
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
        size = self.chunk_size
        if self._pending:
            take = min(len(view), size - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < size:
                return
            self._submit(memoryview(self._pending))
            self._pending = bytearray()
        whole = len(view) - len(view) % size
        for start in range(0, whole, self._batch):
            self._submit(view[start : min(whole, start + self._batch)])
        if len(view) > whole:
            self._pending += view[whole:]

    consume = write

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
            if self._pending:
                self._submit(memoryview(self._pending))
                self._pending = bytearray()
            while self._inflight:
                self._store(*self._inflight.popleft().result())
            seg = self._segment
            assert seg is not None
            self._close_sectors()
            if self._errors:
                extents = _merge(self._errors)
                # error2 holds 32-bit sector numbers: extents past 2 TiB (512-byte sectors) are
                # only in the seal, the log and the map.
                kept = [(a, min(n, 0xFFFFFFFF - a)) for a, n in extents if a < 0xFFFFFFFF]
                if len(kept) != len(extents) or kept != extents:
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
            self._pool.shutdown(wait=True)
        self._done = True
        return self.paths

    def abort(self) -> list[Path]:
        """Stop: drop queued work, close files (left without a done section); return them."""
        for fut in self._inflight:
            fut.cancel()
        self._inflight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)
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

    def _submit(self, view: memoryview) -> None:
        # Copy into a recycled buffer: a fresh 1 MiB allocation per batch costs page faults
        # (the kernel zeroes every page) worth more CPU than the copy itself.
        blob = self._free.pop() if self._free else bytearray(self._batch)
        blob[: len(view)] = view
        self._inflight.append(self._pool.submit(self._encoder.encode, blob, len(view)))
        while len(self._inflight) > self._max_inflight or (
            self._inflight and self._inflight[0].done()
        ):
            self._store(*self._inflight.popleft().result())

    def _volume(self, total: int) -> bytes:
        chunks = -(-total // self.chunk_size)
        return volume_bytes(
            self.meta, chunks, total // self.meta.bytes_per_sector, self.compression, self.guid
        )

    def _open_segment(self) -> None:
        number = len(self._paths) + 1
        path = self.base_path.with_name(f"{self.base_path.name}.{segment_extension(number)}")
        try:
            seg = _Segment(path, number, self._tee)
        except OSError as exc:
            raise AcquisitionError(
                f"cannot create E01 segment {path}: {exc.strerror or exc}",
                hint="the item folder must be writable and must not hold an earlier image",
            ) from exc
        self._paths.append(path)
        self._segment = seg
        seg.write(FILE_SIGNATURE + struct.pack("<BHH", 1, number, 0))
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
        table = DESCRIPTOR_SIZE + TABLE_HEADER_SIZE + 4 * entries + 4
        tail = DESCRIPTOR_SIZE * 3 + DIGEST_DATA_SIZE + HASH_DATA_SIZE
        # error2 room: the imager reports unreadable extents after the pump, so keep space for
        # ERROR2_ALLOWANCE of them beyond those known now (more may make the last segment
        # exceed the segment size by 8 bytes each).
        extents = len(self._errors) + ERROR2_ALLOWANCE
        tail += DESCRIPTOR_SIZE + ERROR2_HEADER_SIZE + 8 * extents + 4
        return 2 * table + tail

    def _store(self, blob: bytearray, stored: list[_Stored]) -> None:
        self._write_chunks(stored)
        self._free.append(blob)

    def _write_chunks(self, stored: list[_Stored]) -> None:
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
            buf = self._section if self._section is not None else self._take_section()
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
        free = self._section_free
        seg.write(
            descriptor("sectors", start, start + size, size),
            memoryview(buf)[: self._section_bytes],
            release=lambda: free.put(buf),
        )
        table = table_bytes(start, self._entries)
        seg.section("table", table)
        seg.section("table2", table)
        self._section_bytes = 0
        self._entries = []

    def _take_section(self) -> bytearray:
        """A free section buffer: a new one while fewer than three exist, else wait for one."""
        try:
            return self._section_free.get_nowait()
        except queue.Empty:
            pass
        if self._section_buffers < 3:
            self._section_buffers += 1
            return bytearray(self._section_size)
        return self._section_free.get()  # the hashing threads release them

    def _patch_volumes(self) -> None:
        """The media turned out shorter/longer than announced: fix every volume/data section."""
        payload = self._volume(self._written)
        for path in self._paths:
            first = path == self._paths[0]
            # segment 1: header2 ×2 and header come first; walk the descriptors to the volume.
            with open(path, "r+b") as fh:
                offset = 13
                while True:
                    fh.seek(offset)
                    desc = fh.read(DESCRIPTOR_SIZE)
                    kind = desc[:16].rstrip(b"\0").decode("ascii", "replace")
                    next_offset = struct.unpack_from("<Q", desc, 16)[0]
                    if kind in ("volume", "data"):
                        fh.seek(offset + DESCRIPTOR_SIZE)
                        fh.write(payload)
                        break
                    if not first or next_offset <= offset:
                        break
                    offset = next_offset
                fh.flush()
                os.fsync(fh.fileno())


def _merge(extents: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, count in sorted(extents):
        if merged and start <= merged[-1][0] + merged[-1][1]:
            last_start, last_count = merged[-1]
            merged[-1] = (last_start, max(last_count, start + count - last_start))
        else:
            merged.append((start, count))
    return merged
