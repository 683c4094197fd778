"""Page decoration: the running header, and the footer with the report id and "page X of Y"."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Protocol

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from evidencekit.errors import ReportError
from evidencekit.report.i18n import label
from evidencekit.report.render.fonts import SANS, SANS_BOLD
from evidencekit.report.render.styles import BODY_W, ERR, GRID, MARGIN, PAGE_H, PAGE_W


class Paged(Protocol):
    """What the page decoration needs of a document: the report model or the Biên bản's."""

    @property
    def lang(self) -> str: ...
    @property
    def report_id(self) -> str: ...
    @property
    def case_number(self) -> str: ...
    @property
    def case_title(self) -> str: ...
    @property
    def signed(self) -> bool: ...


def _canvas_class(model: Paged) -> type[Canvas]:
    lang = model.lang

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
        """Keeps every page until the end so each footer can say 'page X of Y'."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["initialFontName"] = SANS
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._footer(total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _footer(self, total: int) -> None:
            page = self.getPageNumber()
            self.saveState()
            self.setFont(SANS, 7.5)
            self.setFillColor(colors.HexColor("#444444"))
            y = 10 * mm
            self.drawString(MARGIN, y, f"{label(lang, 'report_id')}: {model.report_id}")
            self.drawRightString(PAGE_W - MARGIN, y, label(lang, "page_of", page=page, total=total))
            self.restoreState()

    return NumberedCanvas


def _on_page(model: Paged) -> Callable[[Canvas, Any], None]:
    lang = model.lang

    def draw(canv: Canvas, _doc: Any) -> None:
        canv.saveState()
        canv.setFont(SANS, 7.5)
        canv.setFillColor(colors.HexColor("#444444"))
        top = PAGE_H - 11 * mm
        canv.drawString(MARGIN, top, f"{model.case_number} — {model.case_title}"[:110])
        canv.drawRightString(PAGE_W - MARGIN, top, model.report_id)
        canv.setStrokeColor(GRID)
        canv.setLineWidth(0.4)
        canv.line(MARGIN, top - 2.5, PAGE_W - MARGIN, top - 2.5)
        canv.line(MARGIN, 13 * mm, PAGE_W - MARGIN, 13 * mm)
        if not model.signed:
            canv.setFont(SANS_BOLD, 9)
            canv.setFillColor(ERR)
            canv.drawCentredString(PAGE_W / 2, 10 * mm, label(lang, "unsigned"))
        canv.restoreState()

    return draw


def build_document(
    model: Paged, *, title: str, author: str, creator: str, what: str, story: list[Flowable]
) -> bytes:
    """Lay `story` out on the A4 pages both documents share (margins, one body frame, the page
    decoration) and return the PDF bytes; `what` names the document in a layout error.

    Raises:
        ReportError: reportlab could not lay out the document.
    """
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"{title} — {model.case_number}",
        author=author,
        subject=model.report_id,
        creator=creator,
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
    try:
        doc.build(story, canvasmaker=_canvas_class(model))
    except Exception as exc:  # reportlab raises LayoutError and plain exceptions alike
        raise ReportError(f"cannot lay out {what} {model.report_id}: {exc}") from exc
    return buf.getvalue()
