"""Convert a sealed image item into a derived item of another format (raw <-> E01).

The derived item is an item like any other: its own folder, seal and custody events. Its media
must be the original's media, byte for byte: the original seal is checked (signature, signer)
before reading, the media is decoded from the original's files (E01 chunks each checked), hashed
while the new files are written, and compared with the original seal's media digests at the end;
on any mismatch the new files are removed and nothing is sealed. The media pass itself is in
`convert_media`; this module checks the original, then seals and records the derived item.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

from evidencekit.acquire.ewf.format import Compression
from evidencekit.acquire.ewf.writer import DEFAULT_SEGMENT_SIZE
from evidencekit.case import Case
from evidencekit.errors import (
    AcquisitionError,
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    InterruptedAfterRecording,
    UsageError,
)
from evidencekit.hash.seal.document import (
    DERIVED_ALGORITHMS,
    STATUSES,
    Artifact,
    Combined,
    SealResult,
    SealStatus,
    parse_name_member,
)
from evidencekit.hash.seal.read import find_seal, load_seal
from evidencekit.hash.seal.write import artifact_from_file
from evidencekit.hash.seal.write import seal_item as _seal_item
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.timeutil import utcnow
from evidencekit.workflows.commit import Signer, guard, hint_if_full
from evidencekit.workflows.convert_media import (
    Copied,
    Original,
    Target,
    copy_media,
)
from evidencekit.workflows.progress import Bytes, Progress
from evidencekit.workflows.trust import identity_of

log = logging.getLogger(__name__)

ConvertFormat = Literal["e01", "raw"]
"""What `convert` writes: E01 segments or one raw file."""
FORMATS: tuple[ConvertFormat, ...] = get_args(ConvertFormat)


@dataclass(frozen=True, slots=True)
class ConvertResult:
    """What `convert_item` made."""

    item_id: str
    source_item: str
    format: str
    item_dir: Path
    files: tuple[Path, ...]
    seal: SealResult
    media_size: int
    digests: dict[str, str]
    custody_recorded: bool
    stored_digests: dict[str, object] | None = None  # an original E01's, checked

    @property
    def sizes(self) -> dict[str, int]:
        """Each new file's size as sealed, by name."""
        return {parse_name_member(art): int(art["size"]) for art in self.seal.document["artifacts"]}

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "source_item": self.source_item,
            "format": self.format,
            "item_dir": str(self.item_dir),
            "files": [str(p) for p in self.files],
            "seal": str(self.seal.path),
            "status": self.seal.status,
            "media_size": self.media_size,
            "digests": dict(self.digests),
            "custody_recorded": self.custody_recorded,
            "stored_digests": self.stored_digests,
        }


@dataclass(frozen=True, slots=True)
class ConvertRequest:
    """What `convert` is asked to do: write item `item_id`'s media as the new item `new_item`
    in format `to` (E01 segments of at most `segment_size` bytes, chunks compressed as
    `compression`; or one raw file).

    Attributes:
        accept_stored_digest_mismatch: the examiner's reason to convert an E01 whose stored
            MD5/SHA-1 differ from its media (None: that is an integrity failure).
        progress: told the media's size and the bytes converted so far.
        participants: participant SPECs of those present, recorded in its events'
            `details.participants` (`chain.parties.parse_spec`).
        session: the seizure session it belongs to (must be open; `details.session`).
    """

    item_id: str
    new_item: str
    to: ConvertFormat
    compression: Compression = "fast"
    segment_size: int = DEFAULT_SEGMENT_SIZE
    accept_stored_digest_mismatch: str | None = None
    progress: Progress | None = None
    participants: tuple[str, ...] = ()
    session: str | None = None


