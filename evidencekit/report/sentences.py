"""The custody section as sentences a reader can follow: "Nguyễn Bá Tùng bàn giao vật chứng
USB01 cho Trương Đình Bủng. Mục đích: giám định." — who did what to which item, with whom, and
what the examiner typed (description, place, purpose, condition, seal number, note, reason).

Texts the tool itself wrote into an event (an English default description such as "verification
passed", a certificate, a file list) are never quoted: the sentence says it in the report's
language from the event's kind and details. A receipt reads "X nhận … từ Y" (the actor received
it from the counterpart, the one who handed it over), never reversed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit.chain import parties
from evidencekit.chain.events import Event
from evidencekit.chain.parties import ROLES, Party
from evidencekit.identity import load_cert_pem, subject_name
from evidencekit.report.i18n import LABELS, document_label, event_label, label, seal_state_label
from evidencekit.report.model.readers import nfc
from evidencekit.report.model.values import CustodyEntry

AUTO_DESCRIPTION = frozenset(
    {
        "case_opened",
        "examiner_added",
        "examiner_revoked",
        "report_issued",
        "checkpoint_timestamped",
        "attempt_discarded",
        "converted",
        "verified",
        "ledger_migrated",
        "report_cosigned",
        "report_extended",
        "trust_anchor_added",
        "trust_anchor_removed",
        "certificate_chain_added",
        "revocation_data_added",
    }
)
"""Kinds whose description the tool writes itself (in English): never quoted."""
CONTENT_KINDS = frozenset({"acquired", "collected", "sealed"})
"""Kinds whose description is the tool's own default (in English) unless the examiner typed one:
quoted when it is the item's typed description (its seal's), or not one of the defaults."""
_DEFAULTS = (
    re.compile(
        r"^(Disk image|Image) of .+ \([^()]*\), (complete|complete-with-errors|incomplete)$"
    ),
    re.compile(r"^Logical collection of \d+ source\(s\): \d+ files, \d+ errors$"),
    re.compile(r"^sealed \d+ file\(s\)$"),
    re.compile(r"^derived from item .+ \([^()]+\)$"),
    # the same defaults in a Vietnamese case (workflows/wording.py, `desc_*` labels)
    re.compile(r"^Ảnh (đĩa )?của .+ \([^()]*\), (hoàn tất|hoàn tất, có lỗi đọc|chưa hoàn tất)$"),
    re.compile(r"^Thu thập tệp từ \d+ nguồn: \d+ tệp, \d+ lỗi$"),
    re.compile(r"^Chốt giá trị băm và ký số \d+ tệp$"),
    re.compile(r"^Tạo từ vật chứng .+ \([^()]+\)$"),
)


def who(party: Party | None, name: str | None, lang: str) -> str:
    """A counterpart as the report names them: a party who holds no key with their role, "holds
    no key" and their document (names coincide); an examiner by name."""
    if party is not None and party.fingerprint is None:
        return str(party.describe(lang))
    return name or ""


def _parties(value: Any) -> list[Party]:
    if not isinstance(value, list):
        return []
    return [Party.from_dict(p) for p in value if isinstance(p, dict) and parties.problem(p) is None]


def present(people: Sequence[Party], lang: str) -> str:
    """ "Nguyễn Văn An (người chứng kiến), …"."""
    i = 0 if lang == "vi" else 1
    return ", ".join(
        f"{p.name} ({ROLES[p.role][i]})" if p.role in ROLES else p.name for p in people
    )


