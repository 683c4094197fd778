"""Unreadable regions of an image's media, met while Sleuth Kit reads a file system in it.

Sleuth Kit reads the media through a Python callback; an exception raised there comes back from
pytsk3 as a bare RuntimeError that aborts the whole listing (a single corrupt E01 chunk in the
boot sector or the FAT crashed `ls`). So the callback never raises: an unreadable piece is
zero-filled *and recorded here*, and whoever asked Sleuth Kit for something checks afterwards
whether its bytes touched a recorded region: a file's content becomes a per-file error naming
the media range, a directory an error entry, a file system that cannot be found says why.

Sleuth Kit caches what it read, so a second file in a region already recorded does not call the
callback again: files are also checked against their own block runs (`overlapping`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

_PIECE = 4096  # on a failed read, retry in pieces this size so only the bad ones are zeros
_MAX_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class BadRegion:
    """Media bytes [start, end) that could not be read, and why."""

    start: int
    end: int
    error: str

    def text(self) -> str:
        return f"media bytes {self.start}-{self.end - 1} unreadable ({self.error})"


class Damage:
    """The regions of one media found unreadable so far (thread-safe, bounded)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.regions: list[BadRegion] = []
        self.count = 0  # failed reads so far: a change means "something new failed"

    def record(self, start: int, end: int, error: str) -> None:
        with self._lock:
            self.count += 1
            last = self.regions[-1] if self.regions else None
            if last is not None and last.end == start and last.error == error:
                self.regions[-1] = BadRegion(last.start, end, error)  # one run, one region
            elif len(self.regions) < _MAX_KEPT:
                self.regions.append(BadRegion(start, end, error))

    def since(self, count: int) -> list[BadRegion]:
        """Regions recorded after the failure counter was `count` (approximately: merged
        regions are included whole)."""
        with self._lock:
            if self.count == count:
                return []
            return list(self.regions[-(self.count - count) :])

    def overlapping(self, ranges: Iterable[tuple[int, int]]) -> list[BadRegion]:
        """The recorded regions that touch any of the media byte `ranges` ([start, end))."""
        with self._lock:
            regions = list(self.regions)
        if not regions:
            return []
        found: list[BadRegion] = []
        for start, end in ranges:
            for r in regions:
                if r.start < end and start < r.end and r not in found:
                    found.append(r)
        return found


def describe(regions: list[BadRegion], limit: int = 3) -> str:
    text = "; ".join(r.text() for r in regions[:limit])
    if len(regions) > limit:
        text += f"; and {len(regions) - limit} more"
    return text


def read_tolerant(
    read_at: Callable[[int, int], bytes], offset: int, size: int, damage: Damage
) -> bytes:
    """`size` bytes at `offset` (fewer only at the end of the media); pieces that cannot be
    read are zeros and recorded in `damage`. Never raises OSError."""
    try:
        return read_at(offset, size)
    except OSError as first:
        log.debug("media read at %d+%d failed: %s", offset, size, first)
    out = bytearray()
    pos, end = offset, offset + size
    while pos < end:
        step = min(end, (pos // _PIECE + 1) * _PIECE) - pos
        try:
            data = read_at(pos, step)
        except OSError as exc:
            damage.record(pos, pos + step, exc.strerror or str(exc))
            data = bytes(step)
        out += data
        if len(data) < step:  # the end of the media
            break
        pos += step
    return bytes(out)
