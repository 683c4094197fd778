"""Text helpers: visible file names, wrapping to a column, escaped paragraphs, sizes and times.

File names are drawn exactly as stored (as plain table strings, never parsed as markup); only
control characters are shown as `\\xNN` so that a hostile name cannot hide or fake a line.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph

from evidencekit.report.model import ReportModel
from evidencekit.timeutil import local_text


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

    Breaks after a space in the second half of the line, else after a path separator there, else
    anywhere (file names and digests have no spaces). Used for plain table cells, where
    reportlab does not wrap.
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
                # a space first (a seal number "NP-0043" or a date stays whole), else a
                # separator of a path or name
                cut = max((i for i, c in enumerate(line) if c == " "), default=-1)
                if cut < len(line) // 2:
                    cut = max((i for i, c in enumerate(line) if c in " /\\_-."), default=-1)
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


def _fit(text: str, font: str, size: float, width: float) -> str:
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _t(model: ReportModel, value: Any) -> str:
    return local_text(value, model.timezone) if value is not None else "—"
