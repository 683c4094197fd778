"""The lists an item's section holds: its sealed artifacts, unreadable extents, collected files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evidencekit.hash.seal import document as sealdoc
from evidencekit.hash.seal.document import shown_name
from evidencekit.report.model.readers import _errno_text, _int, digest_pairs, nfc
from evidencekit.report.model.values import Artifact, Extent, FileRow


def _extents(facts: Mapping[str, Any]) -> tuple[Extent, ...]:
    """The unreadable byte ranges a disk acquisition lists in its seal's `facts.read_errors`
    (`{"offset", "length", "errno", "error"}` each). A logical collection lists unreadable
    files there, which have no byte range and are shown with the files instead."""
    listed = facts.get("read_errors")
    if not isinstance(listed, list):
        return ()
    out: list[Extent] = []
    for entry in listed:
        if not isinstance(entry, Mapping):
            continue
        offset, length = _int(entry.get("offset")), _int(entry.get("length"))
        if offset is None or length is None:
            continue
        out.append(Extent(offset, length, _errno_text(entry.get("errno"))))
    return tuple(sorted(out, key=lambda e: e.offset))


def _artifacts(artifacts: Sequence[sealdoc.Artifact]) -> tuple[Artifact, ...]:
    """The sealed files; a name that is not UTF-8 (seal/2 `name_bytes`) is shown with each such
    byte as `\\xff` (the seal attached to the report holds the exact bytes)."""
    return tuple(
        Artifact(name=shown_name(a.name), size=a.size, digests=digest_pairs(a.digests))
        for a in artifacts
    )


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
    """The files of a logical manifest (`ITEM.manifest.json`, written by acquire.manifest: one
    record per entry with `path`, `kind`, `size`, `mtime`, `deleted`, `digests`, `error`)."""
    listed = manifest.get("files")
    rows: list[FileRow] = []
    if not isinstance(listed, list):
        return ()
    for entry in listed:
        if not isinstance(entry, Mapping):
            continue
        # Names exactly as stored: the manifest's text form (escaped when not valid UTF-8).
        path = entry.get("path")
        digests = entry.get("digests")
        by_alg = dict(digest_pairs(digests)) if isinstance(digests, Mapping) else {}
        notes: list[str] = []
        etype = entry.get("kind")
        if etype in ("d", "v"):
            continue
        if isinstance(etype, str) and etype != "r":
            notes.append(_KINDS.get(etype, etype))
        if entry.get("deleted") is True:
            notes.append("deleted")
        err = entry.get("error")
        if err:
            notes.append(f"error: {nfc(err)}")
        mtime = entry.get("mtime")
        rows.append(
            FileRow(
                path=str(path) if path is not None else "?",
                size=_int(entry.get("size")),
                sha256=by_alg.get("sha256"),
                modified=str(mtime) if mtime is not None else None,
                note="; ".join(notes),
            )
        )
    return tuple(rows)
