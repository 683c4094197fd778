"""`acquire_disk()`: open the source, image it, read the image back, then seal and record.

Nothing is called complete unless it is: a write error, too many bad sectors or Ctrl-C leave the
output sealed as `incomplete` (log and ledger say so too) and the error is raised afterwards.
Unreadable sectors give a `complete-with-errors` seal and PartialReadError (exit 4).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from evidencekit.acquire.ewf.stored_digests import stored_algorithms
from evidencekit.acquire.imaging.acqlog import AcquisitionLog, log_header
from evidencekit.acquire.imaging.device_report import device_facts
from evidencekit.acquire.imaging.freespace import check_space
from evidencekit.acquire.imaging.imager import ResumePoint
from evidencekit.acquire.imaging.writers import DEFAULT_SEGMENT_SIZE
from evidencekit.acquire.source import device
from evidencekit.acquire.source.adapter import MediaSource, open_source
from evidencekit.case import Case
from evidencekit.errors import (
    AcquisitionError,
    EvidenceKitError,
    IntegrityError,
    InterruptedError_,
    PartialReadError,
    SourceError,
    StalledError,
    UsageError,
)
from evidencekit.fsutil import command_line as fs_command_line
from evidencekit.hash.algorithms import parse_algorithms
from evidencekit.hash.seal.document import DERIVED_ALGORITHMS, SealResult, media_algorithms
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.sizes import human
from evidencekit.timeutil import isoformat, utcnow
from evidencekit.workflows.acquire_disk.facts import DeviceFacts, Job, Outcome
from evidencekit.workflows.acquire_disk.imaging import (
    restore_readonly_flag,
    run_imaging,
    set_readonly_flag,
)
from evidencekit.workflows.acquire_disk.options import FORMATS, AcquireOptions
from evidencekit.workflows.acquire_disk.readback import Readback, verify_readback
from evidencekit.workflows.acquire_disk.record import seal_and_record
from evidencekit.workflows.acquire_disk.request import AcquireDiskRequest
from evidencekit.workflows.acquire_disk.result import AcquireResult
from evidencekit.workflows.acquire_disk.resume import (
    RESUMABLE,
    Earlier,
    Resumed,
    check_same_source,
    inspect,
    merged_options,
    now_iso,
    resume_point,
    set_aside,
)
from evidencekit.workflows.acquire_disk.stored import check_stored_digests
from evidencekit.workflows.acquire_disk.writers import open_writers
from evidencekit.workflows.commit import (
    ATTEMPT_SUFFIX,
    Reservation,
    Signer,
    guard,
    reclaim,
    record_doc,
    staging_root,
)
from evidencekit.workflows.progress import Passes

log = logging.getLogger(__name__)


def acquire_disk(
    case: Case, identity: Identity | Signer, request: AcquireDiskRequest
) -> AcquireResult:
    """Image `request.source` as item `request.item_id` of `case`; verify, seal and record.

    With `request.resume`, the item is an interrupted acquisition (sealed incomplete, or
    unfinished in staging) that is continued (raw, split) or redone (E01) from the same source;
    its format, segment size, digests and window are the earlier attempt's
    (`acquire_disk/resume.py`).

    With `options.decrypt`, the image is the decrypted payload of the LUKS volume that is the
    source (or its partition `options.partition`), unlocked with `request.password`.

    `request.progress` learns the media's size from the opened source (the decrypted payload's
    once unlocked), then the bytes imaged and every further pass.

    Raises:
        UsageError: bad id or options.
        SourceError: the source cannot be opened, or is mounted read-write.
        CaseError: the item exists, or another attempt is writing it.
        CustodyError: the examiner is not pinned in the case (checked before any work).
        AcquisitionError: not enough space, or the acquisition failed
            (then the output is sealed and recorded as incomplete first).
        InterruptedError_: Ctrl-C (output sealed and recorded as incomplete first).
        IntegrityError: the written image reads back with other digests (sealed first).
        PartialReadError: sealed complete-with-errors; `result` is the AcquireResult (exit 4).
    """
    source_path, item_id, options = request.source, request.item_id, request.options
    command_line, password, resume = request.command_line, request.password, request.resume
    check_item_id(item_id)
    earlier: Earlier | None = None
    if resume:
        earlier = _earlier_before(case, item_id, options)
        options = merged_options(earlier, options)
    if options.format not in FORMATS:
        raise UsageError(f"unknown image format {options.format!r}", hint="use raw, split or e01")
    _check_decrypt(options, password)
    algorithms = parse_algorithms(list(options.algorithms))
    # raw and split files are the media, sealed with the chosen digests and sha256 (which every
    # sealed file carries); an E01's segments get their sha256 from the writer instead
    hash_algorithms = media_algorithms(algorithms)
    if options.format == "e01":  # the E01 hash/digest sections need them
        hash_algorithms = tuple(dict.fromkeys(("md5", "sha1", *algorithms)))
    reason = options.accept_stored_digest_mismatch
    present: list[dict[str, Any]] = []

    def checks() -> None:
        from evidencekit.workflows.seizure import presence

        present.append(presence(case, request.participants, request.session))
        _check_source(source_path)
        if reason is not None and not reason.strip():
            raise UsageError(
                "--accept-stored-digest-mismatch needs a reason",
                hint='e.g. --accept-stored-digest-mismatch "copy received damaged, see report 12"',
            )

    take = None
    if resume:

        def take(examiner: str) -> Reservation:
            return reclaim(case, item_id, command=command_line, examiner=examiner)[0]

    identity, res = guard(case, identity, item_id, checks=checks, command=command_line, take=take)
    if resume:
        earlier = _earlier_taken(case, item_id, res)
    try:
        try:
            opened = open_source(source_path, as_format=options.source_format)
            if earlier is not None:
                with _closing_on_error(opened):
                    check_same_source(earlier, opened.info)
        except BaseException:
            # a resume that changed nothing puts a published item back as it was
            if earlier is not None and earlier.where == "published":
                res.publish()
            raise
        with opened as src:
            on_progress: Callable[[int, int], None] | None = None
            on_phase: Callable[[str, int], None] | None = None
            if request.progress is not None:
                passes = Passes(request.progress, f"imaging {item_id}", src.info.size)
                on_progress, on_phase = passes.update, passes.phase
            resumed = None
            if earlier is not None:
                resumed = _continue(case, earlier, src, options, res)
            # an E01 source's stored MD5/SHA-1 are compared with what is read: compute them too
            extra = stored_algorithms(src.stored_digests)
            job = Job(
                item_id=item_id,
                item_dir=res.folder,  # staging: published as evidence/ITEM once sealed, recorded
                options=options,
                algorithms=algorithms,
                hash_algorithms=tuple(dict.fromkeys((*hash_algorithms, *extra))),
                command_line=fs_command_line([command_line]) if command_line else fs_command_line(),
                resumed=resumed,
                presence=present[0] if present else {},
            )
            if options.decrypt:
                assert password is not None
                from evidencekit.acquire.fs.luks_media import open_decrypted  # numpy: only here

                # the outer image's stored digests are of the encrypted bytes: not compared
                with open_decrypted(src, password, options.partition) as plain:
                    if on_phase:  # the payload's size is known only now
                        on_phase(f"imaging {item_id} (decrypted)", plain.size)
                    return _acquire(case, identity, plain, job, res, on_progress, on_phase)
            return _acquire(case, identity, src, job, res, on_progress, on_phase)
    except BaseException as exc:
        # before imaging began nothing of the source is in the attempt: it is removed; after,
        # a partial image that could not be sealed stays in staging, listed as unfinished
        if not res.keep:
            res.abandon()
        elif (
            isinstance(exc, IntegrityError)
            and earlier is not None
            and earlier.where == "published"
            and not res.published
        ):
            # the sealed partial image was found changed before anything was added: it goes
            # back where it was, where `verify` reports it
            res.publish()
        raise


def _earlier_before(case: Case, item_id: str, options: AcquireOptions) -> Earlier:
    """The interrupted attempt `--resume` names, judged before a passphrase is asked for.

    Raises:
        UsageError: nothing of that id to resume, or options that cannot be resumed.
        CaseError: it is recorded complete, or is not a disk acquisition.
    """
    if options.decrypt or options.copy_to is not None:
        raise UsageError(
            "--resume continues the image only: leave out --decrypt and --copy-to",
            hint="acquire under a new --item id to use them",
        )
    root = staging_root(case)
    staged, final = root / item_id, Path(case.evidence_dir) / item_id
    if staged.is_dir():
        record = record_doc(root / f"{item_id}{ATTEMPT_SUFFIX}")
        return inspect(case, item_id, staged, "unfinished", record)
    if final.is_dir():
        return inspect(case, item_id, final, "published", {})
    raise UsageError(
        f"there is no item or unfinished attempt {item_id!r} to resume",
        hint="`evidencekit case show` lists items and unfinished attempts",
    )


def _earlier_taken(case: Case, item_id: str, res: Reservation) -> Earlier:
    """The attempt as it is once taken back into staging (another command may have changed it
    meanwhile); a published one that must not be resumed is put back.

    Raises:
        CaseError: as `inspect`.
    """
    record = res.recorded()
    where = str(record.get("resumes") or "unfinished")
    try:
        return inspect(case, item_id, res.folder, where, record)
    except BaseException:
        if where == "published":
            res.publish()
        raise


def _continue(
    case: Case, earlier: Earlier, src: MediaSource, options: AcquireOptions, res: Reservation
) -> Resumed:
    """Cut the earlier image to the resume point (raw, split; segments past it are set aside,
    named in the attempt record first) or set the earlier files aside (E01); the source was
    checked to be the earlier one."""
    log_path = earlier.folder / f"{earlier.item_id}.log"
    try:
        earlier_log = log_path.read_text("utf-8") if log_path.is_file() else None
    except (OSError, UnicodeDecodeError):
        earlier_log = None
    at = now_iso()
    if options.format in RESUMABLE:
        seg = options.segment_size or DEFAULT_SEGMENT_SIZE
        point, discarded = resume_point(
            case,
            earlier,
            options.format,
            seg,
            src.info.size,
            lambda segments: res.note(discarded_segments=segments),
        )
        return Resumed(point, earlier, at, earlier_log, redo=False, discarded=discarded)
    where = set_aside(case, earlier.item_id, earlier.folder)
    return Resumed(ResumePoint((), 0, ()), earlier, at, earlier_log, redo=True, set_aside=where)


@contextlib.contextmanager
def _closing_on_error(src: MediaSource) -> Iterator[None]:
    try:
        yield
    except BaseException:
        src.close()
        raise


def _check_source(source_path: Path) -> None:
    """The source exists (what it holds is checked when it is opened).

    Raises:
        SourceError: it does not.
    """
    try:
        os.stat(source_path)
    except OSError as exc:
        raise SourceError(f"cannot open source {str(source_path)!r}: {exc.strerror}") from exc


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
    case: Case,
    identity: Identity,
    src: MediaSource,
    job: Job,
    res: Reservation,
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
) -> AcquireResult:
    """Prepare, image, read back, seal and record, publish; then raise what went wrong."""
    options = job.options
    lg = AcquisitionLog()
    warnings: list[str] = []
    clock = device.host_clock()
    log_header(lg, case, identity, job.item_id, options, src.info, clock, job.command_line)
    if job.resumed is not None:
        _log_resume(lg, job)
    reports, hpa, mounts = device_facts(src.info, options.allow_mounted, lg)
    _check_space(src, job, warnings)
    earlier_started = job.resumed.earlier.started if job.resumed is not None else None
    # what a later `--resume` must know if this attempt is killed (the record dies on publish)
    res.note(
        acquisition={
            "source": src.info.to_dict(),
            "options": options.to_dict(),
            "started": earlier_started or isoformat(utcnow()),
        }
    )
    existing = None
    if job.resumed is not None and not job.resumed.redo:
        existing = list(job.resumed.point.paths)
    # E01 segment files are derived artifacts: sealed with SHA-256 only (the media's own
    # digests are the combined ones); raw and split files are the media (hashed by the Imager)
    writers = open_writers(
        options, job.item_dir, job.item_id, src, case, DERIVED_ALGORITHMS, existing
    )
    res.keep = True  # from here on the attempt holds (part of) an image
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
    except BaseException as exc:
        # run_imaging keeps the imaging pass's own failures in its outcome; anything escaping
        # (Ctrl-C before its try, a bug) must not leave the source's read-only flag set, a
        # flag that outlives us, nor the writers' files open (unless a writer is stuck: then
        # closing its files could hang as it did, and the process ending closes them)
        if ro_set:
            restore_readonly_flag(src, lg, warnings)
        if isinstance(exc, StalledError):
            raise
        for w in writers:
            try:
                w.abort()
            except Exception:
                log.warning("aborting writer failed", exc_info=True)
        raise
    outcome = check_stored_digests(src, job, outcome, lg, warnings, on_progress, on_phase)
    readback = verify_readback(src, job, outcome, lg, warnings, on_progress, on_phase)
    seal = seal_and_record(
        case, identity, src, job, dev, outcome, readback.verification, lg, warnings
    )
    res.publish()
    outcome = replace(outcome, files=tuple(res.final / p.name for p in outcome.files))
    result = _result(src, replace(job, item_dir=res.final), outcome, readback, seal, warnings)
    result = replace(result, seal=res.final_seal(seal))
    _raise_for(src, job, outcome, readback, result)
    return result


def _log_resume(lg: AcquisitionLog, job: Job) -> None:
    r = job.resumed
    assert r is not None
    e = r.earlier
    was = "sealed incomplete" if e.where == "published" else "unfinished (the process was killed)"
    cmd = e.attempt.get("command") if e.attempt else None
    lg.event(
        f"RESUMED: the earlier acquisition of {job.item_id} ({was}, started {e.started or '?'}"
        + (f", `{cmd}`" if cmd else "")
        + (f", ledger event {e.recorded[0]}" if e.recorded else "")
        + ")"
    )
    if r.redo:
        lg.event(f"an E01 cannot be continued: redone from byte 0; earlier files in {r.set_aside}")
    else:
        lg.event(
            f"resumed at byte {r.point.offset}: the {r.point.offset} bytes already written are "
            f"re-hashed, the source is read from there; {len(r.point.extents)} unreadable "
            "extent(s) before it carried over"
        )
    for d in r.discarded:
        lg.event(
            f"segment {d['name']} ({d['size']} bytes), written past the resume point by an "
            f"interrupted attempt, set aside to {d['moved_to']}"
        )


def _check_space(src: MediaSource, job: Job, warnings: list[str]) -> None:
    """Refuse a destination (or --copy-to) too small for the image, unless --force.

    Raises:
        AcquisitionError: not enough space, without --force.
    """
    options = job.options
    size = src.info.size
    need = size if options.format != "e01" else 0
    if job.resumed is not None and not job.resumed.redo:
        need -= job.resumed.point.offset
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
        stored_digests=outcome.stored.to_dict() if outcome.stored is not None else None,
        resumed=job.resumed.facts() if job.resumed is not None else None,
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
    stored = outcome.stored
    if stored is not None and not stored.ok:
        if stored.accepted is None:
            raise IntegrityError(
                f"{src.info.path!r}: {stored.message()}; item {item_id!r} is sealed "
                "complete-with-errors",
                hint="the source image was changed or damaged after it was made; to keep this "
                "copy anyway, acquire it under a new --item with "
                "--accept-stored-digest-mismatch REASON",
            )
        if not outcome.extents:
            raise PartialReadError(
                f"{src.info.path!r}: {stored.message()}; accepted ({stored.accepted}): item "
                f"{item_id!r} is sealed complete-with-errors",
                result=res,
                hint=f"see {item_id}.log",
            )
    if outcome.extents:
        raise PartialReadError(
            f"{outcome.bad_sectors} unreadable sector(s) in {len(outcome.extents)} extent(s) "
            f"were zero-filled; item {item_id!r} is sealed complete-with-errors",
            result=res,
            hint=f"see {item_id}.map and {item_id}.log",
        )
