"""Our own E01 reader and verifier: every section, table and chunk checked, nothing trusted.

pyewf silently returns the bytes of a chunk whose data was changed; `ewfverify` notices. A
verifier of evidence must notice too, and say where: this module parses the segment files
itself (file headers, section descriptors and their Adler-32, header/header2, volume/data,
sectors, table/table2, error2, digest, hash, next/done), decodes every chunk (zlib stream or raw +
Adler-32), hashes the media, compares with the stored MD5/SHA-1, and names the media byte range
of every bad chunk. Truncated or corrupt files give an `EwfFormatError` naming the file and
offset, never a hang: every offset is bounds-checked and section walks only move forward.

It is also a media source (`EwfImage.readinto`) for conversion, and provides the "e01" media
verifier of seals (:func:`verify_e01`, registered by `evidencekit.workflows.verifiers`). The
section walk is in `parse`, the byte layouts in `format`, the value types (`EwfInfo`,
`Chunk`, `EwfVerification` …) in `info`: import them from there.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from isal import isal_zlib

from evidencekit.acquire.ewf.format import adler32
from evidencekit.acquire.ewf.info import (
    Chunk,
    ChunkProblem,
    EwfFormatError,
    EwfInfo,
    EwfVerification,
)
from evidencekit.acquire.ewf.parse import parse_segments, segment_paths
from evidencekit.acquire.ewf.stored_digests import TailHasher, compare, stored_algorithms
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.pipeline import pump
from evidencekit.hash.seal.document import Combined, Seal
from evidencekit.hash.seal.plugins import compare_media
from evidencekit.problems import Problem

log = logging.getLogger(__name__)

_BATCH = 32
_MAX_OPEN = 32


class EwfImage:
    """An opened E01 segment set. Use as a context manager; `close()` releases the files.

    Raises (from the constructor):
        EwfFormatError: a segment is missing, truncated or corrupt where the chunk map lives.
    """

    def __init__(self, first: Path) -> None:
        self.paths = segment_paths(Path(first))
        self.info: EwfInfo
        self.chunks: list[Chunk]
        self.problems: list[str]  # structural, non-fatal (a table2 that differs …)
        # A 2 TB disk in 2 GiB segments is a thousand files: keep only a few open at a time.
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        self._pos = 0
        try:
            self.info, self.chunks, self.problems = parse_segments(self.paths, self._pread)
        except OSError as exc:
            self.close()
            raise EwfFormatError(
                f"cannot read E01 {exc.filename or self.paths[0]}: {exc.strerror or exc}"
            ) from exc
        except BaseException:
            self.close()
            raise

    # -- context ---------------------------------------------------------------------------

    def __enter__(self) -> EwfImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def _pread(self, seg: int, length: int, offset: int) -> bytes:
        # Under the lock: another thread must not close (and the kernel reuse) the fd mid-read.
        with self._lock:
            fd = self._fds.get(seg)
            if fd is None:
                fd = os.open(self.paths[seg], os.O_RDONLY | os.O_CLOEXEC)
                self._fds[seg] = fd
                while len(self._fds) > _MAX_OPEN:
                    os.close(self._fds.popitem(last=False)[1])
            else:
                self._fds.move_to_end(seg)
            return os.pread(fd, length, offset)

    @property
    def size(self) -> int:
        return self.info.media_size

    # -- chunks ----------------------------------------------------------------------------

    def chunk_range(self, index: int) -> tuple[int, int]:
        start = index * self.info.chunk_size
        return start, min(self.info.media_size, start + self.info.chunk_size)

    def _decode(self, chunk: Chunk) -> tuple[bytes, str | None]:
        """The chunk's media bytes and None, or zeros and what is wrong with it."""
        data, problem = self._decode_stored(chunk)
        start, end = self.chunk_range(chunk.index)
        return data[: end - start], problem

    def _stored_length(self, chunk: Chunk) -> tuple[int, int]:
        """How many bytes the chunk must hold, at least and at most.

        libewf stores a stream whose length is not a multiple of the sector size (ewfacquirestream
        of a pipe) with the sector count rounded down, yet keeps every byte in the last chunk and
        in its stored MD5: that chunk holds up to one sector more than the media size leaves it.
        """
        start, end = self.chunk_range(chunk.index)
        want = end - start
        if chunk.index == len(self.chunks) - 1:
            return want, min(self.info.chunk_size, want + self.info.bytes_per_sector - 1)
        return want, want

    def _decode_stored(self, chunk: Chunk) -> tuple[bytes, str | None]:
        """Every byte the chunk stores (the last may hold a few past the media) and None, or
        zeros for its media range and what is wrong with it."""
        want, most = self._stored_length(chunk)
        try:
            data = self._pread(chunk.segment, chunk.stored, chunk.offset)
        except OSError as exc:
            return bytes(want), f"cannot be read: {exc.strerror or exc}"
        if len(data) != chunk.stored:
            return bytes(want), "stored data truncated"
        if chunk.compressed:
            try:
                inflater = isal_zlib.decompressobj()
                out = inflater.decompress(data, most + 1)
            except Exception as exc:  # isal_zlib.error: typed as Any by the stubs
                return bytes(want), f"zlib data corrupt ({exc})"
            if not inflater.eof:
                return bytes(want), "zlib stream incomplete or longer than the chunk"
            if not want <= len(out) <= most:
                return bytes(want), f"decompresses to {len(out)} bytes, expected {want}"
            return out, None
        length = len(data) - 4
        if length > most:  # (a writer that pads its chunks: the checksum follows the data)
            length = want
        if length < want:
            return bytes(want), f"stored chunk of {len(data)} bytes, expected {want + 4}"
        body = data[:length]
        if struct.unpack_from("<I", data, length)[0] != adler32(body):
            return body[:want], "Adler-32 checksum mismatch"
        return body, None

    def stored_tail(self) -> bytes:
        """The bytes the last chunk stores past the media size (see `_stored_length`): the
        stored digests cover them too. Empty for a set whose media ends on a sector boundary.

        Raises:
            EwfFormatError: the last chunk is corrupt.
        """
        if not self.chunks:
            return b""
        last = self.chunks[-1]
        data, problem = self._decode_stored(last)
        if problem:
            start, end = self.chunk_range(last.index)
            raise EwfFormatError(
                f"E01 {self.paths[last.segment].name}: chunk {last.index} (media bytes "
                f"{start}-{end - 1}) is corrupt: {problem}",
                hint="run `evidencekit verify` on the item",
            )
        start, end = self.chunk_range(last.index)
        return data[end - start :]

    def _decode_batch(self, batch: Sequence[Chunk]) -> list[tuple[Chunk, bytes, str | None]]:
        return [(c, *self._decode(c)) for c in batch]

    def iter_chunks(
        self, workers: int | None = None
    ) -> Generator[tuple[Chunk, bytes, str | None], None, None]:
        """Every chunk in order with its bytes (zeros when bad) and its problem, decoded ahead
        in a small thread pool (bounded: a few batches in flight)."""
        count = workers or min(4, os.cpu_count() or 1)
        pending: deque[Future[list[tuple[Chunk, bytes, str | None]]]] = deque()
        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ewf-read") as pool:
            try:
                for i in range(0, len(self.chunks), _BATCH):
                    pending.append(pool.submit(self._decode_batch, self.chunks[i : i + _BATCH]))
                    if len(pending) > 2 * count:
                        yield from pending.popleft().result()
                while pending:
                    yield from pending.popleft().result()
            finally:
                for fut in pending:
                    fut.cancel()

    def verify(
        self,
        algorithms: Sequence[str] = ("md5", "sha1"),
        *,
        window: int | None = None,
        window_algorithm: str = "sha256",
        on_progress: Callable[[int], None] | None = None,
    ) -> EwfVerification:
        """Decode every chunk, hash the media, compare with the stored MD5/SHA-1."""
        algos = list(dict.fromkeys(["md5", "sha1", *algorithms]))
        hasher = MultiHasher(algos, window=window, window_algorithm=window_algorithm)
        bad: list[ChunkProblem] = []
        chunks = self.iter_chunks()
        left = memoryview(b"")

        def readinto(buffer: memoryview) -> int:
            # Runs in the pump's reader thread; the digests run in their own threads.
            nonlocal left
            filled = 0
            while filled < len(buffer):
                if not left:
                    item = next(chunks, None)
                    if item is None:
                        break
                    chunk, data, problem = item
                    if problem:
                        bad.append(
                            ChunkProblem(
                                chunk.index,
                                self.paths[chunk.segment].name,
                                chunk.offset,
                                self.chunk_range(chunk.index),
                                problem,
                            )
                        )
                    left = memoryview(data)
                take = min(len(left), len(buffer) - filled)
                buffer[filled : filled + take] = left[:take]
                left = left[take:]
                filled += take
            return filled

        stored = self.info.stored
        try:
            tail = self.stored_tail()
        except EwfFormatError:
            tail = b""  # the last chunk is corrupt: listed among the chunk problems below
        extra = TailHasher(stored_algorithms(stored), tail) if tail else None
        try:
            consumers = [*hasher.consumers(), *([extra] if extra else [])]
            pump(readinto, consumers, on_progress=on_progress)
        finally:
            chunks.close()
        result = hasher.result()
        problems = list(self.problems)
        if not any(a == "md5" for a, _w, _v in stored):
            problems.append("no MD5 stored in the hash/digest sections")
        computed = extra.digests() if extra else dict(result.digests)
        check = compare(stored, computed, self.size + len(tail), tail_bytes=len(tail))
        if not check.ok:
            problems.append(check.message())
        return EwfVerification(
            self.info.media_size,
            len(self.chunks),
            dict(result.digests),
            self.info.md5,
            self.info.sha1,
            tuple(bad),
            tuple(problems),
            result,
        )

    # -- media source ----------------------------------------------------------------------

    def readinto(self, buffer: memoryview) -> int:
        """Sequential read of the media (for pump()); raises EwfFormatError on a bad chunk."""
        size = self.info.chunk_size
        filled = 0
        while filled < len(buffer) and self._pos < self.info.media_size:
            index = self._pos // size
            data, problem = self._decode(self.chunks[index])
            if problem:
                start, end = self.chunk_range(index)
                raise EwfFormatError(
                    f"E01 {self.paths[self.chunks[index].segment].name}: chunk {index} "
                    f"(media bytes {start}-{end - 1}) is corrupt: {problem}",
                    hint="run `evidencekit verify` on the item",
                )
            skip = self._pos - index * size
            take = min(len(buffer) - filled, len(data) - skip)
            buffer[filled : filled + take] = data[skip : skip + take]
            filled += take
            self._pos += take
        return filled

    def seek(self, offset: int) -> None:
        self._pos = max(0, min(offset, self.info.media_size))


