"""Assembling the story of sections into a PDF document."""

from __future__ import annotations

from reportlab.platypus import Flowable

from evidencekit.report.i18n import label
from evidencekit.report.model import ReportModel
from evidencekit.report.render.fonts import _register_fonts
from evidencekit.report.render.item import _item
from evidencekit.report.render.page import build_document
from evidencekit.report.render.sections import (
    _appendix,
    _attachments,
    _checkpoint,
    _cover,
    _custody,
    _signature,
    _summary,
)
from evidencekit.report.render.styles import _styles


def render_pdf(model: ReportModel) -> bytes:
    """Render the report model to PDF bytes (unsigned, without attachments).

    Raises:
        ReportError: reportlab could not lay out the document.
    """
    _register_fonts()
    st = _styles()
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
    return build_document(
        model,
        title=label(model.lang, "title"),
        author=model.examiner,
        creator=f"evidencekit {model.tool_version}",
        what="report",
        story=story,
    )