def _texts(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(nfc(v) for v in value if isinstance(v, str)) or "—"
    return nfc(value) if isinstance(value, str) else "—"


def _subject(pem: object) -> str | None:
    """The common name (else the whole subject) of a PEM certificate an event carries."""
    if not isinstance(pem, str):
        return None
    try:
        cert = load_cert_pem(pem)
    except Exception:  # a malformed certificate is the verifier's to report, not the sentence's
        return None
    return subject_name(cert)


def sentence(e: CustodyEntry, lang: str) -> str:
    """The event as sentences in `lang`."""
    ev = e.event
    if ev is None:
        # a hand-built entry (tests, older callers): its kind, counterpart, place and detail
        bits = [f"{e.actor}: {event_label(lang, e.event_type)}."]
        if e.counterpart:
            bits.append(f"→ {who(e.counterpart_party, e.counterpart, lang)}.")
        for key, text in (("cs_location", e.location), ("cs_purpose", e.purpose)):
            if text:
                bits.append(label(lang, key, text=text))
        if e.detail:
            bits.append(e.detail)
        return " ".join(bits)
    return " ".join(_sentences(ev, e, lang))


def _sentences(ev: Event, e: CustodyEntry, lang: str) -> list[str]:
    d: Mapping[str, Any] = ev.details
    values: dict[str, Any] = {"actor": e.actor, "item": ev.item_id or "—"}
    cp = who(e.counterpart_party, e.counterpart, lang)
    kind = ev.kind
    key = f"cs_{kind}"
    if kind == "case_opened":
        values["title"] = nfc(ev.description or "")
    elif kind in ("examiner_added", "examiner_revoked"):
        values["name"] = nfc(d.get("name") or "?")
        values["fp"] = str(d.get("fingerprint") or "")[:16]
    elif kind == "acquired":
        bad = d.get("bad_sectors")
        if isinstance(bad, int) and not isinstance(bad, bool) and bad > 0:
            key, values["count"] = "cs_acquired_bad", bad
    elif kind == "sealed" and isinstance(d.get("derived_from"), str):
        key, values["source"] = "cs_sealed_derived", d["derived_from"]
    elif kind == "verified":
        ok = d.get("ok")
        key = (
            "cs_verified"
            if not isinstance(ok, bool)
            else ("cs_verified_ok" if ok else "cs_verified_bad")
        )
        problems = d.get("problems")
        values["count"] = len(problems) if isinstance(problems, list) else "?"
    elif kind in ("transferred", "received"):
        if cp:
            values["counterpart"] = cp
        else:
            key += "_nobody"
    elif kind in ("released", "returned") and cp:
        key += "_to"
        values["counterpart"] = cp
    elif kind in ("exported", "note") and ev.item_id is not None:
        key += "_item"
    elif kind in ("report_cosigned", "report_extended"):
        values["event"] = d.get("issued_event", "?")
        role = str(d.get("role") or "")
        values["role"] = label(lang, f"cosign_{role}") if f"cosign_{role}" in LABELS else role
    elif kind in ("trust_anchor_added", "trust_anchor_removed", "certificate_chain_added"):
        values["fp"] = str(d.get("fingerprint") or "")[:16]
        values["name"] = nfc(d.get("name") or _subject(d.get("certificate")) or "?")
        values["what"] = label(
            lang, "cs_anchor_tsa" if d.get("anchor_kind") == "tsa" else "cs_anchor_examiners"
        )
    elif kind == "revocation_data_added":
        values["what"] = "CRL" if d.get("kind") == "crl" else "OCSP"
        values["sha"] = str(d.get("sha256") or "—").removeprefix("sha256:")
    elif kind == "ledger_migrated":
        values["size"] = d.get("tree_size", "?")
    elif kind == "report_issued":
        values["report"] = nfc(d.get("report_id") or "")
        if d.get("form") == "bien-ban":
            key = "cs_record_issued"
    elif kind == "attempt_discarded":
        values["item"] = nfc(d.get("item") or "—")
    elif kind in ("session_opened", "session_closed"):
        values["session"] = nfc(d.get("session") or "—")
        values["place"] = nfc(d.get("place") or ev.location or "—")
    elif kind in ("seal_applied", "seal_opened", "resealed"):
        values["numbers"] = _texts(d.get("seal_numbers"))
        values["replaces"] = _texts(d.get("replaces"))
        values["method"] = nfc(d.get("method") or "—")
        values["reason"] = nfc(d.get("reason") or "—")
        note = nfc(d["state_note"]) if d.get("state_note") else None
        values["state"] = seal_state_label(lang, d.get("seal_state"), note)
    elif kind == "document_attached":
        raw = d.get("file")
        f: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        values["what"] = document_label(lang, nfc(d.get("what") or "—"))
        values["name"] = nfc(f.get("name") or "—")
        values["sha"] = str(f.get("sha256") or "—")
    if kind == "registered":
        values["description"] = nfc(ev.description or "—")
    if key not in LABELS:
        key, values["kind"] = "cs_unknown", event_label(lang, kind)
    out = [label(lang, key, **values)]
    shown = kind not in AUTO_DESCRIPTION and kind != "registered"
    if kind in CONTENT_KINDS and ev.description:
        shown = e.description_typed or not any(p.match(ev.description) for p in _DEFAULTS)
    if ev.description and shown:
        out.append(label(lang, "cs_description", text=nfc(ev.description)))
    if kind in ("analysed", "accessed"):
        wc = d.get("working_copy")
        if isinstance(wc, Mapping):
            name = wc.get("item") or wc.get("id") or wc.get("path") or "—"
            out.append(label(lang, "cs_working_copy", copy=nfc(name), sha=wc.get("sha256") or "—"))
        elif isinstance(d.get("on_original"), str):
            out.append(label(lang, "cs_on_original", reason=nfc(d["on_original"])))
    for field, text in (
        ("cs_location", ev.location if kind != "session_opened" else None),
        ("cs_purpose", ev.purpose),
        ("cs_condition", ev.condition),
        ("cs_seal_number", ev.seal_number),
        ("cs_note_text", ev.note),
        ("cs_reason", ev.reason if kind not in ("seal_opened",) else None),
        ("cs_override", ev.override),
    ):
        if text:
            out.append(label(lang, field, text=nfc(text)))
    photos = d.get("photos")
    if kind == "registered" and isinstance(photos, list) and photos:
        out.append(label(lang, "cs_photos", count=len(photos)))
    people = _parties(d.get("participants"))
    if people:
        out.append(label(lang, "present", names=present(people, lang)))
    if kind == "session_closed":
        refusals = [
            r["participant"]
            for r in d.get("refusals") or []
            if isinstance(r, Mapping) and isinstance(r.get("participant"), dict)
        ]
        refused = _parties(refusals)
        if refused:
            out.append(label(lang, "cs_refusals", names=present(refused, lang)))
        if isinstance(d.get("statements"), str):
            out.append(label(lang, "cs_statements", text=nfc(d["statements"])))
    if kind == "session_opened":
        if isinstance(d.get("record_number"), str):
            out.append(label(lang, "cs_record_number", text=nfc(d["record_number"])))
        basis = [nfc(b) for b in d.get("legal_basis") or [] if isinstance(b, str)]
        if basis:
            out.append(label(lang, "cs_basis", text="; ".join(basis)))
    return out
