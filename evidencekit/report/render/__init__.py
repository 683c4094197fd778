"""PDF rendering of a :class:`ReportModel` with reportlab (the only package that imports it).

Text uses the DejaVu fonts shipped in `evidencekit/data/fonts/` (embedded as subsets), and the
canvas's initial font is set to them too, so no un-embedded standard font (Helvetica) is ever
referenced — not by the default canvas state, not by the vector drawings or the QR code.

File names are drawn exactly as stored (as plain table strings, never parsed as markup); only
control characters are shown as `\\xNN` so that a hostile name cannot hide or fake a line.
Large file tables use plain strings that are wrapped here, not Paragraphs: it is ~10x faster and
keeps 5,000-file reports well inside the time budget.

Modules: `fonts` (registration), `styles` (geometry, colours, paragraph styles), `text` (names,
wrapping, sizes, times), `page` (header, footer, "page X of Y"), `tables`, `drawings` (media
map, custody lanes), `qr`, `item` (one evidence item), `photos` (thumbnails of registered
photos), `sections` (the rest), `document` (assembling the story); the Biên bản (seizure record)
in `bienban` (its layout, participants and signature blocks), `bienban_item` (one item's part)
and `bienban_text` (its styles and wording helpers).
"""

from __future__ import annotations

from evidencekit.report.render.document import render_pdf
from evidencekit.report.render.fonts import MONO, SANS, _register_fonts
from evidencekit.report.render.text import wrap

__all__ = ["MONO", "SANS", "_register_fonts", "render_pdf", "wrap"]
