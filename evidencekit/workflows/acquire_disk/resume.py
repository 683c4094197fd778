"""`acquire disk --resume ITEM`: continue an interrupted raw or split-raw acquisition.

As GNU ddrescue resumes from its map: what the interrupted attempt wrote is kept, read back once
and hashed with every digest of the acquisition (nothing of it is trusted unhashed), and the source
is read from where the image ends. The interrupted attempt is either published and sealed
`incomplete` (Ctrl-C, SIGTERM, a full disk, too many bad sectors) or unfinished in
`evidence/.staging/ITEM` (kill -9, power cut); its source facts come from its seal or its attempt
record, its unreadable extents from its map (written before any zero-filled byte reached the
image). The source must be the same medium: same size, sector size and identity (serial, model,
WWN… of a device; inode, size and modification time of a file), else nothing is done.

The new seal and log say the acquisition was resumed, from which offset, when, and what the
earlier attempt was; its custody event supersedes the earlier `incomplete` one (chain/rules.py).
An E01 cannot be continued: `--resume` of an E01 item redoes it from the start, with the earlier
attempt's files set aside in `evidence/.discarded/` (evidence is never deleted). So are split
segments lying past the point a resume goes on from (a resume killed while it added segments
wrote them; they are read again from the source): moved, whole, to
`evidence/.discarded/ITEM.<UTC time>/`, each named with its size and where it went in the
attempt record first (so a resume killed after the move still names them), then in the seal's
`resumed` facts, the log and the custody event. The published item then holds exactly the
segments its seal lists.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.acquire.ewf.format import COMPRESSION_MODES
from evidencekit.acquire.imaging import mapfile
from evidencekit.acquire.imaging.imager import ResumePoint
from evidencekit.acquire.imaging.reader import BadExtent
from evidencekit.acquire.source.adapter import SourceInfo
from evidencekit.case import Case
from evidencekit.errors import CaseError, EvidenceKitError, SourceError, UsageError
from evidencekit.fsutil import fsync_dir, make_dirs_inside
from evidencekit.timeutil import compact, isoformat, utcnow
from evidencekit.workflows.acquire_disk.options import FORMATS, KINDS, AcquireOptions, ImageFormat

RESUMABLE = ("raw", "split")
# identity values that name where the medium is attached, not which medium it is, or change
# without its content changing (a rename changes a file's ctime)
_VOLATILE = frozenset({"device", "major_minor", "sysfs", "path_id", "loop_direct_io", "ctime"})
_FORMAT_OF_KIND = {kind: fmt for fmt, kind in KINDS.items()}


@dataclass(frozen=True, slots=True)
class Earlier:
    """What the interrupted attempt left (read before anything is changed)."""

    item_id: str
    folder: Path
    where: str  # "published" (sealed incomplete) or "unfinished" (in staging)
    format: ImageFormat | None  # None: unknown, nothing was written
    source: dict[str, Any] | None  # its SourceInfo.to_dict()
    options: dict[str, Any]
    seal_status: str | None  # the seal in its folder, if any
    recorded: tuple[int, str, str] | None  # (seq, status, seal sha256) of its ledger event
    attempt: dict[str, Any]  # the earlier command, pid, host, start
    started: str | None
    # segments earlier resumes of this attempt set aside (name, size, moved_to), still there
    discarded: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "state": "sealed incomplete" if self.where == "published" else "unfinished",
            "seal_status": self.seal_status,
            "event_seq": self.recorded[0] if self.recorded else None,
            "seal_sha256": self.recorded[2] if self.recorded else None,
            "started": self.started,
            "attempt": self.attempt or None,
        }


@dataclass(frozen=True, slots=True)
class Resumed:
    """How this run continues the earlier attempt (carried in the Job)."""

    point: ResumePoint
    earlier: Earlier
    at: str  # when this run resumed it (UTC)
    earlier_log: str | None
    redo: bool  # E01: started again from 0, the earlier files set aside
    set_aside: str | None = None
    # split segments past the resume point, moved to evidence/.discarded (name, size, moved_to)
    discarded: tuple[dict[str, Any], ...] = ()

    @property
    def supersedes(self) -> str | None:
        return self.earlier.recorded[2] if self.earlier.recorded else None

    def facts(self) -> dict[str, object]:
        return {
            "mode": "redo" if self.redo else "resume",
            "from_offset": self.point.offset,
            "rehashed_bytes": self.point.offset,
            "carried_read_errors": len(self.point.extents),
            "resumed": self.at,
            "earlier": self.earlier.to_dict(),
            "earlier_files_set_aside": self.set_aside,
            "discarded_segments": [dict(d) for d in self.discarded],
        }


def last_acquisition(case: Case, item_id: str) -> tuple[int, str, str, str] | None:
    """(seq, kind, status, seal sha256) of the item's current acquisition event, if any."""
    from evidencekit.chain.kinds import ACQUISITION_KINDS
    from evidencekit.workflows.custody import list_events

    found = None
    for ev in list_events(case, item_id):
        if ev.get("kind") in ACQUISITION_KINDS:
            d = ev.get("details") or {}
            found = (
                int(ev["seq"]),
                str(ev["kind"]),
                str(d.get("status")),
                str(d.get("seal_sha256")),
            )
    return found


