"""`EwfMedia`: the media of an E01 (EWF v1) source, read and checked by our own chunk reader."""

from __future__ import annotations

import datetime as dt
import errno
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

from evidencekit.acquire.ewf.format import MEDIA_FLAG_PHYSICAL
from evidencekit.timeutil import isoformat

# header/header2 keys -> the fact names a source E01's values are recorded under (`ewf_…`)
HEADER_FACTS = {
    "c": "case_number",
    "n": "evidence_number",
    "a": "description",
    "e": "examiner",
    "t": "notes",
    "m": "acquired",
    "av": "software",
    "ov": "os",
    "md": "model",
    "sn": "serial_number",
}
_SUMMARY = (
    ("case_number", "case"),
    ("evidence_number", "evidence"),
    ("examiner", "examiner"),
    ("notes", "notes"),
    ("acquired", "acquired"),
    ("software", "software"),
)


def header_facts(header: Mapping[str, str]) -> dict[str, str]:
    """A source E01's header values as `ewf_…` facts; its acquisition date in ISO 8601 UTC
    (header2 stores epoch seconds, header "YYYY M D h m s" wall-clock parts)."""
    facts: dict[str, str] = {}
    for key, name in HEADER_FACTS.items():
        value = header.get(key)
        if value:
            facts[f"ewf_{name}"] = _when(value) if key == "m" else value
    return facts


def _when(value: str) -> str:
    text = value.strip()
    try:
        if text.isdigit():
            return isoformat(dt.datetime.fromtimestamp(int(text), dt.UTC))
        parts = [int(p) for p in text.split()]
        if len(parts) == 6:
            year, month, day, hour, minute, second = parts
            wall = dt.datetime(year, month, day, hour, minute, second)
            return wall.isoformat() + " (the acquiring host's local time)"
    except (ValueError, OverflowError, OSError):
        pass
    return value


def source_summary(values: Mapping[str, str], prefix: str = "ewf_") -> str:
    """One line naming what a source E01's header said (for our header's notes): another
    tool's case, evidence number and examiner are kept, never presented as ours."""
    parts = [
        f"{label} {values[prefix + key]}" for key, label in _SUMMARY if values.get(prefix + key)
    ]
    return "source E01: " + "; ".join(parts) if parts else ""


class EwfMedia:
    """An E01 (EWF v1) set through our own chunk reader (`ewf.reader.EwfImage`), which checks
    every chunk: pyewf silently returns the bytes of a corrupted or missing chunk, so an image
    made from a damaged E01 would look complete. Here a bad chunk reads as EIO, and the resilient
    reader zero-fills and reports exactly that chunk's sectors."""

    _CACHE = 8  # decoded chunks kept (Sleuth Kit reads small blocks, a chunk is 32 KiB)

    def __init__(self, path: Path) -> None:
        from evidencekit.acquire.ewf.reader import EwfImage

        self._image = EwfImage(path)  # EwfFormatError (a SourceError) when corrupt/truncated
        info = self._image.info
        self.size = info.media_size
        self.sector_size = info.bytes_per_sector or 512
        self.chunk_size = info.chunk_size
        self.segments = tuple(self._image.paths)
        self.facts: dict[str, str] = header_facts(info.header)
        self.facts["ewf_media_type"] = info.media_type
        self.facts["ewf_is_physical"] = "yes" if info.media_flags & MEDIA_FLAG_PHYSICAL else "no"
        if info.md5:
            self.facts["ewf_stored_md5"] = info.md5
        if info.sha1:
            self.facts["ewf_stored_sha1"] = info.sha1
        # each stored digest with its section, for `stored_digests.compare`
        self.stored: tuple[tuple[str, str, str], ...] = tuple(info.stored)
        self._lock = threading.Lock()
        self._cache: OrderedDict[int, bytes] = OrderedDict()

    def _chunk(self, index: int) -> bytes:
        data = self._cache.get(index)
        if data is not None:
            self._cache.move_to_end(index)
            return data
        start = index * self.chunk_size
        want = min(self.chunk_size, self.size - start)
        buf = bytearray(want)
        from evidencekit.acquire.ewf.info import EwfFormatError

        try:
            self._image.seek(start)
            got = self._image.readinto(memoryview(buf))
        except EwfFormatError as exc:
            raise OSError(errno.EIO, exc.message) from exc
        if got != want:
            raise OSError(errno.EIO, f"E01 chunk {index} is short ({got} of {want} bytes)")
        data = bytes(buf)
        self._cache[index] = data
        while len(self._cache) > self._CACHE:
            self._cache.popitem(last=False)
        return data

    def read_at(self, offset: int, length: int) -> bytes:
        end = min(self.size, offset + length)
        out = bytearray()
        with self._lock:
            pos = offset
            while pos < end:
                index = pos // self.chunk_size
                data = self._chunk(index)
                skip = pos - index * self.chunk_size
                piece = data[skip : skip + end - pos]
                out += piece
                pos += len(piece)
        return bytes(out)

    def stored_tail(self) -> bytes:
        """The bytes the last chunk stores past the media, which the stored digests cover.

        Raises:
            EwfFormatError: the last chunk is corrupt.
        """
        with self._lock:
            return self._image.stored_tail()

    def close(self) -> None:
        self._image.close()
