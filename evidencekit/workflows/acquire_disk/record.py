"""The end of `acquire disk`: side files (ID.map, ID.device.txt, ID.log), the seal, the custody
event. Also runs for a failed acquisition, so that its output is sealed and recorded incomplete."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from evidencekit.acquire import device, mapfile
from evidencekit.acquire.acqlog import AcquisitionLog, write_text
from evidencekit.acquire.device_report import render_device_report
from evidencekit.acquire.imager import ImagingResult
from evidencekit.acquire.reader import BadExtent, ResilientReader
from evidencekit.acquire.source import MediaSource
from evidencekit.acquire.writers import ImageWriter
from evidencekit.errors import AcquisitionError, EvidenceKitError
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.seal import Artifact, SealResult, artifact_from_file, seal_item
from evidencekit.sizes import human
from evidencekit.workflows.acquire_disk.options import KINDS, AcquireOptions

MAX_ERRORS_IN_SEAL = 10_000


def seal_and_record(
    case: Any,
    identity: Any,
    src: MediaSource,
    item_id: str,
    item_dir: Path,
    options: AcquireOptions,
    *,
    algorithms: tuple[str, ...],
    hash_algorithms: tuple[str, ...],
    writers: list[ImageWriter],
    result: ImagingResult | None,
    reader: ResilientReader,
    extents: tuple[BadExtent, ...],
    failure: BaseException | None,
    status: str,
    started: dt.datetime,
    finished: dt.datetime,
    command_line: str,
    reports: list[device.ToolReport],
    hpa: dict[str, str],
    mounts: list[dict[str, str]],
    clock: dict[str, str],
    ro_before: bool | None,
    ro_set: bool,
    verification: dict[str, Any],
    warnings: list[str],
    lg: AcquisitionLog,
) -> tuple[SealResult, list[str], dict[str, Any]]:
    """Write the side files, seal the item and record its `acquired` custody event.

    Returns (the seal, the image's file names, the source's facts).

    Raises:
        OSError, EvidenceKitError: as raised, when the acquisition itself succeeded.
        AcquisitionError: the failed acquisition's output could not be sealed or recorded.
    """
    from evidencekit.workflows.custody import record_event

    info = src.info
    # -- side files, seal, custody ----------------------------------------------------------
    try:
        files: list[Path] = list(writers[0].paths)
        if extents:
            write_text(
                item_dir / f"{item_id}.map",
                mapfile.render(
                    info.size,
                    [(e.offset, e.length) for e in extents],
                    done=None if failure is None else reader.pos,
                    command_line=command_line,
                    started=started,
                    now=finished,
                ),
            )
        write_text(item_dir / f"{item_id}.device.txt", render_device_report(src, reports, hpa))
        lg.event(f"status: {status.upper()}")
        for text in warnings:
            lg.event(f"warning: {text}")
        write_text(item_dir / f"{item_id}.log", lg.text())
        fsync_dir(item_dir)

        artifacts: list[Artifact] = []
        names = [p.name for p in files]
        if result is not None and options.format == "raw":
            artifacts.append(Artifact(names[0], result.size, dict(result.hashes.digests)))
        elif result is not None and len(result.segment_digests) == len(files):
            # split: the media's pieces; E01: the segment files, hashed as they were written
            for path, digests in zip(files, result.segment_digests, strict=True):
                artifacts.append(Artifact(path.name, path.stat().st_size, dict(digests)))
        else:
            for name in names:
                artifacts.append(artifact_from_file(item_dir, name, hash_algorithms)[0])
        side = [f"{item_id}.log", f"{item_id}.device.txt"]
        if extents:
            side.append(f"{item_id}.map")
        for name in side:
            artifacts.append(artifact_from_file(item_dir, name, hash_algorithms)[0])

        source_facts: dict[str, Any] = info.to_dict()
        facts: dict[str, Any] = {
            "source": source_facts,
            "size": info.size,
            "format": options.format,
            "options": options.to_dict(),
            "device": {
                "hpa": hpa,
                "mounts": mounts,
                "read_only_flag_before": ro_before,
                "read_only_flag_set": ro_set,
                "tools": [r.to_dict() for r in reports],
            },
            "host_clock": clock,
            "bytes_read": reader.pos,
            "bad_sectors": reader.bad_sectors,
            "recovered_sectors": reader.recovered_sectors,
            "read_errors": [e.to_dict() for e in extents[:MAX_ERRORS_IN_SEAL]],
            "verification": verification,
        }
        if failure is not None:
            facts["error"] = str(failure)
        if result is not None and len(result.paths) > 1:
            facts["copy"] = {
                "folder": str(result.paths[1][0].parent),
                "files": [p.name for p in result.paths[1]],
            }
        seal = seal_item(
            item_dir,
            item_id,
            identity,
            kind=KINDS[options.format],
            artifacts=artifacts,
            status=status,
            combined=result.hashes if result is not None else None,
            combined_format="e01" if options.format == "e01" else "raw",
            combined_parts=names,
            facts=facts,
            description=options.description,
            started=started,
            finished=finished,
            algorithms=algorithms,
        )
        record_event(
            case,
            identity,
            "acquired",
            item_id,
            description=options.description
            or f"Disk image of {info.path} ({human(info.size)}), {status}",
            digests=dict(result.hashes.digests) if result is not None else None,
            details={
                "kind": KINDS[options.format],
                "status": status,
                "source": info.path,
                "source_kind": info.kind,
                "size": info.size,
                "files": names,
                "bad_sectors": reader.bad_sectors,
                "read_errors": len(extents),
                "verification": verification,
                "seal": seal.path.name,
                "seal_sha256": seal.seal_sha256,
                "error": str(failure) if failure is not None else None,
                "evidence_number": options.evidence_number,
            },
        )
    except (OSError, EvidenceKitError) as exc:
        if failure is None:
            raise
        # e.g. still no space: the first error is what the examiner must see; no seal was
        # written (seal_item writes atomically), so nothing looks complete
        raise AcquisitionError(
            f"{failure}; moreover the incomplete item could not be sealed or recorded: {exc}",
            hint="free space on the destination; the partial image is not sealed",
        ) from exc
    return seal, names, source_facts
