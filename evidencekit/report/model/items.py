"""One item's report section, built from its parsed seal (`hash.seal.document.Seal`) and, for a
logical collection, its manifest document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit.chain.events import Event
from evidencekit.hash.seal.document import DISK_KINDS, FILE_KINDS, Combined, Seal
from evidencekit.report.model.readers import _flatten, _int, digest_pairs, nfc
from evidencekit.report.model.record import registered_photos
from evidencekit.report.model.record_items import device_differences_of
from evidencekit.report.model.rows import _artifacts, _extents, _file_rows
from evidencekit.report.model.values import (
    CustodyEntry,
    ItemSection,
    Pairs,
    SectionKind,
    Verification,
)

_SOURCE_KEYS = (
    "source",
    "device",
    "source_path",
    "model",
    "vendor",
    "serial",
    "wwn",
    "transport",
    "size",
    "logical_sector_size",
    "physical_sector_size",
    "removable",
    "rotational",
    "read_only",
    "hpa",
    "dco",
)
_SKIP_FACTS = {
    "verification",
    "read_errors",
    "errors",
    "bad_sectors",
    "extents",
    "files",
    "device_report",
    "hdparm",
    "smartctl",
    "windows",
}


def item_from_seal(
    item_id: str,
    seal: Seal | None,
    manifest: Mapping[str, Any] | None = None,
    custody: Sequence[CustodyEntry] = (),
    seal_sha256: str | None = None,
) -> ItemSection:
    """Build one item's section from its parsed seal (None: the item has none yet) and, for a
    logical collection, its manifest document (`ITEM.manifest.json`)."""
    facts: dict[str, Any] = seal.facts if seal is not None else {}
    files = _file_rows(manifest) if manifest else ()
    extents = _extents(facts)
    kind = _kind(seal, manifest, extents)
    source, acquisition = _source_and_acquisition(facts, manifest)
    combined = seal.combined if seal is not None else None
    # A size of 0 is shown as unknown, as it always has been.
    content_size = combined.size or None if combined is not None else None
    window_count, window_size, window_algs = _windows(combined)
    media_size = _int(facts.get("size")) or (content_size if kind == "disk" else None)
    evidence_number = _evidence_number(facts)
    registered = next((e.event for e in custody if e.event_type == "registered" and e.event), None)
    acquired_event = next(
        (
            e.event
            for e in reversed(custody)
            if e.event_type in ("acquired", "collected", "sealed") and e.event
        ),
        None,
    )
    device, capacity = _registered_device(registered)
    return ItemSection(
        item_id=seal.item_id if seal is not None else item_id,
        kind=kind,
        # the seal's description, else what the item was registered as
        description=nfc(
            (seal.description if seal is not None else None) or _registered_as(custody) or ""
        ),
        evidence_number=nfc(evidence_number or ""),
        status=seal.known_status if seal is not None else None,
        content_size=content_size,
        content_digests=digest_pairs(combined.digests) if combined is not None else (),
        source=source,
        acquisition=acquisition,
        started=seal.started if seal is not None else None,
        finished=seal.finished if seal is not None else None,
        sealed_at=seal.sealed_at if seal is not None else None,
        sealed_by=nfc(seal.examiner_name) if seal is not None else "",
        host=nfc(seal.host) if seal is not None else "",
        tool=nfc(seal.tool) if seal is not None else "",
        artifacts=_artifacts(seal.artifacts) if seal is not None else (),
        window_count=window_count,
        window_size=window_size,
        window_algorithms=window_algs,
        read_errors=extents,
        media_size=media_size,
        verifications=_verifications(seal, facts, custody),
        files=files,
        files_total=sum(f.size or 0 for f in files) if files else None,
        custody=tuple(custody),
        seal_sha256=seal_sha256,
        photos=tuple(registered_photos(registered)),
        registered_device=device,
        registered_capacity=capacity,
        device_differences=device_differences_of(registered, acquired_event, seal),
    )


def _registered_device(registered: Event | None) -> tuple[Pairs, int | None]:
    """The make, model and serial the item was registered with (`details.device`), and its
    capacity in bytes ("capacity" is then the text as written)."""
    dev = registered.details.get("device") if registered is not None else None
    if not isinstance(dev, Mapping):
        return (), None
    pairs = tuple(
        (key, nfc(dev[key])) for key in ("make", "model", "serial") if isinstance(dev.get(key), str)
    )
    if isinstance(dev.get("capacity_text"), str):
        pairs += (("capacity", nfc(dev["capacity_text"])),)
    return pairs, _int(dev.get("capacity"))


def _registered_as(custody: Sequence[CustodyEntry]) -> str | None:
    """The description the item's `registered` event gives it."""
    for e in custody:
        if e.event_type == "registered" and e.event is not None and e.event.description:
            return e.event.description
    return None


