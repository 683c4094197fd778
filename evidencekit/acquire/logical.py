"""Logical collection: files from live folders and from inside disk images into one PAX tar,
hashed in the same pass, with DFXML and JSON manifests.

A SOURCE that is a folder (or a file without a disk-image name) is collected live; a file with a
disk-image name (`.E01`, `.dd`, `.raw`, `.img`, `.qcow2`, `.vmdk`, `.vhd`, `.000`/`.001`, …),
or any file when `--partition`/`--path` is given, is opened as an image. A file that cannot be
read is recorded with its reason and the collection goes on; the caller seals the result as
`complete-with-errors`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evidencekit.acquire.container import MemberNames, PaxTarWriter
from evidencekit.acquire.dfxml import write_dfxml
from evidencekit.acquire.filesystems import (
    Credentials,
    FileEntry,
    FileSystem,
    Partition,
    Reader,
    open_image,
)
from evidencekit.acquire.livefs import LiveFileSystem
from evidencekit.acquire.manifest import (
    CollectedFile,
    Collection,
    SourceInfo,
    write_json_manifest,
)
from evidencekit.errors import AcquisitionError, SourceError, UsageError
from evidencekit.hash.algorithms import DEFAULT_ARTIFACT_ALGORITHMS
from evidencekit.hash.multihash import HashResult, hash_file
from evidencekit.timeutil import utcnow, zone

log = logging.getLogger(__name__)

IMAGE_NAME = re.compile(
    r"\.(e01|ex01|s01|l01|dd|raw|img|bin|iso|dmg|qcow2?|vmdk|vhdx?|\d{3}|aa)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """What to collect and how (the `acquire files` flags)."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    ignore_case: bool = False
    max_size: int | None = None
    include_deleted: bool = False
    follow_symlinks: bool = False
    partition: int | None = None
    inside_path: str | None = None
    source_timezone: str = "UTC"
    algorithms: tuple[str, ...] = tuple(DEFAULT_ARTIFACT_ALGORITHMS)
    credentials: Credentials = field(default_factory=Credentials)

    def to_dict(self) -> dict[str, object]:
        return {
            "include": list(self.includes),
            "exclude": list(self.excludes),
            "ignore_case": self.ignore_case,
            "max_size": self.max_size,
            "include_deleted": self.include_deleted,
            "follow_symlinks": self.follow_symlinks,
            "partition": self.partition,
            "path": self.inside_path,
            "source_timezone": self.source_timezone,
            "algorithms": list(self.algorithms),
        }


@dataclass(frozen=True, slots=True)
class CollectOutputs:
    """The files a collection wrote (all inside the item folder)."""

    container: Path
    dfxml: Path
    manifest: Path
    container_hash: HashResult


class _Filter:
    def __init__(self, opts: CollectOptions) -> None:
        self._fold = opts.ignore_case
        self._inc = [self._norm(p) for p in opts.includes]
        self._exc = [self._norm(p) for p in opts.excludes]
        self._pruned: list[bytes] = []

    def _norm(self, text: str | bytes) -> str:
        # Matching only (names are stored as they are): a typed "Báo*" (NFC) must match a name
        # a Mac stored decomposed (NFD).
        s = text if isinstance(text, str) else text.decode("utf-8", "surrogateescape")
        s = unicodedata.normalize("NFC", s)
        return s.casefold() if self._fold else s

    def _matches(self, patterns: list[str], path: bytes) -> bool:
        full = self._norm(path)
        base = full.rsplit("/", 1)[-1]
        for pat in patterns:
            target = full if "/" in pat.strip("/") else base
            if fnmatch.fnmatchcase(target, pat.strip("/")):
                return True
        return False

    def keep(self, entry: FileEntry) -> bool:
        path = entry.path
        if any(path == p or path.startswith(p + b"/") for p in self._pruned):
            return False
        if path and self._exc and self._matches(self._exc, path):
            if entry.kind == "d":
                self._pruned.append(path)
            return False
        if not self._inc or not path:
            return True
        if entry.kind == "d":
            return False  # tar -x recreates the parents of included files
        return self._matches(self._inc, path)


