"""`custody attach ITEM FILE`: a document attached to an item (the scanned signed copy of a Biên
bản, or another document), hashed and recorded by a `document_attached` event, kept at
`CASE/documents/ITEM/NAME` and re-hashed by `custody verify` and `verify` like photos
(`workflows.casefiles`).

The item already exists (its id is taken), so the document is written with the protocol of a
file added to an item: copied under a temporary name of this process in the destination
folder (`.NAME.PID.partial`), fsync'ed and hashed; recorded; then published by a hard link to
its name (which fails instead of replacing a document attached meanwhile under that name) and
the temporary name removed. A kill before the event leaves a copy nothing records, removed by
the next `custody attach` of the item; after it, a recorded copy under its temporary name, which
`custody verify` notes and the next `custody attach` of the item publishes
(`photos.settle_partials`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.details import ATTACHMENTS
from evidencekit.chain.ledger import AppendResult
from evidencekit.errors import CaseError, CustodyError, InterruptedAfterRecording, UsageError
from evidencekit.fsutil import fsync_dir, make_dirs_inside
from evidencekit.hash.multihash import hash_file
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.workflows.casefiles import DOCUMENTS
from evidencekit.workflows.custody import list_events, record
from evidencekit.workflows.photos import partial_name, settle_partials
from evidencekit.workflows.seizure import event_details


def attach_document(
    case: Case,
    identity: Identity,
    item_id: str,
    path: Path,
    *,
    what: str,
    note: str | None = None,
    participants: Sequence[str] = (),
    session: str | None = None,
    on_info: Callable[[str], None] | None = None,
) -> AppendResult:
    """Attach the file `path` to `item_id` (a `document_attached` event).

    Raises:
        UsageError: an unknown `what`, a file name that is not UTF-8 text, or a document of
            that name attached to the item already.
        CustodyError: the item has no custody events (register it first) or the rules refuse.
        CaseError: the file cannot be copied into the case, or its name was taken meanwhile.
    """
    check_item_id(item_id)
    if what not in ATTACHMENTS:
        raise UsageError(f"--what {what!r} is not one of {', '.join(ATTACHMENTS)}")
    name = path.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"file name {name.encode('utf-8', 'surrogateescape')!r} is not UTF-8 text",
            hint="rename the file",
        ) from None
    if name.startswith("."):
        raise UsageError(f"file name {name!r} starts with '.'", hint="rename the file")
    details: dict[str, Any] = event_details(case, participants, session)
    history = list_events(case, item_id)
    if not history:
        raise CustodyError(
            f"item {item_id!r} has no custody events: a document is attached to an item the "
            "ledger knows",
            hint=f"register it first: evidencekit custody register {item_id} --description …",
        )
    folder = case.path / DOCUMENTS / item_id
    try:
        make_dirs_inside(case.path, [DOCUMENTS, item_id])
    except OSError as exc:
        raise CaseError(f"cannot make {str(folder)!r}: {exc.strerror}") from exc
    say = on_info or (lambda _line: None)
    recorded = [
        (e.get("details") or {}).get("file") for e in history if e["kind"] == "document_attached"
    ]
    for line in settle_partials(folder, [r for r in recorded if isinstance(r, dict)]):
        say(line)
    target = folder / name
    if os.path.lexists(target):
        raise UsageError(
            f"a document named {name!r} is attached to {item_id!r} already",
            hint="rename the file to attach another version",
        )
    partial = partial_name(target)  # this process's own: never another's
    try:
        with path.open("rb") as src, open(partial, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        digest = hash_file(partial, ("sha256",))
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CaseError(f"cannot copy {str(path)!r} into {str(folder)!r}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    details["what"] = what
    details["file"] = {
        "name": f"{DOCUMENTS}/{item_id}/{name}",
        "size": digest.size,
        "sha256": digest.digests["sha256"],
    }
    try:
        result = record(case, identity, "document_attached", item_id, note=note, details=details)
    except InterruptedAfterRecording:
        _publish(partial, target)
        raise
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _publish(partial, target)
    return result


def _publish(partial: Path, target: Path) -> None:
    """Give the recorded copy its name (a link: never over a document attached meanwhile).

    Raises:
        CaseError: the name was taken, or the link failed (the copy stays, recorded).
    """
    try:
        os.link(partial, target)
    except OSError as exc:
        raise CaseError(
            f"the document is recorded, but {str(target)!r} could not be made: {exc.strerror}; "
            f"it is kept as {partial.name!r}",
            hint="`evidencekit custody verify` names it; the next `custody attach` of the "
            "item publishes it if the name is free",
        ) from exc
    partial.unlink()
    fsync_dir(target.parent)


__all__ = ["attach_document"]
