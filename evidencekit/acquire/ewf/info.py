"""What reading an E01 set yields: where each chunk is, what the sections say, what is wrong.

Value types of `parse` (the section walk) and `reader` (chunk decoding and verification).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evidencekit.acquire.ewf.format import MEDIA_FLAG_PHYSICAL
from evidencekit.errors import SourceError
from evidencekit.hash.multihash import HashResult


class EwfFormatError(SourceError):
    """The E01 segment set is truncated, corrupt or not EWF at all."""


@dataclass(frozen=True, slots=True)
class Chunk:
    """Where chunk `index` is stored: segment file number (0-based), file offset, stored size."""

    index: int
    segment: int
    offset: int
    stored: int
    compressed: bool


@dataclass(frozen=True, slots=True)
class ChunkProblem:
    """A chunk that does not decode; `media_range` is [start, end) of the media it holds."""

    index: int
    file: str
    file_offset: int
    media_range: tuple[int, int]
    message: str

    def text(self) -> str:
        start, end = self.media_range
        return (
            f"chunk {self.index} (media bytes {start}-{end - 1}, {self.file} offset "
            f"{self.file_offset}): {self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "file": self.file,
            "file_offset": self.file_offset,
            "media_range": list(self.media_range),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class EwfVerification:
    """The outcome of `EwfImage.verify()`."""

    media_size: int
    chunks: int
    digests: dict[str, str]
    stored_md5: str | None
    stored_sha1: str | None
    chunk_problems: tuple[ChunkProblem, ...]
    problems: tuple[str, ...]
    hash_result: HashResult | None = None

    @property
    def ok(self) -> bool:
        return not self.chunk_problems and not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "media_size": self.media_size,
            "chunks": self.chunks,
            "digests": dict(self.digests),
            "stored_md5": self.stored_md5,
            "stored_sha1": self.stored_sha1,
            "chunk_problems": [p.to_dict() for p in self.chunk_problems],
            "problems": list(self.problems),
        }


@dataclass(slots=True)
class EwfInfo:
    """What the sections say (header values, geometry, stored digests, error extents)."""

    header: dict[str, str] = field(default_factory=dict)
    media_type: str = "fixed"
    media_flags: int = 0
    chunk_count: int = 0
    sectors_per_chunk: int = 0
    bytes_per_sector: int = 0
    sector_count: int = 0
    compression_level: int = 0
    error_granularity: int = 0
    guid: bytes = b""
    md5: str | None = None
    sha1: str | None = None
    errors: list[tuple[int, int]] = field(default_factory=list)
    # every stored digest as (algorithm, section, hex): the digest section's MD5 and SHA-1 and
    # the hash section's MD5 are kept apart, so that one edited copy is not hidden by the other
    stored: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def chunk_size(self) -> int:
        return self.sectors_per_chunk * self.bytes_per_sector

    @property
    def media_size(self) -> int:
        return self.sector_count * self.bytes_per_sector

    def to_dict(self) -> dict[str, object]:
        return {
            "header": dict(self.header),
            "media_type": self.media_type,
            "is_physical": bool(self.media_flags & MEDIA_FLAG_PHYSICAL),
            "chunk_count": self.chunk_count,
            "sectors_per_chunk": self.sectors_per_chunk,
            "bytes_per_sector": self.bytes_per_sector,
            "sector_count": self.sector_count,
            "media_size": self.media_size,
            "error_granularity": self.error_granularity,
            "md5": self.md5,
            "sha1": self.sha1,
            "read_errors": [
                {"sector": s, "count": c, "offset": s * self.bytes_per_sector}
                for s, c in self.errors
            ],
        }
