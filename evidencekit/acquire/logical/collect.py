"""Logical collection: files from live folders and from inside disk images into one PAX tar,
hashed in the same pass, with DFXML and JSON manifests.

A SOURCE that is a folder is collected live; a file (or block device) that is a disk image by its
content (`fs.open.recognised_image`, the rule `ls` uses too: a container, a partition table
or a file system, whatever its name), or any file when `--partition`/`--path` is given, is opened
as an image; any other file is collected as a file, and when its name looks like an image's the
manifest says it was not recognised as one. A file that cannot be
read is recorded with its reason and the collection goes on; the caller seals the result as
`complete-with-errors`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from evidencekit.acquire.fs.livefs import LiveFileSystem
from evidencekit.acquire.fs.model import DiskImage, Partition
from evidencekit.acquire.fs.open import open_image, recognised_image
from evidencekit.acquire.logical.collector import Collector
from evidencekit.acquire.logical.dfxml import write_dfxml
from evidencekit.acquire.logical.manifest import Collection, SourceInfo, write_json_manifest
from evidencekit.acquire.logical.member_names import safe_component
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.acquire.logical.tar_writer import PaxTarWriter
from evidencekit.errors import AcquisitionError, SourceError, UsageError
from evidencekit.hash.multihash import HashResult, hash_file
from evidencekit.timeutil import utcnow, zone

__all__ = [
    "IMAGE_NAME",
    "CollectOutputs",
    "collect",
    "is_image",
]

log = logging.getLogger(__name__)

IMAGE_NAME = re.compile(
    r"\.(e01|ex01|s01|l01|dd|raw|img|bin|iso|dmg|qcow2?|vmdk|vhdx?|\d{3}|aa)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class CollectOutputs:
    """The files a collection wrote (all inside the item folder)."""

    container: Path
    dfxml: Path
    manifest: Path
    container_hash: HashResult


def _unique(label: bytes, used: set[bytes]) -> bytes:
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
    if st.st_size == 0 and not stat.S_ISBLK(st.st_mode):
        return False
    return recognised_image(path, fs_type=opts.fs_type)


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
    collector = Collector(writer, opts, on_progress)
    try:
        try:
            _collect_sources(collector, kinds, opts, tz, inside, infos, used_roots)
        except KeyboardInterrupt:
            # Ctrl-C: keep what was collected, closed as a valid tar, and say so everywhere;
            # the caller seals it as incomplete (docs/design.md: never a valid-looking seal).
            interrupted = True
            writer.cancel_hashing()
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
    collector: Collector,
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
            description = live.description
            if not path.is_dir() and IMAGE_NAME.search(path.name):
                description += (
                    "; not a disk image (no container, partition table or file system "
                    "recognised in it): collected as a file"
                )
            infos.append(
                SourceInfo(
                    index,
                    str(path),
                    "live",
                    root.decode("utf-8", "surrogateescape"),
                    description,
                )
            )
            collector.run(index, None, root, live, b"/")
            continue
        with open_image(
            path, credentials=opts.credentials, local_zone=tz, fs_type=opts.fs_type
        ) as disk:
            chosen = disk.filesystems(opts.partition)
            stored = _stored_digests(disk, opts)
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
                    tuple(disk.skipped),
                    stored,
                )
            )
            for part, fs in chosen:
                proot = root + (b"/p%d" % part.number if part and part.number else b"")
                try:
                    collector.run(index, part.number if part else None, proot, fs, inside)
                finally:
                    fs.close()


def _stored_digests(disk: DiskImage, opts: CollectOptions) -> dict[str, object] | None:
    """An image's stored MD5/SHA-1 checked against its media, for the manifest (a mismatch is
    shown there and warned about; the files are still collected as they are in the image)."""
    stored = disk.source.stored_digests if disk.source is not None else ()
    if not stored:
        return None
    if not opts.check_stored_digests:
        return {
            "outcome": "not compared",
            "stored": [{"algorithm": a, "where": w, "value": v} for a, w, v in stored],
            "not_compared": "skipped (--no-stored-digest-check)",
        }
    check = disk.check_stored_digests()
    return check.to_dict() if check is not None else None


def _remove_partial(outputs: CollectOutputs) -> None:
    """A collection that failed leaves no valid-looking container behind."""
    for p in (outputs.container, outputs.dfxml, outputs.manifest):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # pragma: no cover - reported, not hidden
            raise AcquisitionError(f"cannot remove partial output {str(p)!r}: {exc}") from exc
