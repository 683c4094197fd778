"""Defensive readers of the seal, manifest and ledger documents (read as plain dicts).

A document may come from an older or newer writer: every reader returns None (or an empty
result) for a field that is missing or of an unexpected type, so a report still renders.
"""

from __future__ import annotations

import datetime as dt
import errno
import unicodedata
from collections.abc import Mapping
from typing import Any

from evidencekit.report.model.values import Pairs
from evidencekit.timeutil import parse_iso


def nfc(text: object) -> str:
    """Typed text for display: NFC-normalised (never used for file names)."""
    return unicodedata.normalize("NFC", str(text))


def _get(doc: Mapping[str, Any] | None, *keys: str) -> Any:
    """The first of `keys` present (and not None) in `doc`; dotted keys walk nested dicts."""
    if not isinstance(doc, Mapping):
        return None
    for key in keys:
        value: Any = doc
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                break
        if value is not None:
            return value
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else None
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return None
    return None


def digest_pairs(value: Any) -> Pairs:
    """Digests as ((alg, hex), ...) from `{"sha256": "ab.."}`, `{"sha256": "sha256:ab.."}`,
    `["sha256:ab..", ...]` or `[{"algorithm": "sha256", "value": "ab.."}]`."""
    out: list[tuple[str, str]] = []

    def add(alg: str, hexval: str) -> None:
        if ":" in hexval:
            prefix, _, rest = hexval.partition(":")
            if prefix.lower() == alg.lower() or not alg:
                alg, hexval = prefix, rest
        out.append((alg.lower(), hexval.lower()))

    if isinstance(value, Mapping):
        for alg, hexval in value.items():
            if isinstance(hexval, str):
                add(str(alg), hexval)
    elif isinstance(value, list | tuple):
        for entry in value:
            if isinstance(entry, str) and ":" in entry:
                add("", entry)
            elif isinstance(entry, Mapping):
                alg = _get(entry, "algorithm", "alg", "name")
                hexval = _get(entry, "value", "hex", "digest")
                if isinstance(alg, str) and isinstance(hexval, str):
                    add(alg, hexval)
    order = {"md5": 0, "sha1": 1, "sha256": 2, "sha512": 3, "blake3": 4}
    return tuple(sorted(out, key=lambda p: (order.get(p[0], 9), p[0])))


_MAX_LIST = 8


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]], skip: set[str]) -> None:
    if isinstance(value, Mapping):
        for key, sub in value.items():
            if str(key) in skip:
                continue
            _flatten(f"{prefix}.{key}" if prefix else str(key), sub, out, skip)
    elif isinstance(value, list | tuple):
        if value and all(not isinstance(v, Mapping | list | tuple) for v in value):
            out.append((prefix, _bounded_list([nfc(v) for v in value])))
        elif len(value) == 1:
            _flatten(prefix, value[0], out, skip)
        elif value:
            for n, sub in enumerate(value[:_MAX_LIST], 1):
                _flatten(f"{prefix}[{n}]", sub, out, skip)
            if len(value) > _MAX_LIST:
                out.append((prefix, f"… ({len(value)})"))
    elif value is not None and value != "":
        if isinstance(value, bool):
            out.append((prefix, "yes" if value else "no"))
        else:
            out.append((prefix, _bounded(nfc(value))))


_MAX_SCALARS = 40
_MAX_TEXT = 4000
"""One fact's value is one table cell, which cannot break across pages: a list of thousands of
files (an interrupted seal's `not_sealed`) or a huge text is shown in part, with its full size;
the whole of it is in the seal attached to the report."""


def _bounded_list(values: list[str]) -> str:
    if len(values) <= _MAX_SCALARS:
        return _bounded(", ".join(values))
    shown = _bounded(", ".join(values[:_MAX_SCALARS]))
    return f"{shown}, … (+{len(values) - _MAX_SCALARS}; {len(values)} in all)"


def _bounded(text: str) -> str:
    if len(text) <= _MAX_TEXT:
        return text
    return f"{text[:_MAX_TEXT]} … ({len(text)} characters in all)"


def _errno_text(err: Any) -> str:
    if isinstance(err, int) and not isinstance(err, bool):
        name = errno.errorcode.get(err)
        return f"{name} ({err})" if name else str(err)
    return nfc(err) if err is not None else ""
