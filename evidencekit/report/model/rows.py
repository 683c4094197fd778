"""The lists an item's section holds: its sealed artifacts, unreadable extents, collected files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evidencekit.report.model.readers import _errno_text, _get, _int, digest_pairs, nfc
from evidencekit.report.model.values import Artifact, Extent, FileRow


def _extents(facts: Any, seal: Mapping[str, Any]) -> tuple[Extent, ...]:
    raw = _get(facts, "read_errors", "bad_sectors", "unreadable") or _get(
        seal, "read_errors", "unreadable"
    )
    if isinstance(raw, Mapping):
        raw = _get(raw, "extents", "items") or []
    out: list[Extent] = []
    if isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, Mapping):
                off = _int(_get(entry, "offset", "start", "pos"))
                length = _int(_get(entry, "length", "size", "len"))
                if off is None or length is None:
                    continue
                err = _get(entry, "errno", "errno_name", "error", "reason")
                out.append(Extent(off, length, _errno_text(err)))
            elif isinstance(entry, list | tuple) and len(entry) >= 2:
                off, length = _int(entry[0]), _int(entry[1])
                if off is not None and length is not None:
                    err = nfc(entry[2]) if len(entry) > 2 else ""
                    out.append(Extent(off, length, err))
    return tuple(sorted(out, key=lambda e: e.offset))


def _artifacts(seal: Mapping[str, Any]) -> tuple[Artifact, ...]:
    raw = _get(seal, "artifacts", "files")
    out: list[Artifact] = []
    if isinstance(raw, Mapping):
        raw = [{"name": k, **v} for k, v in raw.items() if isinstance(v, Mapping)]
    if isinstance(raw, list):
        for entry in raw:
            if not isinstance(entry, Mapping):
                continue
            name = _get(entry, "name", "path", "relative_name", "file")
            if name is None and isinstance(entry.get("name_bytes"), str):
                name = _bytes_name(entry["name_bytes"])
            out.append(
                Artifact(
                    name=str(name) if name is not None else "?",
                    size=_int(_get(entry, "size", "bytes")),
                    digests=digest_pairs(_get(entry, "digests", "hashes")),
                )
            )
    return tuple(out)


def _bytes_name(value: str) -> str:
    """A seal/2 name that is not UTF-8 (`name_bytes`, base64), shown with each byte that is not
    UTF-8 as `\\xff` (the seal attached to the report holds the exact bytes)."""
    import base64
    import binascii

    try:
        return base64.b64decode(value, validate=True).decode("utf-8", "backslashreplace")
    except (binascii.Error, ValueError):
        return "?"


_KINDS = {
    "l": "symlink",
    "p": "fifo",
    "s": "socket",
    "b": "block device",
    "c": "char device",
    "ads": "data stream",
    "v": "virtual",
}


def _file_rows(manifest: Mapping[str, Any]) -> tuple[FileRow, ...]:
    raw = _get(manifest, "files", "entries", "members")
    rows: list[FileRow] = []
    if not isinstance(raw, list):
        return ()
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        # Names exactly as stored: the manifest's text form (escaped when not valid UTF-8).
        path = _get(entry, "path", "original_path", "name", "filename")
        digests = dict(digest_pairs(_get(entry, "digests", "hashes") or {}))
        notes: list[str] = []
        etype = _get(entry, "type", "kind")
        if etype in ("d", "dir", "directory", "v", "virtual"):
            continue
        if isinstance(etype, str) and etype not in ("file", "regular", "r"):
            notes.append(_KINDS.get(etype, etype))
        if _get(entry, "deleted") is True or _get(entry, "allocated") is False:
            notes.append("deleted")
        err = _get(entry, "error")
        if err:
            notes.append(f"error: {nfc(err)}")
        mtime = _get(entry, "mtime", "modified", "times.mtime")
        rows.append(
            FileRow(
                path=str(path) if path is not None else "?",
                size=_int(_get(entry, "size")),
                sha256=digests.get("sha256"),
                modified=str(mtime) if mtime is not None else None,
                note="; ".join(notes),
            )
        )
    return tuple(rows)
