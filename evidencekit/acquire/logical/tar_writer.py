"""The logical container: a POSIX PAX tar (POSIX.1-2001) that keeps everything a file system said.

This module writes it: member after member, each file hashed in the same pass that copies it
(`hash.pipeline.pump` for large files), the tar's own digests computed as it is written, then
closed with its end blocks and fsynced. Member names come from `member_names` (safe, unique,
never below a non-folder), header bytes from `pax` (what each PAX record holds), the tar's
digests from `tar_hasher`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from evidencekit.acquire.fs.model import FileEntry, Reader
from evidencekit.acquire.logical.pax import BLOCK, TAR_TYPES, pax_header
from evidencekit.acquire.logical.tar_hasher import BackgroundHasher
from evidencekit.errors import AcquisitionError
from evidencekit.fsutil import start_writeback
from evidencekit.hash.algorithms import new_hasher
from evidencekit.hash.multihash import HashResult, MultiHasher
from evidencekit.hash.pipeline import pump

RECORD = 10240
_SMALL = 1 << 20  # files up to this size are hashed inline (no threads per file)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stored:
    """What was written for one member."""

    size: int
    digests: dict[str, str]
    error: str | None = None


class _Feed:
    """A pump consumer that passes data on and never closes what it feeds (the container
    file, or the tar's own hashers)."""

    def __init__(
        self, consume: Callable[[memoryview], object], *, path: Path | None = None, name: str = ""
    ) -> None:
        self._consume = consume
        # what a stuck pump names (hash/pipeline: "the writer of PATH", "the NAME digest")
        if path is not None:
            self.path = path
        if name:
            self.name = name

    def consume(self, data: memoryview) -> None:
        self._consume(data)

    def close(self) -> None:
        pass


_WRITEBACK_STEP = 32 << 20


class _Filler:
    """Reads exactly `size` bytes from a reader; after a read error or an early end, fills the
    rest with zeros (so the tar stays valid and aligned) and remembers why."""

    def __init__(self, reader: Reader | None, size: int, open_error: str | None) -> None:
        self._reader = reader
        self._left = size
        self._pos = 0
        self.error = open_error
        self._filling = False

    def readinto(self, buf: memoryview) -> int:
        want = min(len(buf), self._left)
        if want <= 0:
            return 0
        view = buf[:want]
        n = 0
        if self.error is None and self._reader is not None:
            try:
                n = self._reader.readinto(view)
            except OSError as exc:
                self.error = f"read error at offset {self._pos}: {exc.strerror or exc}"
                n = 0
            if n == 0 and self.error is None:
                self.error = f"data ended at offset {self._pos} of {self._pos + self._left}"
        if n == 0:
            view[:] = bytes(want)
            n = want
            if self.error and not self._filling:
                self.error += "; the rest is stored as zeros"
                self._filling = True
        self._pos += n
        self._left -= n
        return n


class PaxTarWriter:
    """Writes a PAX tar to `path` (which must not exist). Use as a context manager."""

    def __init__(
        self, path: Path, algorithms: tuple[str, ...] = ("sha256",), window: int | None = None
    ) -> None:
        self._hasher = MultiHasher(algorithms, window=window)  # the tar itself, as written
        self._background = BackgroundHasher(self._hasher)
        self.result: HashResult | None = None
        try:
            self._fh = open(path, "xb", buffering=1 << 20)  # noqa: SIM115 - closed in close()
        except FileExistsError as exc:
            raise AcquisitionError(
                f"container {str(path)!r} already exists", hint="choose another --item id"
            ) from exc
        except OSError as exc:
            raise AcquisitionError(
                f"cannot create container {str(path)!r}: {exc.strerror}"
            ) from exc
        self.path = path
        self._offset = 0
        self._flushed = 0
        self._member_end = 0  # where the member being written ends (header, data, padding)
        self._member_start = 0  # where it begins, and where its header ends
        self._header_end = 0
        self._member_name: bytes | None = None
        self._closed = False
        self._buf = bytearray(_SMALL + BLOCK)

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._background.add(data)
        self._raw_write(data)

    def _raw_write(self, data: bytes | bytearray | memoryview) -> None:
        try:
            self._fh.write(data)
        except OSError as exc:
            raise AcquisitionError(
                f"cannot write container {str(self.path)!r}: {exc.strerror}",
                hint="check free space on the destination",
            ) from exc
        self._offset += len(data)
        if self._offset - self._flushed >= _WRITEBACK_STEP:
            self._start_writeback()

    def _start_writeback(self) -> None:
        """Ask the kernel to start writing what we wrote so far, without waiting for it, so
        the final fsync finds little left to do (the disk works while we hash)."""
        try:
            self._fh.flush()
            start_writeback(self._fh.fileno(), self._flushed, self._offset - self._flushed)
        except OSError:
            pass  # only an optimisation; close() still fsyncs everything
        self._flushed = self._offset

    def _header(self, name: bytes, entry: FileEntry, kind: str, size: int) -> bytes:
        return pax_header(name, entry, kind, size)

    def add_entry(self, name: bytes, entry: FileEntry) -> None:
        """A member without data: directory, symlink, FIFO or device."""
        kind = entry.kind if entry.kind in TAR_TYPES and entry.kind != "r" else "r"
        header = self._header(name, entry, kind, 0)
        self._begin(name, len(header), 0)
        self._write(header)

    def add_file(
        self,
        name: bytes,
        entry: FileEntry,
        reader: Reader | None,
        size: int,
        algorithms: tuple[str, ...],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> Stored:
        """A regular member of `size` bytes from `reader` (None: empty), hashed as it is copied.

        A read error or an early end still leaves a member of `size` bytes (zero-filled from
        where reading stopped) and the reason in `Stored.error`; the container stays valid.
        The reader is closed.
        """
        header = self._header(name, entry, "r", size)
        self._begin(name, len(header), size + -size % BLOCK)
        filler = _Filler(reader, size, None)
        digests: dict[str, str]
        try:
            if size <= _SMALL:
                # small files: one read, hashed inline (a thread per algorithm costs more here)
                view = memoryview(self._buf)[: size + -size % BLOCK]
                got = 0
                while got < size:
                    n = filler.readinto(view[got:size])
                    if n == 0:
                        break
                    got += n
                view[size:] = bytes(len(view) - size)  # the member's padding
                hashers = [(a, new_hasher(a)) for a in algorithms]
                data = view[:size]
                for _a, h in hashers:
                    h.update(data)
                self._write(header + bytes(view))
                digests = {a: h.hexdigest() for a, h in hashers}
                if on_progress:
                    on_progress(size)
            else:
                self._write(header)
                hasher = MultiHasher(algorithms)
                self._background.sync()  # the tar's hashers take the pump's data next, in order
                # the tar's own hashers see this file's data too, but must not be closed
                # (that would end the tar's current window digest)
                pump(
                    filler.readinto,
                    [
                        *hasher.consumers(),
                        *(
                            _Feed(c.consume, name=str(getattr(c, "name", "")))
                            for c in self._hasher.consumers()
                        ),
                        _Feed(self._raw_write, path=self.path),
                    ],
                    chunk_size=4 << 20,
                    buffers=6,
                    on_progress=on_progress,
                )
                digests = hasher.result().digests
                pad = -size % BLOCK
                if pad:
                    self._write(bytes(pad))
            changed = getattr(reader, "changed", None)
            if callable(changed) and filler.error is None:
                filler.error = changed()
        finally:
            if reader is not None:
                try:
                    reader.close()
                except OSError:
                    pass
        return Stored(size=size, digests=digests, error=filler.error)

    def _begin(self, name: bytes, header: int, data: int) -> None:
        self._member_name = name
        self._member_start = self._offset
        self._header_end = self._offset + header
        self._member_end = self._header_end + data

    def member_state(self, name: bytes) -> str:
        """Where member `name` stands after an interruption: "absent" (never begun, or its
        header not fully written: `close` removes what there is of it), "partial" (header
        written, data cut short: `close` completes it with zeros) or "complete".

        Ctrl-C can land anywhere, also before a file's header is written (a small file is read
        whole first): the manifest must then not list a member the tar does not hold.
        """
        if name != self._member_name:
            return "absent"
        pos = self._fh.tell() if not self._closed else self._offset
        if pos < self._header_end:
            return "absent"
        return "partial" if pos < self._member_end else "complete"

    def close(self) -> HashResult:
        """Two zero blocks, padding to a full 10 KiB record, then fsync; the tar's digests.

        A member cut short by an interruption is first completed with zeros, so the tar stays
        readable (its digests must then be computed again from the file: see `collect`).
        """
        if self.result is not None:
            return self.result
        self._background.sync()
        try:
            # after an interruption the file may hold part of a member: the position the file
            # really reached, not our count, decides (a write can stop half way)
            pos = self._fh.tell()
            if self._member_start < pos < self._header_end:
                self._fh.seek(self._member_start)  # a header cut short: the member is not there
                self._fh.truncate()
                pos = self._member_start
            self._offset = pos
            if self._header_end <= pos < self._member_end:
                self._raw_write(bytes(self._member_end - pos))
            self._write(bytes(2 * BLOCK))
            self._write(bytes(-self._offset % RECORD))
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except (OSError, AcquisitionError) as exc:
            # the file is closed all the same; closing flushes what is still buffered, which
            # on a full disk fails again: that bare OSError (no path, no hint) must not replace
            # this error, which names the container
            self._closed = True
            try:
                self._fh.close()
            except OSError as again:
                log.warning("closing %s after a failure: %s", self.path, again)
            if isinstance(exc, AcquisitionError):
                raise
            raise AcquisitionError(
                f"cannot write container {str(self.path)!r}: {exc.strerror or exc}",
                hint="check free space on the destination",
            ) from exc
        self._fh.close()  # flushed and synced: nothing is left to write
        self._closed = True
        self._background.close()
        if self._background.cancelled:
            # interrupted: the tar's own digests were abandoned (the caller hashes the file)
            self.result = HashResult(self._offset, {})
            return self.result
        self.result = self._hasher.result()
        return self.result

    def cancel_hashing(self) -> None:
        """After an interruption: stop computing the tar's digests as it is written, so that
        closing it never waits for the hashing thread (`collect` hashes the file again)."""
        self._background.cancel()

    def abort(self) -> None:
        self._background.cancel()
        self._background.stop()
        if not self._closed:
            self._closed = True
            try:
                # closing flushes the buffer: on a full disk that fails again, and must not
                # replace the error being handled (which names the container) by a bare one
                self._fh.close()
            except OSError as exc:
                log.warning("closing %s after a failure: %s", self.path, exc)

    def __enter__(self) -> PaxTarWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
