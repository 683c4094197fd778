"""The imaging pass of `acquire disk`: the kernel read-only flag around it, the imager itself, and
how it ended (status, log lines) as an `Outcome`.

A failure (Ctrl-C included) does not propagate from here: it is kept in the outcome so that the
partial output can be sealed and recorded as incomplete before it is raised.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from evidencekit.acquire.imaging import mapfile
from evidencekit.acquire.imaging.acqlog import AcquisitionLog
from evidencekit.acquire.imaging.imager import Imager, ImagingResult, ResumeMismatch
from evidencekit.acquire.imaging.reader import BadExtent, ResilientReader
from evidencekit.acquire.imaging.writers import DEFAULT_SEGMENT_SIZE, ImageWriter, make_room
from evidencekit.acquire.source import device
from evidencekit.acquire.source.adapter import MediaSource
from evidencekit.errors import AcquisitionError, EvidenceKitError, InterruptedError_, StalledError
from evidencekit.fsutil import atomic_write
from evidencekit.hash.seal.document import SealStatus
from evidencekit.sizes import human
from evidencekit.timeutil import utcnow
from evidencekit.workflows.acquire_disk.facts import Job, Outcome
from evidencekit.workflows.acquire_disk.options import AcquireOptions

_ENOSPC_ROOM = 16 << 20  # released from the partial image after ENOSPC so log and seal fit


def set_readonly_flag(
    src: MediaSource, options: AcquireOptions, lg: AcquisitionLog, warnings: list[str]
) -> bool:
    """With --set-readonly, set the block device's kernel read-only flag; True if we set it."""
    info = src.info
    fd = src.fileno()
    if options.set_readonly and info.read_only_flag:
        # BLKROGET also reports the disk-level flag (losetup -r, a hardware switch); BLKROSET
        # sets the device-level one, which outlives us: never set what we could not restore
        lg.event("read-only flag already set (BLKROGET 1): left as it is")
    elif options.set_readonly and fd is not None and info.kind == "block-device":
        try:
            device.set_readonly(fd, True)
        except OSError as exc:
            warnings.append(f"could not set the read-only flag: {exc.strerror}")
            lg.event(f"BLKROSET failed: {exc.strerror}")
            return False
        lg.event("BLKROSET 1: kernel read-only flag set for the acquisition")
        return True
    return False


def run_imaging(
    src: MediaSource,
    job: Job,
    writers: list[ImageWriter],
    ro_set: bool,
    lg: AcquisitionLog,
    warnings: list[str],
    on_progress: Callable[[int, int], None] | None,
) -> Outcome:
    """Image `src` into `writers`; restore the read-only flag if `ro_set`; log how it ended.

    Errors of the pass (ours, OSError, Ctrl-C as InterruptedError_) end up in
    `Outcome.failure`, with the status "incomplete".
    """
    options = job.options
    resumed = job.resumed
    imager: Imager | None = None

    def checkpoint(_extent: BadExtent) -> None:
        # the map lists every unreadable extent before its zeros reach the image, so that a
        # `--resume` after kill -9 knows which written bytes were never read
        assert imager is not None
        r = imager.reader
        atomic_write(
            job.item_dir / f"{job.item_id}.map",
            mapfile.render(
                src.info.size,
                [(e.offset, e.length) for e in r.extents],
                done=r.pos,
                command_line=job.command_line,
                now=utcnow(),
            ).encode("utf-8"),
        )

    imager = Imager(
        src,
        writers,
        job.hash_algorithms,
        window=options.window,
        window_algorithm=options.window_algorithm,
        retries=options.retries,
        max_errors=options.max_errors,
        segment_size=(options.segment_size or DEFAULT_SEGMENT_SIZE)
        if options.format == "split"
        else None,
        on_progress=on_progress,
        resume=resumed.point if resumed is not None and not resumed.redo else None,
        on_bad=checkpoint,
    )
    # a resume's carried extents are in the earlier map already (that is where they come
    # from): it is rewritten, with them, at the next unreadable sector or when sealed
    started = utcnow()
    lg.event(f"acquisition started ({options.format}, digests {', '.join(job.hash_algorithms)})")
    result: ImagingResult | None = None
    failure: BaseException | None = None
    try:
        result = imager.run()
    except KeyboardInterrupt:
        failure = InterruptedError_(
            f"interrupted at byte {imager.reader.pos}: item {job.item_id!r} is sealed and "
            "recorded as incomplete"
        )
    except StalledError as exc:
        # a writer (or hasher) stuck: what it writes may still land after a seal vouched for
        # the files, so nothing is sealed; the attempt stays unfinished in staging for
        # `--resume` (which cuts the image to what is whole and re-hashes it) or a discard
        exc.hint = (
            f"the partial image is left unfinished in {str(job.item_dir)!r}, not sealed; "
            f"check the destination, then `evidencekit acquire disk SOURCE --resume "
            f"{job.item_id}` continues it (or `evidencekit case recover {job.item_id} "
            "--discard REASON` sets it aside)"
        )
        raise
    except ResumeMismatch:
        # the earlier image differs from its seal: sealing it again (even incomplete) would
        # vouch for the changed bytes; it stays unfinished, its recorded seal untouched
        # (`finally` restores the read-only flag)
        raise
    except (EvidenceKitError, OSError) as exc:
        failure = exc
    finally:
        if ro_set:
            restore_readonly_flag(src, lg, warnings)
    finished = utcnow()
    reader = imager.reader
    extents = tuple(reader.extents)
    status: SealStatus = "complete"
    if failure is not None:
        status = "incomplete"
        _log_failure(failure, writers, reader, lg)
    elif extents:
        status = "complete-with-errors"
    _log_reading(src, reader, extents, result, lg)
    return Outcome(
        status=status,
        result=result,
        failure=failure,
        files=tuple(writers[0].paths),
        extents=extents,
        bytes_read=reader.pos,
        bad_sectors=reader.bad_sectors,
        recovered_sectors=reader.recovered_sectors,
        started=started,
        finished=finished,
    )


def restore_readonly_flag(src: MediaSource, lg: AcquisitionLog, warnings: list[str]) -> None:
    """Clear the kernel read-only flag we set (a failure is a warning: the image is still good)."""
    fd = src.fileno()
    if fd is None:
        return
    try:
        device.set_readonly(fd, False)
        lg.event("BLKROSET 0: read-only flag restored")
    except OSError as exc:
        warnings.append(f"could not restore the read-only flag: {exc.strerror}")


def _log_failure(
    failure: BaseException,
    writers: list[ImageWriter],
    reader: ResilientReader,
    lg: AcquisitionLog,
) -> None:
    """Log a failed pass; after ENOSPC, first cut the partial image so log and seal fit."""
    cause = failure.__cause__ if isinstance(failure, AcquisitionError) else failure
    if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
        released = make_room(writers, _ENOSPC_ROOM)
        lg.event(f"destination full: {released} bytes cut from the end of the partial image")
    lg.event(f"ACQUISITION FAILED at byte {reader.pos}: {failure}")
    lg.event("the image is INCOMPLETE")


def _log_reading(
    src: MediaSource,
    reader: ResilientReader,
    extents: tuple[BadExtent, ...],
    result: ImagingResult | None,
    lg: AcquisitionLog,
) -> None:
    """Log each unreadable extent and, when the pass finished, its speed and digests."""
    sector = max(1, src.info.logical_sector_size)
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
