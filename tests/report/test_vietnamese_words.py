"""A Vietnamese report says everything in Vietnamese: no English word, no internal key (the
tools' field names) and no raw tool message outside the raw device-facts appendix.

The oracle is `pdftotext` on the demo case's Vietnamese report (a real acquisition, collection,
custody hand-overs and verifications). Every word of plain ASCII letters must be a technical term
of the allow-list, a word of the case's own data, or a Vietnamese syllable (a word with Vietnamese
letters or tone marks is Vietnamese by its letters); English function words are refused even
where they happen to spell a Vietnamese syllable.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from evidencekit.report.words import fact_value
from tests.report.conftest import pdftotext

TECHNICAL = {
    "md5", "sha", "blake3", "e01", "ntfs", "fat16", "exfat", "ext4", "utc", "pades", "c2sp",
    "rfc", "qr", "pdf", "pdfsig", "json", "jsonl", "jsonld", "case", "uco", "tar", "dfxml",
    "merkle", "hpa", "dco", "ntp", "blkroget", "blkroset", "wwn", "inode", "ctime", "mtime",
    "sector", "model", "byte", "kib", "mib", "gib", "tib", "usb", "ata", "scsi", "nvme",
    "cccd", "cmnd", "evidencekit", "sleuth", "kit", "id", "ecdsa", "ld", "logic", "stt", "gb",
    "mb", "tb",
}  # fmt: skip
"""Names of formats, algorithms, standards and tools: the same in a Vietnamese text."""

ENGLISH_FUNCTION_WORDS = {
    "the", "and", "of", "to", "in", "on", "is", "are", "at", "by", "for", "no", "yes", "or",
    "as", "be", "it", "this", "that", "with", "from", "can", "has", "was", "not", "none",
    "true", "false", "null", "unknown", "match", "ok",
}  # fmt: skip

_ONSET = r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
_RHYME = (
    r"(?:uye|uya|oai|oay|uoi|ieu|yeu|oa|oe|uy|ua|uo|ie|ye|ue|ai|ao|au|ay|eo|ia|iu|oi|ui"
    r"|a|e|i|o|u|y)"
)
_FINAL = r"(?:ch|nh|ng|c|m|n|p|t|i|y|o|u)?"
SYLLABLE = re.compile(f"^{_ONSET}{_RHYME}{_FINAL}$")
"""A Vietnamese syllable written without its diacritics (onset, vowel, final)."""

APPENDIX = "Phụ lục: thông tin thiết bị nguyên bản"
CHECKPOINT_NOTE = "Văn bản điểm kiểm tra đã ký (C2SP)"


def _is_identifier(chunk: str) -> bool:
    """A file name, path, digest, id, base64 or time: data, not words."""
    if re.search(r"[0-9/._@+=\\:]", chunk):
        return True
    if re.search(r"[a-z][A-Z]", chunk):  # mixed case: base64 or a key
        return True
    # a piece of a digest or a random id wrapped at a line's end ("…54" / "bad") is data too
    return bool(re.fullmatch(r"[0-9a-f]{8,}|[a-f]{1,7}", chunk))


def english_words(text: str, data: set[str]) -> list[str]:
    """The words of `text` that are neither Vietnamese, technical nor the case's data."""
    # commands the reader types (`evidencekit report verify …`, options) are commands
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"evidencekit\s+report\s+[a-z]+", " ", text)
    text = re.sub(r"--[a-z][a-z-]*", " ", text)
    found = []
    for chunk in text.split():
        chunk = chunk.strip("()[]«»,.;:!?\"'“”‘’—–…·→")
        if not chunk or _is_identifier(chunk):
            continue
        for word in re.split(r"[-–]", chunk):
            if not word or not word.isascii() or not word.isalpha() or _is_identifier(word):
                continue  # Vietnamese letters, not a word, or a piece of an id wrapped at a
                # hyphen ("…-ecea-" of a UUID at a line's end)
            low = word.lower()
            if low in TECHNICAL or low in data:
                continue
            if low in ENGLISH_FUNCTION_WORDS or not SYLLABLE.match(low):
                found.append(word)
    return found


def test_the_oracle_catches_english_and_internal_keys() -> None:
    """The checker itself: what the report used to print is caught, Vietnamese is not."""
    leaks = (
        "image: match; verification passed; bad_sectors: 0; Host is down; "
        "source.identity.loop_backing_file; device.tools[1].command; not an ATA device; "
        "C2SP signed note; seal USB01; custody JSON Lines"
    )
    found = english_words(leaks, set())
    for word in ("image", "match", "verification", "passed", "Host", "down", "signed", "note"):
        assert word in found, word
    assert english_words("bad_sectors: 0", set()) == []  # an identifier alone: caught below
    assert english_words("ecea- 4b1f", set()) == []  # a UUID wrapped after a hyphen
    vietnamese = (
        "Nguyễn Bá Tùng bàn giao vật chứng USB01 cho Trương Đình Bủng. Công an tỉnh; "
        "ảnh đĩa định dạng E01; giá trị băm SHA-256 khớp; Đĩa quay: không; Trang 1 / 9"
    )
    assert english_words(vietnamese, set()) == []


