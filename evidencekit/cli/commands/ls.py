"""`evidencekit ls SOURCE [--partition N] [PATH]`: partitions and files inside a disk image
(or the files of a folder): SOURCE is read by the rule `acquire files` follows too
(`workflows.sources.resolve`).

Partitions are numbered as `--partition` takes them (only slots that hold a partition get a
number; unallocated space and the partition table itself are shown without one). Files are
listed like Sleuth Kit's `fls`: `type inode: name`, with `*` before deleted entries.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.image_options import image_options
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.acquire.fs.model import DiskImage, FileEntry
    from evidencekit.workflows.sources import ResolvedSource


@click.command("ls")
@click.argument("image", metavar="SOURCE", type=click.Path())
@click.argument("path", required=False)
@click.option("--partition", type=int, help="Partition to list (see the numbers ls shows).")
@click.option("-r", "--recursive", is_flag=True, help="List folders recursively.")
@click.option("-d", "--deleted", is_flag=True, help="Include deleted entries.")
@click.option(
    "--source-timezone",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="Zone of FAT local times.",
)
@image_options
@pass_app
def ls(
    app: App,
    image: str,
    path: str | None,
    partition: int | None,
    recursive: bool,
    deleted: bool,
    password_env: str | None,
    recovery_key_env: str | None,
    key_file: Path | None,
    source_timezone: str,
    fs_type: str | None,
    no_stored_digest_check: bool,
) -> None:
    """List the partitions of SOURCE, or the files under PATH in one of its file systems.

    SOURCE is read by one rule, first match wins (the rule of `acquire files`): an item id of
    the case (its disk image), then a disk image recognised by its content (E01, VMDK, QCOW2,
    VHD, raw or split raw with a partition table or file system), then a folder (its files
    are listed). Write ./NAME for a folder or image named like an item.
    """
    from evidencekit.acquire.fs.model import Credentials
    from evidencekit.acquire.fs.names import name_fields
    from evidencekit.acquire.fs.open import open_image
    from evidencekit.cli.image_options import secret_from_env as _secret
    from evidencekit.cli.source_text import described, warn_shadowed
    from evidencekit.errors import EvidenceKitError, UsageError
    from evidencekit.sizes import human
    from evidencekit.timeutil import zone
    from evidencekit.workflows import sources

    try:
        case = app.case()
    except EvidenceKitError:
        case = None  # ls works outside a case
    # a file is opened as an image: its error then names what was tried (exit 1)
    src = sources.resolve(case, image, fs_type=fs_type, as_image=True)
    if src.kind == sources.ITEM:
        app.info(described(src))
    warn_shadowed(app, src)
    if src.kind == sources.FOLDER:
        if partition is not None:
            raise UsageError(
                _("{name!r} is a folder: it has no partitions (drop --partition)").format(
                    name=src.arg
                )
            )
        _list_folder(app, src, path, recursive)
        return
    image_path = src.path
    creds = Credentials(
        password=_secret(password_env, "password"),
        recovery_key=_secret(recovery_key_env, _("recovery key")),
        key_file=key_file,
    )
    with open_image(
        image_path, credentials=creds, local_zone=zone(source_timezone), fs_type=fs_type
    ) as disk:
        stored = _stored_digests(app, image_path, disk, not no_stored_digest_check)
        numbered = disk.numbered()
        parts = [p.to_dict() for p in disk.partitions]
        if numbered and partition is None:
            if path is not None:
                raise UsageError(
                    _("{name!r} has {count} partition(s): say which with --partition").format(
                        name=image_path.name, count=len(numbered)
                    ),
                    hint=_("e.g. evidencekit ls {image} --partition {number} {path}").format(
                        image=src.arg, number=numbered[0].number, path=path
                    ),
                )
            lines = [
                f"{image_path.name}: {disk.description}",
                _("  #  slot        start       length  contents"),
            ]
            for p in disk.partitions:
                num = f"{p.number:>3}" if p.number is not None else "  -"
                what = p.description
                if p.filesystem or p.encryption:
                    what += f" [{', '.join(x for x in (p.filesystem, p.encryption) if x)}]"
                lines.append(f"{num}  {p.slot:>4} {p.start:>12} {human(p.length):>12}  {what}")
            lines.append(_("List files with: evidencekit ls IMAGE --partition N [PATH]"))
            doc = {
                "image": str(image_path),
                "partitions": parts,
                "stored_digests": stored,
                "source": src.to_dict(),
            }
            app.emit("evidencekit/ls/1", doc, lines)
            return
        ((_part, fs),) = disk.filesystems(partition)
        start = os.fsencode(path or "/")
        norm = b"/".join(p for p in start.split(b"/") if p)
        entries = []
        lines = []
        for e in fs.walk(start, include_deleted=deleted, recursive=recursive):
            if e.path == norm and e.kind == "d":
                continue
            entries.append(e.to_dict())
            lines.append(_entry_line(e))
        listing: dict[str, object] = {
            "image": str(image_path),
            "partition": partition,
            **name_fields("path", start),
            "filesystem": fs.description,
            "partitions": parts,
            "entries": entries,
            "stored_digests": stored,
            "source": src.to_dict(),
        }
        app.emit("evidencekit/ls/1", listing, lines)


def _entry_line(e: FileEntry) -> str:
    """One entry as `fls` prints it: `type/type [* ]inode:<TAB>name`, then size and mtime."""
    from evidencekit.acquire.fs.names import escape_name, ns_to_text

    name = escape_name(e.path) + (":" + escape_name(e.stream) if e.stream else "")
    star = "* " if e.deleted else ""
    inode = e.inode if e.inode is not None else 0
    mtime = ns_to_text(e.mtime_ns) or "-"
    return f"{e.kind}/{e.kind} {star}{inode}:\t{name}\t{e.size}\t{mtime}"


def _list_folder(app: App, src: ResolvedSource, path: str | None, recursive: bool) -> None:
    """The files of a live folder, listed as a file system's are (what `acquire files` would
    collect from it)."""
    from evidencekit.acquire.fs.livefs import LiveFileSystem
    from evidencekit.acquire.fs.names import name_fields

    fs = LiveFileSystem(src.path)
    start = os.fsencode(path or "/")
    norm = b"/".join(p for p in start.split(b"/") if p)
    entries, lines = [], []
    for e in fs.walk(start, recursive=recursive):
        if e.path == norm and e.kind == "d":
            continue
        entries.append(e.to_dict())
        lines.append(_entry_line(e))
    listing: dict[str, object] = {
        "image": str(src.path),
        "partition": None,
        **name_fields("path", start),
        "filesystem": fs.description,
        "partitions": [],
        "entries": entries,
        "stored_digests": None,
        "source": src.to_dict(),
    }
    app.emit("evidencekit/ls/1", listing, lines)


def _stored_digests(
    app: App, image: Path, disk: DiskImage, check: bool
) -> dict[str, object] | None:
    """An E01's stored MD5/SHA-1 compared with its whole media (a warning when they differ)."""
    from evidencekit.acquire.ewf.stored_digests import warning_text

    stored = disk.source.stored_digests if disk.source is not None else ()
    if not stored:
        return None
    if not check:
        return {"outcome": "not compared", "not_compared": "skipped (--no-stored-digest-check)"}
    result = disk.check_stored_digests()
    doc: dict[str, object] | None = result.to_dict() if result is not None else None
    warning = warning_text(str(image), doc)
    if warning:
        app.warn(warning)
    return doc
