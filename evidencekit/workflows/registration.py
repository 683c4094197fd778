"""`custody register`: an item's first custody event, with its photos written through the item
commit protocol (`workflows.photos`) and an earlier interrupted register of the same id finished
first (`workflows.recover.settle_register`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.ledger import AppendResult
from evidencekit.errors import CustodyError, InterruptedAfterRecording
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.workflows.custody import list_events, record
from evidencekit.workflows.photos import publish_photos, settle_photos, stage_photos
from evidencekit.workflows.recover import settle_register


def register_item(
    case: Case,
    identity: Identity,
    item_id: str,
    *,
    description: str,
    photos: Sequence[Path] = (),
    seal_number: str | None = None,
    condition: str | None = None,
    location: str | None = None,
    details: dict[str, Any] | None = None,
    on_info: Callable[[str], None] | None = None,
) -> AppendResult:
    """Record `registered` for `item_id` (with `details`, plus the photos it records), its
    photos staged, recorded and published by the commit protocol.

    Raises:
        CustodyError: the item is in the ledger already (nothing is written), or the rules
            refuse (the staged photos are removed).
        CaseError: the id is reserved by another attempt, or the photos cannot be copied.
        UsageError: an invalid id or photo name.
    """
    check_item_id(item_id)
    say = on_info or (lambda _line: None)
    for line in settle_register(case, item_id, identity):
        say(line)
    history = list_events(case, item_id)
    # photos an earlier version left under a temporary name in photos/ITEM
    for line in settle_photos(
        case, item_id, [p for e in history for p in (e.get("details") or {}).get("photos") or []]
    ):
        say(line)
    if history:
        # refused by the custody rules in any case: before any photo is copied
        first = history[0]
        raise CustodyError(
            f"item {item_id!r} is already in the ledger (event {first['seq']}, {first['kind']}): "
            "`registered` is only ever an item's first event; nothing was recorded",
            hint="`evidencekit custody log ITEM` shows its events",
        )
    fields: dict[str, Any] = {
        "description": description,
        "seal_number": seal_number,
        "condition": condition,
        "location": location,
    }
    if not photos:
        return record(case, identity, "registered", item_id, details=details or None, **fields)
    res, recorded = stage_photos(case, item_id, photos, examiner=identity.name)
    try:
        result = record(
            case,
            identity,
            "registered",
            item_id,
            details={**(details or {}), "photos": recorded},
            **fields,
        )
    except InterruptedAfterRecording:
        publish_photos(case, res)  # committed: its photos are published before it stops
        raise
    except BaseException:
        res.abandon()  # refused or failed before the commit: nothing records them
        raise
    publish_photos(case, res)
    return result


__all__ = ["register_item"]
