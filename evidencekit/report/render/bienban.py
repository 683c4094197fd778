"""The Biên bản (seizure record) as a PDF, in the layout Vietnamese investigators use: the
national header (with its underlined motto) beside the agency and record number, the title,
place and time in words ("Hồi … giờ … phút, ngày … tháng … năm …"), the legal basis, the
participants, each item (characteristics, seals, what was copied and its digests, the read-back),
statements, the number of copies, and a signature block for every participant with a line for
a refusal to sign.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from evidencekit.chain.parties import DOCUMENTS, ROLES, Party
from evidencekit.errors import ReportError
from evidencekit.report.i18n import document_label, label
from evidencekit.report.model.record import RecordItem, SealStep, SeizureRecord
from evidencekit.report.render.fonts import MONO, SANS, SANS_BOLD, _register_fonts
from evidencekit.report.render.page import _canvas_class, _on_page
from evidencekit.report.render.photos import photo_table
from evidencekit.report.render.styles import BODY_W, GRID, MARGIN, PAGE_H
from evidencekit.report.render.tables import _plain_table
from evidencekit.report.render.text import _grouped, wrap
from evidencekit.report.words import size_in_words
from evidencekit.timeutil import zone

CONDUCTING = ("investigator", "officer", "examiner", "specialist", "clerk", "prosecutor", None)
"""Roles of those who conduct the seizure ("Chúng tôi gồm"); `None` is the drafter, a pinned
examiner recorded without a role."""


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("bb", fontName=SANS, fontSize=10, leading=13.5, alignment=TA_JUSTIFY)
    return {
        "body": base,
        # left-aligned: a digest in a justified line stretches the spaces around it
        "indent": ParagraphStyle("bbi", parent=base, leftIndent=6 * mm, alignment=TA_LEFT),
        "small": ParagraphStyle("bbs", parent=base, fontSize=8, leading=10),
        "centre": ParagraphStyle("bbc", parent=base, alignment=TA_CENTER),
        "centreb": ParagraphStyle("bbcb", parent=base, alignment=TA_CENTER, fontName=SANS_BOLD),
        "nation": ParagraphStyle(
            "bbn", parent=base, alignment=TA_CENTER, fontName=SANS_BOLD, fontSize=9.5, leading=12
        ),
        "right": ParagraphStyle("bbr", parent=base, alignment=TA_RIGHT),
        "title": ParagraphStyle(
            "bbt", parent=base, alignment=TA_CENTER, fontName=SANS_BOLD, fontSize=15, leading=19
        ),
        "subtitle": ParagraphStyle(
            "bbst", parent=base, alignment=TA_CENTER, fontName=SANS_BOLD, fontSize=11.5, leading=15
        ),
        "h": ParagraphStyle("bbh", parent=base, fontName=SANS_BOLD, spaceBefore=5, spaceAfter=2),
        "hitem": ParagraphStyle(
            "bbhi", parent=base, fontName=SANS_BOLD, fontSize=10.5, spaceBefore=7, spaceAfter=2
        ),
        "mono": ParagraphStyle("bbm", parent=base, fontName=MONO, fontSize=7.5, leading=9.5),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _parts(model: SeizureRecord, when: dt.datetime) -> dict[str, str]:
    local = when.astimezone(zone(model.timezone))
    return {
        "H": f"{local.hour:02d}",
        "M": f"{local.minute:02d}",
        "d": f"{local.day:02d}",
        "m": f"{local.month:02d}",
        "y": str(local.year),
    }


def _when(model: SeizureRecord, when: dt.datetime | None) -> str:
    """ "Hồi 09 giờ 30 phút, ngày 05 tháng 12 năm 2026" in the case's time zone."""
    if when is None:
        return "…"
    return label(model.lang, "bb_at_time", **_parts(model, when))


def role_name(lang: str, role: str | None) -> str:
    """A participant's title: the role's label (điều tra viên, người chứng kiến…); a pinned
    examiner recorded without a role is the drafter of the record, never "giám định viên"."""
    if role is None:
        return label(lang, "bb_drafter")
    names = ROLES.get(role)
    return role if names is None else names[0 if lang == "vi" else 1]


def _person(model: SeizureRecord, p: Party) -> str:
    lang = model.lang
    bits = [role_name(lang, p.role)]
    if p.year_of_birth is not None:
        bits.append(label(lang, "bb_yob", year=p.year_of_birth))
    if p.document_type is not None and p.document_number is not None:
        kind = DOCUMENTS.get(p.document_type, (p.document_type, p.document_type))
        bits.append(
            label(
                lang, "bb_document", kind=kind[0 if lang == "vi" else 1], number=p.document_number
            )
        )
    if p.fingerprint is not None:
        bits.append(label(lang, "bb_key", fp=p.fingerprint[:16]))
    if p.unit:
        bits.append(label(lang, "bb_unit", text=p.unit))
    if p.address:
        bits.append(label(lang, "bb_address", text=p.address))
    return f"{p.name} — " + "; ".join(bits) + "."


