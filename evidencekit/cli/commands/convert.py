"""`evidencekit convert ITEM --to e01|raw --item NEW_ID [--compression M] [--segment-size S]`."""

from __future__ import annotations

import sys
import time

import click

from evidencekit.cli.runtime import EXIT_PARTIAL, App, pass_app


@click.command("convert")
@click.argument("item_id", metavar="ITEM")
@click.option("--to", "to", type=click.Choice(["e01", "raw"]), required=True, help="Target format.")
@click.option("--item", "new_item", required=True, help="Id of the new, derived item.")
@click.option(
    "--compression",
    type=click.Choice(["none", "empty", "fast", "best"]),
    default="fast",
    show_default=True,
    help="E01 chunk compression (empty: only all-zero chunks).",
)
@click.option(
    "--segment-size",
    default="2GiB",
    show_default=True,
    metavar="SIZE",
    help="Largest E01 segment file (.E01, .E02, …).",
)
@click.option(
    "--accept-stored-digest-mismatch",
    metavar="REASON",
    help="Convert an E01 whose stored MD5/SHA-1 differ from its media (recorded; the new "
    "item is complete-with-errors).",
)
@pass_app
def convert(
    app: App,
    item_id: str,
    to: str,
    new_item: str,
    compression: str,
    segment_size: str,
    accept_stored_digest_mismatch: str | None,
) -> None:
    """Convert image item ITEM into a new item NEW_ID in another format.

    The media is checked against ITEM's seal (same size and digests) before the new item is
    sealed; the new item gets `sealed` and `converted` custody events naming ITEM.
    """
    from evidencekit.sizes import human, parse_size
    from evidencekit.workflows.convert import convert_item

    seg = parse_size(segment_size, what="segment size")
    case = app.case()
    from evidencekit.workflows.commit import lazy_identity

    # unlocked by the workflow's guard, once the id, sources and pinning are checked
    identity = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    progress = None
    if sys.stderr.isatty() and app.verbosity >= 0:
        last = [0.0]

        def progress(done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                click.echo(f"\r{item_id} -> {new_item}: {human(done)} ", nl=False, err=True)

    result = convert_item(
        case,
        identity,
        item_id,
        to=to,
        new_item=new_item,
        compression=compression,
        segment_size=seg,
        on_progress=progress,
        accept_stored_digest_mismatch=accept_stored_digest_mismatch,
    )
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    lines = [
        f"Converted {item_id} to {to.upper()} as item {new_item}: {result.seal.path}",
        *(f"  {p.name}  {human(p.stat().st_size)}" for p in result.files),
        f"  media {human(result.media_size)}  sha256:{result.digests.get('sha256', '-')}",
        f"  status {result.seal.status}; signed by {identity.name} ({identity.fingerprint[:16]})",
    ]
    accepted = None
    if result.stored_digests is not None:
        check = result.stored_digests
        lines.append(f"  stored digests of the original E01: {check['outcome']}")
        accepted = check.get("accepted_reason")
        if accepted:
            app.warn(
                f"the original E01's stored digests differ from its media; accepted "
                f"({accepted}): item {new_item} is sealed {result.seal.status}"
            )
    if not result.custody_recorded:
        lines.append("  (custody ledger not available: no 'converted' event recorded)")
    app.emit("evidencekit/convert/1", result.to_dict(), lines)
    if accepted:
        app.exit(EXIT_PARTIAL)
