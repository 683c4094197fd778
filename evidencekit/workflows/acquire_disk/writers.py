"""The item's image writer (raw, split or E01) and the --copy-to one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from evidencekit.acquire.imaging.writers import DEFAULT_SEGMENT_SIZE, ImageWriter, make_raw_writer
from evidencekit.acquire.source.adapter import MediaSource
from evidencekit.case import Case
from evidencekit.errors import UsageError
from evidencekit.timeutil import utcnow
from evidencekit.workflows.acquire_disk.options import AcquireOptions


def is_physical(kind: str, identity: Mapping[str, object]) -> bool:
    """The E01 volume's "is physical" flag for a source of `kind`: a block device is, an E01
    source is what its own flag says, anything else (a raw file, a VMDK …) is not. `convert`
    uses the same rule with the original seal's source, so both commands say the same."""
    if kind == "block-device":
        return True
    return str(identity.get("ewf_is_physical")) == "yes"


def make_writer(
    options: AcquireOptions,
    base: Path,
    src: MediaSource,
    case: Case,
    output_digests: tuple[str, ...] = (),
    existing: list[Path] | None = None,
) -> ImageWriter:
    """A writer for `base` (`base.raw`, `base.001`…, `base.E01`…) in the chosen format;
    `output_digests`: E01 segment files hashed with these as they are written (for the seal).

    Raises:
        UsageError: an unknown format.
    """
    if options.format in ("raw", "split"):
        seg = options.segment_size or DEFAULT_SEGMENT_SIZE
        return make_raw_writer(base, options.format, seg, existing=existing)
    if options.format == "e01":
        from evidencekit.acquire.ewf.metadata import EwfMetadata
        from evidencekit.acquire.ewf.writer import EwfWriter
        from evidencekit.acquire.source.ewf import source_summary

        info = src.info
        ident = info.identity
        media_type = "removable" if ident.get("removable") == "1" else "fixed"
        # an E01 source keeps its own media type and "is physical"; its case, examiner … go
        # into our notes (and the seal's facts), our header names our case and examiner
        if ident.get("ewf_media_type") in ("fixed", "removable", "optical", "memory"):
            media_type = ident["ewf_media_type"]
        notes = " | ".join(t for t in (options.notes or "", source_summary(ident)) if t)
        meta = EwfMetadata(
            case_number=case.info.number,
            evidence_number=options.evidence_number or "",
            description=options.description or "",
            examiner=case.info.examiner,
            notes=notes,
            acquired=utcnow(),
            system_date=utcnow(),
            media_type=media_type,
            is_physical=is_physical(info.kind, ident),
            bytes_per_sector=info.logical_sector_size,
            model=ident.get("model") or ident.get("ewf_model", ""),
            serial_number=ident.get("serial") or ident.get("ewf_serial_number", ""),
        )
        writer: ImageWriter = EwfWriter(
            base,
            segment_size=options.segment_size or DEFAULT_SEGMENT_SIZE,
            compression=options.compression,
            metadata=meta,
            media_size=info.size,
            output_digests=output_digests,
        )
        return writer
    raise UsageError(f"unknown image format {options.format!r}", hint="use raw, split or e01")


def open_writers(
    options: AcquireOptions,
    item_dir: Path,
    item_id: str,
    src: MediaSource,
    case: Case,
    output_digests: tuple[str, ...] = (),
    existing: list[Path] | None = None,
) -> list[ImageWriter]:
    """The item's writer (and the --copy-to one); nothing is left behind when one fails.
    `output_digests`: the algorithms the item's (sealed) files are hashed with. `item_dir` is
    the reserved staging folder (workflows/commit.py): on failure only the files these writers
    made are removed, never a folder another attempt may share. `existing`: a resumed raw or
    split image's files, continued (never removed)."""
    item_dir.mkdir(parents=True, exist_ok=True)
    writers: list[ImageWriter] = []
    try:
        writers.append(
            make_writer(options, item_dir / item_id, src, case, output_digests, existing)
        )
        if options.copy_to is not None:
            options.copy_to.mkdir(parents=True, exist_ok=True)
            writers.append(make_writer(options, options.copy_to / item_id, src, case))
    except BaseException:
        for w in writers:
            for p in w.abort():
                if not existing or p not in existing:
                    p.unlink(missing_ok=True)
        raise
    return writers
