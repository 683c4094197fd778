"""Sizes as users type them: plain bytes, or KiB/MiB/GiB/TiB and kB/MB/GB/TB."""

from __future__ import annotations

import re

from evidencekit.errors import UsageError

_UNITS = {
    "": 1,
    "b": 1,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str, *, what: str = "size") -> int:
    """Parse `2GiB`, `640MB`, `4096` into bytes.

    Raises:
        UsageError: the text is not a size.
    """
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise UsageError(
            f"invalid {what} {text!r}",
            hint="give bytes or a number with KiB, MiB, GiB, TiB, kB, MB, GB or TB (e.g. 2GiB)",
        )
    value = float(match.group(1)) * _UNITS[unit]
    if value != int(value):
        raise UsageError(f"invalid {what} {text!r}: not a whole number of bytes")
    return int(value)


def human(n: int) -> str:
    """1536 -> '1.5 KiB'."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
