"""Font registration: the DejaVu fonts shipped in `evidencekit/data/fonts/`.

Text uses these fonts (embedded as subsets), and the canvas's initial font is set to them too, so
no un-embedded standard font (Helvetica) is ever referenced — not by the default canvas state, not
by the vector drawings or the QR code.
"""

from __future__ import annotations

from importlib import resources

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

SANS = "EKSans"
SANS_BOLD = "EKSans-Bold"
MONO = "EKMono"
_FONT_FILES = {
    SANS: "DejaVuSans.ttf",
    SANS_BOLD: "DejaVuSans-Bold.ttf",
    MONO: "DejaVuSansMono.ttf",
}


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
