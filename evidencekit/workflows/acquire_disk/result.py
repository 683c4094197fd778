"""What `acquire disk` reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidencekit.hash.seal.document import SealResult, SealStatus


@dataclass(frozen=True, slots=True)
class AcquireResult:
    """What `acquire disk` reports."""

    item_id: str
    item_dir: Path
    status: SealStatus
    source: dict[str, Any]
    files: tuple[str, ...]
    size: int
    digests: dict[str, str]
    read_errors: tuple[dict[str, object], ...]
    bad_sectors: int
    verification: dict[str, Any]
    seal: SealResult | None
    copy_files: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    stored_digests: dict[str, Any] | None = None  # an E01 source's stored MD5/SHA-1, checked
    resumed: dict[str, Any] | None = None  # `--resume`: the seal's facts.resumed

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "item_dir": str(self.item_dir),
            "status": self.status,
            "source": _source_json(self.source),
            "files": list(self.files),
            "copy_files": list(self.copy_files),
            "size": self.size,
            "digests": dict(self.digests),
            "bad_sectors": self.bad_sectors,
            "read_errors": list(self.read_errors),
            "verification": self.verification,
            "seal": self.seal.path.name if self.seal else None,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "warnings": list(self.warnings),
            "stored_digests": self.stored_digests,
            "resumed": self.resumed,
        }


# A regular file's stat numbers, kept as text in the seal's source identity (it is signed, and a
# resume compares it as recorded); the --json document gives them as numbers (docs/json.md).
_STAT_NUMBERS = ("inode", "file_size")


def _source_json(source: dict[str, Any]) -> dict[str, Any]:
    identity = source.get("identity")
    if not isinstance(identity, dict):
        return source
    numbers = {
        k: int(v)
        for k, v in identity.items()
        if k in _STAT_NUMBERS and isinstance(v, str) and v.isdigit()
    }
    return {**source, "identity": {**identity, **numbers}}
