"""`evidencekit custody …`: record hand-overs, show the timeline, verify the ledger, prove events.

Every command that appends signs its event with the examiner's identity (`--identity`) and a new
checkpoint, durably, before it prints. Proofs and exports go to stdout, or to a file with --out.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from evidencekit.cli.runtime import EXIT_INTEGRITY, App, pass_app
from evidencekit.fsutil import atomic_write

TERMINAL_COMMANDS = {"release": "released", "return": "returned", "destroy": "destroyed"}


def _write_out(out: Path | None, data: bytes) -> None:
    """Write to `out` atomically, or to stdout."""
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    atomic_write(out.resolve(), data)


def _event_line(ev: dict[str, Any], zone: str) -> str:
    from evidencekit.timeutil import local_text, parse_iso

    when = local_text(parse_iso(ev["time"]), zone)
    item = ev.get("item") or "(case)"
    parts = [f"#{ev['seq']:<5} {when}  {ev['kind']:<13} {item:<12} {ev['actor']['name']}"]
    cp = ev.get("counterpart")
    if cp:
        arrow = "→" if ev["kind"] == "transferred" else "from" if ev["kind"] == "received" else "·"
        parts.append(f"{arrow} {cp['name']}")
    line = " ".join(parts)
    extras = []
    for key in ("description", "purpose", "location", "seal_number", "condition", "note", "reason"):
        if ev.get(key):
            extras.append(f"{key.replace('_', ' ')}: {ev[key]}")
    if ev.get("override"):
        extras.append(f"OVERRIDE: {ev['override']}")
    for alg, hexval in sorted((ev.get("digests") or {}).items()):
        extras.append(f"{alg}: {hexval}")
    return line + "".join(f"\n         {x}" for x in extras)


def _appended(app: App, case: Any, se: Any) -> None:
    from evidencekit.workflows.custody import latest_checkpoint

    ev = se.to_dict()
    cp = latest_checkpoint(case)
    app.emit(
        "evidencekit/custody-event/1",
        {"event": ev, "checkpoint": cp},
        [f"Recorded {_event_line(ev, case.info.timezone)}", f"Checkpoint: tree size {se.seq + 1}"],
    )


def _trust(paths: tuple[Path, ...]) -> list[Any]:
    from evidencekit.identity import load_cert_file

    return [load_cert_file(p) for p in paths]


def _read_text(path: Path, what: str) -> str:
    from evidencekit.errors import EvidenceKitError

    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceKitError(f"cannot read {what} {str(path)!r}: {exc}") from exc
    if what == "checkpoint":
        # A checkpoint copied out of a report or an e-mail may have gained CRLF line ends or
        # lost its final newline; the signed text is the LF form.
        text = text.replace("\r\n", "\n")
        if not text.endswith("\n"):
            text += "\n"
    return text


_trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Also trust the signer with this certificate (PEM/DER); repeatable.",
)
_out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of stdout.",
)


@click.group()
def custody() -> None:
    """Chain-of-custody ledger: record, show, verify, prove, export."""


@custody.command("register")
@click.argument("item")
@click.option("--description", required=True, help='What it is, e.g. "Ổ cứng Seagate 1TB".')
@click.option("--seal-number", help="Number of the physical seal or bag.")
@click.option("--condition", help="Condition when seized.")
@click.option("--location", help="Where it was seized or is stored.")
@click.option(
    "--photo",
    "photos",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Photo of the item; copied into CASE/photos/ITEM/ and hashed. Repeatable.",
)
@pass_app
def register(
    app: App,
    item: str,
    description: str,
    seal_number: str | None,
    condition: str | None,
    location: str | None,
    photos: tuple[Path, ...],
) -> None:
    """Register a seized physical ITEM before imaging (its first custody event)."""
    from evidencekit.hash.multihash import hash_file
    from evidencekit.ids import check_item_id
    from evidencekit.workflows.custody import record_event

    case = app.case()
    identity = app.identity()
    check_item_id(item)
    recorded = []
    if photos:
        # Not under evidence/ITEM/: that folder is for the item's image or collection, which
        # acquisition creates empty.
        folder = case.path / "photos" / item
        folder.mkdir(parents=True, exist_ok=True)
        for p in photos:
            target = folder / p.name
            if target.exists():
                raise click.UsageError(f"photo {p.name!r} is already in {folder}")
            shutil.copyfile(p, target)
            res = hash_file(target, ("sha256",))
            recorded.append(
                {
                    "name": f"photos/{item}/{p.name}",
                    "size": res.size,
                    "sha256": res.digests["sha256"],
                }
            )
    se = record_event(
        case,
        identity,
        "registered",
        item,
        description=description,
        seal_number=seal_number,
        condition=condition,
        location=location,
        details={"photos": recorded} if recorded else None,
    )
    _appended(app, case, se)


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
    cp = latest_checkpoint(case)
    lines = [_event_line(e, case.info.timezone) for e in events]
    if not events:
        lines = [f"No custody events{' for ' + item if item else ''}."]
    app.emit(
        "evidencekit/custody-log/1",
        {"item": item, "events": events, "checkpoint": cp},
        lines,
    )


@custody.command("transfer")
@click.argument("item")
@click.option("--to", "to", required=True, help="Recipient: a name, or a pinned examiner.")
@click.option("--purpose", required=True, help="Why it is handed over.")
@click.option("--location", help="Where the hand-over happens.")
@click.option("--condition", help="Condition / seal state at hand-over.")
@click.option("--override-reason", help="Record it although you are not the custodian.")
@pass_app
def transfer(
    app: App,
    item: str,
    to: str,
    purpose: str,
    location: str | None,
    condition: str | None,
    override_reason: str | None,
) -> None:
    """Hand ITEM over to someone (only its current custodian may)."""
    from evidencekit.workflows.custody import record_event

    case = app.case()
    se = record_event(
        case,
        app.identity(),
        "transferred",
        item,
        counterpart=to,
        purpose=purpose,
        location=location,
        condition=condition,
        override=override_reason,
    )
    _appended(app, case, se)


@custody.command("receive")
@click.argument("item")
@click.option("--location", help="Where it was received.")
@click.option("--condition", help="Condition / seal state on receipt.")
@click.option("--override-reason", help="Record it although the transfer named someone else.")
@pass_app
def receive(
    app: App, item: str, location: str | None, condition: str | None, override_reason: str | None
) -> None:
    """Acknowledge receipt of ITEM, signed with YOUR identity (you must be pinned in the case)."""
    from evidencekit.workflows.custody import list_events, record_event

    case = app.case()
    sender = None
    for ev in reversed(list_events(case, item)):
        if ev["kind"] == "transferred":
            sender = ev["actor"]["fingerprint"]
            break
    se = record_event(
        case,
        app.identity(),
        "received",
        item,
        counterpart=sender,
        location=location,
        condition=condition,
        override=override_reason,
    )
    _appended(app, case, se)


@custody.command("note")
@click.argument("item")
@click.argument("text")
@pass_app
def note(app: App, item: str, text: str) -> None:
    """Add a note to ITEM's history (use "-" as ITEM for a note about the whole case)."""
    from evidencekit.workflows.custody import record_event

    case = app.case()
    se = record_event(case, app.identity(), "note", None if item == "-" else item, note=text)
    _appended(app, case, se)


