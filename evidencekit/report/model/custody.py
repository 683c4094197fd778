"""The custody entries a report shows, from the ledger's events (as dicts)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from evidencekit.chain import parties
from evidencekit.chain.parties import Party
from evidencekit.report.model.readers import _flatten, _get, _int, _time, nfc
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


def custody_from_events(events: Iterable[Mapping[str, Any]]) -> tuple[CustodyEntry, ...]:
    """Custody entries from ledger event dicts (as `Event.to_dict()` gives them)."""
    out: list[CustodyEntry] = []
    for n, ev in enumerate(events):
        body = _get(ev, "event", "body") or ev
        time = _time(_get(body, "time", "timestamp", "at")) or _time(_get(ev, "time"))
        if time is None:
            continue
        actor = _get(body, "actor.name", "actor_name", "actor")
        counterpart = _get(body, "counterpart.name", "counterpart", "to")
        details = _get(body, "details")
        detail_parts: list[str] = []
        for key, prefix in (
            ("description", ""),
            ("note", ""),
            ("reason", ""),
            ("condition", ""),
            ("seal_number", "#"),
            ("override", "override: "),
        ):
            text = _get(body, key)
            if isinstance(text, str) and text:
                detail_parts.append(prefix + nfc(text))
        result: bool | None = None
        if isinstance(details, Mapping):
            ok = details.get("ok")
            result = ok if isinstance(ok, bool) else None
            flat: list[tuple[str, str]] = []
            _flatten("", details, flat, _NOISY_DETAILS)
            detail_parts += [f"{k}: {v}" for k, v in flat[:4]]
        seq = _int(_get(ev, "seq", "index", "leaf_index", "id"))
        out.append(
            CustodyEntry(
                seq=seq if seq is not None else n,
                time=time,
                event_type=str(_get(body, "type", "event_type", "kind") or "?"),
                item_id=_get(body, "item_id", "item"),
                actor=nfc(actor) if isinstance(actor, str) else "",
                counterpart=nfc(counterpart) if isinstance(counterpart, str) else None,
                counterpart_party=_party(_get(body, "counterpart")),
                purpose=nfc(p) if isinstance(p := _get(body, "purpose"), str) else None,
                location=nfc(loc) if isinstance(loc := _get(body, "location"), str) else None,
                detail="; ".join(detail_parts),
                result=result,
            )
        )
    return tuple(out)


def _party(value: object) -> Party | None:
    """The recorded counterpart, when it is a participant record (chain.parties)."""
    if not isinstance(value, Mapping) or parties.problem(dict(value)) is not None:
        return None
    return Party.from_dict(value)
