"""Photos of a registered item (`custody register --photo`): copied into `CASE/photos/ITEM/`
under a temporary name of their own (`.NAME.PID.partial`), published (renamed) once the
`registered` event that records their sha256 is committed.

A kill between the commit and the rename leaves a recorded photo under its temporary name, and
a kill before the commit leaves a copy nothing records. `settle_photos`, run by the next
`custody register` of the item, finishes the first (renamed to the name its event gives, once
its sha256 is the recorded one) and removes the second (a copy of a file the examiner still
has; its process is gone), so the folder holds exactly the photos the ledger records.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from evidencekit.case import Case
from evidencekit.fsutil import fsync_dir
from evidencekit.hash.multihash import hash_file

log = logging.getLogger(__name__)

PARTIAL = ".partial"


def partial_name(target: Path) -> Path:
    """Where this process copies `target` before its event is committed."""
    return target.with_name(f".{target.name}.{os.getpid()}{PARTIAL}")


def _owner(path: Path) -> tuple[str, int] | None:
    """(photo name, pid) of a temporary copy `.NAME.PID.partial`, else None."""
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


def settle_photos(case: Case, item_id: str, recorded: list[dict[str, object]]) -> list[str]:
    """Publish the recorded photos of `item_id` left under a temporary name, and remove the
    copies nothing records, of processes that are gone. `recorded`: the photos the item's
    events list ({name: "photos/ITEM/NAME", sha256}). Returns what was done, one line each.
    """
    folder = case.path / "photos" / item_id
    if not folder.is_dir():
        return []
    want = {
        str(p.get("name", "")).rpartition("/")[2]: p.get("sha256")
        for p in recorded
        if isinstance(p, dict)
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
