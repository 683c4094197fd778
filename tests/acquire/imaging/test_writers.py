"""Raw and split raw writers: segment sizes, concatenation, refusing to overwrite, protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencekit.acquire.imaging.writers import (
    ImageWriter,
    RawWriter,
    SplitRawWriter,
    make_raw_writer,
)
from evidencekit.errors import AcquisitionError, UsageError


def _feed(writer: ImageWriter, data: bytes, piece: int) -> None:
    for i in range(0, len(data), piece):
        writer.consume(memoryview(data[i : i + piece]))


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 4500])
def test_split_segments(tmp_path: Path, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    w = SplitRawWriter(tmp_path / "IT", 1000)
    assert isinstance(w, ImageWriter)
    _feed(w, data, 333)
    paths = w.finish("0" * 32)
    assert [p.name for p in paths] == [f"IT.{i:03d}" for i in range(1, len(paths) + 1)]
    assert len(paths) == max(1, -(-size // 1000))
    assert all(p.stat().st_size <= 1000 for p in paths)
    assert b"".join(p.read_bytes() for p in paths) == data


def test_raw_writer_and_no_overwrite(tmp_path: Path) -> None:
    w = RawWriter(tmp_path / "IT")
    _feed(w, b"abc" * 1000, 64)
    assert w.finish("0" * 32) == [tmp_path / "IT.raw"]
    assert (tmp_path / "IT.raw").read_bytes() == b"abc" * 1000
    with pytest.raises(AcquisitionError, match="already exists"):
        RawWriter(tmp_path / "IT")


def test_abort_keeps_what_was_written(tmp_path: Path) -> None:
    w = make_raw_writer(tmp_path / "IT", "split", 10)
    _feed(w, b"x" * 25, 7)
    assert [p.stat().st_size for p in w.abort()] == [10, 10, 5]


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        SplitRawWriter(tmp_path / "IT", 0)
    with pytest.raises(UsageError):
        make_raw_writer(tmp_path / "IT", "zip", None)
    with pytest.raises(AcquisitionError):
        RawWriter(tmp_path / "missing-dir" / "IT")
