"""The Biên bản (seizure record) as a PDF, in the layout Vietnamese investigators use: the
national header (with its underlined motto) beside the agency and record number, the title,
place and time in words ("Hồi … giờ … phút, ngày … tháng … năm …"), the legal basis, the
participants, each item (characteristics, seals, what was copied and its digests, the read-back),
statements, the number of copies, and a signature block for every participant with a line for
a refusal to sign.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from evidencekit.chain.parties import DOCUMENTS, Party
from evidencekit.report.i18n import label
from evidencekit.report.model.record import SeizureRecord
from evidencekit.report.render.bienban_item import _item
from evidencekit.report.render.bienban_text import (
    _p,
    _parts,
    _styles,
    _when,
    role_name,
)
from evidencekit.report.render.fonts import SANS, _register_fonts
from evidencekit.report.render.page import build_document
from evidencekit.report.render.styles import BODY_W

CONDUCTING = ("investigator", "officer", "examiner", "specialist", "clerk", "prosecutor", None)
"""Roles of those who conduct the seizure ("Chúng tôi gồm"); `None` is the drafter, a pinned
examiner recorded without a role."""


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
    story: list[Flowable] = []
    story += _header(model, st)
    story += _frame(model, st)
    for n, it in enumerate(model.items, 1):
        story += _item(model, n, it, st)
    story += _closing(model, st)
    return build_document(
        model,
        title=label(model.lang, "bb_pdf_title"),
        author=model.examiner,
        creator=f"evidencekit {model.tool_version}",
        what="record",
        story=story,
    )
