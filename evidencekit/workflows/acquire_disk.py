"""Acquire, verify, seal, record: the `acquire disk` use case.

Images a device, file or disk image into `evidence/ITEM/` (`ITEM.raw`, `ITEM.001`…, or
`ITEM.E01`…), writes `ITEM.log`, `ITEM.device.txt` and, when sectors were unreadable, `ITEM.map`,
re-reads the image to check its digests, seals everything and records an `acquired` custody event.

Nothing is called complete unless it is: a write error, too many bad sectors or Ctrl-C leave the
output sealed as `incomplete` (log and ledger say so too) and the error is raised afterwards.
Unreadable sectors give a `complete-with-errors` seal and PartialReadError (exit 4).
"""

from __future__ import annotations

import errno
import logging
import os
import platform
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit.acquire import device, mapfile
from evidencekit.acquire.imager import Imager, ImagingResult, hash_image, hash_source
from evidencekit.acquire.reader import DEFAULT_RETRIES, BadExtent
from evidencekit.acquire.source import MediaSource, SourceInfo, open_source
from evidencekit.acquire.writers import (
    DEFAULT_SEGMENT_SIZE,
    ImageWriter,
    make_raw_writer,
    make_room,
)
from evidencekit.errors import (
    AcquisitionError,
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    InterruptedError_,
    PartialReadError,
    SourceError,
    UsageError,
)
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.algorithms import parse_algorithms
from evidencekit.hash.seal import Artifact, SealResult, artifact_from_file, seal_item
from evidencekit.ids import check_item_id
from evidencekit.sizes import human
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

FORMATS = ("raw", "split", "e01")
KINDS = {"raw": "raw", "split": "split-raw", "e01": "e01"}
DEFAULT_WINDOW = 64 << 20
MAX_ERRORS_IN_SEAL = 10_000
_ENOSPC_ROOM = 16 << 20  # released from the partial image after ENOSPC so log and seal fit


@dataclass(frozen=True, slots=True)
class AcquireOptions:
    """The `acquire disk` options (see the CLI for their meaning)."""

    format: str = "raw"
    segment_size: int | None = None
    algorithms: tuple[str, ...] = ("md5", "sha1", "sha256")
    verify: bool = True
    verify_source: bool = False
    retries: int = DEFAULT_RETRIES
    max_errors: int | None = None
    evidence_number: str | None = None
    description: str | None = None
    notes: str | None = None
    set_readonly: bool = False
    allow_mounted: bool = False
    window: int | None = DEFAULT_WINDOW
    # BLAKE3 for the window digests: they only localise a change (the whole-media md5, sha1,
    # sha256 prove integrity); a second SHA-256 stream would cost ~3x the CPU of BLAKE3 here
    window_algorithm: str = "blake3"
    copy_to: Path | None = None
    force: bool = False
    compression: str = "fast"
    source_format: str | None = None  # "raw": image a container file's own bytes

    def to_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "segment_size": self.segment_size,
            "algorithms": list(self.algorithms),
            "verify": self.verify,
            "verify_source": self.verify_source,
            "retries": self.retries,
            "max_errors": self.max_errors,
            "evidence_number": self.evidence_number,
            "notes": self.notes,
            "set_readonly": self.set_readonly,
            "allow_mounted": self.allow_mounted,
            "window": self.window,
            "window_algorithm": self.window_algorithm if self.window else None,
            "copy_to": str(self.copy_to) if self.copy_to else None,
            "force": self.force,
            "compression": self.compression if self.format == "e01" else None,
        }


@dataclass(frozen=True, slots=True)
class AcquireResult:
    """What `acquire disk` reports."""

    item_id: str
    item_dir: Path
    status: str
    source: dict[str, Any]
    files: tuple[str, ...]
    size: int
    digests: dict[str, str]
    read_errors: tuple[dict[str, object], ...]
    bad_sectors: int
    verification: dict[str, Any]
    seal: SealResult | None
    copy_files: tuple[str, ...] = ()
    seconds: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "item": self.item_id,
            "item_dir": str(self.item_dir),
            "status": self.status,
            "source": self.source,
            "files": list(self.files),
            "copy_files": list(self.copy_files),
            "size": self.size,
            "digests": {k: f"{k}:{v}" for k, v in self.digests.items()},
            "bad_sectors": self.bad_sectors,
            "read_errors": list(self.read_errors),
            "verification": self.verification,
            "seal": self.seal.path.name if self.seal else None,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "warnings": list(self.warnings),
        }


