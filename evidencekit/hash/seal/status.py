"""The outcome of verifying a seal: one `evidencekit.problems.Problem` per precise reason an item
does not verify (each about a file the seal names), gathered in a :class:`VerifyStatus`
(verification never raises for a mismatch). The kinds: `evidencekit.problems.SealKind`, and
`MediaKind` for the media verifiers shipped with evidencekit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evidencekit.problems import Problem


@dataclass(frozen=True, slots=True)
class VerifyStatus:
    """The outcome of verifying one seal. `ok` when there is no problem at all."""

    seal_path: Path
    item_id: str | None
    status: str | None
    signer: str | None
    signer_fingerprint: str | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()
    checked_files: tuple[str, ...] = ()
    bytes_hashed: int = 0
    seal_sha256: str | None = None
    """SHA-256 of the seal file's bytes as verified (what a custody event records)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "seal": str(self.seal_path),
            "item": self.item_id,
            "ok": self.ok,
            "status": self.status,
            "signer": self.signer,
            "signer_fingerprint": self.signer_fingerprint,
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
            "checked_files": list(self.checked_files),
            "bytes_hashed": self.bytes_hashed,
            "seal_sha256": self.seal_sha256,
        }
