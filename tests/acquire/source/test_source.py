"""The shared source adapter: images give their media, devices their ioctl facts, and bad
input a clear SourceError."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from evidencekit.acquire.source.adapter import open_source
from evidencekit.errors import SourceError
from tests.conftest import need_root
from tests.fixtures.faulty import loop_device
from tests.images import image, media, segments

# image -> the format the adapter must name; media size and digests from tests/images.py (oracle)
FORMATS = {
    "ext2.E01": "ewf",
    "ext2.split.E01": "ewf",
    "ext2.splitraw.000": "split-raw",
    "ext2.qcow2": "qcow2",
    "ext2.vmdk": "vmdk",
    "ext2.vhd": "vhd",
    "image.vhd": "vhd",
    "ímynd.dd": "raw",
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_image_media_digests(name: str) -> None:
    fmt = FORMATS[name]
    size, md5 = media(name).size, media(name).md5
    with open_source(image(name)) as src:
        assert src.info.format == fmt
        assert src.info.kind == ("file" if fmt == "raw" else "image")
        assert src.size == size and src.sector_size == 512
        h = hashlib.md5()
        buf = bytearray(300_000)  # not a divisor of the size
        while n := src.readinto(memoryview(buf)):
            h.update(buf[:n])
        assert h.hexdigest() == md5
        assert src.tell() == size
        # random access agrees with the sequential stream
        src.seek(-1000, io.SEEK_END)
        tail = src.read()
        assert src.read_at(size - 1000, 5000) == tail and len(tail) == 1000


def test_split_segments_and_ewf_facts() -> None:
    with open_source(image("ext2.split.E01")) as src:
        assert [Path(s) for s in src.info.segments] == segments("ext2.split.E01")
        assert len(src.info.segments) > 1
        assert src.info.identity["ewf_stored_md5"] == media("ext2.split.E01").md5
        doc = src.info.to_dict()
        assert doc["format"] == "ewf" and doc["size"] == 4194304
    with open_source(image("ext2.splitraw.000")) as src:
        assert len(src.info.segments) == 2


def test_as_format_raw_reads_the_container_bytes() -> None:
    with open_source(image("ext2.E01"), as_format="raw") as src:
        assert src.info.format == "raw" and src.size == (image("ext2.E01")).stat().st_size
        assert src.read_at(0, 3) == b"EVF"


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        open_source(tmp_path / "nope")
    with pytest.raises(SourceError, match="neither a regular file nor a block device"):
        open_source(tmp_path)
    bad = tmp_path / "corrupt.E01"
    bad.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 4000)
    with pytest.raises(SourceError, match="corrupt or truncated"):
        open_source(bad)
    trunc = tmp_path / "trunc.qcow2"
    trunc.write_bytes(b"QFI\xfb" + b"\x00" * 60)
    with pytest.raises(SourceError, match="qcow2"):
        open_source(trunc)
    l01 = tmp_path / "x.L01"
    l01.write_bytes(b"LVF\x09\x0d\x0a\xff\x00" + bytes(600))
    with pytest.raises(SourceError, match="logical evidence file"):
        open_source(l01)
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with open_source(empty) as src:
        assert src.size == 0 and src.read() == b""


def test_source_is_opened_read_only(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"a" * 4096)
    with open_source(path) as src:
        fd = src.fileno()
        assert fd is not None
        with pytest.raises(OSError):
            os.write(fd, b"b")
    assert path.read_bytes() == b"a" * 4096


@pytest.mark.root
def test_loop_device_facts(tmp_path: Path) -> None:
    need_root()
    path = tmp_path / "disk.bin"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 512))
    with loop_device(path) as dev, open_source(dev) as src:
        assert src.info.kind == "block-device"
        assert src.size == path.stat().st_size
        assert src.info.logical_sector_size == 512
        assert src.info.read_only_flag is True  # losetup -r
        assert src.info.identity["loop_backing_file"] == str(path)
        assert src.read_direct(1024, 512) == path.read_bytes()[1024:1536]
        assert src.read_at(3 * 1024 * 1024, 4096) == path.read_bytes()[-512:]


def test_corrupt_e01_chunk_reads_as_eio_not_as_garbage(tmp_path: Path) -> None:
    """pyewf would hand back the damaged chunk's bytes; our reader refuses exactly that chunk."""
    from evidencekit.acquire.ewf.reader import EwfImage
    from evidencekit.acquire.imaging.reader import ResilientReader

    bad = tmp_path / "flip.E01"
    data = bytearray((image("ext2.E01")).read_bytes())
    with EwfImage(image("ext2.E01")) as im:
        chunk = im.chunks[3]
        chunk_size = im.info.chunk_size
    data[chunk.offset + chunk.stored // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    with open_source(bad) as src:
        with pytest.raises(OSError):
            src.read_at(3 * chunk_size, 10)
        with open_source(image("ext2.E01")) as good:
            assert src.read_at(0, 100) == good.read_at(0, 100)
        reader = ResilientReader(src, retries=0)
        buf = bytearray(1 << 20)
        while reader.readinto(memoryview(buf)):
            pass
    assert [(e.offset, e.length) for e in reader.extents] == [(3 * chunk_size, chunk_size)]
