"""The JSON manifest of a logical collection (`ITEM.manifest.json`), and the name and time
encodings it shares with the DFXML manifest.

File names are bytes. A name that is valid UTF-8 and holds no control character appears as
text; any other name appears escaped (`\\xNN` for each byte that cannot be shown) with the exact
bytes in base64 beside it (`path_b64`), so nothing is lost and no reader is confused.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from evidencekit.acquire.fs.model import FileEntry, Partition
from evidencekit.acquire.fs.names import name_fields
from evidencekit.fsutil import atomic_write

SCHEMA = "evidencekit/logical-manifest/1"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One SOURCE argument: a live folder/file or a disk image (and what was read in it)."""

    index: int
    path: str
    kind: str  # "live" or "image"
    root: str  # the top-level folder of its members in the container
    description: str = ""
    partitions: tuple[Partition, ...] = ()
    filesystems: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # partitions passed over, each with why (locked, no FS …)
    # an image's stored MD5/SHA-1 compared with its media (`StoredDigestCheck.to_dict()`)
    stored_digests: dict[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "index": self.index,
            **name_fields("path", os.fsencode(self.path)),
            "kind": self.kind,
            **name_fields("root", os.fsencode(self.root)),
            "description": self.description,
            "partitions": [p.to_dict() for p in self.partitions],
            "filesystems": list(self.filesystems),
            "skipped": list(self.skipped),
        }
        if self.stored_digests is not None:
            doc["stored_digests"] = self.stored_digests
        return doc


@dataclass(frozen=True, slots=True)
class CollectedFile:
    """One entry of the collection: what the source said, and where and how it was stored."""

    source: int
    partition: int | None
    entry: FileEntry
    member: bytes | None  # the name in the tar; None when not stored (socket, excluded error)
    renamed: bool = False
    stored_size: int = 0
    digests: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        doc: dict[str, object] = {"source": self.source, "partition": self.partition}
        doc.update(self.entry.to_dict())
        if self.member is not None:
            doc.update(name_fields("member", self.member))
        doc["renamed"] = self.renamed
        doc["stored_size"] = self.stored_size
        doc["digests"] = {k: f"{k}:{v}" for k, v in self.digests.items()}
        error = self.error or self.entry.error
        if error:
            doc["error"] = error
        return doc

    @property
    def failed(self) -> bool:
        return bool(self.error or self.entry.error)


@dataclass(frozen=True, slots=True)
class Collection:
    """The result of a logical collection, before sealing."""

    item_id: str
    started: dt.datetime
    finished: dt.datetime
    algorithms: tuple[str, ...]
    sources: tuple[SourceInfo, ...]
    files: tuple[CollectedFile, ...]
    container: Path
    options: dict[str, object] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def errors(self) -> list[CollectedFile]:
        return [f for f in self.files if f.failed]

    def summary(self) -> dict[str, object]:
        return {
            "entries": len(self.files),
            "files": sum(1 for f in self.files if f.entry.kind == "r"),
            "bytes": sum(f.stored_size for f in self.files),
            "deleted": sum(1 for f in self.files if f.entry.deleted),
            "renamed": sum(1 for f in self.files if f.renamed),
            "errors": len(self.errors),
            "interrupted": self.interrupted,
        }

    def to_dict(self) -> dict[str, object]:
        from evidencekit.timeutil import isoformat

        return {
            "schema": SCHEMA,
            "item": self.item_id,
            "started": isoformat(self.started),
            "finished": isoformat(self.finished),
            "container": self.container.name,
            "algorithms": list(self.algorithms),
            "options": self.options,
            "sources": [s.to_dict() for s in self.sources],
            "summary": self.summary(),
            "errors": [
                {**name_fields("path", f.entry.path), "error": f.error or f.entry.error}
                for f in self.errors
            ],
            "files": [f.to_dict() for f in self.files],
        }


def write_json_manifest(collection: Collection, path: Path) -> Path:
    """Write the JSON manifest (UTF-8, one document, one file record per line), durably."""
    doc = collection.to_dict()
    files = doc.pop("files")
    assert isinstance(files, list)
    head = json.dumps(doc, ensure_ascii=False)

    def chunks() -> Iterable[bytes]:
        yield head[:-1].encode("utf-8") + b', "files": [\n'
        for i, record in enumerate(files):
            sep = b",\n" if i < len(files) - 1 else b"\n"
            yield json.dumps(record, ensure_ascii=False).encode("utf-8") + sep
        yield b"]}\n"

    atomic_write(path, chunks())
    return path