def inspect(case: Case, item_id: str, folder: Path, where: str, record: dict[str, Any]) -> Earlier:
    """What the attempt in `folder` is, and whether it may be resumed.

    Raises:
        CaseError: the item is recorded complete, or was not made by `acquire disk`.
    """
    from evidencekit.hash.seal.read import load_seal

    last = last_acquisition(case, item_id)
    if last is not None:
        seq, kind, status, _sha = last
        if kind != "acquired":
            raise CaseError(
                f"item {item_id!r} was {kind}, not acquired: `acquire disk --resume` continues "
                "disk acquisitions only"
            )
        if status != "incomplete":
            raise CaseError(
                f"item {item_id!r} is recorded {status} (event {seq}): there is nothing to resume",
                hint="a complete acquisition is never superseded; acquire under a new --item id",
            )
    seal_status, facts, seal_started = None, {}, None
    seal_path = folder / f"{item_id}.seal.json"
    if seal_path.is_file():
        try:
            seal = load_seal(seal_path)
            seal_status, facts = seal.status, seal.facts
            seal_started = seal.document.get("started")
            if seal.kind not in _FORMAT_OF_KIND:
                raise CaseError(
                    f"item {item_id!r} is a {seal.kind} item, not a disk image: nothing to resume"
                )
        except EvidenceKitError as exc:
            if isinstance(exc, CaseError):
                raise
            facts = {}  # a seal cut short by the kill: the attempt record says the same
    acq = record.get("acquisition") if isinstance(record.get("acquisition"), dict) else None
    source = facts.get("source") or (acq or {}).get("source")
    options = facts.get("options") or (acq or {}).get("options") or {}
    fmt = options.get("format") if isinstance(options, dict) else None
    earlier = record.get("earlier") if isinstance(record.get("earlier"), dict) else {}
    return Earlier(
        item_id=item_id,
        folder=folder,
        where=where,
        format=fmt if fmt in FORMATS else None,
        source=source if isinstance(source, dict) else None,
        options=options if isinstance(options, dict) else {},
        seal_status=seal_status,
        recorded=(last[0], last[2], last[3]) if last is not None else None,
        attempt=earlier or {},
        started=(acq or {}).get("started") or seal_started,
        discarded=_still_discarded(case, record.get("discarded_segments")),
    )


def _still_discarded(case: Case, found: object) -> tuple[dict[str, Any], ...]:
    """The set-aside segments an attempt record names that are where it says (a resume killed
    between naming them and moving them left them in staging, where they are found again)."""
    out = []
    for d in found if isinstance(found, list) else []:
        if (
            isinstance(d, dict)
            and isinstance(d.get("name"), str)
            and isinstance(d.get("size"), int)
            and isinstance(d.get("moved_to"), str)
            and (Path(case.path) / d["moved_to"]).is_file()
        ):
            out.append({"name": d["name"], "size": d["size"], "moved_to": d["moved_to"]})
    return tuple(out)


def merged_options(earlier: Earlier, given: AcquireOptions) -> AcquireOptions:
    """The earlier attempt's format, segment size, digests and window (what its image and
    hashes were made with); the rest as given now."""
    from dataclasses import replace

    o = earlier.options
    if not earlier.format:
        return given
    algos = o.get("algorithms")
    compression = o.get("compression")
    return replace(
        given,
        format=earlier.format,
        segment_size=o.get("segment_size") if isinstance(o.get("segment_size"), int) else None,
        algorithms=tuple(algos) if isinstance(algos, list) and algos else given.algorithms,
        window=o.get("window") if isinstance(o.get("window"), int) else None,
        window_algorithm=str(o.get("window_algorithm") or given.window_algorithm),
        evidence_number=given.evidence_number or o.get("evidence_number"),
        description=given.description or o.get("description"),
        notes=given.notes or o.get("notes"),
        compression=compression if compression in COMPRESSION_MODES else given.compression,
    )


