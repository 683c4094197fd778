"""The custody entries a report shows, from the ledger's events (`chain.events.Event`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from evidencekit.chain import parties
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.report.model.readers import _flatten, nfc
from evidencekit.report.model.values import CustodyEntry

_NOISY_DETAILS = {
    "signer_fingerprint",
    "problems",
    "seal",
    "sources",
    "options",
    "summary",
    "bytes_hashed",
    "ok",
    "kind",
    "report_id",
}


def custody_from_events(
    events: Iterable[Event], typed: Mapping[str, str] | None = None
) -> tuple[CustodyEntry, ...]:
    """Custody entries from the ledger's events, in the order given. `typed` maps an item to
    the description its examiner typed (its seal's): an acquisition event whose description is
    that one quotes it; any other is the tool's default."""
    typed = typed or {}
    out: list[CustodyEntry] = []
    for ev in events:
        detail_parts = [
            prefix + nfc(text)
            for text, prefix in (
                (ev.description, ""),
                (ev.note, ""),
                (ev.reason, ""),
                (ev.condition, ""),
                (ev.seal_number, "#"),
                (ev.override, "override: "),
            )
            if text
        ]
        # A `verified` event's details say whether the item verified.
        ok = ev.details.get("ok")
        flat: list[tuple[str, str]] = []
        _flatten("", ev.details, flat, _NOISY_DETAILS)
        detail_parts += [f"{k}: {v}" for k, v in flat[:4]]
        cp = ev.counterpart
        out.append(
            CustodyEntry(
                seq=ev.seq,
                time=ev.time,
                event_type=ev.kind,
                item_id=ev.item_id,
                actor=nfc(ev.actor.name),
                counterpart=None if cp is None else nfc(cp.name),
                counterpart_party=_party(cp),
                purpose=None if ev.purpose is None else nfc(ev.purpose),
                location=None if ev.location is None else nfc(ev.location),
                detail="; ".join(detail_parts),
                result=ok if isinstance(ok, bool) else None,
                event=ev,
                description_typed=bool(ev.description)
                and ev.item_id is not None
                and nfc(ev.description) == typed.get(ev.item_id),
            )
        )
    return tuple(out)


def _party(party: Party | None) -> Party | None:
    """The recorded counterpart, when its record is a valid participant (chain.parties)."""
    if party is None or parties.problem(party.to_dict()) is not None:
        return None
    return party
