"""Photos of a registered item (`custody register --photo`), written through the item commit
protocol (docs/commit-protocol.md, `workflows.commit`) like any artifact:

1. the item id is reserved (`commit.reserve`: `evidence/.staging/ITEM` and its attempt record,
   exclusive, naming the command, process, host and examiner) — a `register` is the item's
   first event, so its id is free;
2. each photo is copied into the staging folder under its own name, fsync'ed, hashed (size,
   SHA-256), and the attempt record notes them (`register_photos`);
3. the `registered` event records them (`details.photos`: `[{"name": "photos/ITEM/NAME",
   "size", "sha256"}]`);
4. the staging folder is published by one rename to `CASE/photos/ITEM` (not `evidence/ITEM`:
   that folder is for the item's image or collection, which acquisition creates), the parent
   fsync'ed, and the attempt record removed.

A crash before 3 leaves an unrecorded attempt that `case show` lists; between 3 and 4 a
recorded one, which `custody verify` notes (its staged copies hold the recorded bytes) and
`case recover ITEM` publishes. `custody register ITEM` run again finishes either itself
(`workflows.recover.settle_register`): it publishes a recorded attempt's photos, and sets an
unrecorded one aside with a signed `attempt_discarded` event before registering anew.

`partial_name` and `settle_partials` are the simpler protocol of attached documents
(`workflows.attach`), which belong to an item that already exists: a copy under a temporary
name in the destination folder, renamed once its event is committed.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.errors import CaseError, UsageError
from evidencekit.fsutil import fsync_dir, make_dirs_inside
from evidencekit.hash.multihash import hash_file
from evidencekit.workflows.casefiles import PARTIAL, PHOTOS
from evidencekit.workflows.commit import (
    Attempt,
    Reservation,
    drop_if_empty,
    record_doc,
    reserve,
    unfinished,
)

log = logging.getLogger(__name__)

NOTE_KEY = "register_photos"
"""The attempt record's key that lists the photos a `register` staged."""


def photo_folder(case: Case, item_id: str) -> Path:
    """`CASE/photos/ITEM`: where an item's photos are published."""
    return case.path / PHOTOS / item_id


