"""`custody register`: an item's first custody event, with its photos written through the item
commit protocol (`workflows.photos`) and an earlier interrupted register of the same id finished
first (`workflows.recover.settle_register`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.ledger import AppendResult
from evidencekit.errors import CustodyError, InterruptedAfterRecording, UsageError
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.workflows.custody import list_events, record
from evidencekit.workflows.photos import publish_photos, settle_photos, stage_photos
from evidencekit.workflows.recover import settle_register


@dataclass(frozen=True, slots=True)
class DeviceDetails:
    """What the investigator reads off a seized device (`custody register --make --model
    --serial --capacity`), recorded in the `registered` event's `details.device`.

    `capacity` is bytes (an int) or text as written: plain bytes or a number with KiB, MiB,
    GiB, TiB, kB, MB, GB or TB ("64GB" is 64·10⁹ bytes, "64GiB" 64·2³⁰); the event keeps the
    byte count and what was written."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    capacity: int | str | None = None

    def to_details(self) -> dict[str, Any] | None:
        """`details.device` (chain.details.DEVICE_KEYS), or None when nothing is given.

        Raises:
            UsageError: an empty text, or a capacity that is not a size.
        """
        from evidencekit.sizes import parse_size

        out: dict[str, Any] = {}
        for key in ("make", "model", "serial"):
            value = getattr(self, key)
            if value is not None:
                value = unicodedata.normalize("NFC", value.strip())
                if not value:
                    raise UsageError(f"the device's {key} is empty")
            out[key] = value
        if self.capacity is None:
            out["capacity"] = out["capacity_text"] = None
        elif isinstance(self.capacity, int):
            if self.capacity < 0:
                raise UsageError(f"invalid capacity {self.capacity!r}: a negative size")
            out["capacity"], out["capacity_text"] = self.capacity, str(self.capacity)
        else:
            text = unicodedata.normalize("NFC", self.capacity.strip())
            out["capacity"] = parse_size(text, what="capacity")
            out["capacity_text"] = text
        return None if all(v is None for v in out.values()) else out


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
    device: DeviceDetails | None = None,
    on_info: Callable[[str], None] | None = None,
) -> AppendResult:
    """Record `registered` for `item_id` (with `details`, the `device` read off it, plus the
    photos it records), its photos staged, recorded and published by the commit protocol.

    Raises:
        CustodyError: the item is in the ledger already (nothing is written), or the rules
            refuse (the staged photos are removed).
        CaseError: the id is reserved by another attempt, or the photos cannot be copied.
        UsageError: an invalid id or photo name.
    """
    check_item_id(item_id)
    dev = device.to_details() if device is not None else None
    if dev is not None:
        details = {**(details or {}), "device": dev}
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


__all__ = ["DeviceDetails", "register_item"]
