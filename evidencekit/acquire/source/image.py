"""Which container a regular file is, and opening its media.

The format is read from the file's own bytes (its first and last 512), never trusted from the
name; only split raw, which has no signature, is recognised by a segment-style name that has
further segments next to it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from evidencekit.acquire.source import _libyal
from evidencekit.acquire.source.ewf import EwfMedia
from evidencekit.acquire.source.info import Media
from evidencekit.acquire.source.unsupported import refuse_unsupported

_SPLIT_NAME = re.compile(r"\.(\d{2,4}|[a-z]{2}|[A-Z]{2})$")


def detect_format(path: Path, fd: int, file_size: int) -> tuple[str | None, bytes]:
    """The container format of the open file `fd` (None: plain raw) and its first 512 bytes.

    Raises:
        SourceError: the file is a logical evidence file (L01/Lx01), or a container we cannot
            open (Apple DMG, VDI, AFF, an archive …): its bytes are not the media inside it.
    """
    if not file_size:
        return None, b""
    head = os.pread(fd, 512, 0)
    tail = os.pread(fd, 512, max(0, file_size - 512))
    fmt = _libyal.detect(path, head, tail)
    if fmt is None:
        refuse_unsupported(path, head, tail)
    if fmt is None and _SPLIT_NAME.search(path.name):
        segments = _libyal.split_raw_segments(path)
        if len(segments) > 1:
            fmt = "split-raw"
    return fmt, head


def open_media(path: Path, fmt: str, head: bytes) -> Media:
    """The media of the image at `path`, detected as `fmt` from its first bytes `head`.

    EWF v1 (E01) is read by our own checking chunk reader; EWF2 (Ex01) and the other formats
    by their libyal binding.

    Raises:
        SourceError: the image is corrupt, truncated, differencing or its binding is missing.
    """
    if fmt == "ewf" and head.startswith(_libyal.EWF_SIGNATURES[0]):
        return EwfMedia(path)
    segs = {
        "ewf": _libyal.ewf_segments,
        "split-raw": _libyal.split_raw_segments,
    }.get(fmt, lambda p: [p])(path)
    return _libyal.LibyalMedia(fmt, path, segs)
