"""Files of the case that custody events record by digest: the photos of `custody register
--photo` (`CASE/photos/ITEM/NAME`, `details.photos`) and the documents of `custody attach`
(`CASE/documents/ITEM/NAME`, `details.file`, e.g. the scanned signed Biên bản).

They are evidence too: `custody verify` and `verify` re-hash each one against the event that
recorded it, and a changed, appended-to, truncated, replaced or missing file is an integrity
problem naming the file and the event. A file recorded but not yet published — its command was
stopped between recording and publishing — is not missing when its staged copy holds the
recorded bytes: it is noted with the command that finishes it.

This module sits below `workflows.custody` (which calls it from `verify_custody`), so it reads
events as plain values and knows where the commit protocol stages a register's photos
(`STAGING`, the same folder as `workflows.commit.STAGING`; a test checks they agree).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.fsutil import UnsafeFileError, open_regular
from evidencekit.problems import Problem

PHOTOS = "photos"
DOCUMENTS = "documents"
STAGING = ".staging"
"""`evidence/.staging`: where `workflows.commit.reserve` stages an attempt (commit.STAGING)."""
PARTIAL = ".partial"
"""The suffix of a document copied under its temporary name (`.NAME.PID.partial`)."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
OS_METADATA = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""What a file browser leaves in a folder it showed (macOS, Windows; and AppleDouble `._NAME`
files): noted, not an unrecorded file — no viewer shows them as a photo."""


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """A case file an event records: where (`name`, relative to the case), its size and SHA-256."""

    seq: int
    item: str
    kind: str
    name: str
    size: int | None
    sha256: str

    @property
    def area(self) -> str:
        return self.name.split("/", 1)[0]

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "item": self.item,
            "kind": self.kind,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
        }


def recorded_files(events: Iterable[Mapping[str, Any]]) -> list[RecordedFile]:
    """The photos and documents the events (dicts with `seq`, `kind`, `item`, `details`) record,
    in ledger order. A record whose shape is wrong is skipped here: the ledger's own checks name
    that event."""
    out: list[RecordedFile] = []
    for ev in events:
        item, details = ev.get("item"), ev.get("details") or {}
        if not isinstance(item, str) or not isinstance(details, Mapping):
            continue
        entries: list[Any] = []
        if ev.get("kind") == "registered":
            photos = details.get("photos")
            entries = list(photos) if isinstance(photos, list) else []
        elif ev.get("kind") == "document_attached":
            entries = [details.get("file")]
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            name, sha, size = entry.get("name"), entry.get("sha256"), entry.get("size")
            if isinstance(name, str) and isinstance(sha, str):
                out.append(
                    RecordedFile(
                        int(ev["seq"]),
                        item,
                        str(ev["kind"]),
                        name,
                        size if type(size) is int else None,
                        sha,
                    )
                )
    return out


def parts_of(rec: RecordedFile) -> list[str] | None:
    """`[area, ITEM, NAME]` when the recorded name is `photos/ITEM/NAME` (a `registered`
    event's photo) or `documents/ITEM/NAME` (a `document_attached` event's file) of its own item
    (one plain name: never `..`, never another item's folder), else None."""
    parts = rec.name.split("/")
    # a register's photos are in photos/, an attached document in documents/: a document
    # recorded under photos/ would pass for one more photo of the item to whoever opens it
    area = PHOTOS if rec.kind == "registered" else DOCUMENTS
    if len(parts) != 3 or parts[0] != area or parts[1] != rec.item or parts[2] in ("", ".", ".."):
        return None
    return parts


def _digest(folder: Path, parts: list[str]) -> tuple[int, str]:
    """(size, sha256) of the regular file `folder/parts…`, opened without following links.

    Raises:
        UnsafeFileError: a link, a device, a FIFO.
        OSError: missing or unreadable.
    """
    fd = open_regular(folder, parts)
    h = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "rb", closefd=False) as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    finally:
        os.close(fd)
    return size, h.hexdigest()


def staged_copy(case: Case, rec: RecordedFile) -> Path | None:
    """Where the command that recorded `rec` left it before publishing it, if it did: a photo in
    the register's attempt folder `evidence/.staging/ITEM/NAME`, a document under its temporary
    name `documents/ITEM/.NAME.PID.partial` — when that copy holds the recorded bytes."""
    parts = parts_of(rec)
    if parts is None:
        return None
    candidates: list[tuple[Path, list[str]]] = []
    if parts[0] == PHOTOS:
        candidates.append((case.evidence_dir, [STAGING, rec.item, parts[2]]))
    else:
        folder = case.path / DOCUMENTS / rec.item
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            names = []
        prefix = f".{parts[2]}."
        for n in names:
            if (
                n.startswith(prefix)
                and n.endswith(PARTIAL)
                and n[len(prefix) : -len(PARTIAL)].isdigit()
            ):
                candidates.append((case.path, [DOCUMENTS, rec.item, n]))
    for folder, cparts in candidates:
        try:
            size, sha = _digest(Path(folder), cparts)
        except (OSError, UnsafeFileError):
            continue
        if sha == rec.sha256 and (rec.size is None or size == rec.size):
            return Path(folder).joinpath(*cparts)
    return None


