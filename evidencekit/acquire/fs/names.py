"""Names and times as the manifests and listings write them: a name that is plain UTF-8 as
text, any other as escaped text plus its exact bytes in base64; nanoseconds as RFC 3339 UTC.

Shared by the file-entry model, the JSON and DFXML manifests and `ls`."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re

# Control characters (C0, DEL, C1) and what XML 1.0 cannot carry at all.
_UNSAFE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def name_is_plain(raw: bytes) -> bool:
    """True if `raw` is valid UTF-8 without control characters (safe as text in JSON and XML)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _UNSAFE_CHARS.search(text)


def escape_name(raw: bytes) -> str:
    """Readable text for any name: undecodable bytes and control characters become `\\xNN`."""
    text = raw.decode("utf-8", "surrogateescape")
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif _UNSAFE_CHARS.match(ch):
            out.extend(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


def name_fields(key: str, raw: bytes) -> dict[str, str]:
    """`{key: text}` for a plain name, else `{key: escaped, key_b64: base64 of the bytes}`."""
    if name_is_plain(raw):
        return {key: raw.decode("utf-8")}
    return {key: escape_name(raw), f"{key}_b64": base64.b64encode(raw).decode("ascii")}


def ns_to_text(ns: int | None) -> str | None:
    """Nanoseconds since the epoch -> `2012-05-25T15:59:14.123456789Z` (fraction only if any)."""
    if ns is None:
        return None
    return _ns_text(ns)


@functools.lru_cache(maxsize=1 << 16)
def _ns_text(ns: int) -> str:
    secs, frac = divmod(ns, 1_000_000_000)
    d = _EPOCH + dt.timedelta(seconds=secs)
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
