"""The E01 chunk encoder: media chunks to what a sectors section stores, in a thread pool.

Each chunk (sectors_per_chunk × bytes_per_sector, 32 KiB by default) is stored either as a zlib
stream (when that is smaller than the chunk) or raw followed by its Adler-32. `EncodePool` runs
the encoder on batches in threads (ISA-L's deflate releases the GIL, and zlib and libewf read its
output) and hands the results on in order, with at most a few batches in flight.
"""

from __future__ import annotations

import struct
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from isal import isal_zlib

from evidencekit.acquire.ewf.format import adler32

_SAMPLE = 1024
_RANDOM_OUTPUT = 2 * _SAMPLE * 1245 // 1000  # ISA-L level 0 on random: ~1.28x
_BATCH_BYTES = 1 << 20


# A stored chunk: the pieces written back to back, and whether it is a zlib stream.
Stored = tuple[tuple[bytes | memoryview, ...], bool]


def compressor(mode: str) -> Callable[[bytes | memoryview], bytes] | None:
    """The whole-chunk deflate of a compression mode; None for "none" (chunks stored raw)."""
    if mode == "fast":
        return lambda data: isal_zlib.compress(data, 1)
    if mode == "best":
        return lambda data: zlib.compress(data, 9)
    if mode == "empty":
        return lambda data: zlib.compress(data, 9)
    return None


class ChunkEncoder:
    """Turns a batch of whole chunks into stored chunks (runs in the pool's threads)."""

    def __init__(self, mode: str, chunk_size: int) -> None:
        self.mode = mode
        self.chunk_size = chunk_size
        self._compress = compressor(mode)
        self._zero = bytes(chunk_size)
        self._zero_cache: dict[int, bytes] = {}

    def _zero_chunk(self, length: int) -> bytes:
        cached = self._zero_cache.get(length)
        if cached is None:
            cached = zlib.compress(bytes(length), 9)
            self._zero_cache[length] = cached
        return cached

    def _incompressible(self, chunk: memoryview) -> bool:
        """True when samples from the start and the end of the chunk do not shrink (random,
        encrypted or already compressed data): deflating the whole chunk would be wasted work,
        its output would be larger and the chunk stored raw anyway."""
        if self.mode != "fast" or len(chunk) < 4 * _SAMPLE:
            return False
        # One ISA-L level-0 call on both samples together (~8 us; every call costs ~4 us before
        # any byte). Level 0 turns random bytes into ~1.28x their size and compressible ones
        # mostly into far less: the limit sits just under the random output. On the benchmark's
        # mixed source the encoder then takes 1.41 CPU s (1.63 with two 2 KiB samples) and the
        # output is 0.04 % above deflating every chunk. Were a later ISA-L to store random
        # samples (~1.0x), nothing would be skipped: slower, never larger.
        sample = bytes(chunk[:_SAMPLE]) + bytes(chunk[-_SAMPLE:])
        return len(isal_zlib.compress(sample, 0)) >= _RANDOM_OUTPUT

    def encode(self, blob: bytearray, length: int) -> list[Stored]:
        """Encode blob[:length] (whole chunks, the last one may be short). Raw chunks are views
        into `blob`: it must not change until they are written."""
        out: list[Stored] = []
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
        return out


class EncodePool:
    """Cuts media bytes into batches of whole chunks, encodes them in a thread pool and hands the
    stored chunks to `sink` in order, with at most a few batches in flight, so memory stays
    bounded whatever the media size.

    `write` copies the bytes into recycled batch buffers; `hold` encodes a caller's buffer in
    place (no copy) and calls its `release` once the sink has taken the stored chunks, which may
    point into it.

    Not thread-safe: one caller thread, in which `sink` runs too.
    """

    def __init__(
        self, encoder: ChunkEncoder, workers: int, sink: Callable[[list[Stored]], None]
    ) -> None:
        self._encoder = encoder
        self._sink = sink
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ewf-compress")
        self._inflight: deque[tuple[Future[list[Stored]], Callable[[], None]]] = deque()
        self._free: list[bytearray] = []
        self._chunk_size = encoder.chunk_size
        self._batch = max(1, _BATCH_BYTES // encoder.chunk_size) * encoder.chunk_size
        self._max_inflight = 2 * workers + 1
        self._pending = bytearray()  # the start of a chunk, until the rest arrives

    @property
    def max_held(self) -> int:
        """The most caller buffers `hold` keeps at once."""
        return self._max_inflight + 1

    def write(self, view: memoryview) -> None:
        """Queue media bytes (any length) and hand on the batches encoded by now."""
        size = self._chunk_size
        if self._pending:
            take = min(len(view), size - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) < size:
                return
            self._copy(memoryview(self._pending))
            self._pending = bytearray()
        whole = len(view) - len(view) % size
        for start in range(0, whole, self._batch):
            self._copy(view[start : min(whole, start + self._batch)])
        if len(view) > whole:
            self._pending += view[whole:]

    def hold(self, buffer: bytearray, length: int, release: Callable[[], None]) -> None:
        """Queue buffer[:length] without copying it, when it is whole chunks following whole
        chunks; `release()` once its stored chunks are handed on (at once when copied)."""
        if self._pending or length % self._chunk_size:
            try:
                self.write(memoryview(buffer)[:length])
            finally:
                release()
            return
        self._submit(buffer, length, release)

    def drain(self) -> None:
        """Queue the media's last, short chunk; wait for every batch and hand it on."""
        if self._pending:
            self._copy(memoryview(self._pending))
            self._pending = bytearray()
        while self._inflight:
            self._store(*self._inflight.popleft())

    def _copy(self, view: memoryview) -> None:
        """Queue a copy of at most a batch of whole chunks (the media's last may be short)."""
        # Copy into a recycled buffer: a fresh 1 MiB allocation per batch costs page faults
        # (the kernel zeroes every page) worth more CPU than the copy itself.
        blob = self._free.pop() if self._free else bytearray(self._batch)
        blob[: len(view)] = view
        self._submit(blob, len(view), lambda: self._free.append(blob))

    def _submit(self, blob: bytearray, length: int, release: Callable[[], None]) -> None:
        """Queue blob[:length], then hand on the batches done by now (waiting for the oldest
        while too many are in flight)."""
        self._inflight.append((self._pool.submit(self._encoder.encode, blob, length), release))
        while len(self._inflight) > self._max_inflight or (
            self._inflight and self._inflight[0][0].done()
        ):
            self._store(*self._inflight.popleft())

    def shutdown(self, *, wait: bool) -> None:
        self._pool.shutdown(wait=wait)

    def cancel(self) -> None:
        """Drop the queued batches; wait for those being encoded."""
        for fut, _release in self._inflight:
            fut.cancel()
        self._inflight.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _store(self, fut: Future[list[Stored]], release: Callable[[], None]) -> None:
        try:
            self._sink(fut.result())
        finally:
            release()
