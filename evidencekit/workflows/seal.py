"""Seal existing files as an evidence item: check them all first, copy them into the item (or
record them in place) hashing them in the same pass and noting any that changed while read,
sign the seal, record a `sealed` custody event, then publish `evidence/ITEM/`
(docs/commit-protocol.md)."""

from __future__ import annotations

import datetime as dt
import errno
import logging
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case, nfc
from evidencekit.errors import (
    EvidenceKitError,
    HashError,
    IntegrityError,
    InterruptedAfterRecording,
    InterruptedError_,
    PartialReadError,
    SourceError,
    UsageError,
)
from evidencekit.hash.algorithms import DEFAULT_ARTIFACT_ALGORITHMS, Algorithm, parse_algorithms
from evidencekit.hash.multihash import MultiHasher, open_readonly
from evidencekit.hash.pipeline import pump
from evidencekit.hash.seal.document import (
    Artifact,
    SealResult,
    SealStatus,
    media_algorithms,
    name_member,
    resolve_artifact,
)
from evidencekit.hash.seal.write import seal_item
from evidencekit.identity import Identity
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat, utcnow
from evidencekit.workflows.commit import Reservation, Signer, guard, hint_if_full
from evidencekit.workflows.progress import Bytes, Progress
from evidencekit.workflows.trust import identity_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SealFilesResult:
    """A sealed item and whether its custody event was recorded."""

    item_dir: Path
    seal: SealResult
    custody_recorded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "item_dir": str(self.item_dir),
            "custody_recorded": self.custody_recorded,
            **self.seal.to_dict(),
        }


class _Writer:
    """Pump consumer writing every buffer to an open file (short writes retried)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def consume(self, data: memoryview) -> None:
        try:
            while len(data):
                n = os.write(self.fd, data)
                data = data[n:]
        except OSError as exc:
            raise _write_error(self.path, exc) from exc

    def close(self) -> None:
        try:
            os.fsync(self.fd)
        except OSError as exc:
            raise _write_error(self.path, exc) from exc


def _write_error(path: Path, exc: OSError) -> EvidenceKitError:
    """A copy that cannot be written (a full disk, most often): never reported as the source
    being unreadable. The attempt is then removed: nothing was sealed or recorded."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return EvidenceKitError(
        f"cannot write the copy {_shown(path)!r}: {exc.strerror or exc}",
        hint=(
            "free space on the disk that holds the case, then seal again"
            if full
            else "check the disk that holds the case"
        )
        + "; nothing was sealed or recorded (the copies were removed)",
    )


@dataclass(frozen=True, slots=True)
class _Source:
    """A file to seal, as found when the sources were walked."""

    path: Path
    name: str  # the artifact name: relative POSIX path, or absolute when sealed in place
    size: int


UNREADABLE = "unreadable-file"
"""The kind of a source that cannot be read (exit 1); the others (`unsafe-name`, `unsafe-file`:
a name no seal can hold, not a regular file) are usage errors (exit 2)."""


def _shown(path: Path | str) -> str:
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _walk(src: Path, in_place: bool, found: list[_Source], problems: list[Problem]) -> None:
    """Add every file of `src` (a file, or a folder walked in sorted order) to `found`."""
    try:
        st = src.stat()
    except OSError as exc:
        problems.append(Problem.of_file(UNREADABLE, _shown(src), str(exc.strerror)))
        return
    if not stat.S_ISDIR(st.st_mode):
        _check_file(src, str(src) if in_place else src.name, found, problems)
        return

    def walk_error(exc: OSError) -> None:
        where = _shown(exc.filename or src)
        problems.append(Problem.of_file(UNREADABLE, where, str(exc.strerror)))

    for root, dirs, files in os.walk(src, onerror=walk_error):
        dirs.sort()
        for fname in sorted(files):
            path = Path(root) / fname
            rel = path.relative_to(src.parent) if src.parent != src else path
            _check_file(path, str(path) if in_place else rel.as_posix(), found, problems)


