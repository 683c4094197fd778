"""Display helpers shared by the model's builders: NFC for typed text, digests as sorted pairs,
and the open `facts`/`details` mappings flattened to (key, text) rows of bounded size.

The seal and the custody events arrive typed (`hash.seal.document.Seal`, `chain.events.Event`); only
what their formats leave open (a seal's `facts`, an event's `details`, the logical manifest) is
read here as JSON values.
"""

from __future__ import annotations

import errno
import unicodedata
from collections.abc import Mapping
from typing import Any

from evidencekit.report.model.values import Pairs


def nfc(text: object) -> str:
    """Typed text for display: NFC-normalised (never used for file names)."""
    return unicodedata.normalize("NFC", str(text))


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


_ORDER = {"md5": 0, "sha1": 1, "sha256": 2, "sha512": 3, "blake3": 4}


def digest_pairs(digests: Mapping[str, str]) -> Pairs:
    """Digests as ((alg, hex), ...) in the algorithm table's order, from `{"sha256": "ab.."}`
    (a seal's artifacts and combined) or `{"sha256": "sha256:ab.."}` (the logical manifest)."""
    out: list[tuple[str, str]] = []
    for alg, hexval in digests.items():
        if not isinstance(hexval, str):
            continue
        prefix, sep, rest = hexval.partition(":")
        if sep and prefix.lower() == alg.lower():
            hexval = rest
        out.append((alg.lower(), hexval.lower()))
    return tuple(sorted(out, key=lambda p: (_ORDER.get(p[0], 9), p[0])))


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
