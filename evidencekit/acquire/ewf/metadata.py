"""What an E01 says about the media and the acquisition: the header, header2 and volume sections.

`EwfMetadata` holds the examiner's and the media's values; header2 (UTF-16, what every reader
prefers) and header (ASCII, for older readers) carry them as tab-separated text in EnCase 6's
layout, and the volume section the geometry (its byte layout is in `format`).
"""

from __future__ import annotations

import datetime as dt
import platform
import unicodedata
from dataclasses import dataclass, field

from evidencekit import __version__
from evidencekit.acquire.ewf.format import (
    MEDIA_FLAG_IMAGE,
    MEDIA_FLAG_PHYSICAL,
    MEDIA_TYPES,
    VOLUME_COMPRESSION,
    Volume,
)
from evidencekit.errors import UsageError

# header2 "main" keys in the order EnCase 6 / ewfacquire write them.
_HEADER2_KEYS = ("a", "c", "n", "e", "t", "md", "sn", "av", "ov", "m", "u", "p", "dc")
_HEADER_KEYS = ("c", "n", "a", "e", "t", "av", "ov", "m", "u", "p")
_HEADER2_TAIL = (
    "srce\n0\t1\np\tn\tid\tev\ttb\tlo\tpo\tah\tgu\taq\n0\t0\n\t\t\t\t\t-1\t-1\t\t\t\n\n"
    "sub\n0\t1\np\tn\tid\tnu\tco\tgu\n0\t0\n\t\t\t\t1\t\n\n"
)


def _clean(text: str) -> str:
    # Tabs and line ends separate the header's fields and lines: they cannot be in a value.
    return " ".join(unicodedata.normalize("NFC", text).replace("\t", " ").splitlines())


def _ascii(text: str) -> str:
    """The header section is ASCII: Vietnamese keeps its letters without the marks there
    (header2, which every reader prefers, keeps the exact UTF-16 text)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.encode("ascii", "replace").decode("ascii")


@dataclass(frozen=True, slots=True)
class EwfMetadata:
    """What the header, header2 and volume sections say about the media and the acquisition."""

    case_number: str = ""
    evidence_number: str = ""
    description: str = ""
    examiner: str = ""
    notes: str = ""
    acquired: dt.datetime | None = None
    system_date: dt.datetime | None = None
    os: str = field(default_factory=platform.system)
    software_version: str = f"ek {__version__}"
    media_type: str = "fixed"
    is_physical: bool = True
    bytes_per_sector: int = 512
    sectors_per_chunk: int = 64
    error_granularity: int | None = None
    model: str = ""
    serial_number: str = ""

    @property
    def chunk_size(self) -> int:
        return self.bytes_per_sector * self.sectors_per_chunk

    def to_dict(self) -> dict[str, object]:
        return {
            "case_number": self.case_number,
            "evidence_number": self.evidence_number,
            "description": self.description,
            "examiner": self.examiner,
            "notes": self.notes,
            "acquired": self.acquired.isoformat() if self.acquired else None,
            "system_date": self.system_date.isoformat() if self.system_date else None,
            "os": self.os,
            "software_version": self.software_version,
            "media_type": self.media_type,
            "is_physical": self.is_physical,
            "bytes_per_sector": self.bytes_per_sector,
            "sectors_per_chunk": self.sectors_per_chunk,
            "error_granularity": self.error_granularity or self.sectors_per_chunk,
            "model": self.model,
            "serial_number": self.serial_number,
        }

    def check(self) -> None:
        """Raises UsageError for values EWF cannot hold."""
        if self.media_type not in MEDIA_TYPES:
            raise UsageError(
                f"unknown E01 media type {self.media_type!r}",
                hint=f"use one of {', '.join(MEDIA_TYPES)}",
            )
        if self.bytes_per_sector not in (512, 1024, 2048, 4096):
            raise UsageError(f"unsupported bytes per sector {self.bytes_per_sector} for E01")
        if self.sectors_per_chunk not in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192):
            raise UsageError(f"unsupported sectors per chunk {self.sectors_per_chunk} for E01")


def _epoch(value: dt.datetime | None) -> str:
    return str(int(value.timestamp())) if value is not None else ""


def header2_bytes(meta: EwfMetadata) -> bytes:
    """header2: UTF-16LE with BOM, EnCase 6 layout (main, srce, sub categories)."""
    now = dt.datetime.now(dt.UTC)
    values = (
        meta.description,
        meta.case_number,
        meta.evidence_number,
        meta.examiner,
        meta.notes,
        meta.model,
        meta.serial_number,
        meta.software_version[:11],
        meta.os[:23],
        _epoch(meta.acquired or now),
        _epoch(meta.system_date or now),
        "0",
        "",
    )
    text = (
        "3\nmain\n"
        + "\t".join(_HEADER2_KEYS)
        + "\n"
        + "\t".join(_clean(v) for v in values)
        + "\n\n"
        + _HEADER2_TAIL
    )
    return b"\xff\xfe" + text.encode("utf-16-le")


def _header_date(value: dt.datetime | None) -> str:
    v = (value or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{v.year} {v.month} {v.day} {v.hour} {v.minute} {v.second}"


def header_bytes(meta: EwfMetadata) -> bytes:
    """header: ASCII, CRLF lines, dates as 'Y M D h m s' (written in UTC)."""
    values = (
        meta.case_number,
        meta.evidence_number,
        meta.description,
        meta.examiner,
        meta.notes,
        meta.software_version[:11],
        meta.os[:23],
        _header_date(meta.acquired),
        _header_date(meta.system_date),
        "0",
    )
    text = (
        "1\r\nmain\r\n"
        + "\t".join(_HEADER_KEYS)
        + "\r\n"
        + "\t".join(_ascii(_clean(v)) for v in values)
        + "\r\n\r\n"
    )
    return text.encode("ascii")


def volume_bytes(
    meta: EwfMetadata, chunk_count: int, sector_count: int, compression: str, guid: bytes
) -> bytes:
    """The 1052-byte volume (segment 1) / data (other segments) section payload."""
    return Volume(
        MEDIA_TYPES[meta.media_type],
        chunk_count,
        meta.sectors_per_chunk,
        meta.bytes_per_sector,
        sector_count,
        MEDIA_FLAG_IMAGE | (MEDIA_FLAG_PHYSICAL if meta.is_physical else 0),
        VOLUME_COMPRESSION[compression],
        meta.error_granularity or meta.sectors_per_chunk,
        guid,
    ).pack()


def parse_header_text(raw: bytes, utf16: bool) -> dict[str, str]:
    """The "main" category's values by key, from a header (ASCII) or header2 (UTF-16) text;
    empty when it has none."""
    if utf16:
        if raw[:2] == b"\xff\xfe":
            text = raw[2:].decode("utf-16-le", "replace")
        elif raw[:2] == b"\xfe\xff":
            text = raw[2:].decode("utf-16-be", "replace")
        else:
            text = raw.decode("utf-16-le", "replace")
    else:
        text = raw.decode("latin-1")
    lines = text.replace("\r\n", "\n").split("\n")
    try:
        main = lines.index("main")
        keys = lines[main + 1].split("\t")
        values = lines[main + 2].split("\t")
    except (ValueError, IndexError):
        return {}
    return dict(zip(keys, values, strict=False))