def _check_file(path: Path, name: str, found: list[_Source], problems: list[Problem]) -> None:
    """Check one file before anything is copied: a regular file that opens, under a name the
    seal can hold; a problem is added to `problems` instead of raising."""
    # any name the file system holds is sealed exactly (seal/2 encodes non-UTF-8 bytes); only
    # a name no seal entry could stand for (none that os.walk gives) is refused
    try:
        resolve_artifact(Path("/"), name)
    except IntegrityError:
        problems.append(Problem.of_file("unsafe-name", _shown(path), "a name the seal cannot hold"))
        return
    try:
        st = path.stat()
    except OSError as exc:
        what = "a dangling symbolic link" if path.is_symlink() else exc.strerror
        problems.append(Problem.of_file(UNREADABLE, _shown(path), str(what)))
        return
    if not stat.S_ISREG(st.st_mode):
        what = f"not a regular file ({_kind(st.st_mode)})"
        problems.append(Problem.of_file("unsafe-file", _shown(path), what))
        return
    try:
        os.close(open_readonly(path))
    except HashError as exc:
        why = exc.message.rpartition(": ")[2]
        problems.append(Problem.of_file(UNREADABLE, _shown(path), why))
        return
    found.append(_Source(path, name, st.st_size))


def _kind(mode: int) -> str:
    for test, text in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISCHR, "a character device"),
    ):
        if test(mode):
            return text
    return "not a regular file"