def _unique(label: bytes, used: set[bytes]) -> bytes:
    from evidencekit.acquire.container import safe_component

    label = safe_component(label or b"root")
    candidate, n = label, 1
    while candidate in used:
        n += 1
        candidate = label + b"~%d" % n
    used.add(candidate)
    return candidate


def is_image(path: Path, opts: CollectOptions) -> bool:
    """Whether SOURCE is opened as a disk image (see the module docstring)."""
    try:
        st = path.stat()
    except OSError as exc:
        raise SourceError(
            f"cannot open source {str(path)!r}: {exc.strerror}", hint="check the path"
        ) from exc
    if path.is_dir():
        return False
    if opts.partition is not None or opts.inside_path is not None:
        return True
    return bool(IMAGE_NAME.search(path.name)) and st.st_size > 0


class _Collector:
    def __init__(
        self,
        writer: PaxTarWriter,
        opts: CollectOptions,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.writer = writer
        self.opts = opts
        self.names = MemberNames()
        self.files: list[CollectedFile] = []
        self.on_progress = on_progress
        self._current: tuple[int, int | None, FileEntry, bytes, bool] | None = None

    def interrupted(self) -> None:
        """Record the member being written when Ctrl-C came (the writer pads it with zeros)."""
        cur = self._current
        if cur is None:
            return  # nothing was in flight
        source, partition, e, member, renamed = cur
        if self.writer.in_member():
            error = "interrupted while copying; the rest is stored as zeros"
        else:
            error = "interrupted just after copying; its digests were not recorded"
        self.files.append(CollectedFile(source, partition, e, member, renamed, error=error))

    def run(
        self, source: int, partition: int | None, root: bytes, fs: FileSystem, start: bytes
    ) -> None:
        filt = _Filter(self.opts)
        entries: Iterator[FileEntry] = fs.walk(start, include_deleted=self.opts.include_deleted)
        for entry in entries:
            if not filt.keep(entry):
                continue
            self.files.append(self._store(source, partition, root, fs, entry))
            self._current = None

    def _store(
        self, source: int, partition: int | None, root: bytes, fs: FileSystem, e: FileEntry
    ) -> CollectedFile:
        if e.kind == "s":
            note = "socket: recorded, not stored (a tar cannot hold one)"
            return CollectedFile(source, partition, _with_note(e, note), None)
        if e.kind in ("v", "V", "h", "w") or (e.kind == "-" and e.error):
            return CollectedFile(source, partition, e, None)
        max_size = self.opts.max_size
        if e.kind == "r" and max_size is not None and e.size > max_size:
            note = f"not stored: larger than --max-size ({max_size} bytes)"
            return CollectedFile(source, partition, _with_note(e, note), None)
        if e.kind == "r" and e.error and e.ref is None:
            return CollectedFile(source, partition, e, None)  # metadata unusable: no content
        member, renamed = self.names.assign(root, e.path, e.stream, e.kind)
        self._current = (source, partition, e, member, renamed)
        if e.kind in ("d", "l", "p", "c", "b"):
            self.writer.add_entry(member, e)
            return CollectedFile(source, partition, e, member, renamed)
        reader: Reader | None = None
        if e.kind == "r" and e.inode is not None and e.size:
            try:
                reader = fs.open(e)
            except OSError as exc:
                error = f"cannot open: {exc.strerror or exc}"
                return CollectedFile(source, partition, e, None, renamed, error=error)
        # a deleted name without metadata, or an empty file, is stored as an empty member
        size = e.size if reader is not None else 0
        stored = self.writer.add_file(
            member, e, reader, size, self.opts.algorithms, on_progress=self.on_progress
        )
        return CollectedFile(
            source,
            partition,
            e,
            member,
            renamed,
            stored_size=stored.size,
            digests=stored.digests,
            error=stored.error,
        )


def _with_note(e: FileEntry, note: str) -> FileEntry:
    return replace(e, note=note if not e.note else f"{e.note}; {note}")


def collect(
    sources: list[Path],
    item_dir: Path,
    item_id: str,
    opts: CollectOptions,
    *,
    on_progress: Callable[[int], None] | None = None,
    command_line: str | None = None,
) -> tuple[Collection, CollectOutputs]:
    """Collect `sources` into `item_dir/ITEM.tar` with `ITEM.dfxml` and `ITEM.manifest.json`.

    Raises:
        UsageError: bad options (unknown zone, no such partition).
        SourceError: a source cannot be opened at all (a corrupt or unrecognised image: the
            message names what was tried). Per-file problems do not raise: they are recorded.
        AcquisitionError: the container cannot be written.
    """
    if not sources:
        raise UsageError("no SOURCE given", hint="name folders, files or disk images to collect")
    tz = zone(opts.source_timezone)
    kinds = [(p, is_image(p, opts)) for p in sources]  # fail on a missing source before writing
    outputs = CollectOutputs(
        container=item_dir / f"{item_id}.tar",
        dfxml=item_dir / f"{item_id}.dfxml",
        manifest=item_dir / f"{item_id}.manifest.json",
        container_hash=HashResult(0, {}),
    )
    started = utcnow()
    infos: list[SourceInfo] = []
    used_roots: set[bytes] = set()
    inside = os.fsencode(opts.inside_path) if opts.inside_path else b"/"
    writer = PaxTarWriter(outputs.container, tuple(opts.algorithms))
    ok = False
    interrupted = False
    collector = _Collector(writer, opts, on_progress)
    try:
        try:
            _collect_sources(collector, kinds, opts, tz, inside, infos, used_roots)
        except KeyboardInterrupt:
            # Ctrl-C: keep what was collected, closed as a valid tar, and say so everywhere;
            # the caller seals it as incomplete (DESIGN.md: never a valid-looking seal).
            interrupted = True
            collector.interrupted()
        tar_hash = writer.close()
        if interrupted:  # hashing threads may have stopped at different bytes: hash it again
            tar_hash = hash_file(outputs.container, opts.algorithms)
        ok = True
    finally:
        if not ok:
            writer.abort()
            _remove_partial(outputs)
    collection = Collection(
        item_id=item_id,
        started=started,
        finished=utcnow(),
        algorithms=tuple(opts.algorithms),
        sources=tuple(infos),
        files=tuple(collector.files),
        container=outputs.container,
        options=opts.to_dict(),
        interrupted=interrupted,
    )
    write_dfxml(collection, outputs.dfxml, command_line=command_line)
    write_json_manifest(collection, outputs.manifest)
    return collection, replace(outputs, container_hash=tar_hash)


def _collect_sources(
    collector: _Collector,
    kinds: list[tuple[Path, bool]],
    opts: CollectOptions,
    tz: dt.tzinfo,
    inside: bytes,
    infos: list[SourceInfo],
    used_roots: set[bytes],
) -> None:
    for index, (path, image) in enumerate(kinds):
        root = _unique(os.fsencode(path.name) or b"root", used_roots)
        if not image:
            if opts.inside_path is not None:
                raise UsageError(
                    f"--path is for disk images; {str(path)!r} is a live folder or file"
                )
            live = LiveFileSystem(path, follow_symlinks=opts.follow_symlinks)
            infos.append(
                SourceInfo(
                    index,
                    str(path),
                    "live",
                    root.decode("utf-8", "surrogateescape"),
                    live.description,
                )
            )
            collector.run(index, None, root, live, b"/")
            continue
        with open_image(path, credentials=opts.credentials, local_zone=tz) as disk:
            chosen = disk.filesystems(opts.partition)
            partitions: tuple[Partition, ...] = tuple(disk.partitions)
            infos.append(
                SourceInfo(
                    index,
                    str(path),
                    "image",
                    root.decode("utf-8", "surrogateescape"),
                    disk.description,
                    partitions,
                    tuple(fs.description for _p, fs in chosen),
                )
            )
            for part, fs in chosen:
                proot = root + (b"/p%d" % part.number if part and part.number else b"")
                try:
                    collector.run(index, part.number if part else None, proot, fs, inside)
                finally:
                    fs.close()


def _remove_partial(outputs: CollectOutputs) -> None:
    """A collection that failed leaves no valid-looking container behind."""
    for p in (outputs.container, outputs.dfxml, outputs.manifest):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # pragma: no cover - reported, not hidden
            raise AcquisitionError(f"cannot remove partial output {str(p)!r}: {exc}") from exc


# -- verification plug-in ------------------------------------------------------------------
# `verify` imports this module (workflows/verify.py PLUGIN_MODULES); on import we register a
# checker that proves each tar member holds what the sealed manifest says it holds.


def check_tar_item(seal: Any) -> list[Any]:
    """Re-read ITEM.tar and compare every member with `ITEM.manifest.json` (digests, sizes, and
    that each listed member is there and nothing else is).

    Returns problems (`member-mismatch`, `member-missing`, `member-extra`, `malformed-manifest`).
    """
    import base64
    import json
    import tarfile

    from evidencekit.hash.multihash import MultiHasher
    from evidencekit.hash.seal import Problem

    item = seal.item_id
    tar_name, manifest_name = f"{item}.tar", f"{item}.manifest.json"
    try:
        doc = json.loads(seal.artifact_path(manifest_name).read_bytes())
        listed: dict[bytes, dict[str, Any]] = {}
        for rec in doc["files"]:
            if "member" not in rec:
                continue
            raw = (
                base64.b64decode(rec["member_b64"])
                if "member_b64" in rec
                else rec["member"].encode("utf-8")
            )
            listed[raw] = rec
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [Problem("malformed-manifest", manifest_name, f"cannot read the manifest: {exc}")]
    problems: list[Any] = []
    seen: set[bytes] = set()
    try:
        with tarfile.open(
            seal.artifact_path(tar_name), mode="r|", encoding="utf-8", errors="surrogateescape"
        ) as tar:
            for member in tar:
                name = member.name.encode("utf-8", "surrogateescape").rstrip(b"/")
                rec = listed.get(name)
                shown = name.decode("utf-8", "backslashreplace")
                if rec is None:
                    problems.append(Problem("member-extra", tar_name, f"{shown!r} is not listed"))
                    continue
                seen.add(name)
                if not member.isfile():
                    continue
                digests = {
                    k: v.split(":", 1)[1] for k, v in rec.get("digests", {}).items() if ":" in v
                }
                if not digests:
                    continue
                hasher = MultiHasher(list(digests))
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                while chunk := fh.read(4 << 20):
                    hasher.update(chunk)
                found = hasher.result()
                for algo, want in digests.items():
                    if found.digests.get(algo) != want:
                        problems.append(
                            Problem(
                                "member-mismatch",
                                tar_name,
                                f"member {shown!r} does not hold what the manifest lists",
                                expected=f"{algo}:{want}",
                                found=f"{algo}:{found.digests.get(algo)}",
                            )
                        )
                        break
    except (OSError, tarfile.TarError) as exc:
        problems.append(Problem("unreadable-file", tar_name, f"cannot read the tar: {exc}"))
        return problems
    for name in listed.keys() - seen:
        shown = name.decode("utf-8", "backslashreplace")
        problems.append(Problem("member-missing", tar_name, f"{shown!r} is listed but absent"))
    return problems


def _register() -> None:
    from evidencekit.hash.seal import register_item_checker

    register_item_checker("tar", check_tar_item)


_register()
