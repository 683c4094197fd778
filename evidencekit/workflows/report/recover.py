"""`case recover --reports`: finish what a killed `report build` left under a temporary name.

A build writes the signed PDF as `NAME.pdf.partial-XXXX`, commits its `report_issued` event, then
links the file to `NAME.pdf` and removes the temporary name (docs/report.md). Killed in between,
the report is issued — the ledger says so — but not where anyone looks for it. Each file left
under a temporary name is one of:

- **recorded**: its sha256 is the one a `report_issued` event names: it is published under the
  name the event gives it (linked, never over another file, then the temporary name removed);
- **a second name** of the published report (killed between the link and the removal): the
  temporary name goes;
- **changed**: the event that issued a report under its final name names other bytes, and no
  file holds them: an integrity failure (exit 3), the file is left as it is;
- **never issued** (killed before the event): moved to `reports/.discarded/`, so that only
  issued reports are in `reports/` (`report verify --case` rejects it anyway; it is not deleted).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.errors import CaseError, IntegrityError
from evidencekit.fsutil import fsync_dir, make_dirs_inside
from evidencekit.workflows.commit import link_into_place
from evidencekit.workflows.report.build import PARTIAL

DISCARDED = ".discarded"


@dataclass(frozen=True, slots=True)
class RecoveredReport:
    """What `case recover --reports` did with one file left under a temporary name."""

    file: Path  # the temporary name it had
    action: str  # "published", "second-name-removed", "set-aside", "changed"
    path: Path | None  # where it is now (None: left as it was)
    event: int | None  # the report_issued event that records it
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "action": self.action,
            "path": str(self.path) if self.path is not None else None,
            "event": self.event,
            "sha256": self.sha256,
        }


def recover_reports(case: Case) -> list[RecoveredReport]:
    """Publish every recorded report left under a temporary name, drop second names, set aside
    the ones never issued.

    Raises:
        IntegrityError: a file's final name is one a `report_issued` event gave other bytes
            (every other file is dealt with first; this one is left as it is), or the ledger
            cannot be read.
        CaseError: a recorded report's final name is taken by another file, or a file system
            error (the file stays under its temporary name).
    """
    from evidencekit.workflows.custody import list_events

    folder = case.reports_dir
    partials = sorted(folder.glob(f"*.pdf{PARTIAL}*")) if folder.is_dir() else []
    if not partials:
        return []
    issued: dict[str, dict[str, Any]] = {}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for e in list_events(case):
        if e.get("kind") != "report_issued":
            continue
        issued[str((e.get("digests") or {}).get("sha256"))] = e
        name = (e.get("details") or {}).get("file")
        if isinstance(name, str):
            by_name.setdefault(name, []).append(e)
    done: list[RecoveredReport] = []
    changed: list[RecoveredReport] = []
    for partial in partials:
        final = folder / partial.name.partition(PARTIAL)[0]
        try:
            data = partial.read_bytes()
        except FileNotFoundError:
            continue  # another recover took it meanwhile
        except OSError as exc:
            raise CaseError(f"cannot read {str(partial)!r}: {exc.strerror}") from exc
        sha = hashlib.sha256(data).hexdigest()
        event = issued.get(sha)
        if final.exists() and _same(partial, final):
            partial.unlink()  # killed between the link and the removal: published already
            fsync_dir(folder)
            seq = int(event["seq"]) if event is not None else None
            done.append(RecoveredReport(partial, "second-name-removed", final, seq, sha))
        elif event is not None:
            _publish(partial, final)
            done.append(RecoveredReport(partial, "published", final, int(event["seq"]), sha))
        elif _issued_elsewhere(folder, final.name, by_name):
            seqs = [int(e["seq"]) for e in by_name[final.name]]
            changed.append(RecoveredReport(partial, "changed", None, seqs[-1], sha))
        else:
            done.append(RecoveredReport(partial, "set-aside", _set_aside(case, partial), None, sha))
    if changed:
        first = changed[0]
        raise IntegrityError(
            f"{str(first.file)!r} is to be {first.file.name.partition(PARTIAL)[0]!r}, which "
            f"event {first.event} recorded as issued with other bytes (sha256 {first.sha256} is "
            "in no report_issued event): it was changed after it was recorded; left as it is"
            + (f" (and {len(changed) - 1} more)" if len(changed) > 1 else ""),
            hint="keep the file as it is and compare it with a backup; `evidencekit report "
            "verify` on it names what differs",
        )
    return done


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _issued_elsewhere(folder: Path, name: str, by_name: dict[str, list[dict[str, Any]]]) -> bool:
    """Whether an event issued a report named `name` whose bytes no file under that name has
    (the recorded report is missing, and this temporary file would have been it)."""
    events = by_name.get(name)
    if not events:
        return False
    path = folder / name
    try:
        have = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return True
    return all(str((e.get("digests") or {}).get("sha256")) != have for e in events)


def _publish(partial: Path, final: Path) -> None:
    """Link `partial` to `final` (never over another file), then drop its temporary name."""
    try:
        link_into_place(partial, final)
    except OSError as exc:
        raise CaseError(
            f"the recorded report {str(partial)!r} could not be published as {str(final)!r}: "
            f"{exc.strerror}",
            hint="another file has that name: it was left as it is; rename the report by hand"
            if isinstance(exc, FileExistsError)
            else f"rename it by hand: mv -n {str(partial)!r} {str(final)!r}",
        ) from exc


def _set_aside(case: Case, partial: Path) -> Path:
    """Move a report never issued to `reports/.discarded/` under the name it has."""
    try:
        make_dirs_inside(case.path, ["reports", DISCARDED])
        dest = case.reports_dir / DISCARDED / partial.name
        os.rename(partial, dest)
        fsync_dir(dest.parent)
        fsync_dir(partial.parent)
    except OSError as exc:
        raise CaseError(
            f"cannot move {str(partial)!r}, a report never issued, aside: {exc.strerror}",
            hint="remove it by hand: the ledger does not record it",
        ) from exc
    return dest