def stage_photos(
    case: Case, item_id: str, photos: Sequence[Path], *, examiner: str = ""
) -> tuple[Reservation, list[dict[str, Any]]]:
    """Reserve `item_id` and copy `photos` into its staging folder (each fsync'ed and hashed).

    Returns:
        The reservation and what the `registered` event records of each photo.

    Raises:
        UsageError: two photos share a name, or a name is not UTF-8 text.
        CaseError: the id is reserved by another attempt, the item's photo folder holds files
            already, or a photo cannot be copied (nothing is left).
    """
    names = [p.name for p in photos]
    for n in names:
        try:
            n.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"photo name {n.encode('utf-8', 'surrogateescape')!r} is not UTF-8 text",
                hint="rename the photo",
            ) from None
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"two photos are named {dup[0]!r}", hint="rename one of them")
    target = photo_folder(case, item_id)
    if target.is_symlink() or (target.exists() and (not target.is_dir() or any(target.iterdir()))):
        raise CaseError(
            f"{str(target)!r} holds files already: the photos of a new item are published there",
            hint="move them away (they belong to no registration in the ledger)",
        )
    res = reserve(case, item_id, examiner=examiner)
    recorded: list[dict[str, Any]] = []
    try:
        for p in photos:
            staged = res.folder / p.name
            with p.open("rb") as src, open(staged, "xb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
                dst.flush()
                os.fsync(dst.fileno())
            res_hash = hash_file(staged, ("sha256",))
            recorded.append(
                {
                    "name": f"{PHOTOS}/{item_id}/{p.name}",
                    "size": res_hash.size,
                    "sha256": res_hash.digests["sha256"],
                }
            )
        fsync_dir(res.folder)
        res.note(**{NOTE_KEY: recorded})
    except OSError as exc:
        res.abandon()
        raise CaseError(f"cannot copy a photo into the case: {exc}") from exc
    except BaseException:
        res.abandon()
        raise
    return res, recorded


def publish_photos(case: Case, res: Reservation) -> Path:
    """Rename the staging folder of `res` to `CASE/photos/ITEM` (durably) and drop the attempt
    record. Call only once the `registered` event records the photos.

    Raises:
        CaseError: the rename failed (the attempt stays, recorded: `case recover` publishes it).
    """
    target = photo_folder(case, res.item_id)
    try:
        make_dirs_inside(case.path, [PHOTOS])
        if target.is_dir() and not target.is_symlink() and not any(target.iterdir()):
            target.rmdir()  # an empty folder left by an earlier version: the rename takes it
        os.rename(res.folder, target)
    except OSError as exc:
        raise CaseError(
            f"the photos of {res.item_id!r} are recorded but could not be moved from "
            f"{str(res.folder)!r} to {str(target)!r}: {exc.strerror}",
            hint=f"`evidencekit case recover {res.item_id}` publishes them",
        ) from exc
    res.published = True
    fsync_dir(target.parent)
    res.record.unlink(missing_ok=True)
    fsync_dir(res.record.parent)
    drop_if_empty(res.record.parent)
    return target


def staged_photos(case: Case, item_id: str) -> tuple[Attempt, list[dict[str, Any]]] | None:
    """The unfinished `register` attempt at `item_id` (its staging folder and the photos its
    record lists), else None."""
    for attempt in unfinished(case):
        if attempt.item_id != item_id:
            continue
        doc = record_doc(attempt.folder.parent / f"{item_id}.attempt.json")
        photos = doc.get(NOTE_KEY)
        if isinstance(photos, list):
            return attempt, [p for p in photos if isinstance(p, dict)]
    return None


def staged_match(folder: Path, recorded: Sequence[Mapping[str, object]]) -> str | None:
    """What differs between the staged photos in `folder` and `recorded` (the event's), or
    None when every recorded photo is there with its size and SHA-256."""
    for p in recorded:
        name = str(p.get("name", "")).rpartition("/")[2]
        path = folder / name
        if not path.is_file() or path.is_symlink():
            return f"{name!r} is not in {str(folder)!r}"
        got = hash_file(path, ("sha256",))
        if got.digests["sha256"] != p.get("sha256") or got.size != p.get("size"):
            return (
                f"{name!r} has sha256 {got.digests['sha256']}, not the recorded {p.get('sha256')}"
            )
    return None


# -- temporary names in the destination folder (attached documents) ---------------------------


def partial_name(target: Path) -> Path:
    """Where this process copies `target` before its event is committed."""
    return target.with_name(f".{target.name}.{os.getpid()}{PARTIAL}")


def _owner(path: Path) -> tuple[str, int] | None:
    """(file name, pid) of a temporary copy `.NAME.PID.partial`, else None."""
    name = path.name
    if not (name.startswith(".") and name.endswith(PARTIAL)):
        return None
    stem, _, pid = name[1 : -len(PARTIAL)].rpartition(".")
    return (stem, int(pid)) if stem and pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def settle_partials(folder: Path, recorded: Sequence[Mapping[str, object]]) -> list[str]:
    """Publish the recorded files of `folder` left under a temporary name, and remove the
    copies nothing records, of processes that are gone. `recorded`: what the events list
    ({name: "AREA/ITEM/NAME", sha256}). Returns what was done, one line each.
    """
    if not folder.is_dir():
        return []
    want = {
        str(p.get("name", "")).rpartition("/")[2]: p.get("sha256")
        for p in recorded
        if isinstance(p, Mapping)
    }
    done: list[str] = []
    for path in sorted(folder.iterdir()):
        owner = _owner(path)
        if owner is None or _alive(owner[1]):
            continue
        name = owner[0]
        target = folder / name
        sha = hash_file(path, ("sha256",)).digests["sha256"]
        if want.get(name) == sha and not target.exists():
            os.replace(path, target)
            done.append(f"published {target} (recorded, left under {path.name})")
        else:
            path.unlink()
            done.append(f"removed {path.name} (a copy no event records)")
        log.info("%s", done[-1])
    if done:
        fsync_dir(folder)
    return done


def settle_photos(case: Case, item_id: str, recorded: list[dict[str, object]]) -> list[str]:
    """`settle_partials` for `CASE/photos/ITEM`: photos an earlier version copied under a
    temporary name there."""
    return settle_partials(photo_folder(case, item_id), recorded)


__all__ = [
    "NOTE_KEY",
    "partial_name",
    "photo_folder",
    "publish_photos",
    "settle_partials",
    "settle_photos",
    "stage_photos",
    "staged_match",
    "staged_photos",
]
