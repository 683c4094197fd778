"""`acquire_disk()`: open the source, image it, read the image back, then seal and record.

Nothing is called complete unless it is: a write error, too many bad sectors or Ctrl-C leave the
output sealed as `incomplete` (log and ledger say so too) and the error is raised afterwards.
Unreadable sectors give a `complete-with-errors` seal and PartialReadError (exit 4).
"""

from __future__ import annotations

import errno
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidencekit.acquire import device
from evidencekit.acquire.acqlog import AcquisitionLog, log_header
from evidencekit.acquire.device_report import device_facts
from evidencekit.acquire.freespace import check_space
from evidencekit.acquire.imager import Imager, ImagingResult
from evidencekit.acquire.source import MediaSource, open_source
from evidencekit.acquire.writers import DEFAULT_SEGMENT_SIZE, make_room
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
from evidencekit.ids import check_item_id
from evidencekit.sizes import human
from evidencekit.timeutil import utcnow
from evidencekit.workflows.acquire_disk.options import FORMATS, AcquireOptions
from evidencekit.workflows.acquire_disk.readback import verify_readback
from evidencekit.workflows.acquire_disk.record import seal_and_record
from evidencekit.workflows.acquire_disk.result import AcquireResult
from evidencekit.workflows.acquire_disk.writers import open_writers

log = logging.getLogger(__name__)

