"""Shared helpers for the E01 tests: a mixed source, writing it, asking the peers."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
from pathlib import Path

from evidencekit.acquire.ewf.metadata import EwfMetadata
from evidencekit.acquire.ewf.writer import EwfWriter

META = EwfMetadata(
    case_number="VKS-2024-06",
    evidence_number="Biên bản thu giữ số 12",
    description="Ổ cứng của Trương Đình Bủng",
    examiner="Nguyễn Bá Tùng",
    notes="Biên bản thu giữ",
)


def mixed_source(path: Path, size: int = (3 << 20) + 3 * 512, seed: int = 5) -> bytes:
    """Random, zeros and program bytes (like a real disk), `size` bytes, written to `path`."""
    rnd = random.Random(seed).randbytes(size // 2)
    zeros = bytes(size // 4)
    program = Path(sys.executable).resolve().read_bytes()[: size - len(rnd) - len(zeros)]
    data = rnd + zeros + program
    data += bytes(size - len(data))
    path.write_bytes(data)
    return data


def write_e01(
    data: bytes,
    base: Path,
    *,
    compression: str = "fast",
    segment_size: int = 2 << 30,
    step: int = 1 << 20,
    meta: EwfMetadata = META,
    bad: tuple[tuple[int, int], ...] = (),
    writer: EwfWriter | None = None,
) -> list[Path]:
    writer = writer or EwfWriter(
        base,
        segment_size=segment_size,
        compression=compression,
        metadata=meta,
        media_size=len(data),
    )
    view = memoryview(data)
    for i in range(0, len(data), step):
        writer.write(view[i : i + step])
    for offset, length in bad:
        writer.mark_unreadable(offset, length)
    return writer.finish(hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest())


def ewfverify(first: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ewfverify", "-q", "-d", "sha1", str(first)], capture_output=True, text=True, timeout=120
    )


def pyewf_read(first: Path) -> bytes:
    import pyewf

    handle = pyewf.handle()
    handle.open(pyewf.glob(str(first)))
    try:
        return bytes(handle.read(handle.get_media_size()))
    finally:
        handle.close()
