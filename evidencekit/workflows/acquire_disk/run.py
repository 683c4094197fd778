"""`acquire_disk()`: open the source, image it, read the image back, then seal and record.

Nothing is called complete unless it is: a write error, too many bad sectors or Ctrl-C leave the
output sealed as `incomplete` (log and ledger say so too) and the error is raised afterwards.
Unreadable sectors give a `complete-with-errors` seal and PartialReadError (exit 4).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidencekit.acquire import device
from evidencekit.acquire.acqlog import AcquisitionLog, log_header
from evidencekit.acquire.device_report import device_facts
from evidencekit.acquire.freespace import check_space
from evidencekit.acquire.source import MediaSource, open_source
from evidencekit.errors import (
    AcquisitionError,
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    InterruptedError_,
    PartialReadError,
    UsageError,
)
from evidencekit.hash.algorithms import parse_algorithms
from evidencekit.hash.seal import SealResult
from evidencekit.ids import check_item_id
from evidencekit.sizes import human
from evidencekit.workflows.acquire_disk.facts import DeviceFacts, Job, Outcome
from evidencekit.workflows.acquire_disk.imaging import (
    restore_readonly_flag,
    run_imaging,
    set_readonly_flag,
)
from evidencekit.workflows.acquire_disk.options import FORMATS, AcquireOptions
from evidencekit.workflows.acquire_disk.readback import Readback, verify_readback
from evidencekit.workflows.acquire_disk.record import seal_and_record
from evidencekit.workflows.acquire_disk.result import AcquireResult
from evidencekit.workflows.acquire_disk.writers import open_writers

log = logging.getLogger(__name__)


def acquire_disk(
    case: Any,
    identity: Any,
    source_path: Path,
    item_id: str,
    options: AcquireOptions,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    on_phase: Callable[[str, int], None] | None = None,
    command_line: str | None = None,
    password: str | None = None,
) -> AcquireResult:
    """Image `source_path` as item `item_id` of `case`; verify, seal and record custody.

    With `options.decrypt`, the image is the decrypted payload of the LUKS volume that is the
    source (or its partition `options.partition`), unlocked with `password`.

    Raises:
        UsageError: bad id or options.
        SourceError: the source cannot be opened, or is mounted read-write.
        AcquisitionError: the item exists, not enough space, or the acquisition failed
            (then the output is sealed and recorded as incomplete first).
        InterruptedError_: Ctrl-C (output sealed and recorded as incomplete first).
        IntegrityError: the written image reads back with other digests (sealed first).
        PartialReadError: sealed complete-with-errors; `result` is the AcquireResult (exit 4).
    """
    check_item_id(item_id)
    if options.format not in FORMATS:
        raise UsageError(f"unknown image format {options.format!r}", hint="use raw, split or e01")
    _check_decrypt(options, password)
    algorithms = parse_algorithms(list(options.algorithms))
    hash_algorithms = algorithms
    if options.format == "e01":  # the E01 hash/digest sections need them
        hash_algorithms = tuple(dict.fromkeys(("md5", "sha1", *algorithms)))
    item_dir = case.item_dir(item_id)
    if hasattr(case, "is_pinned") and not case.is_pinned(identity.fingerprint):
        raise CustodyError(
            f"examiner {identity.name!r} is not pinned in case {str(case.path)!r}: the "
            "acquisition could not be recorded in its custody ledger",
            hint="ask the case's examiner to run: evidencekit case add-examiner CERT.pem",
        )
    if item_dir.exists() and any(item_dir.iterdir()):
        raise AcquisitionError(
            f"evidence item {item_id!r} already exists in {str(item_dir)!r}",
            hint="choose another --item id",
        )
    job = Job(
        item_id=item_id,
        item_dir=item_dir,
        options=options,
        algorithms=algorithms,
        hash_algorithms=hash_algorithms,
        command_line=command_line or " ".join(sys.argv),
    )
    with open_source(source_path, as_format=options.source_format) as src:
        if options.decrypt:
            assert password is not None
            from evidencekit.acquire.source_luks import open_decrypted  # numpy: only here

            with open_decrypted(src, password, options.partition) as plain:
                if on_phase:  # the payload's size is known only now
                    on_phase(f"imaging {item_id} (decrypted)", plain.size)
                return _acquire(case, identity, plain, job, on_progress, on_phase)
        return _acquire(case, identity, src, job, on_progress, on_phase)


def _check_decrypt(options: AcquireOptions, password: str | None) -> None:
    """Raises UsageError for a --decrypt/--partition combination that cannot work."""
    if options.partition is not None and not options.decrypt:
        raise UsageError(
            "--partition chooses the LUKS volume to decrypt and needs --decrypt",
            hint="to image a whole disk leave --partition out",
        )
    if not options.decrypt:
        return
    if password is None:
        raise UsageError(
            "--decrypt needs the volume's password",
            hint="pass --password-env VAR naming an environment variable that holds it",
        )
    if options.source_format == "raw":
        raise UsageError("--decrypt reads the media inside an image; leave out --image-bytes")
    if options.set_readonly:
        raise UsageError(
            "--set-readonly is not available with --decrypt",
            hint="set the flag with blockdev --setro, or image the whole device first",
        )


def _acquire(
    case: Any,
    identity: Any,
    src: MediaSource,
    job: Job,
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
) -> AcquireResult:
    """Prepare, image, read back, seal and record; then raise what went wrong, if anything."""
    options = job.options
    lg = AcquisitionLog()
    warnings: list[str] = []
    clock = device.host_clock()
    log_header(lg, case, identity, job.item_id, options, src.info, clock, job.command_line)
    reports, hpa, mounts = device_facts(src.info, options.allow_mounted, lg)
    _check_space(src, job, warnings)
    writers = open_writers(options, job.item_dir, job.item_id, src, case, job.hash_algorithms)
    ro_set = set_readonly_flag(src, options, lg, warnings)
    try:
        dev = DeviceFacts(
            reports=reports,
            hpa=hpa,
            mounts=mounts,
            clock=clock,
            ro_before=src.info.read_only_flag,
            ro_set=ro_set,
        )
        outcome = run_imaging(src, job, writers, dev.ro_set, lg, warnings, on_progress)
    except BaseException:
        # run_imaging keeps the imaging pass's own failures in its outcome; anything escaping
        # (Ctrl-C before its try, a bug) must not leave the source's read-only flag set, a
        # flag that outlives us, nor the writers' files open
        if ro_set:
            restore_readonly_flag(src, lg, warnings)
        for w in writers:
            try:
                w.abort()
            except Exception:
                log.warning("aborting writer failed", exc_info=True)
        raise
    readback = verify_readback(src, job, outcome, lg, warnings, on_progress, on_phase)
    seal = seal_and_record(
        case, identity, src, job, dev, outcome, readback.verification, lg, warnings
    )
    res = _result(src, job, outcome, readback, seal, warnings)
    _raise_for(src, job, outcome, readback, res)
    return res


def _check_space(src: MediaSource, job: Job, warnings: list[str]) -> None:
    """Refuse a destination (or --copy-to) too small for the image, unless --force.

    Raises:
        AcquisitionError: not enough space, without --force.
    """
    options = job.options
    size = src.info.size
    need = size if options.format != "e01" else 0
    space = check_space(job.item_dir, need, options.force)
    if options.copy_to is not None:
        check_space(options.copy_to, need, options.force)
    if space["free"] < size and options.force:
        warnings.append(f"only {human(space['free'])} free for a {human(size)} image (--force)")


def _result(
    src: MediaSource,
    job: Job,
    outcome: Outcome,
    readback: Readback,
    seal: SealResult,
    warnings: list[str],
) -> AcquireResult:
    result = outcome.result
    return AcquireResult(
        item_id=job.item_id,
        item_dir=job.item_dir,
        status=outcome.status,
        source=src.info.to_dict(),
        files=tuple(p.name for p in outcome.files),
        size=src.info.size,
        digests=dict(result.hashes.digests) if result is not None else {},
        read_errors=tuple(e.to_dict() for e in outcome.extents),
        bad_sectors=outcome.bad_sectors,
        verification=readback.verification,
        seal=seal,
        copy_files=tuple(str(p) for p in result.paths[1])
        if result and len(result.paths) > 1
        else (),
        seconds=(outcome.finished - outcome.started).total_seconds(),
        error=str(outcome.failure) if outcome.failure is not None else None,
        warnings=tuple(warnings),
    )


def _raise_for(
    src: MediaSource, job: Job, outcome: Outcome, readback: Readback, res: AcquireResult
) -> None:
    """Raise what the sealed acquisition must report, worst first.

    Raises:
        AcquisitionError, InterruptedError_: the imaging pass failed (or was interrupted).
        InterruptedError_: Ctrl-C during the read-back.
        IntegrityError: the image reads back with other digests.
        PartialReadError: unreadable sectors were zero-filled.
    """
    failure, item_id = outcome.failure, job.item_id
    if failure is not None:
        if isinstance(failure, EvidenceKitError):
            raise failure
        raise AcquisitionError(
            f"acquisition of {src.info.path!r} failed at byte {outcome.bytes_read}: {failure}",
            hint="the partial image is sealed and recorded as incomplete",
        ) from failure
    if readback.interrupted:
        raise InterruptedError_(
            f"interrupted during verification: item {item_id!r} is sealed (status "
            f"{outcome.status}) with its verification marked interrupted",
            hint=f"check it with: evidencekit verify {item_id}",
        )
    if readback.integrity_problem is not None:
        raise IntegrityError(
            readback.integrity_problem, hint="check the destination device and acquire again"
        )
    if outcome.extents:
        raise PartialReadError(
            f"{outcome.bad_sectors} unreadable sector(s) in {len(outcome.extents)} extent(s) "
            f"were zero-filled; item {item_id!r} is sealed complete-with-errors",
            result=res,
            hint=f"see {item_id}.map and {item_id}.log",
        )
