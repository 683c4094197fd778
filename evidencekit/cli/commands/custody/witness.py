"""`evidencekit custody witness [--out FILE]` and `custody witness check FILE`: a checkpoint kept
outside the lab (docs/custody.md, "Witness copies")."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.commands.custody._common import _trust, _write_out
from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import _
from evidencekit.cli.options import reader_trust_options
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.workflows.reader_trust import ReaderTrust


@custody.group("witness", invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the witness file here (default: stdout).",
)
@click.pass_context
def witness(ctx: click.Context, out: Path | None) -> None:
    """Export the case's current checkpoint as a signed witness file for someone outside the
    lab to keep (a prosecutor); `custody witness check FILE` checks a kept one.

    The file (JSON) holds the signed tree head (size, root, the ledger's signed checkpoint),
    the case identity, the newest RFC 3161 token of the ledger if any, and your signature.
    """
    if ctx.invoked_subcommand is not None:
        return
    from evidencekit.workflows.witness import export_witness

    app = ctx.find_object(App)
    assert app is not None
    done = export_witness(app.case(), app.identity())
    _write_out(out, done.data)  # the file is JSON itself: stdout carries it with --json too
    if app.json and out is not None:
        app.emit("evidencekit/custody-witness/1", {**done.to_dict(), "path": str(out)}, None)
        return
    app.info(
        _("Witness copy of {tree_size} events (root {root}, case identity {case_identity})").format(
            tree_size=done.tree_size, root=done.root, case_identity=done.case_identity
        )
        + (_(" written to {out}").format(out=out) if out is not None else "")
    )


@witness.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@reader_trust_options
@click.option(
    "--tsa-cert",
    "tsa_certs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Accept the copy's RFC 3161 timestamp only from this authority (PEM/DER); repeatable.",
)
@pass_app
def check(app: App, file: Path, reader: ReaderTrust, tsa_certs: tuple[Path, ...]) -> None:
    """Check a kept witness FILE against the ledger: exit 0 with the consistency proof's summary
    when the ledger extends it; exit 3 naming the kept size and root when the ledger was rolled
    back, rewritten or replaced, or when the file was edited or signed by someone the case does
    not pin."""
    from evidencekit.chain.witnesscopy import MAX_BYTES
    from evidencekit.errors import CustodyError, IntegrityError
    from evidencekit.fsutil import UnsafeFileError, read_regular
    from evidencekit.workflows.witness import check_witness

    try:
        data = read_regular(file, limit=MAX_BYTES)
    except UnsafeFileError as exc:  # a link, device or FIFO; over the limit
        raise IntegrityError(
            _("the witness file {file!r} is refused: {message}").format(
                file=str(file), message=exc.message
            )
        ) from exc
    except OSError as exc:
        raise CustodyError(
            _("cannot read the witness file {file!r}: {exc}").format(file=str(file), exc=exc)
        ) from exc
    leaves, anchors = reader.split()
    res = check_witness(
        app.case(), data, leaves, source=file, tsa_certs=_trust(tsa_certs), anchors=anchors
    )
    d = res.to_dict()
    kept, current = res.kept, res.consistency.new.checkpoint
    lines = [
        _(
            "Witness copy OK: the ledger ({size} events) extends the kept "
            "checkpoint of {size2} events (root {root_b64}), exported {exported} "
            "by {exporter_name} ({exporter_fingerprint})"
        ).format(
            size=current.size,
            size2=kept.size,
            root_b64=kept.root_b64,
            exported=kept.exported,
            exporter_name=kept.exporter_name,
            exporter_fingerprint=kept.exporter_fingerprint[:16],
        ),
        _("  case identity {case_identity}").format(case_identity=kept.case_identity),
        _("  consistency proof: {count} hashes").format(count=len(res.consistency.proof["path"])),
    ]
    if res.timestamp is not None:
        lines.append(
            _("  events 0–{value} existed by {time}: RFC 3161 timestamp by {tsa}").format(
                value=int(str(res.timestamp["tree_size"])) - 1,
                time=res.timestamp["time"],
                tsa=res.timestamp["tsa"],
            )
        )
    app.emit("evidencekit/custody-witness-check/1", d, lines)
