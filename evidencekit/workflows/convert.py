"""Convert a sealed image item into a derived item of another format (raw <-> E01).

The derived item is an item like any other: its own folder, seal and custody events. Its media
must be the original's media, byte for byte: the original seal is checked (signature, signer)
before reading, the media is decoded from the original's files (E01 chunks each checked), hashed
while the new files are written, and compared with the original seal's media digests at the end;
on any mismatch the new files are removed and nothing is sealed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.acquire.ewf_reader import EwfImage
from evidencekit.acquire.ewf_writer import DEFAULT_SEGMENT_SIZE, EwfMetadata, EwfWriter
from evidencekit.case import Case
from evidencekit.errors import (
    AcquisitionError,
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    UsageError,
)
from evidencekit.hash.multihash import HashResult, MultiHasher
from evidencekit.hash.pipeline import pump
from evidencekit.hash.seal import (
    Artifact,
    Combined,
    SealResult,
    artifact_from_file,
    find_seal,
    load_seal,
    verify_seal,
)
from evidencekit.hash.seal import (
    seal_item as _seal_item,
)
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.timeutil import parse_iso, utcnow

log = logging.getLogger(__name__)

FORMATS = ("e01", "raw")
DEFAULT_WINDOW = 64 << 20


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
        }


class _ConcatReader:
    """readinto over the raw parts of an item, one after the other."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self._paths = list(paths)
        self._fh: Any = None

    def readinto(self, buffer: memoryview) -> int:
        while True:
            if self._fh is None:
                if not self._paths:
                    return 0
                self._fh = open(self._paths.pop(0), "rb", buffering=0)  # noqa: SIM115
            n: int = self._fh.readinto(buffer)
            if n:
                return n
            self._fh.close()
            self._fh = None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class _RawWriter:
    """A pump consumer writing one raw file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)

    def consume(self, data: memoryview) -> None:
        while len(data):
            n = os.write(self.fd, data)
            data = data[n:]

    def close(self) -> None:
        pass

    def finish(self) -> None:
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = -1

    def abort(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _started(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        return parse_iso(str(doc["started"])) if doc.get("started") else None
    except (ValueError, KeyError):
        return None


def _metadata(
    case: Case, identity: Identity, doc: dict[str, Any], image: EwfImage | None
) -> EwfMetadata:
    facts = doc.get("facts") or {}
    found = facts.get("source")
    source: dict[str, Any] = found if isinstance(found, dict) else {}
    header = image.info.header if image is not None else {}
    bps = image.info.bytes_per_sector if image is not None else 0
    if not bps:
        for key in ("logical_sector_size", "sector_size", "bytes_per_sector"):
            value = source.get(key) or facts.get(key)
            if isinstance(value, int) and value in (512, 1024, 2048, 4096):
                bps = value
                break
    media_type = image.info.media_type if image is not None else "fixed"
    physical = bool(image.info.media_flags & 0x02) if image is not None else True
    return EwfMetadata(
        case_number=header.get("c") or case.info.number,
        evidence_number=header.get("n") or str(facts.get("evidence_number") or doc["item"]),
        description=header.get("a") or str(doc.get("description") or ""),
        examiner=header.get("e") or identity.name,
        notes=header.get("t") or str(facts.get("notes") or ""),
        acquired=_started(doc),
        system_date=utcnow(),
        bytes_per_sector=bps or 512,
        media_type=media_type
        if media_type in ("fixed", "removable", "optical", "memory")
        else "fixed",
        is_physical=physical,
        model=header.get("md") or str(source.get("model") or ""),
        serial_number=header.get("sn") or str(source.get("serial") or ""),
    )


def convert_item(
    case: Case,
    identity: Identity,
    item_id: str,
    *,
    to: str,
    new_item: str,
    compression: str = "fast",
    segment_size: int = DEFAULT_SEGMENT_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ConvertResult:
    """Make `new_item`, holding `item_id`'s media as `to` ("e01" or "raw"), sealed and recorded.

    Raises:
        UsageError: bad format or ids, the new item exists, the item is not an image.
        IntegrityError: the original seal does not verify, or its media decodes to other digests.
        EwfFormatError / SourceError: an original E01 is truncated or corrupt.
        AcquisitionError: the new files cannot be written.
    """
    if to not in FORMATS:
        raise UsageError(f"unknown target format {to!r}", hint="use --to e01 or --to raw")
    check_item_id(item_id)
    check_item_id(new_item)
    if new_item == item_id:
        raise UsageError("the converted item needs a new id", hint="e.g. --item ITEM-E01")
    seal_path = find_seal(case.item_dir(item_id))
    if not seal_path.is_file():
        raise UsageError(f"item {item_id!r} has no seal at {seal_path}")
    status = verify_seal(seal_path, trusted=case.trusted(), rehash=False)
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
    out_dir = case.item_dir(new_item)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise UsageError(
            f"item {new_item!r} already exists at {out_dir}", hint="choose another --item id"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    started = utcnow()
    algos = list(dict.fromkeys(["md5", "sha1", *combined.digests]))
    window = combined.window_size or DEFAULT_WINDOW
    hasher = MultiHasher(
        algos, window=window, window_algorithm=combined.window_algorithm or "sha256"
    )
    image: EwfImage | None = None
    reader: _ConcatReader | None = None
    made: list[Path] = []
    try:
        if combined.format == "e01":
            image = EwfImage(seal.artifact_path(combined.parts[0]))
            readinto = image.readinto
            size = image.size
        else:
            paths = [seal.artifact_path(p) for p in combined.parts]
            reader = _ConcatReader(paths)
            readinto = reader.readinto
            size = sum(p.stat().st_size for p in paths)
        read_errors = [
            e
            for e in (seal.facts.get("read_errors") or [])
            if isinstance(e, dict) and "offset" in e
        ]
        ewf: EwfWriter | None = None
        raw: _RawWriter | None = None
        if to == "e01":
            meta = _metadata(case, identity, seal.document, image)
            ewf = EwfWriter(
                out_dir / new_item,
                segment_size=segment_size,
                compression=compression,
                metadata=meta,
                media_size=size,
                output_digests=algos,
            )
            for err in read_errors:
                ewf.mark_unreadable(int(err["offset"]), int(err.get("length", 0)))
            sink: Any = ewf
        else:
            raw = _RawWriter(out_dir / f"{new_item}.raw")
            made.append(raw.path)
            sink = raw
        try:
            pump(readinto, [*hasher.consumers(), sink], on_progress=on_progress)
            media = hasher.result()
            _check_media(item_id, combined, media)
            if ewf is not None:
                made = ewf.finish(media.digests["md5"], media.digests["sha1"])
            elif raw is not None:
                raw.finish()
        except BaseException:
            if ewf is not None:
                made = ewf.abort()
            elif raw is not None:
                raw.abort()
            raise
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        if out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    finally:
        if image is not None:
            image.close()
        if reader is not None:
            reader.close()
    return _seal_and_record(
        case, identity, seal.document, seal_path, item_id, new_item, to, out_dir, made, media,
        read_errors, started, compression, ewf.output_digests if ewf is not None else None,
    )  # fmt: skip


def _check_media(item_id: str, combined: Combined, media: HashResult) -> None:
    bad = [a for a, h in combined.digests.items() if media.digests.get(a, h) != h]
    if media.size != combined.size or bad:
        raise IntegrityError(
            f"the media of item {item_id!r} read back as {media.size} bytes with other digests "
            f"({', '.join(bad) or 'size'}) than sealed: nothing converted",
            hint=f"run: evidencekit verify {item_id}",
        )


def _seal_and_record(
    case: Case,
    identity: Identity,
    doc: dict[str, Any],
    seal_path: Path,
    item_id: str,
    new_item: str,
    to: str,
    out_dir: Path,
    files: list[Path],
    media: HashResult,
    read_errors: list[dict[str, Any]],
    started: dt.datetime,
    compression: str,
    file_digests: list[dict[str, str]] | None,
) -> ConvertResult:
    import hashlib

    algos = list(media.digests)
    artifacts: list[Artifact] = []
    for i, path in enumerate(files):
        if to == "raw":
            artifacts.append(Artifact(path.name, media.size, dict(media.digests)))
        elif file_digests is not None and len(file_digests) == len(files):
            # the E01 writer hashed each segment file as it wrote it
            artifacts.append(Artifact(path.name, path.stat().st_size, dict(file_digests[i])))
        else:
            artifacts.append(artifact_from_file(out_dir, path.name, algos)[0])
    seal_sha256 = hashlib.sha256(seal_path.read_bytes()).hexdigest()
    origin = {"item": item_id, "seal_sha256": seal_sha256, "kind": str(doc.get("kind"))}
    facts: dict[str, Any] = {"converted_from": origin, "size": media.size}
    for key in ("source", "device", "read_errors"):
        if key in (doc.get("facts") or {}):
            facts[key] = doc["facts"][key]
    if to == "e01":
        facts["e01"] = {"compression": compression, "segments": len(files)}
    status = str(doc.get("status") or "complete")
    result = _seal_item(
        out_dir,
        new_item,
        identity,
        kind="e01" if to == "e01" else "raw",
        artifacts=artifacts,
        status=status,
        combined=media,
        combined_format=to,
        combined_parts=[p.name for p in files],
        facts=facts,
        description=str(doc.get("description") or "") or None,
        started=started,
        finished=utcnow(),
        algorithms=algos,
    )
    recorded = _record(case, identity, new_item, item_id, seal_sha256, to, result)
    return ConvertResult(
        new_item,
        item_id,
        to,
        out_dir,
        tuple(files),
        result,
        media.size,
        dict(media.digests),
        recorded,
    )


def _record(
    case: Case,
    identity: Identity,
    new_item: str,
    item_id: str,
    seal_sha256: str,
    to: str,
    result: SealResult,
) -> bool:
    try:
        from evidencekit.workflows.custody import make_draft, record_drafts
    except ImportError:
        log.warning("custody ledger not available: no 'converted' event recorded")
        return False
    digests = result.combined_digests
    details = {"from_item": item_id, "from_seal_sha256": seal_sha256, "format": to}
    drafts = [
        make_draft(
            case,
            "sealed",
            new_item,
            description=f"derived from item {item_id} ({to})",
            digests=digests,
            details={"seal_sha256": result.seal_sha256, "kind": to, "derived_from": item_id},
        ),
        make_draft(
            case,
            "converted",
            new_item,
            description=f"item {item_id} converted to {to.upper()}",
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
