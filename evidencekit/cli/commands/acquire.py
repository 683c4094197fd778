"""`evidencekit acquire`: `disk` (physical images) and `files` (logical collection)."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.acquire.ewf.format import COMPRESSION_MODES, Compression
from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.image_options import secret_from_env as _secret
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import EXIT_PARTIAL, App, pass_app
from evidencekit.fsutil import command_line as fs_command_line
from evidencekit.workflows.acquire_disk.options import FORMATS, ImageFormat


@click.group("acquire")
def acquire() -> None:
    """Image disks (acquire disk) or collect files (acquire files)."""


@acquire.command("disk")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--item", "item_id", help="Evidence item id (becomes file names).")
@click.option(
    "--resume",
    "resume_id",
    metavar="ITEM",
    help="Continue the interrupted acquisition ITEM from the same SOURCE (raw/split: from "
    "where its image ends, re-hashing what is written; E01: redone).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="raw",
    show_default=True,
    help="ITEM.raw, ITEM.001 … (split raw), or ITEM.E01 ….",
)
@click.option("--segment-size", metavar="SIZE", help="Largest segment (split/e01), default 2GiB.")
@click.option(
    "--compression",
    type=click.Choice(COMPRESSION_MODES),
    default="fast",
    show_default=True,
    help="E01 chunk compression (empty: only all-zero chunks).",
)
@click.option("-a", "--algorithms", default="md5,sha1,sha256", show_default=True, help="Digests.")
@click.option("--verify/--no-verify", default=True, show_default=True, help="Re-read the image.")
@click.option("--verify-source", is_flag=True, help="Re-read the source and compare too.")
@click.option(
    "--retries",
    type=click.IntRange(0),
    default=2,
    show_default=True,
    help="Extra attempts per unreadable sector.",
)
@click.option("--max-errors", type=click.IntRange(0), help="Stop past this many bad sectors.")
@click.option("--evidence-number", metavar="TEXT", help="Evidence number (seal, log, E01).")
@click.option("--description", metavar="TEXT", help='e.g. "Ổ cứng thu giữ của ông A".')
@click.option("--notes", metavar="TEXT", help="Free notes (seal, log, E01).")
@click.option("--set-readonly", is_flag=True, help="Set the kernel read-only flag meanwhile.")
@click.option("--allow-mounted", is_flag=True, help="Image a source mounted read-write anyway.")
@click.option(
    "--window",
    metavar="SIZE",
    default="64MiB",
    show_default=True,
    help="Window digest size (verify names changed byte ranges); 0 = none.",
)
@click.option(
    "--copy-to",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Write a second identical image into DIR in the same pass.",
)
@click.option("--force", is_flag=True, help="Start even if the image may not fit.")
@click.option(
    "--image-bytes",
    is_flag=True,
    help="Image a container file's own bytes instead of the media inside it.",
)
@click.option(
    "--accept-stored-digest-mismatch",
    metavar="REASON",
    help="Seal an E01 source whose stored MD5/SHA-1 differ from what is read (recorded; "
    "the seal is complete-with-errors, exit 4).",
)
@click.option(
    "--decrypt",
    is_flag=True,
    help="Image the decrypted payload of the LUKS volume that is SOURCE (or --partition).",
)
@click.option("--partition", type=int, help="With --decrypt: the partition holding the volume.")
@click.option(
    "--password-env", metavar="VAR", help="With --decrypt: variable holding the password."
)
@participant_options
@pass_app
def disk(
    app: App,
    source: Path,
    item_id: str | None,
    resume_id: str | None,
    fmt: ImageFormat,
    segment_size: str | None,
    compression: Compression,
    algorithms: str,
    verify: bool,
    verify_source: bool,
    retries: int,
    max_errors: int | None,
    evidence_number: str | None,
    description: str | None,
    notes: str | None,
    set_readonly: bool,
    allow_mounted: bool,
    window: str,
    copy_to: Path | None,
    force: bool,
    image_bytes: bool,
    accept_stored_digest_mismatch: str | None,
    decrypt: bool,
    partition: int | None,
    password_env: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Image SOURCE (a disk such as /dev/sdb, a file, or an E01/VMDK/QCOW2/VHD/split raw image).

    Writes evidence/ITEM/ITEM.raw (or ITEM.001 …, ITEM.E01 …), ITEM.log, ITEM.device.txt,
    ITEM.map (when sectors were unreadable), sums files and ITEM.seal.json, and records an
    "acquired" custody event. Exit 4 when some sectors could not be read (zero-filled, listed).

    With --decrypt the image is what `cryptsetup open --readonly` would show of the LUKS1/LUKS2
    volume that is SOURCE or its --partition N; the seal names the volume (UUID, cipher).

    --resume ITEM continues an acquisition interrupted by Ctrl-C, SIGTERM, a full disk or a
    kill (listed by `case show`) with the earlier format, segment size and digests; the new seal
    and log say it was resumed, and its custody event supersedes the incomplete one.
    """
    from evidencekit.errors import UsageError

    if (item_id is None) == (resume_id is None):
        raise UsageError(
            _("give either --item ITEM (a new acquisition) or --resume ITEM (continue one)"),
            hint=_("evidencekit acquire disk SOURCE --item ITEM"),
        )
    resume = resume_id is not None
    item_id = resume_id or item_id
    assert item_id is not None
    if resume:
        from click.core import ParameterSource

        ctx = click.get_current_context()
        fixed = ("fmt", "segment_size", "compression", "algorithms", "window")
        given = [
            f"--{n.replace('fmt', 'format').replace('_', '-')}"
            for n in fixed
            if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE
        ]
        if given:
            raise UsageError(
                _(
                    "--resume continues with the interrupted acquisition's own format, "
                    "segment size, compression, digests and window: leave out {join}"
                ).format(join=", ".join(given)),
                hint=_("evidencekit acquire disk SOURCE --resume {item_id}").format(
                    item_id=item_id
                ),
            )
    from evidencekit.cli.progress import TickBar
    from evidencekit.errors import PartialReadError
    from evidencekit.hash.algorithms import parse_algorithms
    from evidencekit.sizes import human, parse_size
    from evidencekit.workflows.acquire_disk import (
        AcquireDiskRequest,
        AcquireOptions,
        AcquireResult,
        acquire_disk,
    )
    from evidencekit.workflows.commit import lazy_identity

    case = app.case()
    # unlocked by the workflow's guard, once the id, sources and pinning are checked
    identity = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    bar = TickBar(enabled=app.verbosity >= 0)
    request = AcquireDiskRequest(
        participants=participants,
        session=session,
        source=source,
        item_id=item_id,
        options=AcquireOptions(
            format=fmt,
            segment_size=parse_size(segment_size, what="--segment-size") if segment_size else None,
            algorithms=parse_algorithms(algorithms),
            verify=verify,
            verify_source=verify_source,
            retries=retries,
            max_errors=max_errors,
            evidence_number=evidence_number,
            description=description,
            notes=notes,
            set_readonly=set_readonly,
            allow_mounted=allow_mounted,
            window=parse_size(window, what="--window") or None,
            copy_to=copy_to,
            force=force,
            compression=compression,
            source_format="raw" if image_bytes else None,
            accept_stored_digest_mismatch=accept_stored_digest_mismatch,
            decrypt=decrypt,
            partition=partition,
        ),
        resume=resume,
        password=_secret(password_env, "password") if password_env else None,
        command_line=fs_command_line(),
        progress=bar if bar.enabled else None,
    )
    code = 0
    try:
        try:
            result = acquire_disk(case, identity, request)
        finally:
            bar.finish()
    except PartialReadError as exc:
        assert isinstance(exc.result, AcquireResult)
        result = exc.result
        app.warn(exc.message)
        code = EXIT_PARTIAL
    lines = [
        _("item {item_id}: {status}, {size} bytes ({size2})").format(
            item_id=result.item_id,
            status=status_text(result.status),
            size=result.size,
            size2=human(result.size),
        ),
        _("  files: {join}").format(join=", ".join(result.files)),
    ]
    lines += [f"  {alg}: {hexd}" for alg, hexd in result.digests.items()]
    for label, outcome in result.verification.items():
        lines.append(_("  verification ({label}): {outcome}").format(label=label, outcome=outcome))
    if result.read_errors:
        lines.append(
            _("  unreadable: {bad_sectors} sectors in {count} extents").format(
                bad_sectors=result.bad_sectors, count=len(result.read_errors)
            )
        )
        for e in result.read_errors[:20]:
            lines.append(
                _("    bytes {offset}+{length}: {error}").format(
                    offset=e["offset"], length=e["length"], error=e["error"]
                )
            )
    if result.resumed is not None:
        r = result.resumed
        if r["mode"] == "redo":
            lines.append(
                _("  redone from byte 0; earlier files in {earlier_files_set_aside}").format(
                    earlier_files_set_aside=r["earlier_files_set_aside"]
                )
            )
        else:
            lines.append(
                _(
                    "  resumed at byte {from_offset} ({rehashed_bytes} bytes written "
                    "before were re-hashed)"
                ).format(from_offset=r["from_offset"], rehashed_bytes=r["rehashed_bytes"])
            )
    if result.copy_files:
        lines.append(_("  copy: {join}").format(join=", ".join(result.copy_files)))
    if result.stored_digests is not None:
        lines.append(
            _("  stored digests of the source: {outcome}").format(
                outcome=result.stored_digests["outcome"]
            )
        )
    for w in result.warnings:
        app.warn(w)
    app.emit("evidencekit/acquire-disk/2", result.to_dict(), lines)
    if code:
        app.exit(code)


# -- `acquire files` (logical collection) is registered here ---------------------------------
from evidencekit.cli.commands.acquire_files import files  # noqa: E402

acquire.add_command(files)
