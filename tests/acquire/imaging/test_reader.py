"""The resilient reader against a fake medium: retries, zero fill, extents, max-errors."""

from __future__ import annotations

import errno

import pytest

from evidencekit.acquire.imaging.reader import BadExtent, ResilientReader
from evidencekit.errors import AcquisitionError

SECTOR = 512


class FakeMedium:
    """Media of `size` bytes; large reads touching a bad sector fail; sector reads of a bad
    sector fail `fails[s]` times (-1 = always) before they succeed."""

    def __init__(self, size: int, fails: dict[int, int], err: int = errno.EIO) -> None:
        self.data = bytes((i * 7 + 3) % 251 for i in range(size))
        self.fails = dict(fails)
        self.err = err
        self.direct_reads: list[int] = []

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sector_size(self) -> int:
        return SECTOR

    def _bad(self, offset: int, length: int) -> bool:
        first, last = offset // SECTOR, (offset + length - 1) // SECTOR
        return any(self.fails.get(s, 0) for s in range(first, last + 1))

    def readinto_at(self, buf: memoryview, offset: int) -> int:
        n = min(len(buf), self.size - offset)
        if self._bad(offset, n):
            raise OSError(self.err, "Input/output error")
        buf[:n] = self.data[offset : offset + n]
        return n

    def read_direct(self, offset: int, length: int) -> bytes:
        self.direct_reads.append(offset)
        s = offset // SECTOR
        left = self.fails.get(s, 0)
        if left:
            if left > 0:
                self.fails[s] = left - 1
            raise OSError(self.err, "Input/output error")
        return self.data[offset : offset + length]


def _read_all(reader: ResilientReader, chunk: int = 64 * 1024) -> bytes:
    out = bytearray()
    buf = bytearray(chunk)
    while n := reader.readinto(memoryview(buf)):
        out += buf[:n]
    return bytes(out)


def test_clean_medium_reads_everything() -> None:
    m = FakeMedium(300_001, {})
    r = ResilientReader(m)
    assert _read_all(r) == m.data
    assert r.extents == [] and m.direct_reads == []


def test_fails_twice_then_succeeds_with_two_retries() -> None:
    m = FakeMedium(200 * SECTOR, {50: 2})
    r = ResilientReader(m, retries=2)
    assert _read_all(r) == m.data
    assert r.extents == [] and r.bad_sectors == 0 and r.recovered_sectors == 1
    assert m.direct_reads.count(50 * SECTOR) == 3


def test_fails_three_times_is_bad_with_two_retries() -> None:
    m = FakeMedium(200 * SECTOR, {50: 3})
    r = ResilientReader(m, retries=2)
    data = _read_all(r)
    assert data[50 * SECTOR : 51 * SECTOR] == bytes(SECTOR)
    assert data[: 50 * SECTOR] == m.data[: 50 * SECTOR]
    assert data[51 * SECTOR :] == m.data[51 * SECTOR :]
    assert r.extents == [BadExtent(50 * SECTOR, SECTOR, errno.EIO)]
    assert m.direct_reads.count(50 * SECTOR) == 3


def test_zero_retries_tries_once() -> None:
    m = FakeMedium(64 * SECTOR, {10: 1})
    r = ResilientReader(m, retries=0)
    _read_all(r)
    assert r.bad_sectors == 1 and m.direct_reads.count(10 * SECTOR) == 1


def test_adjacent_bad_sectors_merge_and_errno_is_kept() -> None:
    m = FakeMedium(1000 * SECTOR + 100, {7: -1, 8: -1, 9: -1, 500: -1, 1000: -1}, errno.ENXIO)
    r = ResilientReader(m, retries=1)
    data = _read_all(r, chunk=100_000)  # chunks not aligned to sectors
    assert len(data) == m.size
    assert r.extents == [
        BadExtent(7 * SECTOR, 3 * SECTOR, errno.ENXIO),
        BadExtent(500 * SECTOR, SECTOR, errno.ENXIO),
        BadExtent(1000 * SECTOR, 100, errno.ENXIO),  # the short last sector
    ]
    good = bytearray(m.data)
    for e in r.extents:
        good[e.offset : e.offset + e.length] = bytes(e.length)
    assert data == bytes(good)
    assert r.extents[0].to_dict()["error"] == "ENXIO"


def test_max_errors_stops() -> None:
    m = FakeMedium(100 * SECTOR, {s: -1 for s in range(10, 20)})
    r = ResilientReader(m, retries=0, max_errors=5)
    with pytest.raises(AcquisitionError, match="more than 5 unreadable sectors"):
        _read_all(r)