def _groups(model: SeizureRecord) -> list[tuple[str, list[Party]]]:
    conducting = [p for p in model.participants if p.role in CONDUCTING]
    witnesses = [p for p in model.participants if p.role == "witness"]
    owners = [p for p in model.participants if p.role == "owner"]
    known = set(CONDUCTING) | {"witness", "owner"}
    others = [p for p in model.participants if p.role not in known]
    return [
        (k, ps)
        for k, ps in (
            ("bb_we", conducting),
            ("bb_witnessed", witnesses),
            ("bb_owner", owners),
            ("bb_others", others),
        )
        if ps
    ]


def _header(model: SeizureRecord, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    number = (
        label(lang, "bb_number", number=model.record_number)
        if model.record_number
        else label(lang, "bb_number_blank")
    )
    left = [
        Paragraph(escape(model.agency.upper()) or "…", st["nation"]),
        Spacer(1, 1.5 * mm),
        _p(number, st["centre"]),
    ]
    right = [
        _p(label(lang, "bb_nation"), st["nation"]),
        Paragraph(f"<u>{escape(label(lang, 'bb_motto'))}</u>", st["centreb"]),
    ]
    table = Table([[left, right]], colWidths=[72 * mm, BODY_W - 72 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), SANS, 10, 13),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    out: list[Flowable] = [table, Spacer(1, 3 * mm)]
    if model.start is not None:
        dated = label(lang, "bb_dated", **_parts(model, model.start))
        # the locality, as the dateline names it ("Thành phố Huế, ngày …")
        place = model.place.split(",")[-1].strip() if model.place else ""
        line = f"{place}, {dated}" if place else dated
        out.append(_p(line[:1].upper() + line[1:], st["right"]))
    out += [Spacer(1, 5 * mm), _p(label(lang, "bb_title"), st["title"])]
    seized = any(it.seized for it in model.items)
    out.append(
        _p(label(lang, "bb_title_seizure" if seized else "bb_title_collection"), st["subtitle"])
    )
    out.append(Spacer(1, 5 * mm))
    return out


def _frame(model: SeizureRecord, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    when = _when(model, model.start)
    opening = (
        label(lang, "bb_opening", when=when, place=model.place)
        if model.place
        else label(lang, "bb_opening_noplace", when=when)
    )
    out: list[Flowable] = [_p(opening, st["body"])]
    out.append(
        _p(label(lang, "bb_case", title=model.case_title, number=model.case_number), st["body"])
    )
    if model.session_id:
        out.append(_p(label(lang, "bb_session", session=model.session_id), st["body"]))
    out.append(Spacer(1, 2 * mm))
    out.append(_p(label(lang, "bb_basis_code"), st["indent"]))
    for text in model.legal_basis:
        out.append(_p(label(lang, "bb_basis", text=text), st["indent"]))
    for key, people in _groups(model):
        out.append(_p(label(lang, key), st["h"]))
        for n, p in enumerate(people, 1):
            out.append(_p(f"{n}. {_person(model, p)}", st["indent"]))
    out.append(Spacer(1, 2 * mm))
    seized = any(it.seized for it in model.items)
    out.append(
        _p(label(lang, "bb_proceed_seizure" if seized else "bb_proceed_collection"), st["body"])
    )
    return out


def _names(model: SeizureRecord, people: Sequence[Party]) -> str:
    return ", ".join(f"{p.name} ({role_name(model.lang, p.role)})" for p in people)


def _seal_line(model: SeizureRecord, s: SealStep) -> str:
    lang = model.lang
    when = _when(model, s.time)
    numbers = ", ".join(s.seal_numbers) or "—"
    if s.kind == "seal_applied":
        text = label(
            lang, "bb_seal_applied", when=when, who=s.actor, numbers=numbers, method=s.method or "—"
        )
    elif s.kind == "seal_opened":
        state = label(lang, "bb_seal_intact" if s.state == "intact" else "bb_seal_damaged")
        if s.state_note:
            state += f" ({s.state_note})"
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
        text += " " + label(lang, "bb_present", names=_names(model, s.participants))
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
        if kind in ("disk-image", "disk", "raw", "e01", "split") or it.copy_format:
            fmt = (it.copy_format or kind).upper()
            text = label(lang, "bb_copied_disk", when=when, who=it.acquired_by, format=fmt)
        elif kind in ("logical", "files", "logical-collection"):
            text = label(lang, "bb_copied_files", when=when, who=it.acquired_by)
        else:
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
                text += " " + label(lang, "bb_present", names=_names(model, h.participants))
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


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _alg(name: str) -> str:
    """An algorithm as people write it: MD5, SHA-1, SHA-256, BLAKE3."""
    name = name.upper()
    return f"SHA-{name[3:]}" if name.startswith("SHA") else name


def _kv(rows: Sequence[Sequence[str]], *, mono: bool = False) -> Table:
    """A two-column grid without a header row (characteristics; digests in `mono`)."""
    key_w = 25 * mm if mono else 45 * mm
    font, size = (MONO, 8.0) if mono else (SANS, 8.5)
    data = [
        [wrap(k, SANS_BOLD, 8.5, key_w - 6), wrap(v, font, size, BODY_W - key_w - 6)]
        for k, v in rows
    ]
    table = Table(data, colWidths=[key_w, BODY_W - key_w])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, size, 10.5),
                ("FONT", (0, 0), (0, -1), SANS_BOLD, 8.5, 10.5),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _closing(model: SeizureRecord, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [Spacer(1, 3 * mm)]
    out.append(
        _p(
            label(lang, "bb_statements", text=model.statements or label(lang, "bb_no_statements")),
            st["body"],
        )
    )
    if model.end is not None:
        out.append(
            _p(
                label(lang, "bb_end", when=label(lang, "bb_end_lower", **_parts(model, model.end))),
                st["body"],
            )
        )
    out.append(_p(label(lang, "bb_copies", count=f"{model.copies:02d}"), st["body"]))
    out.append(Spacer(1, 4 * mm))
    out += _signatures(model, st)
    out.append(Spacer(1, 4 * mm))
    out.append(
        _p(
            label(
                lang,
                "bb_digital",
                name=model.examiner,
                fp=model.examiner_fingerprint,
                id=model.report_id,
            ),
            st["small"],
        )
    )
    return out


def _signatures(model: SeizureRecord, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """A block per participant: title, "(Ký, ghi rõ họ tên)", room to sign, the name, and the
    recorded refusal to sign with its reason, or a line to write one."""
    lang = model.lang
    blocks: list[list[Flowable]] = []
    # those present first, those who conducted it last (the drafter signs at the bottom)
    groups = _groups(model)
    ordered = [p for k, ps in groups if k != "bb_we" for p in ps]
    ordered += [p for k, ps in groups if k == "bb_we" for p in ps]
    for p in ordered:
        refusal = model.refusal_of(p)
        cell: list[Flowable] = [
            _p(role_name(lang, p.role).upper(), st["centreb"]),
            _p(label(lang, "bb_sign_hint"), st["centre"]),
            Spacer(1, 16 * mm),
            _p(p.name, st["centreb"]),
            _p(
                label(lang, "bb_refused", reason=refusal.reason)
                if refusal is not None
                else label(lang, "bb_refusal_line"),
                ParagraphStyle("bbref", parent=st["small"], alignment=TA_CENTER),
            ),
        ]
        blocks.append(cell)
    rows = [blocks[i : i + 2] for i in range(0, len(blocks), 2)]
    if rows and len(rows[-1]) == 1:
        rows[-1].append([])
    out: list[Flowable] = []
    for row in rows:
        table = Table([row], colWidths=[BODY_W / 2, BODY_W / 2])
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), SANS, 10, 13),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6 * mm),
                ]
            )
        )
        out.append(KeepTogether([table]))
    return out


def render_record(model: SeizureRecord) -> bytes:
    """Render the Biên bản to PDF bytes (unsigned, without attachments).

    Raises:
        ReportError: reportlab could not lay out the document.
    """
    _register_fonts()
    st = _styles()
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{label(model.lang, 'bb_pdf_title')} — {model.case_number}",
        author=model.examiner,
        subject=model.report_id,
        creator=f"evidencekit {model.tool_version}",
        initialFontName=SANS,
        lang=model.lang,
    )
    frame = Frame(
        MARGIN,
        16 * mm,
        BODY_W,
        PAGE_H - 32 * mm,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_on_page(model))])
    story: list[Flowable] = []
    story += _header(model, st)
    story += _frame(model, st)
    for n, it in enumerate(model.items, 1):
        story += _item(model, n, it, st)
    story += _closing(model, st)
    try:
        doc.build(story, canvasmaker=_canvas_class(model))
    except Exception as exc:  # reportlab raises LayoutError and plain exceptions alike
        raise ReportError(f"cannot lay out record {model.report_id}: {exc}") from exc
    return buf.getvalue()
