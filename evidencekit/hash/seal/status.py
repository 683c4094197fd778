"""The outcome of verifying a seal: one :class:`Problem` per precise reason an item does not
verify, gathered in a :class:`VerifyStatus` (verification never raises for a mismatch)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One precise reason an item does not verify.

    `kind` is one of: missing-file, unreadable-file, size-mismatch, digest-mismatch,
    window-mismatch, media-mismatch, sums-mismatch, bad-signature, missing-signature,
    unknown-signer, malformed-seal, item-mismatch, wrong-case and wrong-item (a seal/2 that
    names another case or item than the one it is verified in), unsafe-name, unsafe-file (a
    link, device or FIFO where a sealed file should be: never opened), ledger-mismatch and
    untrusted-examiner (from the case's ledger, `evidencekit.workflows.verify`), no-verifier (a
    `combined.format` no media verifier is registered for: its media digests went unchecked);
    verifier plug-ins may add their own, e.g. chunk-mismatch. `byte_range` is [start, end) in
    the file or media named.
    """

    kind: str
    file: str
    message: str
    byte_range: tuple[int, int] | None = None
    expected: str | None = None
    found: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "file": self.file,
            "message": self.message,
            "byte_range": list(self.byte_range) if self.byte_range else None,
            "expected": self.expected,
            "found": self.found,
        }

    def text(self) -> str:
        """One line for humans."""
        line = f"{self.kind}: {self.file}: {self.message}"
        if self.expected is not None:
            line += f" (expected {self.expected}, found {self.found})"
        elif self.found is not None:
            line += f" (found {self.found})"
        return line


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