_ENOSPC_ROOM = 16 << 20  # released from the partial image after ENOSPC so log and seal fit


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
) -> AcquireResult:
    """Image `source_path` as item `item_id` of `case`; verify, seal and record custody.

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
    with open_source(source_path, as_format=options.source_format) as src:
        return _acquire(
            case,
            identity,
            src,
            item_id,
            item_dir,
            options,
            algorithms,
            hash_algorithms,
            on_progress,
            on_phase,
            command_line or " ".join(sys.argv),
        )


def _acquire(
    case: Any,
    identity: Any,
    src: MediaSource,
    item_id: str,
    item_dir: Path,
    options: AcquireOptions,
    algorithms: tuple[str, ...],
    hash_algorithms: tuple[str, ...],
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
    command_line: str,
) -> AcquireResult:
    info = src.info
    fd = src.fileno()
    lg = AcquisitionLog()
    warnings: list[str] = []
    clock = device.host_clock()
    log_header(lg, case, identity, item_id, options, info, clock, command_line)
    reports, hpa, mounts = device_facts(info, options.allow_mounted, lg)
    need = info.size if options.format != "e01" else 0
    space = check_space(item_dir, need, options.force)
    if options.copy_to is not None:
        check_space(options.copy_to, need, options.force)
    if space["free"] < info.size and options.force:
        warnings.append(
            f"only {human(space['free'])} free for a {human(info.size)} image (--force)"
        )

    writers = open_writers(options, item_dir, item_id, src, case, hash_algorithms)

    ro_before = info.read_only_flag
    ro_set = False
    if options.set_readonly and ro_before:
        # BLKROGET also reports the disk-level flag (losetup -r, a hardware switch); BLKROSET
        # sets the device-level one, which outlives us: never set what we could not restore
        lg.event("read-only flag already set (BLKROGET 1): left as it is")
    elif options.set_readonly and fd is not None and info.kind == "block-device":
        try:
            device.set_readonly(fd, True)
            ro_set = True
            lg.event("BLKROSET 1: kernel read-only flag set for the acquisition")
        except OSError as exc:
            warnings.append(f"could not set the read-only flag: {exc.strerror}")
            lg.event(f"BLKROSET failed: {exc.strerror}")

    imager = Imager(
        src,
        writers,
        hash_algorithms,
        window=options.window,
        window_algorithm=options.window_algorithm,
        retries=options.retries,
        max_errors=options.max_errors,
        segment_size=(options.segment_size or DEFAULT_SEGMENT_SIZE)
        if options.format == "split"
        else None,
        on_progress=on_progress,
    )
    started = utcnow()
    lg.event(f"acquisition started ({options.format}, digests {', '.join(hash_algorithms)})")
    result: ImagingResult | None = None
    failure: BaseException | None = None
    try:
        result = imager.run()
    except KeyboardInterrupt:
        failure = InterruptedError_(
            f"interrupted at byte {imager.reader.pos}: item {item_id!r} is sealed and "
            "recorded as incomplete"
        )
    except (EvidenceKitError, OSError) as exc:
        failure = exc
    finally:
        if ro_set and fd is not None:
            try:
                device.set_readonly(fd, False)
                lg.event("BLKROSET 0: read-only flag restored")
            except OSError as exc:
                warnings.append(f"could not restore the read-only flag: {exc.strerror}")
    finished = utcnow()
    reader = imager.reader
    extents = tuple(reader.extents)
    status = "complete"
    if failure is not None:
        status = "incomplete"
        cause = failure.__cause__ if isinstance(failure, AcquisitionError) else failure
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            released = make_room(writers, _ENOSPC_ROOM)
            lg.event(f"destination full: {released} bytes cut from the end of the partial image")
        lg.event(f"ACQUISITION FAILED at byte {reader.pos}: {failure}")
        lg.event("the image is INCOMPLETE")
    elif extents:
        status = "complete-with-errors"
    sector = max(1, info.logical_sector_size)
    for e in extents:
        lg.event(
            f"unreadable: bytes {e.offset}-{e.offset + e.length - 1} "
            f"(sector {e.offset // sector}, {e.length // sector} sectors) "
            f"errno {e.errno} ({os.strerror(e.errno)}), zero-filled"
        )
    if result is not None:
        lg.event(
            f"acquisition finished: {result.size} bytes in {result.seconds:.1f} s "
            f"({human(int(result.size / max(result.seconds, 1e-6)))}/s); "
            f"{reader.bad_sectors} unreadable sectors, {reader.recovered_sectors} read on retry"
        )
        for alg, hexd in result.hashes.digests.items():
            lg.add(f"  {alg:8} {hexd}")

    verification, integrity_problem, verify_interrupted = verify_readback(
        src, options, algorithms, result, extents, lg, warnings, on_progress, on_phase
    )

    seal, names, source_facts = seal_and_record(
        case,
        identity,
        src,
        item_id,
        item_dir,
        options,
        algorithms=algorithms,
        hash_algorithms=hash_algorithms,
        writers=writers,
        result=result,
        reader=reader,
        extents=extents,
        failure=failure,
        status=status,
        started=started,
        finished=finished,
        command_line=command_line,
        reports=reports,
        hpa=hpa,
        mounts=mounts,
        clock=clock,
        ro_before=ro_before,
        ro_set=ro_set,
        verification=verification,
        warnings=warnings,
        lg=lg,
    )

    res = AcquireResult(
        item_id=item_id,
        item_dir=item_dir,
        status=status,
        source=source_facts,
        files=tuple(names),
        size=info.size,
        digests=dict(result.hashes.digests) if result is not None else {},
        read_errors=tuple(e.to_dict() for e in extents),
        bad_sectors=reader.bad_sectors,
        verification=verification,
        seal=seal,
        copy_files=tuple(str(p) for p in result.paths[1])
        if result and len(result.paths) > 1
        else (),
        seconds=(finished - started).total_seconds(),
        error=str(failure) if failure is not None else None,
        warnings=tuple(warnings),
    )
    if failure is not None:
        if isinstance(failure, EvidenceKitError):
            raise failure
        raise AcquisitionError(
            f"acquisition of {info.path!r} failed at byte {reader.pos}: {failure}",
            hint="the partial image is sealed and recorded as incomplete",
        ) from failure
    if verify_interrupted:
        raise InterruptedError_(
            f"interrupted during verification: item {item_id!r} is sealed (status {status}) "
            "with its verification marked interrupted",
            hint=f"check it with: evidencekit verify {item_id}",
        )
    if integrity_problem is not None:
        raise IntegrityError(
            integrity_problem, hint="check the destination device and acquire again"
        )
    if extents:
        raise PartialReadError(
            f"{reader.bad_sectors} unreadable sector(s) in {len(extents)} extent(s) were "
            f"zero-filled; item {item_id!r} is sealed complete-with-errors",
            result=res,
            hint=f"see {item_id}.map and {item_id}.log",
        )
    return res
