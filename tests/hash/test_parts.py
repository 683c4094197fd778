"""PartHasher: per-file digests of pieces hashed in background threads, in order."""

from __future__ import annotations

import hashlib
import random

import pytest

from evidencekit.hash.parts import PartHasher


def test_parts_match_hashlib_whatever_the_piece_sizes() -> None:
    rnd = random.Random(7)
    files = [rnd.randbytes(n) for n in (0, 1, 70_000, 3 << 20)]
    tee = PartHasher(["sha256", "md5"], max_pending=100_000)  # forces the writer to wait
    for blob in files:
        view = memoryview(blob)
        pos = 0
        while pos < len(blob):
            step = rnd.randint(1, 300_000)
            tee.update(view[pos : pos + step], b"")
            pos += step
        tee.end_part()
    got = tee.close()
    assert got == [
        {"sha256": hashlib.sha256(b).hexdigest(), "md5": hashlib.md5(b).hexdigest()} for b in files
    ]


def test_order_of_pieces_matters() -> None:
    a = PartHasher(["sha256"])
    a.update(b"ab", b"cd")
    a.end_part()
    b = PartHasher(["sha256"])
    b.update(b"cd", b"ab")
    b.end_part()
    assert a.close() != b.close()


def test_abort_stops_and_closed_refuses_input() -> None:
    tee = PartHasher(["md5"])
    tee.update(bytes(1 << 20))
    tee.abort()
    with pytest.raises(ValueError, match="closed"):
        tee.update(b"x")
    assert tee.close() == []  # nothing ended: no part


def test_unknown_algorithm_is_refused() -> None:
    from evidencekit.errors import UsageError

    with pytest.raises(UsageError):
        PartHasher(["crc99"])


def test_release_runs_once_after_every_algorithm_hashed_the_pieces() -> None:
    """The writer recycles its buffer on release: it must not change before both digests."""
    buf = bytearray(b"x" * (1 << 20))
    released: list[int] = []
    tee = PartHasher(["md5", "sha1"])

    def release() -> None:
        released.append(1)
        buf[:] = bytes(len(buf))  # what a recycled buffer would go through

    tee.update(memoryview(buf), release=release)
    tee.end_part()
    got = tee.close()
    assert released == [1]
    blob = b"x" * (1 << 20)
    assert got == [{"md5": hashlib.md5(blob).hexdigest(), "sha1": hashlib.sha1(blob).hexdigest()}]
    tee2 = PartHasher(["md5"])
    tee2.update(b"", release=lambda: released.append(2))  # nothing to hash: released at once
    assert released == [1, 2]
    tee2.close()