for _name, _kind in (("access", "accessed"), ("analyse", "analysed")):

    def _make(kind: str) -> Any:
        @click.argument("item")
        @click.option("--purpose", required=True, help="Why it is accessed.")
        @click.option("--location", help="Where.")
        @pass_app
        def _cmd(app: App, item: str, purpose: str, location: str | None) -> None:
            from evidencekit.workflows.custody import record_event

            case = app.case()
            se = record_event(case, app.identity(), kind, item, purpose=purpose, location=location)
            _appended(app, case, se)

        _cmd.__doc__ = f"Record that ITEM was {kind} (and why)."
        return _cmd

    custody.command(_name)(_make(_kind))


for _name, _kind in TERMINAL_COMMANDS.items():

    def _make_terminal(kind: str) -> Any:
        @click.argument("item")
        @click.option("--reason", required=True, help="Why (court order, owner, …).")
        @click.option("--counterpart", help="Who it went to (for release/return).")
        @click.option("--location", help="Where.")
        @pass_app
        def _cmd(
            app: App, item: str, reason: str, counterpart: str | None, location: str | None
        ) -> None:
            from evidencekit.workflows.custody import record_event

            case = app.case()
            se = record_event(
                case,
                app.identity(),
                kind,
                item,
                reason=reason,
                counterpart=counterpart,
                location=location,
            )
            _appended(app, case, se)

        _cmd.__doc__ = f"Record that ITEM was {kind}; no event may follow."
        return _cmd

    custody.command(_name)(_make_terminal(_kind))


@custody.command("verify")
@_trust_option
@pass_app
def verify(app: App, trust: tuple[Path, ...]) -> None:
    """Recompute signatures, chains, rules, the Merkle tree and every checkpoint (exit 3 on any
    problem, naming the first bad event)."""
    from evidencekit.workflows.custody import verify_custody

    case = app.case()
    status = verify_custody(case, _trust(trust))
    lines = []
    if status.ok:
        lines.append(
            f"Custody ledger OK: {status.events} events, {status.checkpoints} checkpoints, "
            f"root {status.root.hex()}"
        )
    else:
        first = status.first_bad_event
        lines.append(
            f"Custody ledger does NOT verify: {len(status.problems)} problem(s)"
            + (f"; first bad event: {first}" if first is not None else "")
        )
        shown = status.problems[:50]
        lines += [f"  {p}" for p in shown]
        if len(status.problems) > len(shown):
            lines.append(f"  … and {len(status.problems) - len(shown)} more")
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
        raise CustodyError("the case has no custody checkpoint yet")
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
        app.info(f"Wrote inclusion proof for {len(doc['entries'])} event(s) to {out}")


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
            raise UsageError("an inclusion proof is checked against --checkpoint CP")
        res = verify_inclusion_document(doc, _read_text(checkpoint_file, "checkpoint"), trusted)
        c = res.checkpoint
        lines = [
            f"Inclusion proof OK against checkpoint of {c.checkpoint.origin} "
            f"(tree size {c.checkpoint.size}, signed by {c.signer_name})"
        ]
        lines += [
            f"  event {e.leaf_index}: {e.event.kind} {e.event.item_id or '(case)'} "
            f"by {e.signer_name} at {e.event.body()['time']}"
            for e in res.events
        ]
        app.emit("evidencekit/custody-proof-check/1", res.to_dict(), lines)
        return
    cres = verify_consistency_document(doc, trusted)
    app.emit(
        "evidencekit/custody-proof-check/1",
        cres.to_dict(),
        f"Consistency proof OK: tree size {cres.new.checkpoint.size} extends tree size "
        f"{cres.old.checkpoint.size} of {cres.old.checkpoint.origin}",
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
    message = (
        f"Consistent: the ledger (tree size {res.new.checkpoint.size}) extends the checkpoint "
        f"of tree size {res.old.checkpoint.size} signed by {res.old.signer_name}"
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
        app.info(f"Wrote {fmt} export to {out}")
