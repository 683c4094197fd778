"""The Biên bản's styles and wording helpers: times in words in the case's zone, participants'
titles, algorithm names, two-column grids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Paragraph,
    Table,
    TableStyle,
)

from evidencekit.chain.parties import ROLES, Party
from evidencekit.report.i18n import label
from evidencekit.report.model.record import SeizureRecord
from evidencekit.report.render.fonts import MONO, SANS, SANS_BOLD
from evidencekit.report.render.styles import BODY_W, GRID
from evidencekit.report.render.text import wrap
from evidencekit.timeutil import zone


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


def _names(model: SeizureRecord, people: Sequence[Party]) -> str:
    return ", ".join(f"{p.name} ({role_name(model.lang, p.role)})" for p in people)


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
