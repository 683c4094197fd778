"""CA trust anchors, signers trusted through them, and the revocation data a case keeps: what
the ledger's `trust_anchor_added`, `trust_anchor_removed`, `certificate_chain_added` and
`revocation_data_added` events say (replayed by `workflows.trust`, docs/trust.md).

- `trust_anchor_added` (signed by a *pinned* examiner) trusts a CA certificate for examiners or
  for timestamp authorities (`details.anchor_kind`), with limits (`details.limits`: subject O/OU,
  policy OIDs, EKU OIDs) and the CA certificates below it paths may go through
  (`details.intermediates`, not trusted themselves). `trust_anchor_removed` ends it.
- `certificate_chain_added` is how an examiner who is not pinned joins: signed by the key of the
  certificate it carries, which must chain to an examiner anchor within its limits at the event's
  time. Their later signatures are checked again, each at the time a timestamp proves
  (`workflows.proven`), against the revocation data the case keeps.
- `revocation_data_added` records a CRL or OCSP response stored under `trust/revocation/` of the
  case (its SHA-256 in the event: the file is read back only when it still matches).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509

from evidencekit.errors import EvidenceKitError
from evidencekit.fsutil import read_regular
from evidencekit.identity import fingerprint
from evidencekit.identity.validation import (
    ANCHOR_KINDS,
    EXAMINER,
    MAX_REVOCATION_BYTES,
    Anchor,
    Limits,
    RevocationData,
    read_revocation,
)

ANCHOR_ADDED: Final = "trust_anchor_added"
ANCHOR_REMOVED: Final = "trust_anchor_removed"
CHAIN_ADDED: Final = "certificate_chain_added"
REVOCATION_ADDED: Final = "revocation_data_added"
TRUST_CHANGES = frozenset({"examiner_added", "examiner_revoked", ANCHOR_ADDED, ANCHOR_REMOVED})
"""What only a pinned examiner may sign: a CA-trusted signer never changes the trust list."""
REVOCATION_DIR = Path("trust") / "revocation"


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    """An anchor the ledger added: by which event, whom, why; and the event that removed it."""

    anchor: Anchor
    seq: int
    by: str
    reason: str
    removed: int | None = None

    @property
    def fingerprint(self) -> str:
        return self.anchor.fingerprint

    def active_at(self, seq: int) -> bool:
        return self.seq < seq and (self.removed is None or seq < self.removed)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.anchor.name,
            "fingerprint": self.fingerprint,
            "kind": self.anchor.kind,
            "limits": self.anchor.limits.to_dict(),
            "intermediates": [fingerprint(c) for c in self.anchor.intermediates],
            "event": self.seq,
            "by": self.by,
            "reason": self.reason,
            "removed_by_event": self.removed,
        }


@dataclass(frozen=True, slots=True)
class ChainSigner:
    """An examiner trusted through an anchor: the chain they presented and from when."""

    name: str
    fingerprint: str
    certificate: x509.Certificate
    others: tuple[x509.Certificate, ...]
    seq: int
    anchor: str
    """Fingerprint of the anchor their chain went to when presented."""
    anchor_seq: int
    """The event that added that anchor."""

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "event": self.seq,
            "anchor": self.anchor,
        }


@dataclass(frozen=True, slots=True)
class StoredRevocation:
    """Revocation data the case keeps: the event that recorded it and the data."""

    seq: int
    file: str
    data: RevocationData

    def to_dict(self) -> dict[str, object]:
        return {
            "event": self.seq,
            "file": self.file,
            "kind": self.data.kind,
            "about": self.data.about,
        }


def anchor_from(details: object, seq: int, by: str, reason: str | None) -> TrustAnchor:
    """The anchor a `trust_anchor_added` event's details describe.

    Raises:
        EvidenceKitError: the details are malformed (missing or unreadable certificate, an
            unknown kind, limits that are not lists of text).
    """
    from evidencekit.identity import load_cert_pem

    if not isinstance(details, dict):
        raise EvidenceKitError("its details are not an object")
    kind = details.get("anchor_kind")
    if kind not in ANCHOR_KINDS:
        raise EvidenceKitError(f"unknown anchor kind {kind!r}")
    cert = load_cert_pem(str(details.get("certificate")), what="the anchor certificate")
    stated = details.get("fingerprint")
    if stated != fingerprint(cert):
        raise EvidenceKitError(
            f"it states fingerprint {stated} but carries a certificate with {fingerprint(cert)}"
        )
    inter = details.get("intermediates", [])
    if not isinstance(inter, list):
        raise EvidenceKitError("its intermediates are not a list")
    others = tuple(load_cert_pem(str(p), what="an intermediate certificate") for p in inter)
    limits = Limits.from_dict(details.get("limits", {}))
    return TrustAnchor(Anchor(cert, str(kind), limits, others), seq, by, reason or "")


def chain_from(details: object) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The leaf and the other certificates a `certificate_chain_added` event carries.

    Raises:
        EvidenceKitError: no readable certificate.
    """
    from evidencekit.identity import load_cert_pem

    pems = details.get("certificates") if isinstance(details, dict) else None
    if not isinstance(pems, list) or not pems:
        raise EvidenceKitError("it carries no certificates")
    certs = [load_cert_pem(str(p), what="a certificate of the chain") for p in pems]
    return certs[0], tuple(certs[1:])


