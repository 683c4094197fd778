"""Image writers: the `ImageWriter` protocol, raw (`ID.raw`) and split raw (`ID.001`, `ID.002`…).

A writer is also a pump consumer (`consume` = `write`, `close` does nothing): it runs in its own
thread and receives the media in order. Digests come from the hashers on the same pump and are
handed to `finish()` (E01 stores them; raw ignores them). A write error (ENOSPC, EIO) becomes
`AcquisitionError`, which stops the pump; the caller then `abort()`s and seals as incomplete.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from evidencekit.acquire.write_errors import write_error
from evidencekit.errors import AcquisitionError, UsageError
from evidencekit.fsutil import fsync_dir, start_writeback

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_SIZE = 2 << 30
_WRITEBACK = 32 << 20  # start writeback every 32 MiB so the final fsync has little left to do


@runtime_checkable
class ImageWriter(Protocol):
    """What the imager needs from an output format (raw, split raw, E01)."""

    @property
    def paths(self) -> list[Path]:
        """The files written so far, in order."""

    @property
    def output_digests(self) -> list[dict[str, str]] | None:
        """Each file's digests when the writer hashed them as it wrote them (E01), else None."""

    def write(self, data: memoryview) -> None:
        """Append media bytes (any length, in order). Raises AcquisitionError on write errors."""

    def consume(self, data: memoryview) -> None:
        """Pump consumer hook: the same as `write`."""

    def close(self) -> None:
        """Pump consumer hook: nothing to do until `finish()`."""

    def mark_unreadable(self, offset: int, length: int) -> None:
        """Media bytes [offset, offset+length) could not be read (they were written as zeros)."""

    def finish(self, md5_hex: str, sha1_hex: str | None = None) -> list[Path]:
        """Complete the image, fsync every file and the folder; return the files."""

    def abort(self) -> list[Path]:
        """Stop, close (fsync) what exists, leave it in place (the seal marks it incomplete)."""


class _File:
    """One output file written with os.write, writeback started every 32 MiB."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        # a resumed image (`acquire disk --resume`) continues the file an interrupted attempt
        # left, after the part it re-hashed; a new one never overwrites anything
        flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_APPEND if append else os.O_CREAT | os.O_EXCL)
        try:
            self.fd: int | None = os.open(path, flags, 0o644)
            self.size = os.fstat(self.fd).st_size if append else 0
        except FileExistsError as exc:
            raise AcquisitionError(
                f"output {str(path)!r} already exists", hint="use another --item id"
            ) from exc
        except OSError as exc:
            raise write_error(path, exc) from exc
        self._flushed = self.size

    def write(self, view: memoryview) -> None:
        assert self.fd is not None
        try:
            while len(view):
                n = os.write(self.fd, view)
                view = view[n:]
                self.size += n
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        if self.size - self._flushed >= _WRITEBACK:
            try:
                start_writeback(self.fd, self._flushed, self.size - self._flushed)
            except OSError:
                pass
            self._flushed = self.size

    def close(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.fsync(fd)
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        finally:
            os.close(fd)


class SplitRawWriter:
    """`BASE.001`, `BASE.002`, … each at most `segment_size` bytes (their concatenation is the
    media). With `segment_size=None` a single file `BASE.raw` is written (see RawWriter).
    `existing`: the files an interrupted attempt wrote (already cut to what is resumed from);
    writing continues at the end of the last one."""

    def __init__(
        self,
        base: Path,
        segment_size: int | None,
        *,
        single_name: str | None = None,
        existing: list[Path] | None = None,
    ):
        if segment_size is not None and segment_size <= 0:
            raise UsageError(f"invalid segment size {segment_size}: must be positive")
        self.base = base
        self.segment_size = segment_size
        self._single = single_name
        self._files: list[_File] = []
        self._current: _File | None = None
        self.unreadable: list[tuple[int, int]] = []
        if existing:
            for path in existing:
                self._current = _File(path, append=True)
                self._files.append(self._current)
            for f in self._files[:-1]:
                f.close()  # full segments: written before, only named again
        else:
            self._open_next()

    @property
    def paths(self) -> list[Path]:
        return [f.path for f in self._files]

    @property
    def output_digests(self) -> None:
        """Raw files hold the media itself: the imager's digests are theirs."""
        return None

    def _open_next(self) -> None:
        if self._single is not None:
            path = self.base.parent / self._single
        else:
            path = self.base.parent / f"{self.base.name}.{len(self._files) + 1:03d}"
        self._current = _File(path)
        self._files.append(self._current)

    def write(self, data: memoryview) -> None:
        view = memoryview(data).cast("B")
        while len(view):
            cur = self._current
            assert cur is not None
            if self.segment_size is None:
                cur.write(view)
                return
            room = self.segment_size - cur.size
            if room == 0:
                cur.close()
                self._open_next()
                continue
            cur.write(view[:room])
            view = view[room:]

    def consume(self, data: memoryview) -> None:
        self.write(data)

    def close(self) -> None:
        pass

    def mark_unreadable(self, offset: int, length: int) -> None:
        self.unreadable.append((offset, length))

    def finish(self, md5_hex: str, sha1_hex: str | None = None) -> list[Path]:
        for f in self._files:
            f.close()
        try:
            fsync_dir(self.base.parent)
        except OSError as exc:
            raise write_error(self.base.parent, exc) from exc
        return self.paths

    def abort(self) -> list[Path]:
        for f in self._files:
            try:
                f.close()
            except AcquisitionError as exc:
                log.warning("closing %s after abort: %s", f.path, exc)
        return self.paths


class RawWriter(SplitRawWriter):
    """One file, `BASE.raw`."""

    def __init__(self, base: Path, *, existing: list[Path] | None = None) -> None:
        super().__init__(base, None, single_name=f"{base.name}.raw", existing=existing)


def make_raw_writer(
    base: Path, fmt: str, segment_size: int | None, *, existing: list[Path] | None = None
) -> SplitRawWriter:
    """`raw` -> RawWriter(BASE.raw); `split` -> SplitRawWriter(BASE.001 …); with `existing`,
    continuing those files (a resumed acquisition)."""
    if fmt == "raw":
        return RawWriter(base, existing=existing)
    if fmt == "split":
        return SplitRawWriter(base, segment_size or DEFAULT_SEGMENT_SIZE, existing=existing)
    raise UsageError(f"unknown raw format {fmt!r}", hint="use raw or split")


def make_room(writers: list[ImageWriter], room: int) -> int:
    """After ENOSPC: cut up to `room` bytes from the end of each writer's last (aborted) file so
    the log, the incomplete seal and the ledger entry fit. Returns the bytes released."""
    released = 0
    for w in writers:
        paths = w.paths
        if not paths:
            continue
        last = paths[-1]
        try:
            size = last.stat().st_size
            cut = min(room, size)
            os.truncate(last, size - cut)
        except OSError as exc:
            log.warning("could not shorten %s after ENOSPC: %s", last, exc)
            continue
        released += cut
    return released
