"""`evidencekit convert ITEM --to e01|raw --item NEW_ID [--compression M] [--segment-size S]`."""

from __future__ import annotations

import click

from evidencekit.acquire.ewf.format import COMPRESSION_MODES, Compression
from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import EXIT_PARTIAL, App, pass_app
from evidencekit.workflows.convert import FORMATS, ConvertFormat


@click.command("convert")
@click.argument("item_id", metavar="ITEM")
@click.option("--to", "to", type=click.Choice(FORMATS), required=True, help="Target format.")
@click.option("--item", "new_item", required=True, help="Id of the new, derived item.")
@click.option(
    "--compression",
    type=click.Choice(COMPRESSION_MODES),
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
@participant_options
@pass_app
def convert(
    app: App,
    item_id: str,
    to: ConvertFormat,
    new_item: str,
    compression: Compression,
    segment_size: str,
    accept_stored_digest_mismatch: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Convert image item ITEM into a new item NEW_ID in another format.

    The media is checked against ITEM's seal (same size and digests) before the new item is
    sealed; the new item gets `sealed` and `converted` custody events naming ITEM.
    """
    from evidencekit.cli.progress import TickBar
    from evidencekit.sizes import human, parse_size
    from evidencekit.workflows.commit import lazy_identity
    from evidencekit.workflows.convert import ConvertRequest, convert_item

    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    request = ConvertRequest(
        item_id=item_id,
        new_item=new_item,
        to=to,
        compression=compression,
        segment_size=parse_size(segment_size, what=_("segment size")),
        accept_stored_digest_mismatch=accept_stored_digest_mismatch,
        progress=bar if bar.enabled else None,
        participants=participants,
        session=session,
    )
    case = app.case()
    # unlocked by the workflow's guard, once the id, sources and pinning are checked
    identity = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    try:
        result = convert_item(case, identity, request)
    finally:
        bar.finish()
    lines = [
        _("Converted {item_id} to {upper} as item {new_item}: {path}").format(
            item_id=item_id, upper=to.upper(), new_item=new_item, path=result.seal.path
        ),
        *(f"  {p.name}  {human(result.sizes[p.name])}" for p in result.files),
        _("  media {media_size}  sha256:{get}").format(
            media_size=human(result.media_size), get=result.digests.get("sha256", "-")
        ),
        _("  status {status}; signed by {name} ({fingerprint})").format(
            status=status_text(result.seal.status),
            name=identity.name,
            fingerprint=identity.fingerprint[:16],
        ),
    ]
    accepted = None
    if result.stored_digests is not None:
        check = result.stored_digests
        lines.append(
            _("  stored digests of the original E01: {outcome}").format(outcome=check["outcome"])
        )
        accepted = check.get("accepted_reason")
        if accepted:
            app.warn(
                _(
                    "the original E01's stored digests differ from its media; accepted "
                    "({accepted}): item {new_item} is sealed {status}"
                ).format(
                    accepted=accepted, new_item=new_item, status=status_text(result.seal.status)
                )
            )
    if not result.custody_recorded:
        lines.append(_("  (custody ledger not available: no 'converted' event recorded)"))
    app.emit("evidencekit/convert/1", result.to_dict(), lines)
    if accepted:
        app.exit(EXIT_PARTIAL)
