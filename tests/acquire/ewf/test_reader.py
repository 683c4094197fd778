"""Our own E01 chunk reader: it must notice what pyewf silently passes, agree with ewfverify, and
turn truncated or corrupt files into clear errors (never a hang or a crash)."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import pytest

from evidencekit.acquire.ewf.info import EwfFormatError
from evidencekit.acquire.ewf.reader import EwfImage
from tests import images
from tests.acquire.ewf.helpers import ewfverify, mixed_source, pyewf_read, write_e01
from tests.conftest import need_peer


@pytest.fixture
def image(tmp_path: Path) -> tuple[bytes, list[Path]]:
    data = mixed_source(tmp_path / "src.raw")
    return data, write_e01(data, tmp_path / "img", segment_size=1 << 20)


def _chunk(first: Path, index: int):  # type: ignore[no-untyped-def]
    with EwfImage(first) as img:
        return img.chunks[index], img.paths[img.chunks[index].segment]


def _flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


def test_reads_libewf_images_and_media_stream(image: tuple[bytes, list[Path]]) -> None:
    data, paths = image
    with EwfImage(paths[0]) as img:
        assert img.size == len(data)
        assert img.info.header["e"] == "Nguyễn Bá Tùng"
        out = bytearray(len(data))
        view = memoryview(out)
        done = 0
        while done < len(out):
            n = img.readinto(view[done : done + 100_000])
            assert n
            done += n
        assert bytes(out) == data
        assert img.readinto(memoryview(bytearray(10))) == 0


def test_reads_images_made_by_libewf() -> None:
    for name in ("ext2.E01", "ext2.split.E01"):
        with EwfImage(images.image(name)) as img:
            res = img.verify()
        assert res.ok, res
        assert res.digests["md5"] == images.media(name).md5


@pytest.mark.parametrize("which", ["raw", "compressed"])
def test_one_flipped_byte_names_the_chunk(image: tuple[bytes, list[Path]], which: str) -> None:
    need_peer("ewfverify")
    data, paths = image
    with EwfImage(paths[0]) as img:
        chunk = next(c for c in img.chunks if c.compressed == (which == "compressed"))
        where = img.paths[chunk.segment]
    _flip(where, chunk.offset + chunk.stored // 2)
    with EwfImage(paths[0]) as img:
        res = img.verify()
    assert not res.ok
    assert [p.index for p in res.chunk_problems] == [chunk.index]
    start = chunk.index * 32768
    assert res.chunk_problems[0].media_range == (start, start + 32768)
    assert f"media bytes {start}-{start + 32767}" in res.chunk_problems[0].text()
    assert any("MD5" in p for p in res.problems)
    # the peer agrees that the image is damaged
    assert "ewfverify: FAILURE" in ewfverify(paths[0]).stdout
    if which == "raw":
        # …while pyewf hands back the changed bytes without a word: why we have our own reader
        assert pyewf_read(paths[0]) != data


def test_readinto_refuses_a_corrupt_chunk(image: tuple[bytes, list[Path]]) -> None:
    _data, paths = image
    chunk, where = _chunk(paths[0], 3)
    _flip(where, chunk.offset + 10)
    with EwfImage(paths[0]) as img, pytest.raises(EwfFormatError, match="chunk 3 "):
        buf = memoryview(bytearray(1 << 20))
        while img.readinto(buf):
            pass


@pytest.mark.parametrize("cut", [5, 200, 1500, -100, -40])
def test_truncated_segments_give_a_clear_error(image: tuple[bytes, list[Path]], cut: int) -> None:
    _data, paths = image
    target = paths[-1] if cut < 0 else paths[0]
    size = target.stat().st_size
    os.truncate(target, size + cut if cut < 0 else cut)
    with pytest.raises(EwfFormatError, match="E01"), EwfImage(paths[0]) as img:
        assert not img.verify().ok  # a cut that leaves the structure intact is still caught
        raise EwfFormatError("E01 structure survived the cut but the data did not")


def test_missing_middle_segment(image: tuple[bytes, list[Path]]) -> None:
    _data, paths = image
    paths[1].unlink()
    with pytest.raises(EwfFormatError, match="incomplete"):
        EwfImage(paths[0])


def test_renamed_segments_are_noticed(image: tuple[bytes, list[Path]]) -> None:
    _data, paths = image
    tmp = paths[1].with_suffix(".tmp")
    paths[1].rename(tmp)
    paths[0].rename(paths[1])
    tmp.rename(paths[0])
    with pytest.raises(EwfFormatError, match="segment number"):
        EwfImage(paths[0])


@pytest.mark.parametrize(
    "offset,message",
    [(0, "not an EWF"), (20, "descriptor checksum"), (13 + 30, "descriptor checksum")],
)
def test_corrupt_headers(image: tuple[bytes, list[Path]], offset: int, message: str) -> None:
    _data, paths = image
    _flip(paths[0], offset)
    with pytest.raises(EwfFormatError, match=message):
        EwfImage(paths[0])


def test_damaged_table_falls_back_to_table2(image: tuple[bytes, list[Path]]) -> None:
    data, paths = image
    raw = paths[1].read_bytes()
    table = raw.index(b"table\0")
    _flip(paths[1], table + 76 + 24 + 8)  # an entry of the table: table2 still holds it
    with EwfImage(paths[0]) as img:
        res = img.verify()
        assert any("read table2 instead" in p for p in img.problems)
    assert not res.chunk_problems and res.digests["md5"] == hashlib.md5(data).hexdigest()
    table2 = raw.index(b"table2\0")
    _flip(paths[1], table2 + 76 + 24 + 8)  # and now its mirror too
    with pytest.raises(EwfFormatError, match="table entries checksum"):
        EwfImage(paths[0])


def test_corrupt_volume(image: tuple[bytes, list[Path]]) -> None:
    _data, paths = image
    raw = paths[0].read_bytes()
    volume = raw.index(b"volume\0")
    _flip(paths[0], volume + 76 + 4)  # the chunk count
    with pytest.raises(EwfFormatError, match="volume section checksum"):
        EwfImage(paths[0])


def test_hostile_descriptor_pointing_backwards(tmp_path: Path) -> None:
    from evidencekit.acquire.ewf.format import FILE_SIGNATURE, descriptor

    loop = tmp_path / "loop.E01"
    loop.write_bytes(
        FILE_SIGNATURE + struct.pack("<BHH", 1, 1, 0) + descriptor("header", 13, 13, 76)
    )
    with pytest.raises(EwfFormatError, match="points to offset 13"):
        EwfImage(loop)
    huge = tmp_path / "huge.E01"
    huge.write_bytes(
        FILE_SIGNATURE + struct.pack("<BHH", 1, 1, 0) + descriptor("header2", 13, 1 << 60, 1 << 60)
    )
    with pytest.raises(EwfFormatError):
        EwfImage(huge)


def test_garbage_and_missing_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.E01"
    junk.write_bytes(os.urandom(100_000))
    with pytest.raises(EwfFormatError, match="not an EWF"):
        EwfImage(junk)
    with pytest.raises(EwfFormatError, match="does not exist"):
        EwfImage(tmp_path / "none.E01")
    empty = tmp_path / "empty.E01"
    empty.write_bytes(b"")
    with pytest.raises(EwfFormatError, match="past the end"):
        EwfImage(empty)


def test_stored_digest_mismatch_is_reported(image: tuple[bytes, list[Path]]) -> None:
    data, paths = image
    raw = paths[-1].read_bytes()
    at = raw.index(hashlib.md5(data).digest())
    _flip(paths[-1], at)  # digest section body: its Adler-32 and the MD5 both disagree now
    with EwfImage(paths[0]) as img:
        res = img.verify()
    assert not res.ok and not res.chunk_problems
    assert any("differs from the stored" in p for p in res.problems)


@pytest.mark.parametrize("kind", ["digest", "hash"])
def test_short_digest_or_hash_section_is_a_problem_not_a_crash(
    image: tuple[bytes, list[Path]], kind: str
) -> None:
    """A descriptor that gives its digest/hash section 10 bytes: reported, never struct.error."""
    from evidencekit.acquire.ewf.format import DESCRIPTOR_SIZE, descriptor

    _data, paths = image
    raw = bytearray(paths[-1].read_bytes())
    at = raw.index(kind.encode().ljust(16, b"\0"))
    next_offset = struct.unpack_from("<Q", raw, at + 16)[0]
    raw[at : at + DESCRIPTOR_SIZE] = descriptor(kind, at, next_offset, DESCRIPTOR_SIZE + 10)
    paths[-1].write_bytes(bytes(raw))
    with EwfImage(paths[0]) as img:
        res = img.verify()
    assert not res.ok
    assert any(f"{kind} too short" in p for p in res.problems), res.problems


def test_many_segments_with_few_open_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencekit.acquire.ewf import reader as ewf_reader

    monkeypatch.setattr(ewf_reader, "_MAX_OPEN", 2)
    data = mixed_source(tmp_path / "src.raw")
    paths = write_e01(data, tmp_path / "img", compression="none", segment_size=1 << 20)
    assert len(paths) == 4
    with EwfImage(paths[0]) as img:
        res = img.verify()
        assert res.ok, res
        assert len(img._fds) <= 2
    assert res.digests["md5"] == hashlib.md5(data).hexdigest()
