"""PDF rendering of a :class:`ReportModel` with reportlab (the only module that imports it).

Text uses the DejaVu fonts shipped in `evidencekit/data/fonts/` (embedded as subsets), and the
canvas's initial font is set to them too, so no un-embedded standard font (Helvetica) is ever
referenced — not by the default canvas state, not by the vector drawings or the QR code.

File names are drawn exactly as stored (as plain table strings, never parsed as markup); only
control characters are shown as `\\xNN` so that a hostile name cannot hide or fake a line.
Large file tables use plain strings that are wrapped here, not Paragraphs: it is ~10x faster and
keeps 5,000-file reports well inside the time budget.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    LongTable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from evidencekit.errors import ReportError
from evidencekit.report.i18n import event_label, fact_label, label, status_label
from evidencekit.report.model import CustodyEntry, Extent, ItemSection, ReportModel
from evidencekit.timeutil import local_text, parse_iso

SANS = "EKSans"
SANS_BOLD = "EKSans-Bold"
MONO = "EKMono"
_FONT_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
}
PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
BODY_W = PAGE_W - 2 * MARGIN
GRID = colors.HexColor("#9aa5b1")
HEAD_BG = colors.HexColor("#e4e9ef")
ERR = colors.HexColor("#c62828")


def _register_fonts() -> None:
    if SANS in pdfmetrics.getRegisteredFontNames():
        return
    base = resources.files("evidencekit") / "data" / "fonts"
    for name, filename in _FONT_FILES.items():
        with resources.as_file(base / filename) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=11.5)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=SANS_BOLD, fontSize=8, leading=10),
        "mono": ParagraphStyle("mono", parent=base, fontName=MONO, fontSize=7, leading=8.6),
        "title": ParagraphStyle(
            "title", parent=base, fontName=SANS_BOLD, fontSize=20, leading=25, alignment=TA_CENTER
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=12, leading=16, alignment=TA_CENTER
        ),
        "h1": ParagraphStyle(
            "h1",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=4,
            spaceAfter=6,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=SANS_BOLD,
            fontSize=10.5,
            leading=13,
            spaceBefore=8,
            spaceAfter=3,
        ),
    }


# -- text helpers ---------------------------------------------------------------------------


def _visible(name: str) -> str:
    """A stored name for display: unchanged, except control characters shown as escapes."""
    if all(ch.isprintable() or ch == " " for ch in name):
        return name
    out = []
    for ch in name:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


_WIDTH_CACHE: dict[tuple[str, str, float], float] = {}


def _char_w(ch: str, font: str, size: float) -> float:
    key = (ch, font, size)
    w = _WIDTH_CACHE.get(key)
    if w is None:
        w = pdfmetrics.stringWidth(ch, font, size)
        _WIDTH_CACHE[key] = w
    return w


def wrap(text: str, font: str, size: float, width: float) -> str:
    """`text` with newlines inserted so no line is wider than `width` points.

    Breaks after a space or a path separator when one is near, else anywhere (file names and
    digests have no spaces). Used for plain table cells, where reportlab does not wrap.
    """
    lines: list[str] = []
    for para in text.split("\n"):
        if pdfmetrics.stringWidth(para, font, size) <= width:
            lines.append(para)
            continue
        line: list[str] = []
        line_w = 0.0
        for ch in para:
            w = _char_w(ch, font, size)
            if line and line_w + w > width:
                cut = max(
                    (i for i, c in enumerate(line) if c in " /\\_-."),
                    default=-1,
                )
                if cut >= len(line) // 2:
                    lines.append("".join(line[: cut + 1]))
                    line = line[cut + 1 :]
                else:
                    lines.append("".join(line))
                    line = []
                line_w = sum(_char_w(c, font, size) for c in line)
            line.append(ch)
            line_w += w
        lines.append("".join(line))
    return "\n".join(lines)


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of typed text (escaped: never markup)."""
    return Paragraph(escape(unicodedata.normalize("NFC", str(text))).replace("\n", "<br/>"), style)


def human_size(n: int | None) -> str:
    if n is None:
        return "—"
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    value = float(n)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _grouped(n: int | None) -> str:
    return "—" if n is None else f"{n:,}".replace(",", " ")


# -- page decoration ------------------------------------------------------------------------


def _canvas_class(model: ReportModel) -> type[Canvas]:
    lang = model.lang

    class NumberedCanvas(Canvas):
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


def _on_page(model: ReportModel) -> Callable[[Canvas, Any], None]:
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


# -- tables ---------------------------------------------------------------------------------


