"""The resilient reader: large reads while the source cooperates, sector by sector when it fails.

NIST CFTT test DA-09 is where FTK Imager and dcfldd failed: on a read error they zeroed (or
skipped) whole blocks, so good data around a bad sector was lost or later data shifted. Here a
failing large read is redone as sector-sized O_DIRECT reads inside that block (buffered reads
fail whole read-ahead windows), each failing sector is retried `retries` more times, and only
the sectors that still fail are zero-filled and recorded, with their errno, so every later byte
stays at its offset.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from evidencekit.errors import AcquisitionError, SourceError

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2


@dataclass(frozen=True, slots=True)
class BadExtent:
    """Media bytes [offset, offset + length) that could not be read (zero-filled)."""

    offset: int
    length: int
    errno: int

    def to_dict(self) -> dict[str, object]:
        return {
            "offset": self.offset,
            "length": self.length,
            "errno": self.errno,
            "error": errno.errorcode.get(self.errno, str(self.errno)),
        }


class Medium(Protocol):
    """What the reader needs of a source (MediaSource implements it)."""

    @property
    def size(self) -> int: ...

    @property
    def sector_size(self) -> int: ...

    def readinto_at(self, buf: memoryview, offset: int) -> int: ...

    def read_direct(self, offset: int, length: int) -> bytes: ...


class ResilientReader:
    """Sequential `readinto` over a medium that never fails on bad sectors (until max_errors).

    Args:
        medium: the source.
        retries: extra attempts for each failing sector (default 2).
        max_errors: stop (AcquisitionError) when more sectors than this are unreadable;
            None = no limit.
        start: first media offset to read.
    """

    def __init__(
        self,
        medium: Medium,
        *,
        retries: int = DEFAULT_RETRIES,
        max_errors: int | None = None,
        start: int = 0,
        on_bad: Callable[[BadExtent], None] | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.medium = medium
        self.retries = retries
        self.max_errors = max_errors
        self.pos = start
        self.extents: list[BadExtent] = []
        self.bad_sectors = 0
        self.recovered_sectors = 0  # failed at first, read on a retry
        self._on_bad = on_bad

    @property
    def bad_bytes(self) -> int:
        return sum(e.length for e in self.extents)

    def readinto(self, buf: memoryview) -> int:
        """Fill `buf` (short only at the end of the media); unreadable sectors become zeros.

        Raises:
            AcquisitionError: more than `max_errors` unreadable sectors.
            SourceError: the source ended before its size (device removed?).
        """
        want = min(len(buf), self.medium.size - self.pos)
        if want <= 0:
            return 0
        done = 0
        while done < want:
            try:
                n = self.medium.readinto_at(buf[done:want], self.pos + done)
            except OSError as exc:
                log.debug("read error at %d: %s; reading sector by sector", self.pos + done, exc)
                self._recover(buf[done:want], self.pos + done)
                done = want
                break
            if n == 0:
                raise SourceError(
                    f"source ended at byte {self.pos + done}, before its size "
                    f"{self.medium.size} (was the device removed?)",
                    hint="reconnect the device and acquire again",
                )
            done += n
        self.pos += done
        return done

    def _recover(self, view: memoryview, offset: int) -> None:
        sector = max(512, self.medium.sector_size)
        # align the sector walk to the media's sector grid
        first = offset - offset % sector
        pos = first
        end = offset + len(view)
        while pos < end:
            length = min(sector, self.medium.size - pos)
            data, err = self._read_sector(pos, length)
            lo = max(pos, offset)
            hi = min(pos + length, end)
            if data is not None:
                view[lo - offset : hi - offset] = data[lo - pos : hi - pos]
            else:
                view[lo - offset : hi - offset] = bytes(hi - lo)
                self._record(lo, hi - lo, err)
            pos += length

    def _read_sector(self, offset: int, length: int) -> tuple[bytes | None, int]:
        err = errno.EIO
        for attempt in range(self.retries + 1):
            try:
                data = self.medium.read_direct(offset, length)
            except OSError as exc:
                err = exc.errno or errno.EIO
                continue
            if len(data) == length:
                if attempt:
                    self.recovered_sectors += 1
                return data, 0
            err = errno.EIO  # short read inside the media: unreadable
        return None, err

    def _record(self, offset: int, length: int, err: int) -> None:
        self.bad_sectors += 1
        last = self.extents[-1] if self.extents else None
        if last is not None and last.errno == err and last.offset + last.length == offset:
            self.extents[-1] = BadExtent(last.offset, last.length + length, err)
        else:
            self.extents.append(BadExtent(offset, length, err))
        if self._on_bad is not None:
            self._on_bad(self.extents[-1])
        if self.max_errors is not None and self.bad_sectors > self.max_errors:
            raise AcquisitionError(
                f"more than {self.max_errors} unreadable sectors (the last at byte {offset})",
                hint="the source is failing; raise --max-errors or image it with specialist "
                "hardware; the partial image is marked incomplete",
            )
