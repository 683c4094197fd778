"""Acquisition inside the acquire layer: resilient reader -> pump -> hashers + image writers.

One pass: the reader fills the pump's buffers; md5, sha1, sha256 (…), the window digests, the
per-segment digests and every writer each run in their own thread on the same buffers, so the
wall time approaches that of the slowest consumer and memory is the pump's buffer pool.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evidencekit.acquire.imaging.reader import BadExtent, ResilientReader
from evidencekit.acquire.imaging.writers import ImageWriter
from evidencekit.acquire.source.adapter import MediaSource, open_source
from evidencekit.errors import IntegrityError, SourceError, StalledError
from evidencekit.hash.algorithms import Hasher, new_hasher
from evidencekit.hash.multihash import HashResult, MultiHasher
from evidencekit.hash.pipeline import DEFAULT_BUFFERS, DEFAULT_CHUNK_SIZE, Consumer, pump
from evidencekit.timeutil import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""on_progress(bytes_done, bad_sectors)."""


class _SegmentHasher:
    """One algorithm's digest of each `segment_size` piece (split raw: each file's digest)."""

    def __init__(self, name: str, segment_size: int) -> None:
        self.name = name
        self.segment_size = segment_size
        self.digests: list[str] = []
        self._h: Hasher = new_hasher(name)
        self._filled = 0

    def consume(self, data: memoryview) -> None:
        while len(data):
            take = min(len(data), self.segment_size - self._filled)
            self._h.update(data[:take])
            self._filled += take
            data = data[take:]
            if self._filled == self.segment_size:
                self._flush()

    def _flush(self) -> None:
        self.digests.append(self._h.hexdigest())
        self._h = new_hasher(self.name)
        self._filled = 0

    def close(self) -> None:
        if self._filled or not self.digests:
            self._flush()


