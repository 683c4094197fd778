"""The checkpoint as a vector QR code."""

from __future__ import annotations

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm

from evidencekit.report.render.fonts import SANS


def qr_drawing(text: str, size: float = 62 * mm) -> Drawing:
    """The checkpoint as a QR code of vector squares (no font, no raster image)."""
    widget = QrCodeWidget(text, barLevel="M", barWidth=size, barHeight=size, barBorder=2)
    d = Drawing(size, size, initialFontName=SANS)
    d.add(widget)
    return d