class _Log:
    """ID.log: human-readable, times in UTC."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def event(self, text: str) -> None:
        self.lines.append(f"{isoformat(utcnow())}  {text}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _device_report(src: MediaSource, reports: list[device.ToolReport], hpa: dict[str, str]) -> str:
    info = src.info
    out = [f"Device report for {info.path} (evidencekit {__version__})", ""]
    for key, value in info.to_dict().items():
        if key != "identity":
            out.append(f"{key:22} {value}")
    out.append("")
    out.append("Identity (sysfs/udev, image headers, file metadata):")
    for key, value in info.identity.items():
        out.append(f"  {key:20} {value}")
    out.append("")
    out.append(f"HPA/DCO (hdparm -N): {hpa.get('status', 'unknown')}  {hpa.get('reason', '')}")
    for rep in reports:
        out.append("")
        out.append(f"=== {' '.join(rep.command)} (exit {rep.returncode}) ===")
        out.append(rep.output.rstrip())
    return "\n".join(out) + "\n"


def _check_space(where: Path, need: int, force: bool) -> dict[str, int]:
    probe = where
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < need and not force:
        raise AcquisitionError(
            f"not enough free space in {str(probe)!r}: {human(free)} free, the image needs "
            f"{human(need)}",
            hint="choose another destination, or pass --force (the image may then stop half-way)",
        )
    return {"free": free, "needed": need}


def _make_writer(options: AcquireOptions, base: Path, src: MediaSource, case: Any) -> ImageWriter:
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
        )
        return writer
    raise UsageError(f"unknown image format {options.format!r}", hint="use raw, split or e01")


def _log_header(
    lg: _Log,
    case: Any,
    identity: Any,
    item_id: str,
    options: AcquireOptions,
    info: SourceInfo,
    clock: dict[str, str],
    command_line: str,
) -> None:
    """The log's opening: who, what, with which tool and parameters, the host clock, the source."""
    lg.add(f"evidencekit {__version__} — disk acquisition log")
    lg.add(f"Item:            {item_id}")
    cinfo = getattr(case, "info", None)
    if cinfo is not None:
        lg.add(f"Case:            {cinfo.number} — {cinfo.title}")
    lg.add(f"Examiner:        {identity.name} ({identity.fingerprint})")
    if options.evidence_number:
        lg.add(f"Evidence number: {options.evidence_number}")
    if options.description:
        lg.add(f"Description:     {options.description}")
    if options.notes:
        lg.add(f"Notes:           {options.notes}")
    lg.add(f"Command line:    {command_line}")
    lg.add(f"Parameters:      {options.to_dict()}")
    lg.add(
        f"Tool:            evidencekit {__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} on {socket.gethostname()}"
    )
    lg.add(
        f"Host clock:      time zone {clock.get('Timezone')}, NTP enabled "
        f"{clock.get('NTP', 'unknown')}, NTP synchronised {clock.get('NTPSynchronized')}, "
        f"offset {clock.get('offset')}; all times below are UTC"
    )
    lg.add("")
    lg.add(f"Source:          {info.path} ({info.kind}, {info.format})")
    lg.add(f"Size:            {info.size} bytes ({human(info.size)})")
    lg.add(
        f"Sectors:         logical {info.logical_sector_size}, "
        f"physical {info.physical_sector_size} bytes"
    )
    for key, value in info.identity.items():
        lg.add(f"  {key:20} {value}")


def _device_facts(
    info: SourceInfo, options: AcquireOptions, lg: _Log
) -> tuple[list[device.ToolReport], dict[str, str], list[dict[str, str]]]:
    """Mounts (refusing a read-write mounted device), vendor-tool reports and HPA status.

    Raises:
        SourceError: the device (or a partition) is mounted read-write, without --allow-mounted.
    """
    reports: list[device.ToolReport] = []
    hpa: dict[str, str] = {"status": "unknown", "reason": "not an ATA device"}
    mounts: list[dict[str, str]] = []
    if info.kind == "block-device":
        rdev = os.stat(info.path).st_rdev
        mounts = device.mounts_of(rdev)
        rw = [m for m in mounts if m["mode"] == "rw"]
        if rw and not options.allow_mounted:
            where = ", ".join(m["mountpoint"] for m in rw)
            raise SourceError(
                f"source {info.path!r} is mounted read-write at {where}",
                hint="unmount it (or remount read-only) first; --allow-mounted images it anyway",
            )
        reports = device.tool_reports(info.path)
        hpa = device.hpa_status(info.path)
        lg.add(f"Read-only flag:  BLKROGET = {info.read_only_flag}")
        lg.add(f"Mounts:          {mounts or 'none'}")
        lg.add(f"HPA (hdparm -N): {hpa.get('status')} {hpa.get('reason', '')}".rstrip())
        for rep in reports:
            found = ", ".join(f"{k} {v}" for k, v in rep.summary().items())
            lg.add(f"{' '.join(rep.command[:2]):16} {found or f'nothing (exit {rep.returncode})'}")
    elif info.kind == "image":
        lg.add(f"Container files: {', '.join(info.segments)}")
    return reports, hpa, mounts


