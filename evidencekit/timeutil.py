"""Aware-UTC time helpers. Time is stored in UTC and shown in the examiner's zone only when
rendered."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evidencekit.errors import UsageError

UTC = dt.UTC


def utcnow() -> dt.datetime:
    """Now, as a timezone-aware UTC datetime (microseconds kept)."""
    return dt.datetime.now(UTC)


def isoformat(value: dt.datetime) -> str:
    """RFC 3339 text in UTC with a `Z` suffix, e.g. `2026-11-29T03:40:06.123456Z`."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; evidencekit only handles aware UTC times")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> dt.datetime:
    """Parse text written by :func:`isoformat` (or any RFC 3339 time with an offset)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return value.astimezone(UTC)


def compact(value: dt.datetime) -> str:
    """UTC time safe in a file name: `20261129T034006Z`."""
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`.

    Raises:
        UsageError: the name is not a known IANA zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Asia/Ho_Chi_Minh"
        ) from exc


def system_zone_name() -> str:
    """The host's IANA zone name (e.g. Asia/Ho_Chi_Minh), or UTC when it cannot be told."""
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
        if name:
            return str(name)
    except Exception:  # tzlocal raises its own errors on odd hosts; UTC is a safe answer
        pass
    return "UTC"


def local_text(value: dt.datetime, zone_name: str) -> str:
    """`2026-11-29 10:40:06 +07:00` in `zone_name`: how times are shown to people."""
    local = value.astimezone(zone(zone_name))
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S ") + offset[:3] + ":" + offset[3:]
