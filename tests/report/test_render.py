"""Rendering: Vietnamese text exact, fonts embedded, pages numbered, long names wrapped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evidencekit.report.i18n import LABELS, LANGUAGES
from evidencekit.report.model import item_from_documents
from evidencekit.report.render import MONO, SANS, render_pdf, wrap
from tests.report.conftest import assert_fonts_embedded, assert_qpdf_ok, pdftotext
from tests.report.sample import DISK_SHA256, RECEIVER, TAR_SHA256, model, seal_disk


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
        assert "Biên bản thu giữ" in text
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


def test_model_reads_seal_documents_defensively() -> None:
    item = item_from_documents("USB01", seal_disk())
    assert item.kind == "disk"
    assert item.sha256 == DISK_SHA256
    assert [e.offset for e in item.read_errors] == [1048576, 3145728]
    assert item.media_size == 4194304
    # garbage does not break it
    odd = item_from_documents("X", {"artifacts": "nope", "facts": [1, 2], "combined": 5})
    assert odd.kind == "other" and odd.sha256 is None


def test_the_seal_helpers_format_is_understood() -> None:
    seal = {
        "schema": "evidencekit/seal/1",
        "item": "DISK1",
        "kind": "e01",
        "status": "complete-with-errors",
        "artifacts": [{"name": "DISK1.E01", "size": 10, "digests": ["md5:" + "0" * 32]}],
        "combined": {
            "format": "e01",
            "size": 1 << 20,
            "digests": ["sha256:" + DISK_SHA256],
            "window_size": 65536,
            "window_algorithm": "sha256",
            "windows": ["sha256:" + "1" * 64] * 16,
        },
        "facts": {"read_errors": [{"offset": 512, "length": 512, "errno": 5}]},
        "examiner": {"name": "Nguyễn Bá Tùng"},
        "sealed": "2026-11-29T03:00:00Z",
    }
    item = item_from_documents("DISK1", seal)
    assert item.kind == "disk" and item.sha256 == DISK_SHA256
    assert item.window_count == 16 and item.window_algorithms == ("sha256",)
    assert item.read_errors[0].error == "EIO (5)"
    assert item.sealed_by == "Nguyễn Bá Tùng" and item.sealed_at is not None


def test_typed_text_is_nfc_but_file_names_stay_as_stored(tmp_path: Path) -> None:
    import dataclasses
    import unicodedata

    nfd_name = unicodedata.normalize("NFD", "Thư mục/Nguyễn Bá Tùng.txt")
    seal = {"item": "X1", "kind": "tar", "description": unicodedata.normalize("NFD", RECEIVER)}
    manifest = {"files": [{"path": nfd_name, "size": 1, "digests": {"sha256": "5" * 64}}]}
    item = item_from_documents("X1", seal, manifest)
    assert item.description == RECEIVER  # NFC
    assert item.files[0].path == nfd_name  # untouched
    pdf = tmp_path / "nfd.pdf"
    pdf.write_bytes(render_pdf(dataclasses.replace(model(), items=(item,))))
    text = pdftotext(pdf)
    assert RECEIVER in text
    assert nfd_name in text and unicodedata.normalize("NFC", nfd_name) not in text


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