def stored_revocation(case_path: Path, details: object, seq: int) -> StoredRevocation:
    """The revocation data a `revocation_data_added` event records, read back from the case.

    Raises:
        EvidenceKitError: the event is malformed, the file is missing, not a regular file inside
            the case, or not the one recorded (its SHA-256 differs).
    """
    if not isinstance(details, dict):
        raise EvidenceKitError("its details are not an object")
    kind, rel, sha = details.get("kind"), details.get("file"), details.get("sha256")
    if not isinstance(rel, str) or not isinstance(sha, str) or not isinstance(kind, str):
        raise EvidenceKitError("it names no file, kind and sha256")
    parts = Path(rel).parts
    if Path(rel).is_absolute() or ".." in parts or Path(*parts[:2]) != REVOCATION_DIR:
        raise EvidenceKitError(f"it names {rel!r}, not a file under {REVOCATION_DIR}/")
    path = case_path / rel
    for folder in (case_path / "trust", case_path / REVOCATION_DIR):
        if os.path.islink(folder):
            raise EvidenceKitError(f"{folder.relative_to(case_path)} is a symbolic link")
    try:
        data = read_regular(path, limit=MAX_REVOCATION_BYTES)
    except (OSError, EvidenceKitError) as exc:
        why = exc.message if isinstance(exc, EvidenceKitError) else (exc.strerror or str(exc))
        raise EvidenceKitError(f"its file {rel!r} cannot be read: {why}") from exc
    found = "sha256:" + hashlib.sha256(data).hexdigest()
    if found != sha:
        raise EvidenceKitError(f"its file {rel!r} was changed (recorded {sha}, found {found})")
    return StoredRevocation(seq, rel, read_revocation(kind, data))


def describe_anchor(a: TrustAnchor) -> str:
    what = "timestamp authorities" if a.anchor.kind != EXAMINER else "examiners"
    removed = f"; removed by event {a.removed}" if a.removed is not None else ""
    return (
        f"{a.anchor.name} ({a.fingerprint[:16]}) for {what}, {a.anchor.limits.describe()} "
        f"(event {a.seq}, by {a.by}: {a.reason}{removed})"
    )


def describe_chained(c: ChainSigner) -> str:
    return f"{c.name} ({c.fingerprint[:16]}, trusted through anchor {c.anchor[:16]})"


__all__ = [
    "ANCHOR_ADDED",
    "ANCHOR_REMOVED",
    "CHAIN_ADDED",
    "REVOCATION_ADDED",
    "REVOCATION_DIR",
    "TRUST_CHANGES",
    "ChainSigner",
    "StoredRevocation",
    "TrustAnchor",
    "anchor_from",
    "chain_from",
    "describe_anchor",
    "describe_chained",
    "stored_revocation",
]
