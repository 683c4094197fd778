"""The report-wide sections: cover, summary, custody, checkpoint, attachments, signature."""

from __future__ import annotations

import hashlib
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from evidencekit.report.i18n import attachment_label, label, status_label
from evidencekit.report.model import CustodyEntry, ItemSection, ReportModel
from evidencekit.report.render.fonts import SANS
from evidencekit.report.render.qr import qr_drawing
from evidencekit.report.render.styles import BODY_W
from evidencekit.report.render.tables import _kv_table, _plain_table
from evidencekit.report.render.text import _grouped, _p, _t, _visible, human_size
from evidencekit.report.sentences import sentence, who


def _cover(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [Spacer(1, 18 * mm)]
    out.append(_p(model.agency, st["subtitle"]))
    out.append(Spacer(1, 10 * mm))
    out.append(_p(label(lang, "title"), st["title"]))
    out.append(Spacer(1, 3 * mm))
    out.append(_p(label(lang, "subtitle"), st["subtitle"]))
    out.append(Spacer(1, 12 * mm))
    rows: list[tuple[str, object]] = [
        (label(lang, "case_number"), model.case_number),
        (label(lang, "case_title"), model.case_title),
        (label(lang, "agency"), model.agency or "—"),
        (label(lang, "examiner"), model.examiner),
        (label(lang, "fingerprint"), Paragraph(escape(model.examiner_fingerprint), st["mono"])),
        (label(lang, "report_date"), _t(model, model.generated)),
        (label(lang, "time_zone"), model.timezone),
        (label(lang, "report_id"), model.report_id),
        (label(lang, "tool"), f"evidencekit {model.tool_version}"),
    ]
    # a digest (the case identity) in the mono face, on one line
    rows += [
        (k, Paragraph(escape(v), st["mono"]) if v.startswith("sha256:") else v)
        for k, v in model.extra.items()
    ]
    out.append(_kv_table(rows, st))
    out.append(PageBreak())
    return out


def _summary(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [_p(label(lang, "summary"), st["h1"])]
    if not model.items:
        return [*out, _p(label(lang, "no_items"), st["body"])]
    widths = [25 * mm, 22 * mm, 22 * mm, 16 * mm, BODY_W - 85 * mm]
    header = [label(lang, k) for k in ("item_id", "kind", "status", "size")] + ["SHA-256"]
    rows = [
        [
            it.item_id,
            label(lang, f"kind_{it.kind}"),
            status_label(lang, it.status),
            human_size(it.content_size or (it.artifacts[0].size if it.artifacts else None)),
            it.sha256 or "—",
        ]
        for it in model.items
    ]
    out.append(_plain_table(header, rows, widths, font_size=7, mono_cols=(4,), long=True))
    return out


def _custody(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """Every ledger event as sentences (`report.sentences`): who did what to which item, with
    whom, where and why."""
    lang = model.lang
    out: list[Flowable] = [PageBreak(), _p(label(lang, "custody"), st["h1"])]
    if not model.custody:
        return [*out, _p(label(lang, "no_custody"), st["body"])]
    widths = [9 * mm, 40 * mm, 20 * mm, BODY_W - 69 * mm]
    header = [label(lang, k) for k in ("seq", "when", "item", "cs_event")]
    rows = [
        [str(e.seq), _t(model, e.time), e.item_id or "—", sentence(e, lang)] for e in model.custody
    ]
    out.append(_plain_table(header, rows, widths, font_size=7.6, long=True))
    return out


def _checkpoint(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [CondPageBreak(110 * mm), _p(label(lang, "checkpoint"), st["h1"])]
    cp = model.checkpoint
    if cp is None:
        return [*out, _p(label(lang, "no_checkpoint"), st["body"])]
    rows: list[tuple[str, object]] = []
    if cp.tree_size is not None:
        rows.append((label(lang, "tree_size"), str(cp.tree_size)))
    if cp.root:
        rows.append((label(lang, "root_hash"), Paragraph(escape(cp.root), st["mono"])))
    if rows:
        out.append(_kv_table(rows, st))
    out.append(Spacer(1, 2 * mm))
    out.append(_p(label(lang, "checkpoint_text"), st["small"]))
    text = _plain_table(
        [label(lang, "checkpoint_note")],
        [[cp.text.rstrip("\n")]],
        [BODY_W - 66 * mm],
        font_size=7.5,
        mono_cols=(0,),
    )
    row = Table([[text, qr_drawing(cp.text)]], colWidths=[BODY_W - 64 * mm, 64 * mm])
    row.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, 0), (-1, -1), SANS, 8, 10),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    out.append(row)
    return out


def _attachments(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    if not model.attachments:
        return []
    out: list[Flowable] = [
        CondPageBreak(50 * mm),
        _p(label(lang, "attachments"), st["h1"]),
        _p(label(lang, "attachments_text"), st["body"]),
        Spacer(1, 2 * mm),
    ]
    rows = [
        [a.name, attachment_label(lang, a.name), _grouped(len(a.data)), sha256_hex(a.data)]
        for a in model.attachments
    ]
    out.append(
        _plain_table(
            [label(lang, "file"), label(lang, "description"), label(lang, "size"), "SHA-256"],
            rows,
            [40 * mm, 30 * mm, 15 * mm, BODY_W - 85 * mm],
            font_size=7,
            mono_cols=(3,),
            long=True,
        )
    )
    return out


def _signature(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [
        CondPageBreak(70 * mm),
        _p(label(lang, "signature_page"), st["h1"]),
        _p(label(lang, "signature_text"), st["body"]),
        Spacer(1, 3 * mm),
    ]
    rows: list[tuple[str, object]] = [
        (label(lang, "examiner"), model.examiner),
        (label(lang, "fingerprint"), Paragraph(escape(model.examiner_fingerprint), st["mono"])),
        (
            label(lang, "verify_with"),
            Paragraph(escape(label(lang, "verify_commands")).replace("\n", "<br/>"), st["cell"]),
        ),
    ]
    out.append(_kv_table(rows, st))
    if not model.signed:
        out += [Spacer(1, 3 * mm), _p(label(lang, "unsigned"), st["h2"])]
    return out


def _who(e: CustodyEntry, lang: str) -> str:
    """The counterpart as the report names them: a party who holds no key with their role,
    "holds no key" and their document (names coincide); an examiner by name."""
    return who(e.counterpart_party, e.counterpart, lang)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _appendix(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The raw device facts of every item, keys and values exactly as the tools recorded them
    (English, internal names, tool messages): for experts; the item sections say them in
    words."""
    lang = model.lang
    items = [it for it in model.items if it.source or it.acquisition or _file_errors(it)]
    if not items:
        return []
    out: list[Flowable] = [
        PageBreak(),
        _p(label(lang, "appendix"), st["h1"]),
        _p(label(lang, "appendix_text"), st["body"]),
    ]
    for it in items:
        out.append(_p(f"{label(lang, 'item')} {it.item_id}", st["h2"]))
        rows = [[key, value] for key, value in (*it.source, *it.acquisition)]
        if rows:
            out.append(
                _plain_table(
                    [label(lang, "appendix_key"), label(lang, "value")],
                    rows,
                    [62 * mm, BODY_W - 62 * mm],
                    font_size=7,
                    mono_cols=(0,),  # values in the sans font: the mono one lacks Vietnamese
                    long=True,
                )
            )
        errors = _file_errors(it)
        if errors:
            out.append(_p(label(lang, "appendix_file_errors"), st["body"]))
            out.append(
                _plain_table(
                    [label(lang, "path"), label(lang, "appendix_message")],
                    errors,
                    [70 * mm, BODY_W - 70 * mm],
                    font_size=7,
                    long=True,
                )
            )
    return out


def _file_errors(it: ItemSection) -> list[list[str]]:
    """The collected files' read errors, as the tools worded them: (path, message)."""
    out = []
    for f in it.files:
        for part in f.note.split("; ") if f.note else []:
            if part.startswith("error: "):
                out.append([_visible(f.path), part[7:]])
    return out