@dataclass(frozen=True, slots=True)
class ImagingResult:
    """What one acquisition pass read and wrote."""

    size: int
    hashes: HashResult
    extents: tuple[BadExtent, ...]
    bad_sectors: int
    recovered_sectors: int
    started: dt.datetime
    finished: dt.datetime
    seconds: float
    paths: tuple[tuple[Path, ...], ...]
    # each file of the first writer's output, when known without reading it back (split: the
    # media pieces; E01: the writer hashed its segment files as it wrote them)
    segment_digests: tuple[dict[str, str], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "size": self.size,
            "digests": dict(self.hashes.digests),
            "read_errors": [e.to_dict() for e in self.extents],
            "bad_sectors": self.bad_sectors,
            "recovered_sectors": self.recovered_sectors,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """Where a resumed acquisition starts: the media's first `offset` bytes are already in
    `paths` (the interrupted attempt's image files, their concatenation), with `extents` among
    them unreadable (zero-filled) when they were read."""

    paths: tuple[Path, ...]
    offset: int
    extents: tuple[BadExtent, ...] = ()
    # (media offset, length, algorithm, hex, file name): the digests the earlier attempt's seal
    # gives its image files; they are compared as the files are re-hashed, before any new byte
    # is written, so a partial image changed since it was sealed is never continued
    checks: tuple[tuple[int, int, str, str, str], ...] = ()


class ResumeMismatch(IntegrityError):
    """The earlier attempt's image differs from what its seal says: nothing may be added to it."""


class _SkipFirst:
    """A writer that is not handed the media's first `skip` bytes (they are in its files)."""

    def __init__(self, writer: ImageWriter, skip: int) -> None:
        self.writer = writer
        self._skip = skip

    def consume(self, data: memoryview) -> None:
        if self._skip:
            take = min(self._skip, len(data))
            self._skip -= take
            data = data[take:]
        if len(data):
            self.writer.consume(data)

    def close(self) -> None:
        self.writer.close()


class _Resumed:
    """The media as one stream: the written image up to the resume point, then the source."""

    def __init__(self, point: ResumePoint, reader: ResilientReader) -> None:
        self._image = _Concat(point.paths)
        self._left = point.offset
        self._pos = 0
        self._reader = reader
        self._checks = [(c, new_hasher(c[2])) for c in point.checks]

    def readinto(self, buf: memoryview) -> int:
        while self._left:
            n = self._image.readinto(buf[: min(len(buf), self._left)])
            if not n:
                raise SourceError(
                    f"the image to resume ends {self._left} bytes before the resume point",
                    hint="it changed since it was checked; resume again",
                )
            self._check(buf[:n])
            self._left -= n
            self._pos += n
            if not self._left:
                self._image.close()
            return n
        return self._reader.readinto(buf)

    def _check(self, data: memoryview) -> None:
        lo, hi = self._pos, self._pos + len(data)
        for (start, length, algo, want, name), h in self._checks:
            end = start + length
            if end <= lo or start >= hi:
                continue
            h.update(data[max(start, lo) - lo : min(end, hi) - lo])
            if end <= hi and h.hexdigest() != want:
                raise ResumeMismatch(
                    f"{name} has changed since the interrupted acquisition sealed it: "
                    f"{algo} {h.hexdigest()}, sealed {want}; nothing was added to it",
                    hint="it is left unfinished in evidence/.staging; compare it with a backup "
                    "(evidencekit verify after `case recover` names the changed range)",
                )

    def close(self) -> None:
        self._image.close()


class Imager:
    """Runs one acquisition. After a failure, `reader` still tells how far it got.

    With `resume`, the media's first `resume.offset` bytes are read back from the image files
    an interrupted attempt wrote (hashed once more with every digest, not written again) and
    the source is read from there on."""

    def __init__(
        self,
        source: MediaSource,
        writers: Sequence[ImageWriter],
        algorithms: Sequence[str],
        *,
        window: int | None = None,
        window_algorithm: str = "blake3",
        retries: int = 2,
        max_errors: int | None = None,
        segment_size: int | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        buffers: int = DEFAULT_BUFFERS,
        on_progress: Progress | None = None,
        resume: ResumePoint | None = None,
        on_bad: Callable[[BadExtent], None] | None = None,
    ) -> None:
        self.source = source
        self.writers = list(writers)
        self.hasher = MultiHasher(algorithms, window=window, window_algorithm=window_algorithm)
        self.resume = resume
        self.reader = ResilientReader(
            source,
            retries=retries,
            max_errors=max_errors,
            start=resume.offset if resume else 0,
            on_bad=on_bad,
        )
        if resume is not None:
            sector = max(512, source.sector_size)
            self.reader.extents = list(resume.extents)
            self.reader.bad_sectors = sum(-(-e.length // sector) for e in resume.extents)
        self.segment_hashers = (
            [_SegmentHasher(a, segment_size) for a in self.hasher.algorithms]
            if segment_size
            else []
        )
        self.chunk_size = chunk_size
        self.buffers = buffers
        self.on_progress = on_progress

    def run(self) -> ImagingResult:
        """Read the whole media once, hashing and writing it; finish the writers.

        Raises:
            AcquisitionError: a write error, or too many unreadable sectors (writers aborted).
            SourceError: the source stopped delivering (writers aborted).
            KeyboardInterrupt: Ctrl-C (writers aborted).
            StalledError: a hasher or writer took no data for the stall limit (writers left
                as they are: not closed, never to be sealed as they stand).
        """
        started = utcnow()
        t0 = time.perf_counter()
        skip = self.resume.offset if self.resume else 0
        consumers: list[Consumer] = [
            *self.hasher.consumers(),
            *self.segment_hashers,
            *(_SkipFirst(w, skip) if skip else w for w in self.writers),
        ]
        stream = _Resumed(self.resume, self.reader) if self.resume else None
        progress = None
        if self.on_progress is not None:
            cb = self.on_progress
            reader = self.reader

            def progress(done: int) -> None:
                cb(done, reader.bad_sectors)

        try:
            try:
                total = pump(
                    stream.readinto if stream else self.reader.readinto,
                    consumers,
                    chunk_size=self.chunk_size,
                    buffers=self.buffers,
                    on_progress=progress,
                )
            finally:
                if stream is not None:
                    stream.close()
            if total != self.source.size:
                raise SourceError(
                    f"read {total} bytes but the source has {self.source.size}",
                    hint="the source changed size during acquisition; acquire again",
                )
            hashes = self.hasher.result()
            for w in self.writers:
                for e in self.reader.extents:
                    w.mark_unreadable(e.offset, e.length)
            md5 = hashes.digests.get("md5", "0" * 32)
            sha1 = hashes.digests.get("sha1")
            paths = tuple(tuple(w.finish(md5, sha1)) for w in self.writers)
        except StalledError:
            # a writer stuck in a write: closing (fsync) its files could block the same way,
            # and what it writes may still land; its files are left open, to be treated as
            # unfinished (the process ends soon; a resume re-reads what is there)
            raise
        except BaseException:
            for w in self.writers:
                try:
                    w.abort()
                except Exception:  # keep the first error
                    log.warning("aborting writer failed", exc_info=True)
            raise
        segs: list[dict[str, str]] = []
        if self.segment_hashers:
            for i in range(len(self.segment_hashers[0].digests)):
                segs.append({h.name: h.digests[i] for h in self.segment_hashers})
        elif self.writers and self.writers[0].output_digests is not None:
            segs = list(self.writers[0].output_digests)  # E01: hashed as it was written
        return ImagingResult(
            size=total,
            hashes=hashes,
            extents=tuple(self.reader.extents),
            bad_sectors=self.reader.bad_sectors,
            recovered_sectors=self.reader.recovered_sectors,
            started=started,
            finished=utcnow(),
            seconds=time.perf_counter() - t0,
            paths=paths,
            segment_digests=tuple(segs),
        )


class _Concat:
    """The concatenation of files (split raw) as one `readinto` stream."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = list(paths)
        self._fd: int | None = None

    def readinto(self, buf: memoryview) -> int:
        while True:
            if self._fd is None:
                if not self._paths:
                    return 0
                self._fd = os.open(self._paths.pop(0), os.O_RDONLY | os.O_CLOEXEC)
            n = os.readv(self._fd, [buf])
            if n:
                return n
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def hash_image(
    paths: Sequence[Path],
    kind: str,
    algorithms: Sequence[str],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> HashResult:
    """Re-read a written image and hash its media (raw/split: the files' concatenation; E01:
    the decoded media).

    Raises:
        OSError, SourceError: the image cannot be read back.
    """
    hasher = MultiHasher(algorithms)
    if kind == "e01":
        with open_source(paths[0]) as src:
            pump(src.readinto, hasher.consumers(), on_progress=on_progress)
        return hasher.result()
    concat = _Concat(paths)
    try:
        pump(concat.readinto, hasher.consumers(), on_progress=on_progress)
    finally:
        concat.close()
    return hasher.result()


def hash_source(
    source: MediaSource,
    algorithms: Sequence[str],
    *,
    retries: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[HashResult, tuple[BadExtent, ...]]:
    """Read the source again (for --verify-source): its digests and the unreadable extents."""
    hasher = MultiHasher(algorithms)
    reader = ResilientReader(source, retries=retries)
    pump(reader.readinto, hasher.consumers(), on_progress=on_progress)
    return hasher.result(), tuple(reader.extents)