def convert_item(case: Case, identity: Identity | Signer, request: ConvertRequest) -> ConvertResult:
    """Make `request.new_item`, holding `request.item_id`'s media as `request.to` ("e01" or
    "raw"), sealed and recorded.

    Everything is checked first (the ids, the original's seal, the examiner's pinning, then
    the key); the new item is written in its staging folder and published once sealed and
    recorded (docs/commit-protocol.md).

    Raises:
        UsageError: bad format or ids, the item is not an image.
        CaseError: the new item exists, or another attempt is writing it.
        CustodyError: the examiner is not pinned in the case.
        IntegrityError: the original seal does not verify, or its media decodes to other digests,
            or an original E01's stored MD5/SHA-1 differ from its media (unless
            `accept_stored_digest_mismatch` gives the reason to convert it anyway).
        EwfFormatError / SourceError: an original E01 is truncated or corrupt.
        AcquisitionError: the new files cannot be written.
    """
    item_id, new_item, to = request.item_id, request.new_item, request.to
    compression, segment_size = request.compression, request.segment_size
    if to not in FORMATS:
        raise UsageError(f"unknown target format {to!r}", hint="use --to e01 or --to raw")
    check_item_id(item_id)
    check_item_id(new_item)
    if new_item == item_id:
        raise UsageError("the converted item needs a new id", hint="e.g. --item ITEM-E01")
    reason = request.accept_stored_digest_mismatch
    found: list[Original] = []
    present: list[dict[str, Any]] = []

    def checks() -> None:
        from evidencekit.workflows.seizure import presence

        present.append(presence(case, request.participants, request.session))
        if reason is not None and not reason.strip():
            raise UsageError("--accept-stored-digest-mismatch needs a reason")
        found.append(_open_original(case, item_id))

    ident, res = guard(case, identity, new_item, checks=checks)
    original = found[0]
    on_progress: Callable[[int], None] | None = None
    if request.progress is not None:
        on_progress = Bytes(request.progress, f"{item_id} -> {new_item}", original.combined.size)
    target = Target(new_item, to, res.folder, compression, segment_size)
    keep = False
    try:
        copied = copy_media(case, ident, original, target, on_progress, reason)
        result = _seal_and_record(case, ident, original, target, copied, present[0])
        keep = True
        res.publish()
    except KeyboardInterrupt as exc:
        # stopped after the events were committed: kept in staging for `case recover`
        if keep and not isinstance(exc, InterruptedAfterRecording):
            raise res.interrupted_after_recording() from exc
        raise
    except AcquisitionError as exc:
        # the new files could not be written (a full disk): the writers' hint speaks of a
        # partial image kept as incomplete, which is not what convert does
        if not keep:
            res.abandon()
        if not keep and isinstance(exc.__cause__, OSError):
            exc.hint = (
                "free space on the disk that holds the case, then convert again; nothing was "
                "sealed or recorded (the new files were removed)"
            )
        raise
    except (EvidenceKitError, OSError) as exc:
        # nothing was recorded (a ledger append is all or nothing), and the original item is
        # untouched: the attempt is removed so that the id is free for a retry
        if not keep:
            res.abandon()
            hint_if_full(exc, "nothing was sealed or recorded (the new files were removed)")
        raise
    return replace(
        result,
        item_dir=res.final,
        files=tuple(res.final / p.name for p in result.files),
        seal=res.final_seal(result.seal),
    )


def _open_original(case: Case, item_id: str) -> Original:
    """The item to convert, once its seal verifies (signature and signer; files unread).

    Raises:
        UsageError: no seal, or the item is not a disk image.
        IntegrityError: the seal does not verify.
    """
    seal_path = find_seal(case.item_dir(item_id))
    if not seal_path.is_file():
        raise UsageError(f"item {item_id!r} has no seal at {seal_path}")
    from evidencekit.workflows.verify import verify_items

    # as `verify ITEM --sizes-only` checks it: the ledger's signers, the seal the ledger recorded
    (status,) = verify_items(case, [item_id], rehash=False)
    if status.problems:
        raise IntegrityError(
            f"item {item_id!r} does not verify, refusing to convert it: "
            f"{status.problems[0].text()}",
            hint=f"run: evidencekit verify {item_id}",
        )
    seal = load_seal(seal_path)
    combined = seal.combined
    if combined is None:
        if len(seal.artifacts) != 1:
            raise UsageError(f"item {item_id!r} ({seal.kind}) is not a disk image")
        art = seal.artifacts[0]
        combined = Combined("raw", (art.name,), art.size, dict(art.digests))
    if combined.format not in ("raw", "e01"):
        raise UsageError(f"item {item_id!r} holds {combined.format!r} content, not a disk image")
    return Original(item_id, seal, combined)