def check_same_source(earlier: Earlier, info: SourceInfo) -> None:
    """The source is the medium the earlier attempt read.

    Raises:
        SourceError: its size, sector size, kind or identity differ (one line naming which).
    """
    old = earlier.source
    if old is None:
        return  # the attempt was killed before it opened its source: nothing of it was written
    new = info.to_dict()
    for key in ("size", "logical_sector_size", "kind", "format"):
        if old.get(key) != new.get(key):
            raise SourceError(
                f"{info.path!r} is not the source of the interrupted acquisition of "
                f"{earlier.item_id!r}: its {key} is {new.get(key)!r}, the earlier attempt read "
                f"{old.get(key)!r} from {old.get('path')!r}",
                hint="resume with the same device or file; nothing was changed",
            )
    a: dict[str, Any] = dict(old.get("identity") or {})
    b: dict[str, Any] = dict(info.identity)
    for key in sorted((set(a) | set(b)) - _VOLATILE):
        if a.get(key) != b.get(key):
            raise SourceError(
                f"{info.path!r} is not the source of the interrupted acquisition of "
                f"{earlier.item_id!r}: its {key} is {b.get(key)!r}, the earlier attempt's was "
                f"{a.get(key)!r}",
                hint="resume with the same device or file; nothing was changed",
            )


def image_files(folder: Path, item_id: str, fmt: str) -> list[Path]:
    """The earlier attempt's image files, in media order (split: `ITEM.001` up to the first
    number missing)."""
    if fmt == "raw":
        raw = folder / f"{item_id}.raw"
        return [raw] if raw.is_file() else []
    out = []
    for n in range(1, 1000):
        p = folder / f"{item_id}.{n:03d}"
        if not p.is_file():
            break
        out.append(p)
    return out


