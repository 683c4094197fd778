"""Seal existing files as an evidence item: copy them into `evidence/ITEM/` (or record them in
place), hash them in the same pass, sign the seal, and record a `sealed` custody event."""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case, nfc
from evidencekit.errors import (
    CaseError,
    CustodyError,
    EvidenceKitError,
    InterruptedError_,
    UsageError,
)
from evidencekit.hash.algorithms import DEFAULT_ARTIFACT_ALGORITHMS, parse_algorithms
from evidencekit.hash.multihash import MultiHasher, open_readonly
from evidencekit.hash.pipeline import pump
from evidencekit.hash.seal import SEAL_SUFFIX, Artifact, SealResult, seal_item
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, utcnow

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

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def consume(self, data: memoryview) -> None:
        while len(data):
            n = os.write(self.fd, data)
            data = data[n:]

    def close(self) -> None:
        os.fsync(self.fd)


def _collect(sources: Sequence[Path], in_place: bool) -> list[tuple[Path, str]]:
    """(source file, artifact name) for every file; directories are walked in sorted order."""
    found: list[tuple[Path, str]] = []
    for src in sources:
        try:
            st = src.stat()
        except OSError as exc:
            raise EvidenceKitError(f"cannot seal {str(src)!r}: {exc.strerror}") from exc
        if stat.S_ISDIR(st.st_mode):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for fname in sorted(files):
                    path = Path(root) / fname
                    rel = path.relative_to(src.parent) if src.parent != src else path
                    name = str(path.absolute()) if in_place else rel.as_posix()
                    found.append((path, name))
        else:
            found.append((src, str(src.absolute()) if in_place else src.name))
    for src, name in found:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            # seal names are JSON text; a raw byte name cannot be written into the seal exactly
            raise UsageError(
                f"cannot seal {os.fsencode(src).decode('utf-8', 'backslashreplace')!r}: its name "
                "is not valid UTF-8",
                hint="collect it with `evidencekit acquire files` (which keeps raw names) or "
                "copy it under a UTF-8 name",
            ) from None
    names = [n for _, n in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UsageError(
            f"several sources would be sealed under the same name: {dupes[:3]}",
            hint="seal them as separate items, or put them in one folder",
        )
    if not found:
        raise UsageError("nothing to seal: the folders given hold no files")
    return found


def _copy_and_hash(
    src: Path, dst: Path, algorithms: Sequence[str], on_progress: Callable[[int], None] | None
) -> Artifact:
    """Copy `src` to `dst` (via `dst.part`, fsync'ed, then renamed), hashing what was read."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    part = dst.with_name(dst.name + ".part")
    hasher = MultiHasher(algorithms)
    fd_in = open_readonly(src)
    try:
        fd_out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        os.close(fd_in)
        raise EvidenceKitError(f"cannot create {str(part)!r}: {exc.strerror}") from exc
    try:
        with open(fd_in, "rb", buffering=0, closefd=False) as fh:
            pump(
                fh.readinto,  # type: ignore[arg-type]
                [_Writer(fd_out), *hasher.consumers()],
                on_progress=on_progress,
            )
    except BaseException:
        os.close(fd_out)
        part.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd_in)
    os.fchmod(fd_out, 0o444)
    os.close(fd_out)
    os.replace(part, dst)
    result = hasher.result()
    return Artifact(dst.name, result.size, dict(result.digests))


def _hash_in_place(
    src: Path, algorithms: Sequence[str], on_progress: Callable[[int], None] | None
) -> tuple[int, dict[str, str]]:
    from evidencekit.hash.multihash import hash_file

    result = hash_file(src, algorithms, on_progress=on_progress)
    return result.size, dict(result.digests)


def seal_files(
    case: Case,
    identity: Identity,
    sources: Sequence[Path],
    item_id: str,
    *,
    in_place: bool = False,
    algorithms: Sequence[str] = DEFAULT_ARTIFACT_ALGORITHMS,
    description: str | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> SealFilesResult:
    """Seal `sources` as item `item_id` of `case`.

    Copies each file into `evidence/ITEM/` (folders keep their relative layout), hashing it in
    the same read, fsyncs the copies, then seals them; with `in_place` the files stay where they
    are and the seal records their absolute paths. Ctrl-C during the copy seals what was copied
    as `incomplete` and raises InterruptedError_.

    Raises:
        UsageError: invalid item id, algorithms, or sources.
        CaseError: the item already exists.
        EvidenceKitError: a source cannot be read or the item cannot be written.
        InterruptedError_: interrupted (the item is sealed as incomplete).
    """
    check_item_id(item_id)
    algos = parse_algorithms(list(algorithms))
    if not case.is_pinned(identity.fingerprint):
        # checked before copying anything: the case's verifiers would reject the seal anyway
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
            f"{case.info.number!r}",
            hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
        )
    item_dir = case.item_dir(item_id)
    if (item_dir / f"{item_id}{SEAL_SUFFIX}").exists() or (
        item_dir.exists() and any(item_dir.iterdir())
    ):
        raise CaseError(
            f"item {item_id!r} already exists in {str(case.evidence_dir)!r}",
            hint="choose another --item id",
        )
    files = _collect([Path(os.path.abspath(s)) for s in sources], in_place)
    case.make_item_dir(item_id)
    started = utcnow()
    artifacts: list[Artifact] = []
    facts_sources: list[dict[str, Any]] = []
    done = 0

    def progress(n: int) -> None:
        if on_progress is not None:
            on_progress(done + n)

    interrupted = False
    for src, name in files:
        try:
            st = src.stat()
            if in_place:
                size, digests = _hash_in_place(src, algos, progress)
                art = Artifact(name, size, digests)
            else:
                art = _copy_and_hash(src, item_dir / name, algos, progress)
                art = Artifact(name, art.size, art.digests)
        except KeyboardInterrupt:
            interrupted = True
            break
        done += art.size
        artifacts.append(art)
        facts_sources.append(
            {
                "path": os.fsdecode(src),
                "name": name,
                "size": art.size,
                "mtime": isoformat(dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)),
            }
        )
    if not in_place:
        _fsync_tree(item_dir)
    status = "incomplete" if interrupted else "complete"
    facts: dict[str, Any] = {"mode": "in-place" if in_place else "copy", "sources": facts_sources}
    if interrupted:
        facts["not_sealed"] = [os.fsdecode(s) for s, _ in files[len(artifacts) :]]
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
    )
    recorded = _record_sealed(case, identity, result, description)
    if interrupted:
        raise InterruptedError_(
            f"interrupted: item {item_id!r} sealed as incomplete ({len(artifacts)} of "
            f"{len(files)} files)"
        )
    return SealFilesResult(item_dir=item_dir, seal=result, custody_recorded=recorded)


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, _files in os.walk(folder):
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _record_sealed(
    case: Case, identity: Identity, result: SealResult, description: str | None
) -> bool:
    """Append the `sealed` custody event, when the custody workflow is available."""
    from evidencekit.workflows.verify import custody_recorder

    record_event = custody_recorder()
    if record_event is None:
        log.warning("custody ledger not available: no 'sealed' event recorded")
        return False
    digests = result.combined_digests or {"sha256": result.seal_sha256}
    record_event(
        case,
        identity,
        "sealed",
        result.item_id,
        description=description or f"sealed {len(result.document['artifacts'])} file(s)",
        digests=digests,
        details={
            "seal": str(result.path.relative_to(case.path))
            if result.path.is_relative_to(case.path)
            else str(result.path),
            "seal_sha256": result.seal_sha256,
            "status": result.status,
            "artifacts": result.document["artifacts"],
        },
    )
    return True
