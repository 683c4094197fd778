"""The item's image writer (raw, split or E01) and the --copy-to one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from evidencekit.acquire.source import MediaSource
from evidencekit.acquire.writers import DEFAULT_SEGMENT_SIZE, ImageWriter, make_raw_writer
from evidencekit.errors import UsageError
from evidencekit.timeutil import utcnow
from evidencekit.workflows.acquire_disk.options import AcquireOptions


def make_writer(
    options: AcquireOptions,
    base: Path,
    src: MediaSource,
    case: Any,
    output_digests: tuple[str, ...] = (),
) -> ImageWriter:
    """A writer for `base` (`base.raw`, `base.001`…, `base.E01`…) in the chosen format;
    `output_digests`: E01 segment files hashed with these as they are written (for the seal).

    Raises:
        UsageError: an unknown format.
    """
    if options.format in ("raw", "split"):
        seg = options.segment_size or DEFAULT_SEGMENT_SIZE
        return make_raw_writer(base, options.format, seg)
    if options.format == "e01":
        from evidencekit.acquire.ewf_writer import EwfMetadata, EwfWriter

        info = src.info
        ident = info.identity
        meta = EwfMetadata(
            case_number=str(getattr(getattr(case, "info", None), "number", "") or ""),
            evidence_number=options.evidence_number or "",
            description=options.description or "",
            examiner=str(getattr(getattr(case, "info", None), "examiner", "") or ""),
            notes=options.notes or "",
            acquired=utcnow(),
            system_date=utcnow(),
            media_type="removable" if ident.get("removable") == "1" else "fixed",
            is_physical=info.kind == "block-device",
            bytes_per_sector=info.logical_sector_size,
            model=ident.get("model", ""),
            serial_number=ident.get("serial", ""),
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
    case: Any,
    output_digests: tuple[str, ...] = (),
) -> list[ImageWriter]:
    """The item's writer (and the --copy-to one); nothing is left behind when one fails.
    `output_digests`: the algorithms the item's (sealed) files are hashed with."""
    created = case.make_item_dir(item_id)
    writers: list[ImageWriter] = []
    try:
        writers.append(make_writer(options, item_dir / item_id, src, case, output_digests))
        if options.copy_to is not None:
            options.copy_to.mkdir(parents=True, exist_ok=True)
            writers.append(make_writer(options, options.copy_to / item_id, src, case))
    except BaseException:
        for w in writers:
            for p in w.abort():
                p.unlink(missing_ok=True)
        if created:
            shutil.rmtree(item_dir, ignore_errors=True)
        raise
    return writers