def _seal_and_record(
    case: Case,
    identity: Identity,
    original: Original,
    target: Target,
    copied: Copied,
    presence: Mapping[str, Any] | None = None,
) -> ConvertResult:
    """Seal the derived item (facts.converted_from names the original) and record it.

    Raises:
        EvidenceKitError: the seal cannot be written.
        CustodyError, AcquisitionError: sealed, but the custody events could not be recorded.
    """
    doc = original.seal.document
    files, media = copied.files, copied.media
    algos = list(media.digests)
    artifacts: list[Artifact] = []
    for i, path in enumerate(files):
        if target.format == "raw":
            artifacts.append(Artifact(path.name, media.size, dict(media.digests)))
        elif copied.file_digests is not None and len(copied.file_digests) == len(files):
            # the E01 writer hashed each segment file as it wrote it
            artifacts.append(Artifact(path.name, path.stat().st_size, dict(copied.file_digests[i])))
        else:  # E01 segments are derived artifacts: SHA-256 only
            artifacts.append(artifact_from_file(target.item_dir, path.name, DERIVED_ALGORITHMS)[0])
    seal_sha256 = hashlib.sha256(original.seal.path.read_bytes()).hexdigest()
    origin = {"item": original.item_id, "seal_sha256": seal_sha256, "kind": str(doc.get("kind"))}
    facts: dict[str, Any] = {"converted_from": origin, "size": media.size}
    for key in ("source", "device", "read_errors", "stored_digests"):
        if key in (doc.get("facts") or {}):
            facts[key] = doc["facts"][key]
    if target.format == "e01":
        facts["e01"] = {"compression": target.compression, "segments": len(files)}
    found = str(doc.get("status") or "complete")
    if found not in STATUSES:
        raise UsageError(f"invalid seal status {found!r}", hint=f"use {', '.join(STATUSES)}")
    status: SealStatus = found
    if copied.stored is not None:
        # the original E01's own stored digests, checked while converting
        facts["original_e01_stored_digests"] = copied.stored.to_dict()
        if not copied.stored.ok and status == "complete":
            status = "complete-with-errors"  # accepted with a reason, never "complete"
    result = _seal_item(
        target.item_dir,
        target.item_id,
        identity,
        kind="e01" if target.format == "e01" else "raw",
        artifacts=artifacts,
        status=status,
        combined=media,
        combined_format=target.format,
        combined_parts=[p.name for p in files],
        facts=facts,
        description=str(doc.get("description") or "") or None,
        started=copied.started,
        finished=utcnow(),
        algorithms=algos,
        case_identity=identity_of(case),
    )
    recorded = _record(case, identity, original.item_id, seal_sha256, target, result, presence)
    return ConvertResult(
        target.item_id,
        original.item_id,
        target.format,
        target.item_dir,
        files,
        result,
        media.size,
        dict(media.digests),
        recorded,
        copied.stored.to_dict() if copied.stored is not None else None,
    )


def _record(
    case: Case,
    identity: Identity,
    item_id: str,
    seal_sha256: str,
    target: Target,
    result: SealResult,
    presence: Mapping[str, Any] | None = None,
) -> bool:
    """Record `sealed`, then `converted`, for the derived item (True: recorded), both naming
    `presence` (its participants and seizure session, when given)."""
    from evidencekit.workflows.custody import make_draft, record_drafts
    from evidencekit.workflows.wording import described

    new_item, to = target.item_id, target.format
    digests = result.combined_digests
    more = dict(presence or {})
    details = {"from_item": item_id, "from_seal_sha256": seal_sha256, "format": to, **more}
    drafts = [
        make_draft(
            case,
            "sealed",
            new_item,
            description=described(case, "derived", item=item_id, format=to),
            digests=digests,
            details={
                "seal_sha256": result.seal_sha256,
                "kind": to,
                "derived_from": item_id,
                **more,
            },
        ),
        make_draft(
            case,
            "converted",
            new_item,
            description=described(case, "converted", item=item_id, format=to.upper()),
            digests=digests,
            details=details,
        ),
    ]
    try:
        record_drafts(case, identity, drafts)
    except CustodyError:
        raise
    except EvidenceKitError as exc:  # pragma: no cover - other ledger errors surface as is
        raise AcquisitionError(f"converted item {new_item!r} sealed, but: {exc}") from exc
    return True
