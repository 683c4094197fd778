"""Tables: key/value tables of Paragraphs, and fast grids of plain strings.

Large file tables use plain strings that are wrapped here, not Paragraphs: it is ~10x faster and
keeps 5,000-file reports well inside the time budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, LongTable, Table, TableStyle

from evidencekit.report.render.fonts import MONO, SANS, SANS_BOLD
from evidencekit.report.render.styles import BODY_W, GRID, HEAD_BG
from evidencekit.report.render.text import _p, wrap


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
