"""`evidencekit seal PATH… --item ID [--in-place] [-a ALGOS] [--description TEXT]`."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import App, pass_app
from evidencekit.hash.sums import escape_name


@click.command("seal")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=False))
@click.option("--item", "item_id", required=True, help="Item id: 1-64 of A-Z a-z 0-9 . _ -")
@click.option(
    "--in-place",
    is_flag=True,
    help="Do not copy: seal the files where they are (absolute paths are recorded).",
)
@click.option(
    "-a",
    "--algorithms",
    "algos",
    default="md5,sha1,sha256",
    show_default=True,
    metavar="ALGOS",
    help="Comma-separated: md5, sha1, sha256, sha512, blake3.",
)
@click.option("--description", help='Free text, e.g. "USB của Trương Đình Bủng".')
@participant_options
@pass_app
def seal(
    app: App,
    paths: tuple[Path, ...],
    item_id: str,
    in_place: bool,
    algos: str,
    description: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Copy files into evidence/ITEM/ (or record them in place) and seal them.

    Writes ITEM.seal.json (signed) and ITEM.md5 / ITEM.sha1 / ITEM.sha256 (checkable with
    `md5sum -c` inside the item folder), and records a `sealed` custody event.
    """
    from evidencekit.cli.progress import TickBar
    from evidencekit.errors import PartialReadError
    from evidencekit.hash.algorithms import parse_algorithms
    from evidencekit.hash.seal.document import parse_name_member
    from evidencekit.ids import check_item_id
    from evidencekit.sizes import human
    from evidencekit.workflows.commit import lazy_identity
    from evidencekit.workflows.seal import SealFilesResult, SealRequest, seal_files

    check_item_id(item_id)
    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    request = SealRequest(
        item_id=item_id,
        sources=paths,
        in_place=in_place,
        algorithms=parse_algorithms(algos),
        description=description,
        progress=bar if bar.enabled else None,
        participants=participants,
        session=session,
    )
    case = app.case()
    # the key is unlocked only once the sources, the id and the examiner's pinning are checked
    signer = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    code = 0
    try:
        result = seal_files(case, signer, request)
    except PartialReadError as exc:
        assert isinstance(exc.result, SealFilesResult)
        result, code = exc.result, exc.exit_code
        app.warn(exc.message)
    finally:
        bar.finish()
    doc = result.seal.document
    lines = [
        _("Sealed item {item_id} ({status}): {path}").format(
            item_id=item_id, status=status_text(result.seal.status), path=result.seal.path
        )
    ]
    for art in doc["artifacts"]:
        sha = next((d for d in art["digests"] if d.startswith("sha256:")), art["digests"][-1])
        lines.append(f"  {shown_name(parse_name_member(art))}  {human(art['size'])}  {sha}")
    for change in doc["facts"].get("changed_while_read", []):
        lines.append(
            _(
                "  changed while read: {shown_name} ({size_before} -> {size_after} "
                "bytes, {bytes_read} read)"
            ).format(
                shown_name=shown_name(parse_name_member(change)),
                size_before=change["size_before"],
                size_after=change["size_after"],
                bytes_read=change["bytes_read"],
            )
        )
    lines.append(
        _("  signed by {name} ({fingerprint})").format(
            name=signer.name, fingerprint=signer.fingerprint[:16]
        )
    )
    if not result.custody_recorded:
        lines.append(_("  (custody ledger not available: no 'sealed' event recorded)"))
    app.emit("evidencekit/seal/2", result.to_dict(), lines)
    if code:
        app.exit(code)


def shown_name(name: str) -> str:
    """A sealed name on one line: backslash, newline and carriage return escaped as in sums
    files (the line then starts with a backslash), a byte that is not UTF-8 as `\\xff` (the
    seal itself holds the exact name)."""
    escaped, shown = escape_name("sha256", name)
    return ("\\" if escaped else "") + shown.decode("utf-8", "backslashreplace")