def open_ewf(first: Path) -> EwfImage:
    """Open an E01 set by its first segment.

    Raises:
        EwfFormatError: truncated, corrupt or incomplete set.
    """
    return EwfImage(first)


# -- seal plug-in -----------------------------------------------------------------------------


def verify_e01(seal: Seal, combined: Combined) -> list[Problem]:
    """The "e01" media verifier (`hash.seal.plugins.MediaVerifier`): decode the sealed E01
    segments, check every section and chunk, and compare the media with the sealed digests
    window by window."""
    if not combined.parts:
        return [Problem.of_file("malformed-seal", seal.item_id, "e01 media without segment files")]
    first_name = combined.parts[0]
    try:
        image = EwfImage(seal.artifact_path(first_name))
    except EwfFormatError as exc:
        return [Problem.of_file("unreadable-file", first_name, exc.message)]
    with image:
        algos = [a for a in combined.digests]
        result = image.verify(
            algos,
            window=combined.window_size,
            window_algorithm=combined.window_algorithm or "sha256",
        )
    problems: list[Problem] = [
        Problem.of_file("chunk-mismatch", p.file, p.text(), byte_range=p.media_range)
        for p in result.chunk_problems
    ]
    problems += [Problem.of_file("format-mismatch", first_name, text) for text in result.problems]
    if result.hash_result is not None:
        problems += compare_media(combined, result.hash_result, name=f"{seal.item_id} media")
    return problems
