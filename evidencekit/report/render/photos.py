"""Photo thumbnails: a registered photo drawn small beside its name and digest.

The photo is decoded with Pillow (which reportlab uses for images) and re-encoded as a small
JPEG, so a 10 MB photo adds a few kilobytes to the report. A photo that cannot be decoded (not an
image, damaged, too large to decode safely) gets no thumbnail: the row still names it with its
digest, which is what binds it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, Paragraph, Table, TableStyle

from evidencekit.report.i18n import label
from evidencekit.report.model import Photo
from evidencekit.report.render.fonts import MONO, SANS, SANS_BOLD
from evidencekit.report.render.styles import BODY_W, GRID, HEAD_BG

log = logging.getLogger(__name__)

THUMB_PX = 360


def thumbnail(data: bytes | None, width: float = 28 * mm) -> Flowable | None:
    """A thumbnail of `data` at most `width` wide and tall, or None when it cannot be drawn."""
    if not data:
        return None
    try:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(data)) as im:
            im.thumbnail((THUMB_PX, THUMB_PX))
            rgb = im.convert("RGB")
            w, h = rgb.size
            out = io.BytesIO()
            rgb.save(out, "JPEG", quality=80)
    except Exception as exc:  # Pillow raises many kinds for a damaged or hostile image
        log.debug("no thumbnail: %s", exc)
        return None
    scale = width / max(w, h)
    return Image(io.BytesIO(out.getvalue()), width=w * scale, height=h * scale)


def photo_table(photos: Sequence[Photo], lang: str, font_size: float = 8) -> Table:
    """The photos as a grid: thumbnail, name and size, SHA-256 (a photo that cannot be drawn,
    or whose file no longer has its recorded digest, has "—" for a thumbnail)."""
    cell = ParagraphStyle("photo", fontName=SANS, fontSize=font_size, leading=font_size + 2)
    mono = ParagraphStyle("photom", fontName=MONO, fontSize=font_size - 1, leading=font_size + 1)
    head = ParagraphStyle("photoh", parent=cell, fontName=SANS_BOLD)
    data: list[list[object]] = [
        [
            Paragraph(escape(label(lang, "photo")), head),
            Paragraph(escape(label(lang, "file")), head),
            Paragraph("SHA-256", head),
        ]
    ]
    for p in photos:
        size = "—" if p.size is None else f"{p.size:,}".replace(",", " ")
        data.append(
            [
                thumbnail(p.data) or Paragraph("—", cell),
                Paragraph(escape(p.name) + f"<br/>{size} {escape(label(lang, 'bytes'))}", cell),
                Paragraph(escape(p.sha256), mono),
            ]
        )
    # the digest column holds 64 hex digits on one line
    table = Table(data, colWidths=[32 * mm, 40 * mm, BODY_W - 72 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), SANS, font_size, font_size + 2),
                ("GRID", (0, 0), (-1, -1), 0.4, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