def _collect(sources: Sequence[Path], in_place: bool) -> list[_Source]:
    """Every file to seal, checked before anything is copied or a passphrase is asked for.

    Raises:
        UsageError: a source is missing or unreadable, holds something that is not a regular
            file or a name the seal cannot hold, two sources share a name, or there is nothing.
    """
    found: list[_Source] = []
    problems: list[Problem] = []
    for src in sources:
        _walk(src, in_place, found, problems)
    if problems:
        # a source that cannot be read is an operational error (exit 1); the rest are usage
        error = SourceError if any(p.kind == UNREADABLE for p in problems) else UsageError
        shown = [f"{p.file!r}: {p.message}" for p in problems]
        more = f" (and {len(shown) - 3} more)" if len(shown) > 3 else ""
        raise error(
            f"cannot seal {len(shown)} of the files given, so nothing was copied: "
            + "; ".join(shown[:3])
            + more,
            hint="seal without them, or collect the folder with `evidencekit acquire files` "
            "(which keeps special files, raw names and read errors)",
        )
    names = [f.name for f in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(
            f"several sources would be sealed under the same name: {dupes[:3]}",
            hint="seal them as separate items, or put them in one folder",
        )
    if not found:
        raise UsageError("nothing to seal: the folders given hold no files")
    return found


@dataclass(frozen=True, slots=True)
class _Read:
    """What one pass over a source gave: its size and digests, and whether it changed."""

    size: int
    digests: dict[str, str]
    before: os.stat_result
    change: dict[str, Any] | None


def _changed(
    name: str, path: Path, before: os.stat_result, after: os.stat_result, read: int
) -> dict[str, Any] | None:
    """The seal's record of a file that changed while it was read (size, mtime or ctime), or
    None. A write that keeps the size and resets the mtime still moves the ctime."""
    if (
        read == before.st_size
        and after.st_size == before.st_size
        and after.st_mtime_ns == before.st_mtime_ns
        and after.st_ctime_ns == before.st_ctime_ns
    ):
        return None
    return {
        **name_member(name),
        "path": _shown(path),
        "size_before": before.st_size,
        "size_after": after.st_size,
        "bytes_read": read,
        "mtime_before": _ns_time(before.st_mtime_ns),
        "mtime_after": _ns_time(after.st_mtime_ns),
        "ctime_before": _ns_time(before.st_ctime_ns),
        "ctime_after": _ns_time(after.st_ctime_ns),
    }


def _ns_time(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    text = isoformat(dt.datetime.fromtimestamp(secs, dt.UTC)).removesuffix("Z")
    return f"{text}.{frac:09d}Z" if frac else text + "Z"


def _copy_and_hash(
    source: _Source,
    dst: Path | None,
    algorithms: Sequence[str],
    on_progress: Callable[[int], None] | None,
) -> _Read:
    """Hash `source` (copying it to `dst` via `dst.part`, fsync'ed, then renamed, unless None),
    noting any change of its size, mtime or ctime while it was read."""
    hasher = MultiHasher(algorithms)
    fd_in = open_readonly(source.path)
    fd_out: int | None = None
    part = dst.with_name(dst.name + ".part") if dst is not None else None
    try:
        before = os.fstat(fd_in)
        consumers = hasher.consumers()
        if part is not None:
            try:
                part.parent.mkdir(parents=True, exist_ok=True)
                fd_out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except OSError as exc:
                raise _write_error(part, exc) from exc
            consumers = [_Writer(fd_out, part), *consumers]
        with open(fd_in, "rb", buffering=0, closefd=False) as fh:
            try:
                read = pump(fh.readinto, consumers, on_progress=on_progress)
            except OSError as exc:
                raise EvidenceKitError(
                    f"cannot read {_shown(source.path)!r}: {exc.strerror}",
                    hint="nothing was sealed; copy what can be read with "
                    "`evidencekit acquire files`, which records read errors",
                ) from exc
        after = os.fstat(fd_in)
    except BaseException:
        if fd_out is not None:
            os.close(fd_out)
        if part is not None:
            part.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd_in)
    if fd_out is not None and part is not None and dst is not None:
        os.fchmod(fd_out, 0o444)
        os.close(fd_out)
        os.replace(part, dst)
    result = hasher.result()
    change = _changed(source.name, source.path, before, after, read)
    return _Read(result.size, dict(result.digests), before, change)


@dataclass(frozen=True, slots=True)
class SealRequest:
    """What `seal` is asked to do: copy `sources` (files, folders) into item `item_id` (with
    `in_place`: record them where they are, by absolute path) and seal them with `algorithms`.

    Attributes:
        progress: told the bytes read so far (the total is every source file's size).
        participants: participant SPECs of those present, recorded in the event's
            `details.participants` (`chain.parties.parse_spec`).
        session: the seizure session it belongs to (must be open; `details.session`).
    """

    item_id: str
    sources: tuple[Path, ...]
    in_place: bool = False
    algorithms: tuple[Algorithm, ...] = DEFAULT_ARTIFACT_ALGORITHMS
    description: str | None = None
    progress: Progress | None = None
    participants: tuple[str, ...] = ()
    session: str | None = None


def seal_files(case: Case, identity: Identity | Signer, request: SealRequest) -> SealFilesResult:
    """Seal `request.sources` as item `request.item_id` of `case`.

    Checks everything first (:func:`evidencekit.workflows.commit.guard`: the id, every source
    file, the examiner's pinning, then the key), reserves the id, copies each file into the
    item's staging folder (folders keep their relative layout) hashing it in the same read,
    fsyncs the copies, seals them, records the `sealed` custody event and only then publishes
    the folder as `evidence/ITEM/`. With `in_place` the files stay where they are and the seal
    records their absolute paths. Ctrl-C during the copy seals what was copied as `incomplete`
    and raises InterruptedError_. A file whose size, mtime or ctime changed while it was read
    is sealed as read, the seal is `complete-with-errors` and names it, and PartialReadError
    (exit 4) is raised once the item is published.

    Raises:
        UsageError: invalid item id, algorithms, or sources (nothing is written then).
        CaseError: the item exists or another attempt is writing it.
        CustodyError: the examiner is not pinned in the case.
        EvidenceKitError: a source cannot be read or the item cannot be written (the
            attempt is removed: nothing was recorded).
        InterruptedError_: interrupted (the item is sealed as incomplete).
        PartialReadError: a file changed while it was read (sealed complete-with-errors).
    """
    item_id, in_place, description = request.item_id, request.in_place, request.description
    algos = parse_algorithms(list(request.algorithms))
    paths = [Path(os.path.abspath(s)) for s in request.sources]
    files: list[_Source] = []
    present: list[dict[str, Any]] = []

    def checks() -> None:
        from evidencekit.workflows.seizure import presence

        present.append(presence(case, request.participants, request.session))
        files.extend(_collect(paths, in_place))

    ident, res = guard(case, identity, item_id, checks=checks)
    on_progress: Callable[[int], None] | None = None
    if request.progress is not None:
        on_progress = Bytes(request.progress, f"sealing {item_id}", sum(f.size for f in files))
    keep = recorded = False
    try:
        result, recorded, changes, interrupted = _seal_reserved(
            case, ident, res, files, in_place, algos, description, on_progress, present[0]
        )
        keep = True
        res.publish()
    except (EvidenceKitError, OSError) as exc:
        if not keep:
            res.abandon()
            hint_if_full(exc, "nothing was sealed or recorded (the copies were removed)")
        raise
    except KeyboardInterrupt as exc:
        # a Ctrl-C during the ledger append may have committed it: the attempt stays in
        # staging, listed by `case show`, rather than be removed under a recorded event
        if keep and recorded and not isinstance(exc, InterruptedAfterRecording):
            raise res.interrupted_after_recording() from exc
        raise
    sealed = SealFilesResult(
        item_dir=res.final, seal=res.final_seal(result), custody_recorded=recorded
    )
    if interrupted:
        raise InterruptedError_(
            f"interrupted: item {item_id!r} sealed as incomplete "
            f"({len(result.document['artifacts'])} of {len(files)} files)"
        )
    if changes:
        first = changes[0]
        raise PartialReadError(
            f"item {item_id!r} is sealed complete-with-errors: {len(changes)} file(s) changed "
            f"while being read, e.g. {first['path']!r} ({first['size_before']} bytes before, "
            f"{first['size_after']} after, {first['bytes_read']} read)",
            result=sealed,
            hint="seal them again once nothing writes to them; the seal's "
            "facts.changed_while_read lists each",
        )
    return sealed


def _seal_reserved(
    case: Case,
    identity: Identity,
    res: Reservation,
    files: list[_Source],
    in_place: bool,
    algos: Sequence[str],
    description: str | None,
    on_progress: Callable[[int], None] | None,
    presence: Mapping[str, Any] | None = None,
) -> tuple[SealResult, bool, list[dict[str, Any]], bool]:
    """Copy (or hash in place), seal and record into the reservation's staging folder."""
    item_dir, item_id = res.folder, res.item_id
    started = utcnow()
    artifacts: list[Artifact] = []
    facts_sources: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    done = 0

    def progress(n: int) -> None:
        if on_progress is not None:
            on_progress(done + n)

    interrupted = False
    # One append per file holds everything about it: a Ctrl-C or SIGTERM can land between any
    # two statements, and must never leave a file's artifact without its facts or vice versa.
    copied: list[tuple[Artifact, dict[str, Any], dict[str, Any] | None]] = []
    try:
        for src in files:
            got = _copy_and_hash(
                src, None if in_place else item_dir / src.name, media_algorithms(algos), progress
            )
            mtime = dt.datetime.fromtimestamp(got.before.st_mtime, dt.UTC)
            fact = {
                **name_member(os.fsdecode(src.path), "path"),
                **name_member(src.name),
                "size": got.size,
                "mtime": isoformat(mtime),
            }
            copied.append((Artifact(src.name, got.size, got.digests), fact, got.change))
            done += got.size
    except KeyboardInterrupt:
        interrupted = True
    artifacts += [a for a, _, _ in copied]
    facts_sources += [f for _, f, _ in copied]
    changes += [c for _, _, c in copied if c is not None]
    if not in_place:
        _fsync_tree(item_dir)
    status: SealStatus = "complete-with-errors" if changes else "complete"
    if interrupted:
        status = "incomplete"
    facts: dict[str, Any] = {"mode": "in-place" if in_place else "copy", "sources": facts_sources}
    if changes:
        facts["changed_while_read"] = changes
    if interrupted:
        facts["not_sealed"] = [_shown(s.path) for s in files[len(artifacts) :]]
        if not artifacts:
            raise InterruptedError_(f"interrupted before any file of {item_id!r} was copied")
    result = seal_item(
        item_dir,
        item_id,
        identity,
        kind="files",
        artifacts=artifacts,
        status=status,
        facts=facts,
        description=nfc(description) if description else None,
        started=started,
        finished=utcnow(),
        algorithms=algos,
        case_identity=identity_of(case),
    )
    recorded = _record_sealed(
        case, identity, result, description, res.final_seal(result).path, presence
    )
    return result, recorded, changes, interrupted


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, _files in os.walk(folder):
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _record_sealed(
    case: Case,
    identity: Identity,
    result: SealResult,
    description: str | None,
    final: Path,
    presence: Mapping[str, Any] | None = None,
) -> bool:
    """Append the `sealed` custody event (True: it is recorded; CustodyError if refused)."""
    from evidencekit.workflows.custody import record_event
    from evidencekit.workflows.wording import described

    digests = result.combined_digests or {"sha256": result.seal_sha256}
    record_event(
        case,
        identity,
        "sealed",
        result.item_id,
        description=description
        or described(case, "sealed_files", count=len(result.document["artifacts"])),
        digests=digests,
        details={
            "seal": str(final.relative_to(case.path))
            if final.is_relative_to(case.path)
            else str(final),
            "seal_sha256": result.seal_sha256,
            "status": result.status,
            "artifacts": result.document["artifacts"],
            **(presence or {}),
        },
    )
    return True
