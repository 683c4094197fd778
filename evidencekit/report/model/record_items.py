"""One item's part of the Biên bản: its characteristics, photos, physical seals, copies and
digests, read-back, examinations, hand-overs and attached documents, from its events (in ledger
order) and its parsed seal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit.chain import parties
from evidencekit.chain.details import DeviceDifference, device_differences, measured_serial
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.hash.seal.document import Seal
from evidencekit.report.model.readers import _int, digest_pairs, nfc
from evidencekit.report.model.record_values import (
    CHARACTERISTICS,
    AttachedDocument,
    Examination,
    HandOver,
    RecordItem,
    SealStep,
)
from evidencekit.report.model.rows import _artifacts
from evidencekit.report.model.values import Pairs, Photo

_DEVICE_KEYS = {
    "make": ("make", "vendor", "manufacturer"),
    "model": ("model",),
    "serial": ("serial", "serial_number"),
    "capacity": ("capacity", "size"),
    "transport": ("transport",),
    "firmware": ("firmware",),
}


def _parties(value: Any) -> tuple[Party, ...]:
    """The valid participant records of a `participants` list."""
    if not isinstance(value, list):
        return ()
    return tuple(
        Party.from_dict(p) for p in value if isinstance(p, dict) and parties.problem(p) is None
    )


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (nfc(value),)
    if isinstance(value, list):
        return tuple(nfc(v) for v in value if isinstance(v, str))
    return ()


def _device_facts(registered: Event | None, seal: Seal | None) -> tuple[Pairs, int | None]:
    """Make, model, serial, capacity… from the `registered` event's device facts (what the
    investigator read off the device), completed by what the acquisition read from it."""
    found: dict[str, str] = {}
    capacity: int | None = None
    sources: list[Mapping[str, Any]] = []
    if registered is not None:
        dev = registered.details.get("device")
        if isinstance(dev, Mapping):
            sources.append(dev)
        sources.append(registered.details)
    if seal is not None:
        src = seal.facts.get("source")
        if isinstance(src, Mapping):
            ident = src.get("identity")
            if isinstance(ident, Mapping):
                sources.append(ident)
            sources.append({"size": src.get("size")})
        device = seal.facts.get("device")
        if isinstance(device, Mapping):
            tools = device.get("tools")
            for tool in tools if isinstance(tools, list) else ():
                summary = tool.get("summary") if isinstance(tool, Mapping) else None
                if isinstance(summary, Mapping):
                    sources.append(summary)
    for name in CHARACTERISTICS:
        value = _first(sources, _DEVICE_KEYS[name])
        if value is None:
            continue
        if name == "capacity" and _int(value) is not None:
            capacity = _int(value)  # bytes: shown grouped and in words by the renderer
        else:
            found[name] = nfc(value).strip()  # as typed or read ("64 GB")
    return tuple((k, found[k]) for k in CHARACTERISTICS if k in found), capacity


def device_differences_of(
    registered: Event | None, acquisition: Event | None, seal: Seal | None
) -> tuple[DeviceDifference, ...]:
    """Where the device the item was registered as (`details.device`) and what its
    acquisition measured differ: the capacity (the acquired source's size) and the serial (of
    the device, or stored in an E01 source) from the seal's facts, else from the `acquired`
    event."""
    if registered is None or not isinstance(registered.details.get("device"), Mapping):
        return ()
    capacity: int | None = None
    serial: str | None = None
    if seal is not None and isinstance(seal.facts.get("source"), Mapping):
        src = seal.facts["source"]
        capacity = _int(src.get("size"))
        ident = src.get("identity")
        serial = measured_serial(ident) if isinstance(ident, Mapping) else None
    if acquisition is not None and acquisition.kind == "acquired":
        d = acquisition.details
        if capacity is None and type(d.get("size")) is int:
            capacity = d["size"]
        if serial is None and isinstance(d.get("serial"), str):
            serial = d["serial"]
    elif seal is None:
        return ()
    return tuple(
        device_differences(
            registered.details["device"],
            capacity=capacity,
            serial=serial,
            item=registered.item_id,
            registered_seq=registered.seq,
            measured_seq=acquisition.seq if acquisition is not None else None,
        )
    )


def registered_photos(registered: Event | None) -> list[Photo]:
    """The photos a `registered` event records (`details.photos`), without their bytes."""
    out: list[Photo] = []
    listed = registered.details.get("photos") if registered is not None else None
    for p in listed if isinstance(listed, list) else ():
        if isinstance(p, Mapping) and isinstance(p.get("sha256"), str):
            out.append(Photo(nfc(p.get("name", "")), _int(p.get("size")), p["sha256"]))
    return out


def _first(sources: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> Any:
    """The first plain value under one of `keys` in the first source that has one."""
    for src in sources:
        for key in keys:
            value = src.get(key)
            if value is not None and value != "" and not isinstance(value, Mapping | list | bool):
                return value
    return None


def record_item(item_id: str, events: Sequence[Event], seal: Seal | None) -> RecordItem:
    """One item's part of the record, from its events (in ledger order) and its seal."""
    mine = [e for e in events if e.item_id == item_id]
    registered = next((e for e in mine if e.kind == "registered"), None)
    acquisition = next((e for e in mine if e.kind in ("acquired", "collected", "sealed")), None)
    characteristics, capacity = _device_facts(registered, seal)
    photos = registered_photos(registered)
    seals: list[SealStep] = []
    exams: list[Examination] = []
    hand_overs: list[HandOver] = []
    documents: list[AttachedDocument] = []
    read_back: list[tuple[dt.datetime | None, bool | None, str]] = []
    if seal is not None:
        at_acq = seal.facts.get("verification")
        if isinstance(at_acq, Mapping) and at_acq:
            ok = all(str(v) in ("match", "ok", "True") for v in at_acq.values() if v is not None)
            read_back.append((seal.finished, ok, nfc(seal.examiner_name)))
    for e in mine:
        d = e.details
        who = nfc(e.actor.name)
        if e.kind in ("seal_applied", "seal_opened", "resealed"):
            seals.append(
                SealStep(
                    kind=e.kind,
                    time=e.time,
                    actor=who,
                    seal_numbers=_texts(d.get("seal_numbers")),
                    replaces=_texts(d.get("replaces")),
                    method=nfc(d.get("method") or ""),
                    state=d.get("seal_state") if isinstance(d.get("seal_state"), str) else None,
                    state_note=nfc(d.get("state_note") or ""),
                    reason=nfc(d.get("reason") or ""),
                    participants=_parties(d.get("participants")),
                )
            )
        elif e.kind in ("analysed", "accessed"):
            wc = d.get("working_copy")
            name = sha = None
            if isinstance(wc, Mapping):
                name = wc.get("item") or wc.get("id") or wc.get("path")
                sha = wc.get("sha256") if isinstance(wc.get("sha256"), str) else None
            on_original = d.get("on_original")
            exams.append(
                Examination(
                    kind=e.kind,
                    time=e.time,
                    actor=who,
                    purpose=nfc(e.purpose or ""),
                    working_copy=None if name is None else nfc(name),
                    working_sha256=sha,
                    on_original=nfc(on_original) if isinstance(on_original, str) else None,
                )
            )
        elif e.kind == "transferred" and e.counterpart is not None:
            hand_overs.append(
                HandOver(
                    time=e.time,
                    giver=who,
                    receiver=nfc(e.counterpart.name),
                    purpose=nfc(e.purpose or ""),
                    location=nfc(e.location or ""),
                    participants=_parties(d.get("participants")),
                )
            )
        elif e.kind == "verified":
            result = d.get("ok")
            read_back.append((e.time, result if isinstance(result, bool) else None, who))
        elif e.kind == "document_attached":
            f = d.get("file")
            if isinstance(f, Mapping) and isinstance(f.get("sha256"), str):
                documents.append(
                    AttachedDocument(
                        e.time,
                        nfc(d.get("what") or ""),
                        nfc(f.get("name") or ""),
                        _int(f.get("size")),
                        f["sha256"],
                    )
                )
    description = ""
    for source in (registered, seal):
        text = getattr(source, "description", None)
        if text:
            description = nfc(text)
            break
    options = seal.facts.get("options") if seal is not None else None
    evidence_number = options.get("evidence_number") if isinstance(options, Mapping) else None
    combined = seal.combined if seal is not None else None
    return RecordItem(
        item_id=item_id,
        description=description,
        seized=registered is not None or bool(seals),
        evidence_number=nfc(evidence_number) if isinstance(evidence_number, str) else "",
        condition=nfc(registered.condition or "") if registered is not None else "",
        location=nfc(registered.location or "") if registered is not None else "",
        seal_number=nfc(registered.seal_number or "") if registered is not None else "",
        characteristics=characteristics,
        capacity=capacity,
        photos=tuple(photos),
        seals=tuple(seals),
        acquired_at=acquisition.time if acquisition is not None else None,
        acquired_by=nfc(acquisition.actor.name) if acquisition is not None else "",
        copy_kind=seal.kind if seal is not None else "",
        copies=_artifacts(seal.artifacts) if seal is not None else (),
        content_digests=digest_pairs(combined.digests) if combined is not None else (),
        status=seal.known_status if seal is not None else None,
        read_back=tuple(read_back),
        examinations=tuple(exams),
        hand_overs=tuple(hand_overs),
        documents=tuple(documents),
        device_differences=device_differences_of(registered, acquisition, seal),
    )
