"""Custody commands that read the ledger: log, verify, checkpoint, prove, verify-proof,
consistency, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.commands.custody._common import (
    _event_lines,
    _out_option,
    _read_text,
    _trust,
    _trust_option,
    _write_out,
    device_note,
)
from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import _
from evidencekit.cli.options import reader_trust_options
from evidencekit.cli.runtime import EXIT_INTEGRITY, App, pass_app

if TYPE_CHECKING:
    from evidencekit.workflows.reader_trust import ReaderTrust


@custody.command("log")
@click.argument("item", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (same as the global --json).")
@pass_app
def log_cmd(app: App, item: str | None, as_json: bool) -> None:
    """Show the custody timeline of the case, or of one ITEM."""
    from evidencekit.workflows.custody import latest_checkpoint, list_events

    if as_json:
        app.json = True
    case = app.case()
    events = list_events(case, item)
    if item is not None and not events and item not in case.items():
        from evidencekit.errors import UsageError

        # an empty timeline would read as "nothing happened to it": a mistyped id is an error
        raise UsageError(
            _("no item {item!r} in case {number!r}: the ledger has no event for it").format(
                item=item, number=case.info.number
            ),
            hint=_("`evidencekit case show` lists the items; `custody log` without ITEM shows all"),
        )
    from evidencekit.chain.details import device_notes

    cp = latest_checkpoint(case)
    lines = [line for e in events for line in _event_lines(e, case.info.timezone)]
    # the registered device and what its acquisition measured, when they differ: both shown
    lines += [_("note: {n}").format(n=device_note(d)) for d in device_notes(events)]
    if not events:
        lines = [
            _("No custody events for {item}.").format(item=item)
            if item
            else _("No custody events.")
        ]
    app.emit(
        "evidencekit/custody-log/1",
        {"item": item, "events": events, "checkpoint": cp},
        lines,
    )


@custody.command("verify")
@reader_trust_options
@click.option(
    "--tsa-cert",
    "tsa_certs",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Accept checkpoint timestamps only from this timestamp authority (PEM/DER); repeatable.",
)
@pass_app
def verify(app: App, reader: ReaderTrust, tsa_certs: tuple[Path, ...]) -> None:
    """Recompute signatures, chains, rules, the Merkle tree, every checkpoint and checkpoint
    timestamp (exit 3 on any problem, naming the first bad event). A --trust file that is a CA
    certificate trusts the signers whose chain goes to it, each event checked at its proven
    time (docs/trust.md)."""
    from evidencekit.timeutil import isoformat
    from evidencekit.workflows.custody import verify_custody

    case = app.case()
    leaves, anchors = reader.split()
    status = verify_custody(case, leaves, tsa_certs=_trust(tsa_certs), anchors=anchors)
    lines = []
    from evidencekit.chain.details import device_notes

    # the notes of a registered device that its acquisition measured otherwise, worded here
    # in the interface language (status.notes holds the library's English, for --json)
    from evidencekit.errors import EvidenceKitError
    from evidencekit.workflows.custody import list_events

    try:
        worded = {d.message(): device_note(d) for d in device_notes(list_events(case))}
    except EvidenceKitError:  # a ledger that cannot be read: its notes stay as written
        worded = {}
    if status.ok:
        lines.append(
            _("Custody ledger OK: {events} events, {checkpoints} checkpoints, root {hex}").format(
                events=status.events, checkpoints=status.checkpoints, hex=status.root.hex()
            )
        )
        for t in status.timestamps:
            pinned = "" if t.tsa_pinned else _(" (TSA not pinned: pass --tsa-cert to require it)")
            lines.append(
                _(
                    "  events 0–{value} existed by {isoformat}: RFC 3161 timestamp by "
                    "{tsa} ({tsa_fingerprint}){pinned}"
                ).format(
                    value=t.tree_size - 1,
                    isoformat=isoformat(t.time),
                    tsa=t.tsa,
                    tsa_fingerprint=t.tsa_fingerprint[:16],
                    pinned=pinned,
                )
            )
    else:
        first = status.first_bad_event
        lines.append(
            _("Custody ledger does NOT verify: {count} problem(s)").format(
                count=len(status.problems)
            )
            + (_("; first bad event: {first}").format(first=first) if first is not None else "")
        )
        shown = status.problems[:50]
        lines += [f"  {p}" for p in shown]
        if len(status.problems) > len(shown):
            lines.append(_("  … and {value} more").format(value=len(status.problems) - len(shown)))
    lines += [_("  note: {n}").format(n=worded.get(n, n)) for n in status.notes]
    app.emit("evidencekit/custody-verify/1", status.to_dict(), lines)
    if not status.ok:
        app.exit(EXIT_INTEGRITY)


@custody.command("checkpoint")
@_out_option
@pass_app
def checkpoint(app: App, out: Path | None) -> None:
    """Print the latest signed checkpoint (C2SP signed note)."""
    from evidencekit.errors import CustodyError
    from evidencekit.workflows.custody import latest_checkpoint

    text = latest_checkpoint(app.case())
    if text is None:
        raise CustodyError(_("the case has no custody checkpoint yet"))
    if app.json and out is None:
        app.emit("evidencekit/custody-checkpoint/1", {"checkpoint": text}, None)
        return
    _write_out(out, text.encode("utf-8"))


@custody.command("prove")
@click.argument("item")
@click.option("--event", type=int, help="Only the event with this sequence number.")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Prove against this (older) signed checkpoint instead of the latest.",
)
@_trust_option
@_out_option
@pass_app
def prove(
    app: App,
    item: str,
    event: int | None,
    checkpoint_file: Path | None,
    trust: tuple[Path, ...],
    out: Path | None,
) -> None:
    """Write an inclusion proof (JSON) for ITEM's events."""
    from evidencekit.workflows.custody import prove_item

    cp = _read_text(checkpoint_file, "checkpoint") if checkpoint_file else None
    doc = prove_item(app.case(), item, event=event, checkpoint_text=cp, extra_trust=_trust(trust))
    _write_out(out, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    if out is not None:
        app.info(
            _("Wrote inclusion proof for {count} event(s) to {out}").format(
                count=len(doc["entries"]), out=out
            )
        )


@custody.command("verify-proof")
@click.argument("proof", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The signed checkpoint to check an inclusion proof against (required for those).",
)
@_trust_option
@pass_app
def verify_proof(
    app: App, proof: Path, checkpoint_file: Path | None, trust: tuple[Path, ...]
) -> None:
    """Check an inclusion or consistency proof offline (no ledger needed).

    Signers are trusted when pinned in the current case (if any) or given with --trust.
    """
    from evidencekit.chain.proof import (
        INCLUSION_SCHEMA,
        load_proof,
        verify_consistency_document,
        verify_inclusion_document,
    )
    from evidencekit.errors import CaseError, UsageError
    from evidencekit.workflows.custody import trusted_with

    try:
        case = app.case()
    except CaseError:
        case = None
    trusted = trusted_with(case, _trust(trust))
    doc = load_proof(_read_text(proof, "proof"))
    if doc["schema"] == INCLUSION_SCHEMA:
        if checkpoint_file is None:
            raise UsageError(_("an inclusion proof is checked against --checkpoint CP"))
        res = verify_inclusion_document(doc, _read_text(checkpoint_file, "checkpoint"), trusted)
        c = res.checkpoint
        lines = [
            _(
                "Inclusion proof OK against checkpoint of {origin} (tree size {size}, "
                "signed by {signer_name})"
            ).format(origin=c.checkpoint.origin, size=c.checkpoint.size, signer_name=c.signer_name)
        ]
        lines += [
            _("  event {leaf_index}: {kind} {value} by {signer_name} at {time}").format(
                leaf_index=e.leaf_index,
                kind=e.event.kind,
                value=e.event.item_id or _("(case)"),
                signer_name=e.signer_name,
                time=e.event.body()["time"],
            )
            for e in res.events
        ]
        app.emit("evidencekit/custody-proof-check/1", res.to_dict(), lines)
        return
    cres = verify_consistency_document(doc, trusted)
    app.emit(
        "evidencekit/custody-proof-check/1",
        cres.to_dict(),
        _("Consistency proof OK: tree size {size} extends tree size {size2} of {origin}").format(
            size=cres.new.checkpoint.size,
            size2=cres.old.checkpoint.size,
            origin=cres.old.checkpoint.origin,
        ),
    )


@custody.command("consistency")
@click.argument("old_checkpoint", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@_trust_option
@_out_option
@pass_app
def consistency(app: App, old_checkpoint: Path, trust: tuple[Path, ...], out: Path | None) -> None:
    """Prove the current ledger extends OLD_CHECKPOINT (e.g. one printed in an earlier report).

    Writes the consistency proof (JSON, for `verify-proof`) to stdout or --out; exits 3 when the
    ledger does not extend the old checkpoint.
    """
    from evidencekit.workflows.custody import consistency_from

    res = consistency_from(app.case(), _read_text(old_checkpoint, "checkpoint"), _trust(trust))
    message = _(
        "Consistent: the ledger (tree size {size}) extends the checkpoint of "
        "tree size {size2} signed by {signer_name}"
    ).format(
        size=res.new.checkpoint.size, size2=res.old.checkpoint.size, signer_name=res.old.signer_name
    )
    if app.json and out is None:
        app.emit("evidencekit/custody-consistency/1", res.to_dict(), None)
    else:
        _write_out(out, (json.dumps(res.proof, ensure_ascii=False, indent=2) + "\n").encode())
    app.info(message)


@custody.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "case"]),
    default="jsonl",
    show_default=True,
    help="jsonl: every signed event + the checkpoint; case: CASE/UCO JSON-LD.",
)
@_out_option
@pass_app
def export(app: App, fmt: str, out: Path | None) -> None:
    """Export the ledger as JSON Lines or CASE/UCO JSON-LD."""
    from evidencekit.workflows.custody import export_case_bytes, export_jsonl_bytes

    case = app.case()
    data = export_jsonl_bytes(case) if fmt == "jsonl" else export_case_bytes(case)
    _write_out(out, data)
    if out is not None:
        app.info(_("Wrote {fmt} export to {out}").format(fmt=fmt, out=out))