def test_facts_are_said_in_words() -> None:
    assert fact_value("vi", "source.identity.rotational", "0", "UTC") == "không"
    assert fact_value("vi", "source.identity.removable", "1", "UTC") == "có"
    assert fact_value("en", "source.identity.rotational", "0", "UTC") == "no"
    assert fact_value("vi", "size", "16777216", "UTC") == "16 777 216 byte (16.0 MiB)"
    assert fact_value("vi", "device.hpa.reason", "not an ATA device", "UTC") == "không phải ổ ATA"
    # a tool's message, an internal key: only in the appendix
    assert fact_value("vi", "host_clock.timedatectl", "Failed to connect to bus", "UTC") is None
    assert fact_value("vi", "source.identity.loop_backing_file", "/tmp/x.img", "UTC") is None
    assert fact_value("vi", "device.tools[1].command", "hdparm, -I", "UTC") is None


@pytest.mark.slow
def test_the_vietnamese_demo_report_has_no_english_outside_the_appendix(tmp_path: Path) -> None:
    from evidencekit.workflows.demo import run_demo

    result = run_demo(tmp_path / "demo")
    vi = next(p for p in result.reports if p.name.endswith("-vi.pdf") and "bien-ban" not in p.name)
    text = pdftotext(vi)
    assert APPENDIX in text, "the raw device-facts appendix is missing"
    body, appendix = text.split(APPENDIX, 1)
    # the signed checkpoint is data (base64 wrapped anywhere, even to a lone letter)
    note, after = body.split(CHECKPOINT_NOTE, 1)[1].split("Tệp đính kèm", 1)
    assert "evidencekit.case/VKS-2024-06/" in note
    body = body.split(CHECKPOINT_NOTE, 1)[0] + after
    # the case's own data: the host's name, and what the examiner typed when registering
    from evidencekit.case import Case
    from evidencekit.workflows.custody import list_events

    typed = " ".join(
        str(e.get(k) or "")
        for e in list_events(Case.open(result.case_dir))
        if e["kind"] == "registered"
        for k in ("description", "condition", "location")
    )
    data = {"demo", *re.split(r"[^a-z]+", f"{socket.gethostname()} {typed}".lower())}
    words = english_words(body, data)
    assert words == [], f"English in the Vietnamese report: {sorted(set(words))}"
    # nor an internal key, nor a raw tool value, outside the appendix
    for key in ("bad_sectors", "loop_backing_file", "tools[", "host_clock", "options.", "source."):
        assert key not in body, key
    for raw in ("not an ATA device", "verification passed", "image: match", "unknown"):
        assert raw not in body, raw
    # the appendix keeps the raw facts for experts
    for raw in ("source.identity.inode", "device.hpa.reason", "not an ATA device"):
        assert raw in appendix, raw
    # … with Vietnamese letters intact (DejaVu Sans Mono lacks 46 of them: values are in Sans)
    assert "Ảnh đĩa mẫu của bản trình diễn evidencekit" in " ".join(appendix.split())
    # facts in words, a receipt the right way round, the crypto seal worded apart from the
    # physical seal
    assert "Cờ chỉ đọc" in body or "Đã đặt cờ chỉ đọc" in body
    assert "Trương Đình Bủng tiếp nhận vật chứng USB01" in body or (
        "Trương Đình Bủng nhận vật chứng USB01 từ Nguyễn Bá Tùng" in body
    )
    assert "chốt giá trị băm và ký số" in " ".join(body.split()).lower()
    # the Biên bản of the demo's seizure session is Vietnamese through and through
    record = next(p for p in result.reports if "bien-ban" in p.name)
    words = english_words(pdftotext(record), data)
    assert words == [], f"English in the Biên bản: {sorted(set(words))}"


def test_a_tools_error_message_is_quoted_only_in_the_appendix(tmp_path: Path) -> None:
    import dataclasses

    from evidencekit.report.model import FileRow
    from evidencekit.report.render import render_pdf
    from tests.report.sample import model

    m = model("vi", n_files=2)
    logical = m.items[1]
    bad = FileRow(
        "Tài liệu/hỏng.doc", 10, None, None, "error: read error at offset 0: Input/output error"
    )
    m = dataclasses.replace(
        m, items=(m.items[0], dataclasses.replace(logical, files=(*logical.files, bad)))
    )
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(render_pdf(m))
    text = " ".join(pdftotext(pdf).split())
    body, appendix = text.split(APPENDIX, 1)
    assert "lỗi khi đọc tệp (thông báo nguyên văn ở phụ lục)" in body
    assert "Input/output error" not in body
    assert (
        "Tài liệu/hỏng.doc" in appendix and "read error at offset 0: Input/output error" in appendix
    )


def test_a_long_value_says_it_was_cut_in_the_reports_language() -> None:
    from evidencekit.report.model.readers import _bounded_list

    value = _bounded_list([f"/dev/sdb{i}" for i in range(45)])
    vi = fact_value("vi", "source.segments", value, "UTC")
    assert vi is not None and vi.endswith("… (còn 5; tổng cộng 45, đủ cả trong bản chốt đính kèm)")
    assert fact_value("en", "source.segments", value, "UTC") == value  # "… (+5; 45 in all)"
