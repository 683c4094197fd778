"""The end of `acquire disk`: side files (ID.map, ID.device.txt, ID.log), the seal, the custody
event. Also runs for a failed acquisition, so that its output is sealed and recorded incomplete."""

from __future__ import annotations

from typing import Any

from evidencekit.acquire.imaging import mapfile
from evidencekit.acquire.imaging.acqlog import AcquisitionLog, write_text
from evidencekit.acquire.imaging.device_report import render_device_report
from evidencekit.acquire.source.adapter import MediaSource, SourceInfo
from evidencekit.case import Case
from evidencekit.errors import AcquisitionError, EvidenceKitError
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.seal.document import DERIVED_ALGORITHMS, Artifact, SealResult
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from evidencekit.sizes import human
from evidencekit.workflows.acquire_disk.facts import DeviceFacts, Job, Outcome
from evidencekit.workflows.acquire_disk.options import KINDS
from evidencekit.workflows.trust import identity_of

MAX_ERRORS_IN_SEAL = 10_000


def seal_and_record(
    case: Case,
    identity: Identity,
    src: MediaSource,
    job: Job,
    dev: DeviceFacts,
    outcome: Outcome,
    verification: dict[str, Any],
    lg: AcquisitionLog,
    warnings: list[str],
) -> SealResult:
    """Write the side files, seal the item and record its `acquired` custody event.

    Raises:
        OSError, EvidenceKitError: as raised, when the acquisition itself succeeded.
        AcquisitionError: the failed acquisition's output could not be sealed or recorded.
    """
    from evidencekit.workflows.custody import record_event

    info = src.info
    options = job.options
    result = outcome.result
    failure = outcome.failure
    try:
        _write_side_files(src, job, dev, outcome, lg, warnings)
        names = [p.name for p in outcome.files]
        seal = seal_item(
            job.item_dir,
            job.item_id,
            identity,
            kind=KINDS[options.format],
            artifacts=_artifacts(job, outcome),
            status=outcome.status,
            combined=result.hashes if result is not None else None,
            combined_format="e01" if options.format == "e01" else "raw",
            combined_parts=names,
            facts=_facts(src, job, dev, outcome, verification),
            description=options.description,
            started=outcome.started,
            finished=outcome.finished,
            algorithms=job.algorithms,
            case_identity=identity_of(case),
        )
        record_event(
            case,
            identity,
            "acquired",
            job.item_id,
            description=options.description or _what(case, info, outcome.status),
            digests=dict(result.hashes.digests) if result is not None else None,
            details={
                "kind": KINDS[options.format],
                "status": outcome.status,
                "source": info.path,
                "source_kind": info.kind,
                "size": info.size,
                **_serial(info),
                "files": names,
                "bad_sectors": outcome.bad_sectors,
                "read_errors": len(outcome.extents),
                "verification": verification,
                "seal": seal.path.name,
                "seal_sha256": seal.seal_sha256,
                "error": str(failure) if failure is not None else None,
                "evidence_number": options.evidence_number,
                "stored_digests": outcome.stored.to_dict()["outcome"]
                if outcome.stored is not None
                else None,
                "stored_digest_mismatch_accepted": outcome.stored.accepted
                if outcome.stored is not None
                else None,
                **_resume_details(job),
                **job.presence,
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
    return seal


def _serial(info: SourceInfo) -> dict[str, str]:
    """The source's serial number, when it has one: compared with what the item was
    registered with (`chain.details.device_notes`)."""
    from evidencekit.chain.details import measured_serial

    serial = measured_serial(info.identity)
    return {} if serial is None else {"serial": serial}


def _resume_details(job: Job) -> dict[str, Any]:
    """A resumed (or redone) acquisition's event names the incomplete one it supersedes
    (chain/rules.py), the offset it went on from and the mode."""
    r = job.resumed
    if r is None:
        return {}
    out: dict[str, Any] = {"resumed": "redo" if r.redo else "resume"}
    out["resumed_from"] = r.point.offset
    if r.supersedes is not None:
        out["supersedes"] = r.supersedes
    if r.discarded:
        out["discarded_segments"] = [dict(d) for d in r.discarded]
    return out


def _write_side_files(
    src: MediaSource,
    job: Job,
    dev: DeviceFacts,
    outcome: Outcome,
    lg: AcquisitionLog,
    warnings: list[str],
) -> None:
    """ID.map (when sectors were unreadable), ID.device.txt and, closing the log, ID.log."""
    item_dir, item_id = job.item_dir, job.item_id
    if outcome.extents:
        write_text(
            item_dir / f"{item_id}.map",
            mapfile.render(
                src.info.size,
                [(e.offset, e.length) for e in outcome.extents],
                done=None if outcome.failure is None else outcome.bytes_read,
                command_line=job.command_line,
                started=outcome.started,
                now=outcome.finished,
            ),
        )
    write_text(item_dir / f"{item_id}.device.txt", render_device_report(src, dev.reports, dev.hpa))
    lg.event(f"status: {outcome.status.upper()}")
    for text in warnings:
        lg.event(f"warning: {text}")
    text = lg.text()
    if job.resumed is not None and job.resumed.earlier_log:
        # the earlier attempt's log stays whole, above what this run did
        text = job.resumed.earlier_log.rstrip("\n") + "\n\n" + "=" * 72 + "\n" + text
    write_text(item_dir / f"{item_id}.log", text)
    fsync_dir(item_dir)


def _artifacts(job: Job, outcome: Outcome) -> list[Artifact]:
    """The image files, then the side files, each with its size and digests."""
    item_dir, item_id = job.item_dir, job.item_id
    result, files = outcome.result, outcome.files
    artifacts: list[Artifact] = []
    if result is not None and job.options.format == "raw":
        artifacts.append(Artifact(files[0].name, result.size, dict(result.hashes.digests)))
    elif result is not None and len(result.segment_digests) == len(files):
        # split: the media's pieces; E01: the segment files, hashed as they were written
        for path, digests in zip(files, result.segment_digests, strict=True):
            artifacts.append(Artifact(path.name, path.stat().st_size, dict(digests)))
    else:
        # raw and split files are the media (the chosen digests); E01 segments are derived
        algos = DERIVED_ALGORITHMS if job.options.format == "e01" else job.hash_algorithms
        for path in files:
            artifacts.append(artifact_from_file(item_dir, path.name, algos)[0])
    side = [f"{item_id}.log", f"{item_id}.device.txt"]
    if outcome.extents:
        side.append(f"{item_id}.map")
    for name in side:  # derived: SHA-256 only
        artifacts.append(artifact_from_file(item_dir, name, DERIVED_ALGORITHMS)[0])
    return artifacts


def _what(case: Case, info: SourceInfo, status: str) -> str:
    """What the image is of, for the custody event's default description in the case's
    language (`acquire disk --decrypt` says so)."""
    from evidencekit.workflows.wording import described, status_words

    values = {"path": info.path, "size": human(info.size), "status": status_words(case, status)}
    if info.format in ("luks1", "luks2") and "decrypted" in info.identity:
        return described(case, "decrypted_image", inner=info.identity["decrypted"], **values)
    return described(case, "disk_image", **values)


def _facts(
    src: MediaSource,
    job: Job,
    dev: DeviceFacts,
    outcome: Outcome,
    verification: dict[str, Any],
) -> dict[str, Any]:
    """The seal's `facts`: the source, the options, the device, the reading and the read-back."""
    info = src.info
    result = outcome.result
    facts: dict[str, Any] = {
        "source": info.to_dict(),
        "size": info.size,
        "format": job.options.format,
        "options": job.options.to_dict(),
        "device": {
            "hpa": dev.hpa,
            "mounts": dev.mounts,
            "read_only_flag_before": dev.ro_before,
            "read_only_flag_set": dev.ro_set,
            "tools": [r.to_dict() for r in dev.reports],
        },
        "host_clock": dev.clock,
        "bytes_read": outcome.bytes_read,
        "bad_sectors": outcome.bad_sectors,
        "recovered_sectors": outcome.recovered_sectors,
        "read_errors": [e.to_dict() for e in outcome.extents[:MAX_ERRORS_IN_SEAL]],
        "verification": verification,
    }
    if outcome.stored is not None:
        facts["stored_digests"] = outcome.stored.to_dict()
    if job.resumed is not None:
        facts["resumed"] = job.resumed.facts()
    if outcome.failure is not None:
        facts["error"] = str(outcome.failure)
    if result is not None and len(result.paths) > 1:
        facts["copy"] = {
            "folder": str(result.paths[1][0].parent),
            "files": [p.name for p in result.paths[1]],
        }
    return facts