def _segment_files(folder: Path, item_id: str) -> list[Path]:
    """Every file named like a split segment of `item_id` (`ITEM.NNN`), gaps or not."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(f"{item_id}.")
        and len(p.name) == len(item_id) + 4
        and p.name[-3:].isdigit()
        and p.is_file()
    )


def _map_extents(folder: Path, item_id: str, known: list[Any]) -> list[BadExtent]:
    """The unreadable extents the map lists (errno from the seal's facts where they name it)."""
    path = folder / f"{item_id}.map"
    if not path.is_file():
        return []
    errnos = {
        int(e["offset"]): int(e["errno"])
        for e in known
        if isinstance(e, dict)
        and isinstance(e.get("offset"), int)
        and isinstance(e.get("errno"), int)
    }
    try:
        blocks = mapfile.parse(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, UsageError) as exc:
        raise CaseError(
            f"cannot read the map {str(path)!r} of the interrupted acquisition: {exc}",
            hint="without it the unreadable sectors are unknown; redo the acquisition",
        ) from exc
    return [
        BadExtent(b.pos, b.size, errnos.get(b.pos, errno.EIO)) for b in blocks if b.status == "-"
    ]


def resume_point(
    case: Case,
    earlier: Earlier,
    fmt: str,
    segment_size: int,
    size: int,
    note: Callable[[list[dict[str, Any]]], None],
) -> tuple[ResumePoint, tuple[dict[str, Any], ...]]:
    """Cut the earlier image files to the part that is whole and return where to go on, with
    the segments set aside (each {name, size, moved_to}: this resume's and earlier ones').

    A split segment before the last that is not full ends the usable part; a published
    (sealed) attempt never goes past what its seal says it read. Segments past that point
    are never deleted: `note` is given the full list of set-aside segments (to keep in the
    attempt record) before they are moved to `evidence/.discarded/ITEM.<UTC time>/`.
    """
    folder, item_id = earlier.folder, earlier.item_id
    files = image_files(folder, item_id, fmt)
    checks = _sealed_checks(folder, item_id, files)
    done = 0
    keep: list[Path] = []
    for p in files:
        n = p.stat().st_size
        if fmt == "split" and n > segment_size:
            n = segment_size
        keep.append(p)
        done += n
        if fmt == "split" and n < segment_size:
            break
    facts_read = None
    seal = folder / f"{item_id}.seal.json"
    if seal.is_file():
        from evidencekit.hash.seal.read import load_seal

        try:
            facts_read = load_seal(seal).facts.get("bytes_read")
        except EvidenceKitError:
            facts_read = None
    limit = min(size, facts_read if isinstance(facts_read, int) else size)
    done = min(done, limit)
    # what lies past `done` is read again from the source: files wholly past it are set aside
    # (a later segment after a gap too), the one it falls in is cut
    pos = 0
    cut: list[tuple[Path, int]] = []
    for p in keep:
        n = p.stat().st_size
        if pos >= done and cut:
            break
        take = min(n, done - pos, segment_size if fmt == "split" else n)
        cut.append((p, take))
        pos += take
    kept = {p for p, _ in cut}
    past = [p for p in files if p not in kept]
    if fmt == "split":
        past = [p for p in _segment_files(folder, item_id) if p not in kept]
    discarded = earlier.discarded
    if past:
        discarded = discarded + _set_aside_segments(case, item_id, past, discarded, note)
    for p, take in cut:
        if p.stat().st_size != take:
            with open(p, "r+b") as fh:
                fh.truncate(take)
                fh.flush()
                os.fsync(fh.fileno())
    fsync_dir(folder)
    seal_facts: list[Any] = []
    if seal.is_file():
        from evidencekit.hash.seal.read import load_seal

        try:
            got = load_seal(seal).facts.get("read_errors")
            seal_facts = got if isinstance(got, list) else []
        except EvidenceKitError:
            pass
    extents = [
        BadExtent(e.offset, min(e.length, done - e.offset), e.errno)
        for e in _map_extents(folder, item_id, seal_facts)
        if e.offset < done
    ]
    point = ResumePoint(tuple(p for p, _ in cut), done, tuple(extents), checks)
    return point, discarded


def _set_aside_segments(
    case: Case,
    item_id: str,
    past: list[Path],
    before: tuple[dict[str, Any], ...],
    note: Callable[[list[dict[str, Any]]], None],
) -> tuple[dict[str, Any], ...]:
    """Move `past` (segments wholly past the resume point) into a new
    `evidence/.discarded/ITEM.<UTC time>/`, last segment first (a kill half way leaves the
    ones still to move as the tail, found again by the next resume). They are named in the
    attempt record (`note`, with those set aside `before`) before the first one moves."""
    make_dirs_inside(case.path, ["evidence", ".discarded"])
    dest = Path(case.evidence_dir) / ".discarded" / f"{item_id}.{compact(utcnow())}"
    rel = dest.relative_to(case.path).as_posix()
    moved = tuple(
        {"name": p.name, "size": p.stat().st_size, "moved_to": f"{rel}/{p.name}"} for p in past
    )
    note([*before, *moved])
    dest.mkdir()
    for p in sorted(past, reverse=True):
        shutil.move(str(p), str(dest / p.name))
    fsync_dir(dest)
    fsync_dir(past[0].parent)
    return moved


def _sealed_checks(
    folder: Path, item_id: str, files: list[Path]
) -> tuple[tuple[int, int, str, str, str], ...]:
    """The digests the staged seal gives the image files, as media ranges to compare while
    they are re-hashed. A file whose size is not the sealed one is refused at once.

    Raises:
        IntegrityError: an image file has another size than its seal says, or is missing.
    """
    from evidencekit.errors import IntegrityError
    from evidencekit.hash.seal.read import load_seal

    seal_path = folder / f"{item_id}.seal.json"
    if not seal_path.is_file():
        return ()  # never sealed (killed first): nothing was claimed about the image yet
    try:
        seal = load_seal(seal_path)
    except EvidenceKitError:
        return ()
    sealed = {a.name: a for a in seal.artifacts}
    names = [p.name for p in files]
    image_names = [n for n in sealed if n in names or _is_image_name(n, item_id)]
    out = []
    start = 0
    for name in image_names:
        if name not in names:
            raise IntegrityError(
                f"{name}, sealed by the interrupted acquisition of {item_id!r}, is missing",
                hint="it is left as it was; compare the item folder with a backup",
            )
    for path in files:
        art = sealed.get(path.name)
        size = path.stat().st_size
        if art is None:
            break  # written after the seal (a resume killed before sealing): not claimed
        if size < art.size:
            raise IntegrityError(
                f"{path.name} is {size} bytes, but the interrupted acquisition of {item_id!r} "
                f"sealed it at {art.size}: it was changed since",
                hint="it is left as it was; compare the item folder with a backup",
            )
        # longer than sealed: a later resume was killed while adding to it; only the sealed
        # part is claimed (and `resume_point` never keeps more than the seal says was read)
        algo = "sha256" if "sha256" in art.digests else sorted(art.digests)[0]
        out.append((start, art.size, algo, art.digests[algo], path.name))
        start += size
    return tuple(out)


def _is_image_name(name: str, item_id: str) -> bool:
    rest = name[len(item_id) :] if name.startswith(item_id + ".") else ""
    return rest == ".raw" or (len(rest) == 4 and rest[1:].isdigit())


def set_aside(case: Case, item_id: str, folder: Path) -> str:
    """Move a redone attempt's files (E01, a collection) out of its staging `folder` into
    `evidence/.discarded/ITEM.<UTC time>/` (the folder stays, empty, as the reservation):
    evidence is never deleted. Returns where they went."""
    make_dirs_inside(case.path, ["evidence", ".discarded"])
    dest = Path(case.evidence_dir) / ".discarded" / f"{item_id}.{compact(utcnow())}"
    dest.mkdir()
    for entry in sorted(folder.iterdir()):
        shutil.move(str(entry), str(dest / entry.name))
    fsync_dir(dest)
    fsync_dir(folder)
    return str(dest)


def now_iso() -> str:
    return isoformat(utcnow())
