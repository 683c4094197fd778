"""E01 segment files on disk: written once in order (and hashed as written), patched rarely.

Also the recycled buffers that hold a sectors section's chunks until the section closes and its
descriptor, whose size is then known, can be written before them.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Callable
from pathlib import Path

from evidencekit.acquire.ewf.format import (
    DESCRIPTOR_SIZE,
    FILE_HEADER_SIZE,
    descriptor,
    unpack_descriptor,
)
from evidencekit.acquire.write_errors import write_error
from evidencekit.hash.parts import PartHasher

_IOV_MAX = 1024


class SegmentFile:
    """One segment file being written, in order: its write position and chunk count, and the
    hasher (`tee`) every byte goes through after the write.

    Raises (from the constructor):
        OSError: the file cannot be created, or already exists.
    """

    def __init__(self, path: Path, number: int, tee: PartHasher | None) -> None:
        self.path = path
        self.number = number
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self.pos = 0
        self.chunks = 0
        self.tee = tee

    def write(self, *pieces: bytes | memoryview, release: Callable[[], None] | None = None) -> None:
        """Append the pieces; `release()` once they may change (after hashing, if hashed).

        Raises:
            AcquisitionError: the write failed (destination full …).
        """
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


def patch_volume(path: Path, payload: bytes, *, first: bool) -> None:
    """Overwrite the volume/data section payload of a finished segment file, and fsync it.

    Raises:
        OSError: the file cannot be read or written.
    """
    # segment 1: header2 ×2 and header come first; walk the descriptors to the volume.
    with open(path, "r+b") as fh:
        offset = FILE_HEADER_SIZE
        while True:
            fh.seek(offset)
            desc = unpack_descriptor(fh.read(DESCRIPTOR_SIZE))
            if desc.kind in ("volume", "data"):
                fh.seek(offset + DESCRIPTOR_SIZE)
                fh.write(payload)
                break
            if not first or desc.next_offset <= offset:
                break
            offset = desc.next_offset
        fh.flush()
        os.fsync(fh.fileno())


class SectionBuffers:
    """Buffers of `size` bytes for the open sectors section's chunks, recycled once hashed.

    A new one while fewer than three exist, else `take()` waits for one: the writer copies the
    chunks in (the blobs they come from are reused at once), so memory stays bounded.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._count = 0

    def take(self) -> bytearray:
        try:
            return self._free.get_nowait()
        except queue.Empty:
            pass
        if self._count < 3:
            self._count += 1
            return bytearray(self.size)
        return self._free.get()  # the hashing threads release them

    def release(self, buffer: bytearray) -> None:
        """Give a buffer back (from any thread) once its bytes are written and hashed."""
        self._free.put(buffer)
