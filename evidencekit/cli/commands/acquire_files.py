"""`evidencekit acquire files`: collect files from live folders and from inside disk images."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.image_options import image_options
from evidencekit.cli.image_options import secret_from_env as _secret
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import EXIT_PARTIAL, App, pass_app
from evidencekit.fsutil import command_line as fs_command_line


@click.command("files")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--item", "item_id", help="Evidence item id (becomes file names).")
@click.option(
    "--resume",
    "resume_id",
    metavar="ITEM",
    help="Redo the interrupted collection ITEM (its earlier files are set aside, never deleted).",
)
@click.option("--description", help='What this is, e.g. "Thư mục tài liệu của ông A".')
@click.option("--partition", type=int, help="Only this partition (numbers as `ls IMAGE` shows).")
@click.option("--path", "inside", metavar="/INSIDE", help="Only this folder or file inside images.")
@click.option("--include", "includes", multiple=True, metavar="GLOB", help="Only matching files.")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB", help="Skip matching entries.")
@click.option("--ignore-case", is_flag=True, help="Match --include/--exclude ignoring case.")
@click.option("--max-size", metavar="SIZE", help="Skip (but list) files larger than SIZE.")
@click.option("--include-deleted", is_flag=True, help="Add deleted entries Sleuth Kit can read.")
@click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links in live folders.")
@click.option(
    "--source-timezone", metavar="ZONE", help="Zone of FAT local times (default: case's)."
)
@click.option("-a", "--algorithms", default="md5,sha1,sha256", show_default=True, help="Digests.")
@image_options
@participant_options
@pass_app
def files(
    app: App,
    sources: tuple[Path, ...],
    item_id: str | None,
    resume_id: str | None,
    description: str | None,
    partition: int | None,
    inside: str | None,
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    ignore_case: bool,
    max_size: str | None,
    include_deleted: bool,
    follow_symlinks: bool,
    source_timezone: str | None,
    password_env: str | None,
    recovery_key_env: str | None,
    key_file: Path | None,
    algorithms: str,
    fs_type: str | None,
    no_stored_digest_check: bool,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Collect SOURCES (folders, files, disk images) into a sealed PAX tar with manifests.

    Writes evidence/ITEM/ITEM.tar, ITEM.dfxml, ITEM.manifest.json, sums files and
    ITEM.seal.json, and records a "collected" custody event. Exit 4 when some files could not
    be read (they are listed; the seal says complete-with-errors).
    """
    from evidencekit.acquire.ewf.stored_digests import warning_text
    from evidencekit.acquire.fs.model import Credentials
    from evidencekit.acquire.logical.options import CollectOptions
    from evidencekit.errors import PartialReadError, UsageError
    from evidencekit.hash.algorithms import parse_algorithms
    from evidencekit.sizes import human, parse_size
    from evidencekit.workflows.collect import CollectRequest, CollectResult, collect_item

    if (item_id is None) == (resume_id is None):
        raise UsageError(
            _("give either --item ITEM (a new collection) or --resume ITEM (redo one)"),
            hint=_("evidencekit acquire files SOURCE… --item ITEM"),
        )
    resume = resume_id is not None
    item_id = resume_id or item_id
    assert item_id is not None
    if password_env and recovery_key_env:
        raise UsageError(_("give --password-env or --recovery-key-env, not both"))
    case = app.case()
    from evidencekit.cli.progress import TickBar
    from evidencekit.workflows.commit import lazy_identity
    from evidencekit.workflows.sources import resolve_source

    # unlocked by the workflow's guard, once the id, sources and pinning are checked
    identity = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    request = CollectRequest(
        participants=participants,
        session=session,
        item_id=item_id,
        sources=tuple(resolve_source(case, s) for s in sources),  # an item id: its image
        options=CollectOptions(
            includes=includes,
            excludes=excludes,
            ignore_case=ignore_case,
            max_size=parse_size(max_size, what="--max-size") if max_size else None,
            include_deleted=include_deleted,
            follow_symlinks=follow_symlinks,
            partition=partition,
            inside_path=inside,
            source_timezone=source_timezone or case.info.timezone,
            algorithms=parse_algorithms(algorithms),
            credentials=Credentials(
                password=_secret(password_env, "password"),
                recovery_key=_secret(recovery_key_env, _("recovery key")),
                key_file=key_file,
            ),
            check_stored_digests=not no_stored_digest_check,
            fs_type=fs_type,
        ),
        description=description,
        resume=resume,
        command_line=fs_command_line(),
        progress=bar if bar.enabled else None,
    )
    code = 0
    try:
        result = collect_item(case, identity, request)
    except PartialReadError as exc:
        assert isinstance(exc.result, CollectResult)
        result = exc.result
        code = EXIT_PARTIAL
    finally:
        bar.finish()
    summary = result.collection.summary()
    lines = [
        _("Collected item {item_id} ({status}) into {item_dir}").format(
            item_id=result.item_id, status=status_text(result.status), item_dir=result.item_dir
        ),
        _("  {files} files, {bytes}, {deleted} deleted, {renamed} renamed, {errors} errors").format(
            files=summary["files"],
            bytes=human(int(str(summary["bytes"]))),
            deleted=summary["deleted"],
            renamed=summary["renamed"],
            errors=summary["errors"],
        ),
    ]
    for algo, digest in result.outputs.container_hash.digests.items():
        lines.append(f"  {result.outputs.container.name} {algo}: {digest}")
    lines.append(_("  seal: {name}").format(name=result.seal.path.name))
    lines += [
        _("  not collected: {reason}").format(reason=reason) for reason in result.not_collected
    ]
    lines += [
        _("  error: {path}: {error}").format(path=err["path"], error=err["error"])
        for err in result.errors
    ]
    for src in result.collection.sources:
        warning = warning_text(src.path, src.stored_digests)
        if warning:
            app.warn(warning)
    app.emit("evidencekit/acquire-files/2", result.to_dict(), lines)
    if code:
        app.warn(
            _("{errors} file(s) could not be read; sealed as complete-with-errors").format(
                errors=summary["errors"]
            )
        )
        app.exit(code)
