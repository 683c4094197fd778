"""Known answers for the one-pass multi-hasher, the pump and window digests."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from evidencekit.errors import HashError, UsageError
from evidencekit.hash.algorithms import parse_algorithms
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.multihash import MultiHasher, hash_file
from evidencekit.hash.pipeline import pump
from tests.conftest import need_peer
from tests.images import image, media

ALL = ("md5", "sha1", "sha256", "sha512", "blake3")

EMPTY = {
    "md5": "d41d8cd98f00b204e9800998ecf8427e",
    "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha512": "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    "blake3": "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
}
ABC = {
    "md5": "900150983cd24fb0d6963f7d28e17f72",
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "blake3": "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85",
}


@pytest.mark.parametrize(("data", "expected"), [(b"", EMPTY), (b"abc", ABC)])
def test_known_answers_sync(data: bytes, expected: dict[str, str]) -> None:
    hasher = MultiHasher(ALL)
    hasher.update(data)
    result = hasher.result()
    assert result.digests == expected
    assert result.size == len(data)


@pytest.mark.parametrize(("data", "expected"), [(b"", EMPTY), (b"abc", ABC)])
def test_known_answers_file(tmp_path: Path, data: bytes, expected: dict[str, str]) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    assert hash_file(path, ALL).digests == expected


def test_raw_image_media_digests() -> None:
    """Our one-pass hasher agrees with md5sum/sha256sum (tests/images.py) on built images."""
    for name in ("iso9660.raw", "ímynd.dd"):
        want = media(name)
        result = hash_file(image(name), ("md5", "sha256"), chunk_size=4096, buffers=3)
        assert result.size == want.size
        assert result.digests == {"md5": want.md5, "sha256": want.sha256}


def test_pump_matches_hashlib_across_odd_chunking(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 12345)
    hasher = MultiHasher(("md5", "sha1", "sha256", "sha512", "blake3"), window=1 << 20)
    total = pump(io.BytesIO(data).readinto, hasher.consumers(), chunk_size=65536 + 7, buffers=3)
    result = hasher.result()
    assert total == result.size == len(data)
    assert result.digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert result.digests["md5"] == hashlib.md5(data).hexdigest()
    assert [w.length for w in result.windows] == [1 << 20] * 3 + [12345]
    for w in result.windows:
        assert (
            w.digests["sha256"] == hashlib.sha256(data[w.offset : w.offset + w.length]).hexdigest()
        )


def test_window_digests_sync_path() -> None:
    hasher = MultiHasher(("md5",), window=4)
    hasher.update(b"abcdefghij")
    result = hasher.result()
    assert [(w.offset, w.length) for w in result.windows] == [(0, 4), (4, 4), (8, 2)]
    assert result.windows[2].digests == {"sha256": hashlib.sha256(b"ij").hexdigest()}


def test_pump_limit_and_consumer_error() -> None:
    class Boom:
        def consume(self, data: memoryview) -> None:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            raise AssertionError("close must not run after a failure")

    hasher = MultiHasher(("sha256",))
    with pytest.raises(OSError, match="No space"):
        pump(io.BytesIO(b"x" * 100000).readinto, [hasher.consumers()[0], Boom()], chunk_size=1000)
    counted = MultiHasher(("md5",))
    n = pump(io.BytesIO(b"y" * 5000).readinto, counted.consumers(), chunk_size=1024, limit=3000)
    assert n == 3000 and counted.result().digests["md5"] == hashlib.md5(b"y" * 3000).hexdigest()


class _Holder:
    """A HoldingConsumer that keeps up to `max_held` buffers, copies them late, then releases
    (some twice: the second call must not free a buffer the reader refilled)."""

    def __init__(self, max_held: int, fail_at: int | None = None) -> None:
        self.max_held = max_held
        self.fail_at = fail_at
        self.held: list[tuple[bytearray, int, Callable[[], None]]] = []
        self.out = bytearray()
        self.calls = 0

    def hold(self, buffer: bytearray, length: int, release: Callable[[], None]) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError(28, "No space left on device")
        self.held.append((buffer, length, release))
        if len(self.held) == self.max_held:
            self._flush()

    def _flush(self) -> None:
        for buffer, length, release in self.held:
            self.out += buffer[:length]
            release()
            release()
        self.held.clear()

    def consume(self, data: memoryview) -> None:
        raise AssertionError("a holding consumer is given buffers, not views")

    def close(self) -> None:
        self._flush()


def test_pump_lends_buffers_to_a_holding_consumer() -> None:
    data = os.urandom(200_000 + 17)
    holder = _Holder(max_held=5)
    hasher = MultiHasher(("sha256",))
    n = pump(io.BytesIO(data).readinto, [*hasher.consumers(), holder], chunk_size=4096, buffers=2)
    assert n == len(data) and bytes(holder.out) == data
    assert hasher.result().digests["sha256"] == hashlib.sha256(data).hexdigest()


def test_pump_holding_consumer_error_releases_and_raises() -> None:
    holder = _Holder(max_held=3, fail_at=4)
    with pytest.raises(OSError, match="No space"):
        pump(io.BytesIO(b"z" * 100_000).readinto, [holder], chunk_size=1000, buffers=1)


def test_reader_error_propagates() -> None:
    def bad_read(mv: memoryview) -> int:
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output"):
        pump(bad_read, MultiHasher(("md5",)).consumers())


def test_fifo_hashes_until_eof(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"printf abc > '{fifo}'"])
    result = hash_file(fifo, ("sha256",))
    writer.wait()
    assert result.digests["sha256"] == ABC["sha256"]


def test_directory_and_missing_are_clear(tmp_path: Path) -> None:
    with pytest.raises(HashError, match="directory"):
        hash_file(tmp_path, ("md5",))
    with pytest.raises(HashError, match="cannot open"):
        hash_file(tmp_path / "nope", ("md5",))


def test_parse_algorithms() -> None:
    assert parse_algorithms("SHA-256,md5,md5") == ("md5", "sha256")
    assert parse_algorithms(["sha1", "blake3,sha512"]) == ("sha1", "sha512", "blake3")
    with pytest.raises(UsageError):
        parse_algorithms("crc32")
    with pytest.raises(UsageError):
        parse_algorithms("")


def test_canonical_json_rfc8785() -> None:
    assert canonical_json({"b": 1, "a": [1.0, "Nguyễn", None]}) == (
        '{"a":[1,"Nguyễn",null],"b":1}'.encode()
    )


def test_against_coreutils_on_a_real_file(tmp_path: Path) -> None:
    need_peer("sha512sum", "b3sum")
    path = tmp_path / "data.bin"
    path.write_bytes(os.urandom(5 * 1024 * 1024 + 3))
    result = hash_file(path, ("sha512", "blake3"))
    for tool, algo in (("sha512sum", "sha512"), ("b3sum", "blake3")):
        out = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True)
        assert out.stdout.split()[0] == result.digests[algo]
