"""Device and acquisition facts in words, for the item sections of the report.

A seal's `facts` are what the tools recorded: internal field names (`source.identity.rotational`),
numbers standing for yes and no ("0"), tool messages in English ("not an ATA device"). The item
sections show a fact only when it has a name in the report's language (`i18n.FACT_LABELS`) and a
value that can be said in words here: yes/no, a size in bytes, a count, a time, a known term, or
text the examiner typed. Everything else — and everything, exactly as recorded — is in the raw
device-facts appendix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from evidencekit.report.i18n import FACT_LABELS, fact_label, label
from evidencekit.timeutil import local_text, parse_iso

_BOOLEAN = {
    "source_identity_removable",
    "source_identity_rotational",
    "source_identity_loop_direct_io",
    "source_read_only_flag",
    "device_read_only_flag_set",
    "device_read_only_flag_before",
    "summary_interrupted",
    "host_clock_NTPSynchronized",
    "options_allow_mounted",
    "options_follow_symlinks",
    "options_force",
    "options_ignore_case",
    "options_set_readonly",
    "options_verify",
    "options_verify_source",
    "options_include_deleted",
    "options_decrypt",
    "options_check_stored_digests",
}
_BYTES = {
    "size",
    "source_logical_sector_size",
    "source_physical_sector_size",
    "source_size",
    "bytes_read",
    "summary_bytes",
    "source_identity_file_size",
    "options_window",
    "options_segment_size",
    "options_max_size",
    "sources_partitions_start",
    "sources_partitions_length",
    "sources_stored_digests_covered_bytes",
}
_COUNTS = {
    "bad_sectors",
    "recovered_sectors",
    "options_retries",
    "summary_files",
    "summary_errors",
    "summary_deleted",
    "summary_entries",
    "summary_renamed",
    "sources_index",
    "sources_partitions_number",
    "sources_partitions_slot",
    "options_partition",
    "source_identity_inode",
}
_TIMES = {"source_identity_ctime", "source_identity_mtime"}
_TYPED = {
    "source_path",
    "source_segments",
    "sources_path",
    "sources_root",
    "options_notes",
    "options_evidence_number",
    "options_path",
    "options_include",
    "options_exclude",
    "options_source_timezone",
    "host_clock_Timezone",
    "source_identity_vendor",
    "source_identity_model",
    "source_identity_serial",
    "source_identity_wwn",
    "source_model",
    "source_serial",
    "device_tools_summary_model",
    "device_tools_summary_serial",
    "device_tools_summary_firmware",
    "device_tools_summary_capacity",
    "device_tools_summary_wwn",
    "sources_filesystems",
    "sources_partitions_filesystem",
}
"""Facts whose value is data (a path, a name, a serial, a zone), shown as recorded."""

_TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "format": {
        "raw": ("ảnh thô", "raw image"),
        "e01": ("E01", "E01"),
        "split": ("ảnh thô chia nhiều tệp", "split raw image"),
        "tar": ("TAR", "TAR"),
    },
    "source_kind": {
        "file": ("tệp ảnh đĩa", "image file"),
        "image": ("tệp ảnh đĩa", "image file"),
        "block-device": ("thiết bị lưu trữ", "storage device"),
        "directory": ("thư mục", "folder"),
    },
    "options_compression": {
        "fast": ("nén nhanh", "fast"),
        "best": ("nén tối đa", "best"),
        "none": ("không nén", "none"),
    },
    "device_hpa_status": {"unknown": ("không xác định được", "could not be checked")},
    "device_hpa_reason": {
        "not an ATA device": ("không phải ổ ATA", "not an ATA device"),
        "hdparm is not installed": ("máy không có hdparm", "hdparm is not installed"),
    },
    "host_clock_offset": {"unknown": ("không rõ", "unknown")},
    "sources_description": {
        "no partition table": ("không có bảng phân vùng", "no partition table"),
    },
    "sources_stored_digests_outcome": {
        "match": ("khớp", "match"),
        "mismatch": ("KHÔNG khớp", "mismatch"),
        "absent": ("không có", "absent"),
    },
    "source_identity_transport": {
        "usb": ("USB", "USB"),
        "ata": ("ATA", "ATA"),
        "scsi": ("SCSI", "SCSI"),
        "nvme": ("NVMe", "NVMe"),
    },
}
_TERMS["options_format"] = _TERMS["format"]
_TERMS["source_format"] = _TERMS["format"]
_TERMS["sources_kind"] = _TERMS["source_kind"]
_ALGORITHMS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_ALGORITHMS["blake3"] = "BLAKE3"


def algorithm_name(name: str) -> str:
    """How people write an algorithm: MD5, SHA-1, SHA-256, BLAKE3."""
    return _ALGORITHMS.get(name.lower(), name.upper())


def _bare(key: str) -> str:
    return re.sub(r"\[\d+\]", "", key).replace(".", "_")


def _grouped(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def size_in_words(n: int, lang: str) -> str:
    """ "16 777 216 byte (16.0 MiB)" ("bytes" in English)."""
    word = label(lang, "bytes")
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{_grouped(n)} {word}" + ("" if unit == "B" else f" ({value:.1f} {unit})")
        value /= 1024
    return f"{_grouped(n)} {word}"


def fact_value(lang: str, key: str, value: str, zone_name: str) -> str | None:
    """The fact `key`'s value in words in `lang`, or None when it can only be shown as recorded
    (in the appendix)."""
    bare = _bare(key)
    i = 0 if lang == "vi" else 1
    text = value.strip()
    if bare in _BOOLEAN:
        words = {"yes": "yes", "true": "yes", "1": "yes", "no": "no", "false": "no", "0": "no"}
        word = words.get(text.lower())
        if word is not None:
            return label(lang, word)
        return label(lang, "unknown") if text.lower() in ("unknown", "none", "") else None
    if bare in _BYTES or bare in _COUNTS:
        if not text.isdigit():
            return None
        return size_in_words(int(text), lang) if bare in _BYTES else _grouped(int(text))
    if bare in _TIMES:
        try:
            return local_text(parse_iso(text), zone_name)
        except (ValueError, OverflowError):
            return None
    if bare in ("options_algorithms", "options_window_algorithm"):
        names = [n.strip() for n in text.split(",") if n.strip()]
        return ", ".join(algorithm_name(n) for n in names) if names else None
    if bare in _TERMS:
        term = next((t for k, t in _TERMS[bare].items() if k.lower() == text.lower()), None)
        return None if term is None else term[i]
    if bare in _TYPED:
        return _bounds_in(lang, value)
    return None


_MORE = re.compile(r", … \(\+(\d+); (\d+) in all\)$")
_LONGER = re.compile(r" … \((\d+) characters in all\)$")


def _bounds_in(lang: str, value: str) -> str:
    """A long value cut by the model ("… (+N; M in all)") says so in `lang`."""
    value = _MORE.sub(lambda m: ", " + label(lang, "more_values", more=m[1], total=m[2]), value)
    return _LONGER.sub(lambda m: " " + label(lang, "more_text", total=m[1]), value)


def facts_in_words(
    pairs: Sequence[tuple[str, str]], lang: str, zone_name: str
) -> list[tuple[str, str]]:
    """The facts the item sections show: named and said in words, source before device before
    the rest; the others are only in the appendix."""

    def rank(key: str) -> int:
        return 0 if key.startswith("source") else (1 if key.startswith("device") else 2)

    out: list[tuple[str, str]] = []
    for key, value in sorted(pairs, key=lambda kv: rank(kv[0])):
        if _bare(key) not in FACT_LABELS:
            continue
        words = fact_value(lang, key, value, zone_name)
        if words is not None:
            out.append((fact_label(lang, key), words))
    return out
