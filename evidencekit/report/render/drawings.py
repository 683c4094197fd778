"""Vector drawings: the media map of a disk and the custodians-over-time lanes."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from evidencekit.report.i18n import label
from evidencekit.report.model import CustodyEntry, Extent
from evidencekit.report.render.fonts import SANS
from evidencekit.report.render.styles import BODY_W, ERR, GRID
from evidencekit.report.render.text import _fit, _grouped, human_size
from evidencekit.timeutil import local_text


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
        return float(label_w + (plot_w * (i + 0.5) / n if n else 0))

    def y_of(who: str) -> float:
        return float(height - top_pad - lane_h * (lanes.index(who) + 0.5))

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