def _evidence_number(facts: Mapping[str, Any]) -> str | None:
    """The evidence number given to `acquire disk --evidence-number` (its `facts.options`)."""
    options = facts.get("options")
    number = options.get("evidence_number") if isinstance(options, Mapping) else None
    return number if isinstance(number, str) else None


def _kind(
    seal: Seal | None, manifest: Mapping[str, Any] | None, extents: Sequence[object]
) -> SectionKind:
    """The item's kind, "logical", "disk" or "other": from the seal, else from its evidence.

    A manifest makes it a logical collection whatever the seal says; unreadable extents make it a
    disk unless the seal says it is a logical one.
    """
    kind = seal.kind if seal is not None else None
    if manifest is not None or kind in FILE_KINDS:
        return "logical"
    if kind in DISK_KINDS or extents:
        return "disk"
    return "other"


def _source_and_acquisition(
    facts: Mapping[str, Any], manifest: Mapping[str, Any] | None
) -> tuple[Pairs, Pairs]:
    """The facts flattened to (key, text) pairs: those about the source, and the rest.

    A logical collection's seal carries no source facts; its manifest's `sources` stand in.
    """
    source: list[tuple[str, str]] = []
    acquisition: list[tuple[str, str]] = []
    flat: list[tuple[str, str]] = []
    _flatten("", facts, flat, _SKIP_FACTS)
    for key, value in flat:
        leaf = key.split(".")[-1]
        if key.startswith(("source", "device")) or leaf in _SOURCE_KEYS:
            source.append((key, value))
        else:
            acquisition.append((key, value))
    sources = manifest.get("sources") if manifest is not None else None
    if isinstance(sources, list) and not source:
        for n, src in enumerate(sources, 1):
            flat_src: list[tuple[str, str]] = []
            _flatten(
                f"source[{n}]" if len(sources) > 1 else "source", src, flat_src, {"partitions"}
            )
            source += flat_src
    return tuple(source), tuple(acquisition)


def _windows(combined: Combined | None) -> tuple[int, int | None, tuple[str, ...]]:
    """How many window digests the seal holds, the window size and their algorithm."""
    if combined is None or not combined.window_size or combined.window_algorithm is None:
        return 0, None, ()
    return len(combined.windows), combined.window_size, (combined.window_algorithm,)


def _verifications(
    seal: Seal | None, facts: Mapping[str, Any], custody: Sequence[CustodyEntry]
) -> tuple[Verification, ...]:
    """The item's recorded verifications, the imager's read-back check (if any) first."""
    verifications = tuple(
        Verification(time=e.time, ok=e.result, actor=e.actor, detail=e.detail)
        for e in custody
        if e.event_type == "verified"
    )
    at_acquisition = facts.get("verification")
    if seal is not None and isinstance(at_acquisition, Mapping) and at_acquisition:
        # The imager's read-back check (`acquire disk --verify`), done before sealing.
        results = {str(k): nfc(v) for k, v in at_acquisition.items() if v is not None}
        ok = all(v in ("match", "ok", "True") for v in results.values()) if results else None
        verifications = (
            Verification(
                time=seal.finished,
                ok=ok,
                actor=nfc(seal.examiner_name),
                detail="; ".join(f"{k}: {v}" for k, v in results.items()),
            ),
            *verifications,
        )
    return verifications