def _kv_table(rows: Sequence[tuple[str, object]], st: dict[str, ParagraphStyle]) -> Table:
    data = [
        [_p(k, st["cellb"]), v if isinstance(v, Flowable) else _p(v, st["cell"])] for k, v in rows
    ]
    table = Table(data, colWidths=[48 * mm, BODY_W - 48 * mm])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), SANS, 8, 10),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


_PAD_TOP = 1.5
_PAD_V = 3.5


def _grid_style(font_size: float = 8, mono_cols: Sequence[int] = ()) -> TableStyle:
    cmds: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), SANS, font_size, font_size + 1.6),
        ("FONT", (0, 0), (-1, 0), SANS_BOLD, font_size, font_size + 1.6),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), _PAD_TOP),
        ("BOTTOMPADDING", (0, 0), (-1, -1), _PAD_V - _PAD_TOP),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for col in mono_cols:
        cmds.append(("FONT", (col, 1), (col, -1), MONO, font_size - 0.8, font_size + 1.2))
    return TableStyle(cmds)


def _plain_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    font_size: float = 8,
    mono_cols: Sequence[int] = (),
    long: bool = False,
) -> Table:
    """A grid of plain strings, each wrapped to its column (fast; nothing parsed as markup)."""
    pad = 6.0
    data = [[wrap(h, SANS_BOLD, font_size, w - pad) for h, w in zip(header, widths, strict=True)]]
    for row in rows:
        data.append(
            [
                wrap(
                    cell,
                    MONO if i in mono_cols else SANS,
                    font_size - 0.8 if i in mono_cols else font_size,
                    w - pad,
                )
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
        )
    # Row heights computed here, exactly as reportlab would (lines x leading + paddings): given
    # them, reportlab skips its own measuring, which is quadratic when a long table is split.
    sans_lead, mono_lead = font_size + 1.6, font_size + 1.2
    heights = [
        max(
            (cell.count("\n") + 1) * (mono_lead if i in mono_cols and r else sans_lead)
            for i, cell in enumerate(row)
        )
        + _PAD_V
        for r, row in enumerate(data)
    ]
    cls = LongTable if long else Table
    table = cls(data, colWidths=list(widths), rowHeights=heights, repeatRows=1)
    table.setStyle(_grid_style(font_size, mono_cols))
    return table


# -- drawings -------------------------------------------------------------------------------


def media_map(size: int, extents: Sequence[Extent], lang: str) -> Drawing:
    """The whole span of a disk as a bar, with each unreadable extent marked where it lies."""
    width, height = BODY_W, 24 * mm
    d = Drawing(width, height, initialFontName=SANS)
    bar_y, bar_h = 10 * mm, 8 * mm
    d.add(
        Rect(
            0,
            bar_y,
            width,
            bar_h,
            fillColor=colors.HexColor("#cfe8cf"),
            strokeColor=GRID,
            strokeWidth=0.5,
        )
    )
    span = max(size, 1)
    for ext in extents:
        x = width * ext.offset / span
        w = max(width * ext.length / span, 0.8)  # a single sector must still be visible
        d.add(
            Rect(min(x, width - w), bar_y, w, bar_h, fillColor=ERR, strokeColor=None, strokeWidth=0)
        )
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = width * frac
        d.add(Line(x, bar_y - 1.5, x, bar_y, strokeColor=colors.black, strokeWidth=0.5))
        anchor = "start" if frac == 0 else ("end" if frac == 1 else "middle")
        d.add(
            String(
                x,
                bar_y - 8,
                _grouped(int(size * frac)),
                fontName=SANS,
                fontSize=6.5,
                textAnchor=anchor,
            )
        )
    d.add(
        String(
            0, 1, label(lang, "media_map_legend", size=human_size(size)), fontName=SANS, fontSize=7
        )
    )
    return d


def _holders(entries: Sequence[CustodyEntry]) -> list[tuple[str, int, int]]:
    """Custody spans (holder, first index, last index) along the events in time order."""
    spans: list[tuple[str, int, int]] = []
    holder: str | None = None
    start = 0
    for i, e in enumerate(entries):
        new = holder
        if e.actor and (e.event_type == "received" or holder is None):
            new = e.actor
        if new != holder:
            if holder is not None:
                spans.append((holder, start, i))
            holder, start = new, i
    if holder is not None:
        spans.append((holder, start, max(len(entries) - 1, start)))
    return spans


def custody_lanes(entries: Sequence[CustodyEntry], lang: str, zone_name: str) -> Drawing:
    """Custodians as lanes, events as numbered marks in time order; transfers as arrows."""
    lanes: list[str] = []
    for e in entries:
        for who in (e.actor, e.counterpart if e.event_type == "transferred" else None):
            if who and who not in lanes:
                lanes.append(who)
    lane_h = 9 * mm
    label_w = 42 * mm
    top_pad, bottom_pad = 4 * mm, 9 * mm
    height = top_pad + bottom_pad + lane_h * max(len(lanes), 1)
    width = BODY_W
    d = Drawing(width, height, initialFontName=SANS)
    plot_w = width - label_w - 6 * mm
    n = len(entries)

    def x_of(i: int) -> float:
        return label_w + (plot_w * (i + 0.5) / n if n else 0)

    def y_of(who: str) -> float:
        return height - top_pad - lane_h * (lanes.index(who) + 0.5)

    for idx, who in enumerate(lanes):
        y = y_of(who)
        if idx % 2 == 0:
            d.add(
                Rect(
                    0,
                    y - lane_h / 2,
                    width,
                    lane_h,
                    fillColor=colors.HexColor("#f3f5f7"),
                    strokeColor=None,
                    strokeWidth=0,
                )
            )
        d.add(String(2, y - 2.5, _fit(who, SANS, 7.5, label_w - 4), fontName=SANS, fontSize=7.5))
        d.add(Line(label_w, y, label_w + plot_w, y, strokeColor=GRID, strokeWidth=0.4))
    for holder, first, last in _holders(entries):
        if holder in lanes:
            x0, x1 = x_of(first), x_of(last)
            d.add(
                Rect(
                    x0,
                    y_of(holder) - 2.2,
                    max(x1 - x0, 1.5),
                    4.4,
                    fillColor=colors.HexColor("#90caf9"),
                    strokeColor=None,
                    strokeWidth=0,
                )
            )
    for i, e in enumerate(entries):
        if not e.actor or e.actor not in lanes:
            continue
        x, y = x_of(i), y_of(e.actor)
        if e.event_type == "transferred" and e.counterpart in lanes:
            y2 = y_of(e.counterpart or "")
            d.add(Line(x, y, x, y2, strokeColor=colors.HexColor("#37474f"), strokeWidth=0.8))
            tip = 2.2 if y2 < y else -2.2
            d.add(
                Line(
                    x,
                    y2,
                    x - 1.6,
                    y2 + tip,
                    strokeColor=colors.HexColor("#37474f"),
                    strokeWidth=0.8,
                )
            )
            d.add(
                Line(
                    x,
                    y2,
                    x + 1.6,
                    y2 + tip,
                    strokeColor=colors.HexColor("#37474f"),
                    strokeWidth=0.8,
                )
            )
        fill = ERR if e.event_type in ("destroyed",) else colors.HexColor("#1565c0")
        d.add(Circle(x, y, 2.4, fillColor=fill, strokeColor=colors.white, strokeWidth=0.5))
        # Numbers must stay legible when marks crowd: alternate above/below, then thin out.
        step = plot_w / n if n else plot_w
        every = max(1, int(12 // step) if step < 6 else 1)
        if i % every == 0 or i == n - 1:
            below = step < 12 and (i // every) % 2 == 1
            d.add(
                String(
                    x,
                    y - 8.2 if below else y + 3.6,
                    str(e.seq),
                    fontName=SANS,
                    fontSize=6,
                    textAnchor="middle",
                )
            )
    if n:
        d.add(
            String(label_w, 2, local_text(entries[0].time, zone_name), fontName=SANS, fontSize=6.5)
        )
        d.add(
            String(
                label_w + plot_w,
                2,
                local_text(entries[-1].time, zone_name),
                fontName=SANS,
                fontSize=6.5,
                textAnchor="end",
            )
        )
    return d


def _fit(text: str, font: str, size: float, width: float) -> str:
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def qr_drawing(text: str, size: float = 62 * mm) -> Drawing:
    """The checkpoint as a QR code of vector squares (no font, no raster image)."""
    widget = QrCodeWidget(text, barLevel="M", barWidth=size, barHeight=size, barBorder=2)
    d = Drawing(size, size, initialFontName=SANS)
    d.add(widget)
    return d


# -- sections -------------------------------------------------------------------------------


def _t(model: ReportModel, value: Any) -> str:
    return local_text(value, model.timezone) if value is not None else "—"


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
    rows += [(k, v) for k, v in model.extra.items()]
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


def _facts(pairs: Sequence[tuple[str, str]], lang: str) -> list[tuple[str, object]]:
    """Facts with translated names where known, source before device before the rest."""

    def rank(key: str) -> int:
        return 0 if key.startswith("source") else (1 if key.startswith("device") else 2)

    values = {"yes": label(lang, "yes"), "no": label(lang, "no")}
    return [
        (fact_label(lang, k), values.get(v, v))
        for k, v in sorted(pairs, key=lambda kv: rank(kv[0]))
    ]


def _item(model: ReportModel, it: ItemSection, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [PageBreak()]
    title = f"{label(lang, 'item')} {it.item_id}"
    if it.description:
        title += f" — {it.description}"
    out.append(_p(title, st["h1"]))
    rows: list[tuple[str, object]] = [
        (label(lang, "kind"), label(lang, f"kind_{it.kind}")),
        (label(lang, "status"), status_label(lang, it.status)),
    ]
    if it.evidence_number:
        rows.append((label(lang, "evidence_number"), it.evidence_number))
    if it.content_size is not None:
        rows.append(
            (
                label(lang, "size"),
                f"{_grouped(it.content_size)} {label(lang, 'bytes')}"
                f" ({human_size(it.content_size)})",
            )
        )
    for key, when in (
        ("started", it.started),
        ("finished", it.finished),
        ("sealed_at", it.sealed_at),
    ):
        if when is not None:
            rows.append((label(lang, key), _t(model, when)))
    for key, text in (("sealed_by", it.sealed_by), ("host", it.host), ("tool", it.tool)):
        if text:
            rows.append((label(lang, key), text))
    if it.seal_sha256:
        rows.append(("SHA-256 (seal.json)", Paragraph(it.seal_sha256, st["mono"])))
    out.append(_kv_table(rows, st))
    if it.source:
        out += [
            _p(label(lang, "source_identity"), st["h2"]),
            _kv_table(_facts(it.source, lang), st),
        ]
    if it.acquisition:
        out += [
            _p(label(lang, "acquisition"), st["h2"]),
            _kv_table(_facts(it.acquisition, lang), st),
        ]
    if it.content_digests:
        out.append(_p(label(lang, "media_digests"), st["h2"]))
        out.append(
            _plain_table(
                [label(lang, "algorithm"), label(lang, "value")],
                [[alg, value] for alg, value in it.content_digests],
                [25 * mm, BODY_W - 25 * mm],
                mono_cols=(1,),
            )
        )
    if it.artifacts:
        out.append(_p(label(lang, "artifacts"), st["h2"]))
        rows2 = []
        for art in it.artifacts:
            first = True
            for alg, hexval in art.digests or (("—", "—"),):
                rows2.append(
                    [
                        _visible(art.name) if first else "",
                        _grouped(art.size) if first else "",
                        alg,
                        hexval,
                    ]
                )
                first = False
        out.append(
            _plain_table(
                [
                    label(lang, "file"),
                    label(lang, "size"),
                    label(lang, "algorithm"),
                    label(lang, "value"),
                ],
                rows2,
                [40 * mm, 22 * mm, 14 * mm, BODY_W - 76 * mm],
                font_size=7.6,
                mono_cols=(3,),
                long=True,
            )
        )
    if it.window_count:
        out.append(_p(label(lang, "windows"), st["h2"]))
        out.append(
            _p(
                label(
                    lang,
                    "windows_text",
                    count=it.window_count,
                    size=human_size(it.window_size),
                    algs=", ".join(it.window_algorithms) or "—",
                ),
                st["body"],
            )
        )
    if it.kind == "disk":
        out.append(_p(label(lang, "read_errors"), st["h2"]))
        if it.read_errors:
            out.append(
                _plain_table(
                    [label(lang, "offset"), label(lang, "length"), label(lang, "errno")],
                    [
                        [_grouped(e.offset), _grouped(e.length), e.error or "—"]
                        for e in it.read_errors
                    ],
                    [45 * mm, 45 * mm, BODY_W - 90 * mm],
                    long=True,
                )
            )
        else:
            out.append(_p(label(lang, "no_read_errors"), st["body"]))
        if it.media_size:
            out.append(Spacer(1, 3 * mm))
            out.append(
                KeepTogether(
                    [
                        _p(label(lang, "media_map"), st["h2"]),
                        media_map(it.media_size, it.read_errors, lang),
                    ]
                )
            )
    out.append(_p(label(lang, "verification"), st["h2"]))
    if it.verifications:
        out.append(
            _plain_table(
                [label(lang, "when"), label(lang, "who"), label(lang, "status")],
                [
                    [
                        _t(model, v.time),
                        v.actor,
                        "\n".join(
                            x
                            for x in (
                                None
                                if v.ok is None
                                else label(lang, "verified_ok" if v.ok else "verified_bad"),
                                v.detail,
                            )
                            if x
                        )
                        or "—",
                    ]
                    for v in it.verifications
                ],
                [45 * mm, 45 * mm, BODY_W - 90 * mm],
            )
        )
    else:
        out.append(_p(label(lang, "no_verification"), st["body"]))
    if it.custody:
        out.append(
            KeepTogether(
                [
                    _p(label(lang, "custody_lanes"), st["h2"]),
                    custody_lanes(it.custody, lang, model.timezone),
                ]
            )
        )
    if it.files:
        out.append(CondPageBreak(40 * mm))
        out.append(_p(label(lang, "files"), st["h2"]))
        out.append(
            _p(
                label(lang, "files_count", count=len(it.files), size=human_size(it.files_total)),
                st["body"],
            )
        )
        out.append(Spacer(1, 2 * mm))
        out.append(_files_table(it, lang, model.timezone))
    return out


def _note(note: str, lang: str) -> str:
    parts = []
    for part in note.split("; ") if note else []:
        if part == "deleted":
            part = label(lang, "deleted")
        elif part.startswith("error: "):
            part = f"{label(lang, 'error')}: {part[7:]}"
        parts.append(part)
    return "; ".join(parts)


def _local(text: str | None, zone_name: str) -> str | None:
    """An ISO time from a manifest, shown in the examiner's zone; other text as it is."""
    if not text:
        return text
    try:
        return local_text(parse_iso(text), zone_name)
    except (ValueError, OverflowError):
        return text


def _files_table(it: ItemSection, lang: str, zone_name: str) -> Table:
    # SHA-256 as two fixed halves of 32 hex digits: aligned, and easy to compare by eye.
    widths = [11 * mm, BODY_W - 77 * mm, 19 * mm, 47 * mm]
    rows = []
    for n, f in enumerate(it.files, 1):
        name = _visible(f.path)
        extra = " · ".join(x for x in (_local(f.modified, zone_name), _note(f.note, lang)) if x)
        digest = f"{f.sha256[:32]}\n{f.sha256[32:]}" if f.sha256 else "—"
        rows.append([str(n), name + ("\n" + extra if extra else ""), _grouped(f.size), digest])
    header = ["#", label(lang, "path"), label(lang, "size"), "SHA-256"]
    return _plain_table(header, rows, widths, font_size=7, mono_cols=(3,), long=True)


def _custody(model: ReportModel, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    lang = model.lang
    out: list[Flowable] = [PageBreak(), _p(label(lang, "custody"), st["h1"])]
    if not model.custody:
        return [*out, _p(label(lang, "no_custody"), st["body"])]
    widths = [9 * mm, 42 * mm, 17 * mm, 21 * mm, 27 * mm, BODY_W - 116 * mm]
    header = [label(lang, k) for k in ("seq", "when", "item", "what", "who")]
    header.append(
        f"{label(lang, 'counterpart')} / {label(lang, 'where')} / {label(lang, 'purpose')}"
    )
    rows = []
    for e in model.custody:
        extra = [
            x
            for x in (
                f"→ {e.counterpart}" if e.counterpart else "",
                e.location or "",
                e.purpose or "",
                e.detail,
            )
            if x
        ]
        rows.append(
            [
                str(e.seq),
                _t(model, e.time),
                e.item_id or "—",
                event_label(lang, e.event_type),
                e.actor or "—",
                "\n".join(extra),
            ]
        )
    out.append(_plain_table(header, rows, widths, font_size=7.2, long=True))
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
        ["C2SP signed note"],
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
        [a.name, a.description, _grouped(len(a.data)), hashlib.sha256(a.data).hexdigest()]
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
            Paragraph(
                "pdfsig REPORT.pdf<br/>evidencekit report verify REPORT.pdf --trust EXAMINER.pem",
                st["mono"],
            ),
        ),
    ]
    out.append(_kv_table(rows, st))
    if not model.signed:
        out += [Spacer(1, 3 * mm), _p(label(lang, "unsigned"), st["h2"])]
    return out


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
    try:
        doc.build(story, canvasmaker=_canvas_class(model))
    except Exception as exc:  # reportlab raises LayoutError and plain exceptions alike
        raise ReportError(f"cannot lay out report {model.report_id}: {exc}") from exc
    return buf.getvalue()