def check_files(
    case: Case, files: Iterable[RecordedFile], *, staged_ok: bool = True, by_file: bool = False
) -> tuple[list[Problem], list[str]]:
    """Re-hash every recorded file: (problems, notes). Problems (kinds `missing-file`,
    `size-mismatch`, `digest-mismatch`, `unsafe-file`) are about the event that recorded the
    file (`Problem.of_event`, for `custody verify`), or with `by_file` about the file itself
    (`Problem.of_file`, for `verify`); a file recorded and still staged (`staged_copy`) is a
    note when `staged_ok`."""
    problems: list[Problem] = []
    notes: list[str] = []

    def problem(rec: RecordedFile, kind: str, message: str) -> None:
        if by_file:
            problems.append(Problem.of_file(kind, rec.name, message))
        else:
            problems.append(Problem.of_event(kind, message, rec.seq, rec.item))

    for rec in files:
        what = "photo" if rec.area == PHOTOS else "document"
        parts = parts_of(rec)
        if parts is None or not _SHA256.match(rec.sha256):
            problem(
                rec,
                "unsafe-file",
                f"the {what} {rec.name!r} recorded by event {rec.seq} is not a file of item "
                f"{rec.item!r} ({what}s/{rec.item}/NAME with a SHA-256)",
            )
            continue
        try:
            size, sha = _digest(case.path, parts)
        except UnsafeFileError as exc:
            problem(
                rec,
                "unsafe-file",
                f"the {what} {rec.name!r} recorded by event {rec.seq} is refused: {exc.message}",
            )
            continue
        except OSError as exc:
            staged = staged_copy(case, rec) if exc.errno == errno.ENOENT else None
            if staged is not None and staged_ok:
                how = (
                    f"`evidencekit case recover {rec.item}` publishes it"
                    if rec.area == PHOTOS
                    else f"the next `evidencekit custody attach {rec.item} …` publishes it"
                )
                notes.append(
                    f"the {what} {rec.name!r} recorded by event {rec.seq} is not published yet: "
                    f"its copy {str(staged.relative_to(case.path))!r} holds the recorded bytes; "
                    f"{how}"
                )
                continue
            why = "is missing" if exc.errno == errno.ENOENT else f"cannot be read: {exc.strerror}"
            problem(
                rec,
                "missing-file",
                f"the {what} {rec.name!r} recorded by event {rec.seq} {why}",
            )
            continue
        if rec.size is not None and size != rec.size:
            problem(
                rec,
                "size-mismatch",
                f"the {what} {rec.name!r} recorded by event {rec.seq} holds {size} bytes, "
                f"not the {rec.size} recorded: it was changed",
            )
        elif sha != rec.sha256:
            problem(
                rec,
                "digest-mismatch",
                f"the {what} {rec.name!r} recorded by event {rec.seq} has sha256 {sha}, "
                f"not the {rec.sha256} recorded: it was changed",
            )
    return problems, notes


def unrecorded_files(
    case: Case,
    files: Iterable[RecordedFile],
    *,
    item: str | None = None,
    by_file: bool = False,
) -> tuple[list[Problem], list[str]]:
    """What `CASE/photos/` and `CASE/documents/` hold that no event records (problems of kind
    `unrecorded-file`), with `item` only that item's folders. A file planted beside the
    recorded photos, a second "signed record" nobody attached, a folder of an item never
    registered: each would pass for part of the record to whoever opens the folder, so each
    is named (move it out of the case, or record it: `custody attach`). A document's
    temporary copy (`.NAME.PID.partial`) and a file browser's metadata (`OS_METADATA`) are
    notes.
    """
    recorded = {rec.name for rec in files}
    problems: list[Problem] = []
    notes: list[str] = []
    for area in (PHOTOS, DOCUMENTS):
        root = case.path / area
        folders = [root / item] if item is not None else [root]
        for top in folders:
            if top.is_symlink() or not top.is_dir():
                if top.is_symlink() or top.exists():
                    _unrecorded(problems, top, case, item, by_file)
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                dirnames.sort()
                for n in sorted(filenames) + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
                    path = Path(dirpath, n)
                    name = path.relative_to(case.path).as_posix()
                    if name in recorded:
                        continue
                    if n in OS_METADATA or n.startswith("._"):
                        notes.append(
                            f"{name!r} is a file browser's metadata, not a photo or document: "
                            "no event records it"
                        )
                        continue
                    if area == DOCUMENTS and n.startswith(".") and n.endswith(PARTIAL):
                        notes.append(
                            f"{name!r} is an unfinished copy of a document: the next "
                            "`evidencekit custody attach` of its item settles it"
                        )
                        continue
                    _unrecorded(problems, path, case, item, by_file)
    return problems, notes


def _unrecorded(
    problems: list[Problem], path: Path, case: Case, item: str | None, by_file: bool
) -> None:
    name = path.relative_to(case.path).as_posix()
    message = (
        f"{name!r} is in the case's {path.relative_to(case.path).parts[0]} folder but no "
        "custody event records it: move it out of the case folder, or record it "
        "(`evidencekit custody attach`)"
    )
    if by_file:
        problems.append(Problem.of_file("unrecorded-file", name, message))
    else:
        problems.append(Problem.of_event("unrecorded-file", message, None, item))


__all__ = [
    "DOCUMENTS",
    "PARTIAL",
    "PHOTOS",
    "STAGING",
    "RecordedFile",
    "check_files",
    "parts_of",
    "recorded_files",
    "staged_copy",
    "unrecorded_files",
]
