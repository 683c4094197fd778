"""One item's part of the Biên bản: description, characteristics and photos, physical seals,
what was copied and its digests, the read-back and the number of copies, examinations on the
working copy, hand-overs and attached documents."""

from __future__ import annotations

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Spacer,
)

from evidencekit.hash.seal.document import DISK_KINDS
from evidencekit.report.i18n import (
    LABELS,
    device_difference,
    document_label,
    label,
    seal_state_label,
)
from evidencekit.report.model.record import RecordItem, SealStep, SeizureRecord
from evidencekit.report.render.bienban_text import (
    _alg,
    _capital,
    _kv,
    _names,
    _p,
    _when,
)
from evidencekit.report.render.photos import photo_table
from evidencekit.report.render.styles import BODY_W
from evidencekit.report.render.tables import _plain_table
from evidencekit.report.render.text import _grouped
from evidencekit.report.words import size_in_words


def _seal_line(model: SeizureRecord, s: SealStep) -> str:
    lang = model.lang
    when = _when(model, s.time)
    numbers = ", ".join(s.seal_numbers) or "—"
    if s.kind == "seal_applied":
        text = label(
            lang, "bb_seal_applied", when=when, who=s.actor, numbers=numbers, method=s.method or "—"
        )
    elif s.kind == "seal_opened":
        state = seal_state_label(lang, s.state, s.state_note)
        text = label(
            lang,
            "bb_seal_opened",
            when=when,
            who=s.actor,
            numbers=numbers,
            state=state,
            reason=s.reason or "—",
        )
    else:
        text = label(
            lang,
            "bb_resealed",
            when=when,
            who=s.actor,
            numbers=numbers,
            replaces=", ".join(s.replaces) or "—",
            method=s.method or "—",
        )
    if s.participants:
        text += " " + label(lang, "present", names=_names(model, s.participants))
    return text


def _item(
    model: SeizureRecord, n: int, it: RecordItem, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    lang = model.lang
    head = f"{n}. {it.description}" if it.description else f"{n}."
    ids = [label(lang, "bb_item", id=it.item_id)]
    if it.evidence_number:
        ids.append(label(lang, "bb_evidence_number", number=it.evidence_number))
    out: list[Flowable] = [CondPageBreak(40 * mm), _p(f"{head} ({'; '.join(ids)})", st["hitem"])]
    rows: list[list[str]] = []
    for key, value in it.characteristics:
        rows.append([label(lang, f"bb_{key}"), value])
    if it.capacity is not None:
        rows.append([label(lang, "bb_capacity"), size_in_words(it.capacity, lang)])
    if it.condition:
        rows.append([label(lang, "bb_condition"), it.condition])
    if it.location:
        rows.append([label(lang, "bb_location"), it.location])
    out.append(_p(label(lang, "bb_characteristics"), st["h"]))
    if rows:
        out.append(_kv(rows))
    else:
        out.append(_p(label(lang, "bb_no_characteristics"), st["indent"]))
    out += [_p(device_difference(lang, d), st["indent"]) for d in it.device_differences]
    if it.photos:
        out.append(Spacer(1, 1.5 * mm))
        out.append(photo_table(it.photos, lang))
    out.append(_p(label(lang, "bb_seals"), st["h"]))
    if it.seals:
        out += [_p(_seal_line(model, s), st["indent"]) for s in it.seals]
    elif it.seal_number:
        out.append(_p(label(lang, "bb_seal_registered", number=it.seal_number), st["indent"]))
    else:
        out.append(_p(label(lang, "bb_no_seal"), st["indent"]))
    out.append(_p(label(lang, "bb_copied"), st["h"]))
    if it.copies:
        when = _when(model, it.acquired_at)
        kind = it.copy_kind
        if kind in DISK_KINDS:
            key = f"bb_format_{kind}"
            fmt = label(lang, key) if key in LABELS else kind
            text = label(lang, "bb_copied_disk", when=when, who=it.acquired_by, format=fmt)
        elif kind in ("tar",):
            text = label(lang, "bb_copied_files", when=when, who=it.acquired_by)
        else:  # files sealed as they are
            text = label(lang, "bb_copied_other", when=when, who=it.acquired_by)
        out.append(_p(text, st["indent"]))
        if it.content_digests:
            out.append(_p(label(lang, "bb_data_digests"), st["indent"]))
            out.append(_kv([[_alg(alg), value] for alg, value in it.content_digests], mono=True))
        out.append(_p(label(lang, "bb_files_digests"), st["indent"]))
        out.append(
            _plain_table(
                [label(lang, "file"), label(lang, "size"), "SHA-256"],
                [[a.name, _grouped(a.size), dict(a.digests).get("sha256", "—")] for a in it.copies],
                [45 * mm, 22 * mm, BODY_W - 67 * mm],
                font_size=8,
                mono_cols=(2,),
            )
        )
    else:
        out.append(_p(label(lang, "bb_not_copied"), st["indent"]))
    out.append(_p(label(lang, "bb_readback"), st["h"]))
    if it.read_back:
        for when_, ok, who in it.read_back:
            key = (
                "bb_readback_unknown"
                if ok is None
                else ("bb_readback_ok" if ok else "bb_readback_bad")
            )
            out.append(_p(label(lang, key, when=_when(model, when_), who=who), st["indent"]))
    else:
        out.append(_p(label(lang, "bb_no_readback"), st["indent"]))
    working = []
    for ex in it.examinations:
        if ex.working_copy and ex.working_copy not in working:
            working.append(ex.working_copy)
    if it.copies:
        what = [label(lang, "bb_copy_image", id=it.item_id)]
        what += [label(lang, "bb_copy_working", id=w) for w in working]
        out.append(
            _p(label(lang, "bb_copies_count", count=len(what), what="; ".join(what)), st["indent"])
        )
    if it.examinations:
        out.append(_p(label(lang, "bb_exams"), st["h"]))
        for ex in it.examinations:
            action = label(lang, f"bb_action_{ex.kind}")
            when = _when(model, ex.time)
            if ex.working_copy:
                text = label(
                    lang,
                    "bb_exam_copy",
                    when=when,
                    who=ex.actor,
                    action=action,
                    copy=ex.working_copy,
                    sha=ex.working_sha256 or "—",
                    purpose=ex.purpose or "—",
                )
            elif ex.on_original:
                text = label(
                    lang,
                    "bb_exam_original",
                    when=when,
                    who=ex.actor,
                    action=action,
                    reason=ex.on_original,
                    purpose=ex.purpose or "—",
                )
            else:
                text = label(lang, "bb_exam_unnamed", when=when, who=ex.actor, action=action)
            out.append(_p(text, st["indent"]))
    if it.hand_overs:
        out.append(_p(label(lang, "bb_handovers"), st["h"]))
        for h in it.hand_overs:
            text = label(
                lang,
                "bb_handover",
                when=_when(model, h.time),
                giver=h.giver,
                receiver=h.receiver,
                purpose=h.purpose or "—",
            )
            if h.participants:
                text += " " + label(lang, "present", names=_names(model, h.participants))
            out.append(_p(text, st["indent"]))
    if it.documents:
        out.append(_p(label(lang, "bb_documents"), st["h"]))
        for d in it.documents:
            out.append(
                _p(
                    _capital(
                        label(
                            lang,
                            "bb_document_line",
                            what=document_label(lang, d.what),
                            name=d.name,
                            size=_grouped(d.size),
                            sha=d.sha256,
                        )
                    ),
                    st["indent"],
                )
            )
    return out
