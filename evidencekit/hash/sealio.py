"""Reading seals: parse (rejecting duplicate keys and unknown schemas), load, find the seal of
an item folder. Nothing here checks a signature or a digest (that is :mod:`sealcheck`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidencekit.errors import IntegrityError, UsageError
from evidencekit.fsutil import UnsafeFileError, read_regular
from evidencekit.hash.sealdoc import (
    SCHEMA_V1,
    SCHEMAS,
    SEAL_SUFFIX,
    Artifact,
    Combined,
    Seal,
    is_text_name,
)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"duplicate key {key!r}")
        doc[key] = value
    return doc


def parse_seal(path: Path, data: bytes) -> Seal:
    """Parse seal bytes (structure only; no signature or digest check).

    Raises:
        IntegrityError: not a seal document of a known schema.
    """
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        schema = doc.get("schema")
        if schema not in SCHEMAS:
            raise ValueError(f"unknown schema {schema!r} (expected one of {', '.join(SCHEMAS)})")
        for key in ("item", "kind", "status", "artifacts", "examiner"):
            if key not in doc:
                raise ValueError(f"no {key!r} member")
        if not isinstance(doc["artifacts"], list):
            raise ValueError("'artifacts' is not a list")
        arts = tuple(Artifact.from_dict(a, schema) for a in doc["artifacts"])
        comb = Combined.from_dict(doc["combined"]) if doc.get("combined") else None
        if schema != SCHEMA_V1:
            _check_v2(doc, arts, comb)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntegrityError(f"{str(path)!r} is not a valid evidencekit seal: {exc}") from exc
    return Seal(path=path, document=doc, artifacts=arts, combined=comb)


def _check_v2(doc: dict[str, Any], arts: tuple[Artifact, ...], comb: Combined | None) -> None:
    """What seal/2 adds: `case` (null, or an object naming the case identity), a SHA-256 digest
    on every artifact listed in `ITEM.sha256`, one entry per name (the signer's certificate
    chain is checked with the signature: :mod:`sealtrust`).

    Raises:
        ValueError: any of them is missing or malformed.
    """
    if "case" not in doc:
        raise ValueError("no 'case' member (null when sealed outside a case)")
    case = doc["case"]
    if case is not None:
        ident = case.get("identity") if isinstance(case, dict) else None
        algo, _, hexd = str(ident).partition(":")
        if not isinstance(ident, str) or algo != "sha256" or len(hexd) != 64:
            raise ValueError(f"bad 'case' member {case!r}")
    sums = doc.get("sums")
    if not isinstance(sums, dict) or "sha256" not in sums:
        raise ValueError("'sums' must name the sha256 sums file, which lists every artifact")
    names = [a.name for a in arts]
    if len(set(names)) != len(names):
        raise ValueError("an artifact is listed twice")
    lacking = [a for a in arts if "sha256" not in a.digests]
    if lacking:
        raise ValueError("every artifact of a seal/2 carries a sha256 digest")
    if comb is not None and not all(is_text_name(p) for p in comb.parts):
        raise ValueError("combined parts must be UTF-8 names")


MAX_SEAL_BYTES = 512 << 20
"""A seal larger than this is refused unread (one listing a million files is about 250 MB);
the limit keeps a hostile or runaway file from filling memory."""


def load_seal(path: Path) -> Seal:
    """Read and parse a seal file (no verification): a regular file, not through a link.

    Raises:
        IntegrityError: missing or malformed.
    """
    try:
        data = read_regular(path, limit=MAX_SEAL_BYTES)
    except UnsafeFileError as exc:
        raise IntegrityError(f"cannot read seal {str(path)!r}: {exc.message}") from exc
    except OSError as exc:
        raise IntegrityError(f"cannot read seal {str(path)!r}: {exc.strerror or exc}") from exc
    return parse_seal(path, data)


def find_seal(path: Path) -> Path:
    """`ITEM/` (a folder holding one `*.seal.json`) or the seal file itself -> the seal file.

    Raises:
        UsageError: no seal there, or several.
    """
    if path.is_dir():
        named = path / f"{path.name}{SEAL_SUFFIX}"
        if named.is_file():
            return named
        found = sorted(path.glob(f"*{SEAL_SUFFIX}"))
        if len(found) == 1:
            return found[0]
        raise UsageError(
            f"{str(path)!r} holds {'no' if not found else 'several'} *{SEAL_SUFFIX} files",
            hint="give the seal file itself",
        )
    return path
