"""Rendering: Vietnamese text exact, fonts embedded, pages numbered, long names wrapped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evidencekit.report.i18n import LABELS, LANGUAGES
from evidencekit.report.render import MONO, SANS, render_pdf, wrap
from tests.report.conftest import assert_fonts_embedded, assert_qpdf_ok, pdftotext
from tests.report.sample import DISK_SHA256, RECEIVER, TAR_SHA256, model


def test_every_label_exists_in_both_languages() -> None:
    for key, entry in LABELS.items():
        assert set(entry) == set(LANGUAGES), key
        assert all(entry[lang].strip() for lang in LANGUAGES), key


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_text_fonts_and_structure(tmp_path: Path, lang: str) -> None:
    pdf = tmp_path / f"r-{lang}.pdf"
    pdf.write_bytes(render_pdf(model(lang)))
    assert_qpdf_ok(pdf)
    assert_fonts_embedded(pdf)
    text = pdftotext(pdf)
    for needle in ("Nguyễn Bá Tùng", RECEIVER, DISK_SHA256, TAR_SHA256, "R-20261129T030000Z"):
        assert needle in text, needle
    if lang == "vi":
        assert "Thu thập, chốt giá trị băm và chuỗi hành trình chứng cứ" in " ".join(text.split())
        pages = re.findall(r"Trang (\d+) / (\d+)", text)
    else:
        pages = re.findall(r"Page (\d+) of (\d+)", text)
    assert pages and pages[0] == ("1", pages[0][1])
    total = int(pages[0][1])
    assert [int(p) for p, _t in pages] == list(range(1, total + 1))
    assert all(int(t) == total for _p, t in pages)
    # times in the examiner's zone, with the offset
    assert "+07:00" in text


def test_hostile_names_are_shown_escaped_not_interpreted(tmp_path: Path) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(model("vi")))
    text = pdftotext(pdf)
    assert "bad\\x0aname<b>&amp;.txt" in text


def test_wrap_keeps_every_line_inside_the_column() -> None:
    from reportlab.pdfbase import pdfmetrics

    from evidencekit.report.render import _register_fonts

    _register_fonts()
    name = "Thư mục rất dài/" * 12 + "x" * 200
    out = wrap(name, SANS, 7, 120)
    assert out.replace("\n", "") == name  # nothing lost or changed
    for line in out.split("\n"):
        assert pdfmetrics.stringWidth(line, SANS, 7) <= 120
    digest = "a" * 64
    assert wrap(digest, MONO, 6.2, 500) == digest


def test_fact_labels_exist_in_both_languages() -> None:
    from evidencekit.report.i18n import FACT_LABELS, fact_label

    for key, entry in FACT_LABELS.items():
        assert set(entry) == set(LANGUAGES), key
    assert fact_label("vi", "source.identity.model") == "Model thiết bị"
    assert fact_label("en", "some.unknown_fact") == "some.unknown_fact"
    assert fact_label("vi", "sources.partitions[4].encryption") == "Phân vùng: mã hóa [4]"
    assert fact_label("en", "sources.skipped") == "Source: partitions not collected (why)"
    assert fact_label("en", "sources.partitions[2].oddity") == "sources.partitions[2].oddity"


def test_drawings_are_vectors_not_images(tmp_path: Path) -> None:
    from tests.conftest import need_peer
    from tests.report.conftest import run

    need_peer("pdfimages")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(model("vi")))
    listing = run("pdfimages", "-list", str(pdf)).stdout.splitlines()
    assert len(listing) == 2, listing  # the header lines only: QR, media map, lanes are vectors