def _open_writers(
    options: AcquireOptions, item_dir: Path, item_id: str, src: MediaSource, case: Any
) -> list[ImageWriter]:
    """The item's writer (and the --copy-to one); nothing is left behind when one fails."""
    created = not item_dir.exists()
    item_dir.mkdir(parents=True, exist_ok=True)
    writers: list[ImageWriter] = []
    try:
        writers.append(_make_writer(options, item_dir / item_id, src, case))
        if options.copy_to is not None:
            options.copy_to.mkdir(parents=True, exist_ok=True)
            writers.append(_make_writer(options, options.copy_to / item_id, src, case))
    except BaseException:
        for w in writers:
            for p in w.abort():
                p.unlink(missing_ok=True)
        if created:
            shutil.rmtree(item_dir, ignore_errors=True)
        raise
    return writers


def _verify(
    src: MediaSource,
    options: AcquireOptions,
    algorithms: tuple[str, ...],
    result: ImagingResult | None,
    extents: tuple[BadExtent, ...],
    lg: _Log,
    warnings: list[str],
    on_progress: Callable[[int, int], None] | None,
    on_phase: Callable[[str, int], None] | None,
) -> tuple[dict[str, Any], str | None, bool]:
    """Re-read the image(s) (and with --verify-source the source) and compare digests.

    Returns (verification facts, integrity problem or None, interrupted by Ctrl-C).
    """

    def step(done: int) -> None:
        if on_progress is not None:
            on_progress(done, 0)

    verification: dict[str, Any] = {}
    integrity_problem: str | None = None
    verify_interrupted = False
    try:
        if result is not None:
            kind = KINDS[options.format]
            for label, paths in zip(("image", "copy"), result.paths, strict=False):
                if not options.verify:
                    verification[label] = "skipped (--no-verify)"
                    continue
                if on_phase:
                    on_phase(f"verifying {label}", result.size)
                lg.event(f"verifying the {label}: re-reading {', '.join(p.name for p in paths)}")
                try:
                    again = hash_image(
                        paths, "e01" if kind == "e01" else "raw", algorithms, on_progress=step
                    )
                except (OSError, EvidenceKitError) as exc:
                    verification[label] = f"unreadable: {exc}"
                    integrity_problem = f"the {label} cannot be read back: {exc}"
                    continue
                same = all(again.digests[a] == result.hashes.digests[a] for a in algorithms)
                same = same and again.size == result.size
                verification[label] = "match" if same else "MISMATCH"
                lg.event(f"{label} verification: {verification[label]}")
                if not same:
                    integrity_problem = (
                        f"the {label} written to {str(paths[0].parent)!r} reads back with other "
                        "digests than the source gave"
                    )
            if options.verify_source:
                if on_phase:
                    on_phase("re-reading the source", result.size)
                lg.event("verifying the source: reading it again")
                try:
                    again, again_bad = hash_source(src, algorithms, on_progress=step)
                    same = all(again.digests[a] == result.hashes.digests[a] for a in algorithms)
                    verification["source"] = "match" if same else "DIFFERENT"
                    if not same:
                        msg = "the source delivered different data on the second read"
                        if extents or again_bad:
                            msg += " (it has unreadable sectors)"
                        warnings.append(msg)
                        lg.event(msg)
                        for alg, hexd in again.digests.items():
                            lg.add(f"  second read {alg:8} {hexd}")
                except (OSError, EvidenceKitError) as exc:
                    verification["source"] = f"unreadable: {exc}"
                    warnings.append(f"the source could not be read again: {exc}")
                lg.event(f"source verification: {verification['source']}")
    except KeyboardInterrupt:
        verify_interrupted = True
        verification["interrupted"] = True
        lg.event("verification INTERRUPTED (Ctrl-C); the image itself is complete")
    return verification, integrity_problem, verify_interrupted


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
    from evidencekit.workflows.custody import record_event

    info = src.info
    fd = src.fileno()
    lg = _Log()
    warnings: list[str] = []
    clock = device.host_clock()
    _log_header(lg, case, identity, item_id, options, info, clock, command_line)
    reports, hpa, mounts = _device_facts(info, options, lg)
    need = info.size if options.format != "e01" else 0
    space = _check_space(item_dir, need, options.force)
    if options.copy_to is not None:
        _check_space(options.copy_to, need, options.force)
    if space["free"] < info.size and options.force:
        warnings.append(
            f"only {human(space['free'])} free for a {human(info.size)} image (--force)"
        )

    writers = _open_writers(options, item_dir, item_id, src, case)

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

    verification, integrity_problem, verify_interrupted = _verify(
        src, options, algorithms, result, extents, lg, warnings, on_progress, on_phase
    )

    # -- side files, seal, custody ----------------------------------------------------------
    try:
        files: list[Path] = list(writers[0].paths)
        if extents:
            _write_text(
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
        _write_text(item_dir / f"{item_id}.device.txt", _device_report(src, reports, hpa))
        lg.event(f"status: {status.upper()}")
        for text in warnings:
            lg.event(f"warning: {text}")
        _write_text(item_dir / f"{item_id}.log", lg.text())
        fsync_dir(item_dir)

        artifacts: list[Artifact] = []
        names = [p.name for p in files]
        if result is not None and options.format == "raw":
            artifacts.append(Artifact(names[0], result.size, dict(result.hashes.digests)))
        elif result is not None and options.format == "split":
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
