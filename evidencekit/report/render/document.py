"""Assembling the story of sections into a PDF document."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from evidencekit.errors import ReportError
from evidencekit.report.i18n import label
from evidencekit.report.model import ReportModel
from evidencekit.report.render.fonts import SANS, _register_fonts
from evidencekit.report.render.item import _item
from evidencekit.report.render.page import _canvas_class, _on_page
from evidencekit.report.render.sections import (
    _appendix,
    _attachments,
    _checkpoint,
    _cover,
    _custody,
    _signature,
    _summary,
)
from evidencekit.report.render.styles import BODY_W, MARGIN, PAGE_H, _styles


def render_pdf(model: ReportModel) -> bytes:
    """Render the report model to PDF bytes (unsigned, without attachments).

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
        title=f"{label(model.lang, 'title')} — {model.case_number}",
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
    story += _cover(model, st)
    story += _summary(model, st)
    for item in model.items:
        story += _item(model, item, st)
    story += _custody(model, st)
    story += _checkpoint(model, st)
    story += _attachments(model, st)
    story += _signature(model, st)
    story += _appendix(model, st)
    try:
        doc.build(story, canvasmaker=_canvas_class(model))
    except Exception as exc:  # reportlab raises LayoutError and plain exceptions alike
        raise ReportError(f"cannot lay out report {model.report_id}: {exc}") from exc
    return buf.getvalue()
