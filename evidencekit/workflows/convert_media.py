"""The media pass of `convert`: read a sealed item's media (its raw parts, or its E01 through
EwfImage), hash it while the derived item's files are written, and check it against the original
seal's media digests; on a mismatch, or any error, the new files are removed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.acquire.ewf.format import MEDIA_FLAG_PHYSICAL
from evidencekit.acquire.ewf.metadata import EwfMetadata
from evidencekit.acquire.ewf.reader import EwfImage
from evidencekit.acquire.ewf.stored_digests import (
    StoredDigestCheck,
    TailHasher,
    compare,
    stored_algorithms,
)
from evidencekit.acquire.ewf.writer import EwfWriter
from evidencekit.acquire.source.ewf import header_facts, source_summary
from evidencekit.acquire.write_errors import write_error
from evidencekit.case import Case
from evidencekit.errors import IntegrityError
from evidencekit.hash.multihash import HashResult, MultiHasher
from evidencekit.hash.pipeline import pump
from evidencekit.hash.seal.document import DERIVED_ALGORITHMS, Combined, Seal
from evidencekit.identity import Identity
from evidencekit.timeutil import parse_iso, utcnow
from evidencekit.workflows.acquire_disk.writers import is_physical

DEFAULT_WINDOW = 64 << 20


@dataclass(frozen=True, slots=True)
class Original:
    """The sealed item being converted (its seal's signature already checked)."""

    item_id: str
    seal: Seal
    combined: Combined  # its media: how to read it back, its size and digests


@dataclass(frozen=True, slots=True)
class Target:
    """The derived item to make."""

    item_id: str
    format: str  # "e01" or "raw"
    item_dir: Path
    compression: str  # E01 only
    segment_size: int  # E01 only


@dataclass(frozen=True, slots=True)
class Copied:
    """The derived item's files, and the media as it was hashed while they were written."""

    files: tuple[Path, ...]
    media: HashResult
    file_digests: list[dict[str, str]] | None  # E01: each segment file's, hashed as written
    started: dt.datetime
    stored: StoredDigestCheck | None = None  # an original E01's stored MD5/SHA-1, checked


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
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise write_error(path, exc) from exc

    def consume(self, data: memoryview) -> None:
        try:
            while len(data):
                n = os.write(self.fd, data)
                data = data[n:]
        except OSError as exc:
            raise write_error(self.path, exc) from exc

    def close(self) -> None:
        pass

    def finish(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise write_error(self.path, exc) from exc
        finally:
            os.close(self.fd)
            self.fd = -1

    def abort(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def copy_media(
    case: Case,
    identity: Identity,
    original: Original,
    target: Target,
    on_progress: Callable[[int], None] | None = None,
    accept_stored_digest_mismatch: str | None = None,
) -> Copied:
    """Write `original`'s media into `target.item_dir` as `target.format`, in one hashed pass.

    An original E01's stored MD5/SHA-1 are compared with the media read: a mismatch removes
    the new files and raises, unless `accept_stored_digest_mismatch` gives the reason to go on
    (the derived E01 then stores the digests of the media as read, never the stored ones).

    Raises:
        IntegrityError: the media decodes to another size or other digests than sealed, or
            an original E01's stored digests differ from it (and no reason accepts that).
        EwfFormatError / SourceError: an original E01 is truncated or corrupt.
        AcquisitionError: the new files cannot be written.
    """
    seal, combined = original.seal, original.combined
    out_dir, new_item = target.item_dir, target.item_id
    started = utcnow()
    algos = list(dict.fromkeys(["md5", "sha1", *combined.digests, "sha256"]))
    window = combined.window_size or DEFAULT_WINDOW
    hasher = MultiHasher(
        algos, window=window, window_algorithm=combined.window_algorithm or "sha256"
    )
    image: EwfImage | None = None
    reader: _ConcatReader | None = None
    made: list[Path] = []
    tail_hasher: TailHasher | None = None
    check: StoredDigestCheck | None = None
    try:
        if combined.format == "e01":
            image = EwfImage(seal.artifact_path(combined.parts[0]))
            readinto = image.readinto
            size = image.size
            tail = image.stored_tail() if image.info.stored else b""
            if tail:  # the stored digests cover a partial last sector past the media
                tail_hasher = TailHasher(stored_algorithms(image.info.stored), tail)
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
        if target.format == "e01":
            meta = _metadata(case, identity, seal.document, image)
            ewf = EwfWriter(
                out_dir / new_item,
                segment_size=target.segment_size,
                compression=target.compression,
                metadata=meta,
                media_size=size,
                output_digests=DERIVED_ALGORITHMS,  # segments are derived: SHA-256 only
            )
            for err in read_errors:
                ewf.mark_unreadable(int(err["offset"]), int(err.get("length", 0)))
            sink: Any = ewf
        else:
            raw = _RawWriter(out_dir / f"{new_item}.raw")
            made.append(raw.path)
            sink = raw
        try:
            extra = [tail_hasher] if tail_hasher is not None else []
            pump(readinto, [*hasher.consumers(), *extra, sink], on_progress=on_progress)
            media = hasher.result()
            _check_media(original.item_id, combined, media)
            if image is not None and image.info.stored:
                check = _check_stored(
                    original.item_id, image, media, tail_hasher, accept_stored_digest_mismatch
                )
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
    file_digests = ewf.output_digests if ewf is not None else None
    return Copied(tuple(made), media, file_digests, started, check)


def _check_stored(
    item_id: str,
    image: EwfImage,
    media: HashResult,
    tail_hasher: TailHasher | None,
    accepted: str | None,
) -> StoredDigestCheck:
    """The original E01's stored digests against the media read.

    Raises:
        IntegrityError: they differ and no reason accepts it (nothing is converted).
    """
    tail = len(image.stored_tail()) if tail_hasher is not None else 0
    computed = tail_hasher.digests() if tail_hasher is not None else dict(media.digests)
    check = compare(
        image.info.stored, computed, media.size + tail, tail_bytes=tail, accepted=accepted
    )
    if not check.ok and check.accepted is None:
        raise IntegrityError(
            f"the E01 of item {item_id!r}: {check.message()}: nothing converted",
            hint="the E01 was changed after it was made; to convert it anyway, give "
            "--accept-stored-digest-mismatch REASON (the new item is then complete-with-errors)",
        )
    return check


def _check_media(item_id: str, combined: Combined, media: HashResult) -> None:
    bad = [a for a, h in combined.digests.items() if media.digests.get(a, h) != h]
    if media.size != combined.size or bad:
        raise IntegrityError(
            f"the media of item {item_id!r} read back as {media.size} bytes with other digests "
            f"({', '.join(bad) or 'size'}) than sealed: nothing converted",
            hint=f"run: evidencekit verify {item_id}",
        )


def _started(doc: dict[str, Any]) -> dt.datetime | None:
    try:
        return parse_iso(str(doc["started"])) if doc.get("started") else None
    except (ValueError, KeyError):
        return None


def _metadata(
    case: Case, identity: Identity, doc: dict[str, Any], image: EwfImage | None
) -> EwfMetadata:
    """The derived E01's header: our case's number and the converting examiner; the evidence
    number and description from the original seal (else the original E01's header); what the
    original E01 — or the E01 the original was acquired from — said about its own case,
    evidence, examiner, notes, acquisition and software in the notes. Media type and "is
    physical" follow the original E01, else the rule `acquire disk --format e01` applies."""
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
    identity_facts = source.get("identity")
    ident: dict[str, Any] = identity_facts if isinstance(identity_facts, dict) else {}
    if image is not None:
        physical = bool(image.info.media_flags & MEDIA_FLAG_PHYSICAL)
    else:  # the rule `acquire disk --format e01` applies to the same source
        physical = is_physical(str(source.get("kind") or ""), ident)
        if ident.get("ewf_media_type") in ("fixed", "removable", "optical", "memory"):
            media_type = str(ident["ewf_media_type"])
    options = facts.get("options")
    ours = options if isinstance(options, dict) else {}
    # our header names our case and the converting examiner; what the original E01 (or the
    # E01 the original was acquired from) said about its own case goes into the notes
    origin = source_summary({str(k): str(v) for k, v in ident.items()})
    if not origin and not header.get("av", "").startswith("ek "):  # another tool's E01
        origin = source_summary(header_facts(header))
    notes = str(ours.get("notes") or facts.get("notes") or "")
    return EwfMetadata(
        case_number=case.info.number,
        evidence_number=str(
            ours.get("evidence_number")
            or facts.get("evidence_number")
            or header.get("n")
            or doc["item"]
        ),
        description=str(doc.get("description") or "") or header.get("a", ""),
        examiner=identity.name,
        notes=" | ".join(t for t in (notes, origin) if t),
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
