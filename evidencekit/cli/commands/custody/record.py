"""Custody commands that append an event: register, transfer, receive, note, access, analyse,
release, return, destroy."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from evidencekit.chain.kinds import EventKind
from evidencekit.cli.commands.custody._common import (
    TERMINAL_COMMANDS,
    _appended,
    _counterpart,
    _party_options,
    _seizure_details,
    _seizure_options,
)
from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import N_
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.workflows.seizure import ExaminationKind


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
    help="Photo of the item; hashed, recorded and kept in CASE/photos/ITEM/ (checked by "
    "custody verify and verify). Repeatable.",
)
@_seizure_options
@pass_app
def register(
    app: App,
    item: str,
    description: str,
    seal_number: str | None,
    condition: str | None,
    location: str | None,
    photos: tuple[Path, ...],
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Register a seized physical ITEM before imaging (its first custody event)."""
    from evidencekit.ids import check_item_id
    from evidencekit.workflows.registration import register_item

    case = app.case()
    check_item_id(item)  # before a passphrase is asked for
    extra = _seizure_details(case, participants, session)
    se = register_item(
        case,
        app.identity(),
        item,
        description=description,
        photos=photos,
        seal_number=seal_number,
        condition=condition,
        location=location,
        details=extra,
        on_info=app.info,
    )
    _appended(app, case, se)


@custody.command("transfer")
@click.argument("item")
@click.option(
    "--to",
    "to",
    required=True,
    help="Recipient: a pinned examiner (name or fingerprint), or with --to-id a person or body "
    "who holds no key.",
)
@_party_options
@click.option("--purpose", required=True, help="Why it is handed over.")
@click.option("--location", help="Where the hand-over happens.")
@click.option("--condition", help="Condition / seal state at hand-over.")
@click.option("--override-reason", help="Record it although you are not the custodian.")
@_seizure_options
@pass_app
def transfer(
    app: App,
    item: str,
    to: str,
    to_role: str | None,
    to_id: str | None,
    purpose: str,
    location: str | None,
    condition: str | None,
    override_reason: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Hand ITEM over to someone (only its current custodian may)."""
    from evidencekit.workflows.custody import record

    case = app.case()
    details = _seizure_details(case, participants, session)
    se = record(
        case,
        app.identity(),
        "transferred",
        item,
        counterpart=_counterpart(case, to, to_role, to_id),
        purpose=purpose,
        location=location,
        condition=condition,
        override=override_reason,
        details=details,
    )
    _appended(app, case, se)


@custody.command("receive")
@click.argument("item")
@click.option("--location", help="Where it was received.")
@click.option("--condition", help="Condition / seal state on receipt.")
@click.option("--override-reason", help="Record it although the transfer named someone else.")
@_seizure_options
@pass_app
def receive(
    app: App,
    item: str,
    location: str | None,
    condition: str | None,
    override_reason: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Acknowledge receipt of ITEM, signed with YOUR identity (you must be pinned in the case)."""
    from evidencekit.workflows.custody import list_events, record

    case = app.case()
    details = _seizure_details(case, participants, session)
    sender = None
    for ev in reversed(list_events(case, item)):
        if ev["kind"] == "transferred":
            sender = ev["actor"]["fingerprint"]
            break
    se = record(
        case,
        app.identity(),
        "received",
        item,
        counterpart=sender,
        location=location,
        condition=condition,
        override=override_reason,
        details=details,
    )
    _appended(app, case, se)


@custody.command("note")
@click.argument("item")
@click.argument("text")
@_seizure_options
@pass_app
def note(
    app: App, item: str, text: str, participants: tuple[str, ...], session: str | None
) -> None:
    """Add a note to ITEM's history (use "-" as ITEM for a note about the whole case)."""
    from evidencekit.workflows.custody import record

    case = app.case()
    details = _seizure_details(case, participants, session)
    se = record(
        case, app.identity(), "note", None if item == "-" else item, note=text, details=details
    )
    _appended(app, case, se)


# the help texts these loops make, for the interface catalog (translated when shown)
_HELP_TEXTS = (
    N_(
        "Record that ITEM was accessed (and why), naming the working copy used; an original "
        "acquired image needs --working-copy or --on-original."
    ),
    N_(
        "Record that ITEM was analysed (and why), naming the working copy used; an original "
        "acquired image needs --working-copy or --on-original."
    ),
    N_("Record that ITEM was released; no event may follow."),
    N_("Record that ITEM was returned; no event may follow."),
    N_("Record that ITEM was destroyed; no event may follow."),
)

_EXAMINE_COMMANDS: dict[str, ExaminationKind] = {"access": "accessed", "analyse": "analysed"}
for _name, _kind in _EXAMINE_COMMANDS.items():

    def _make(kind: ExaminationKind) -> Any:
        @click.argument("item")
        @click.option("--purpose", required=True, help="Why it is accessed.")
        @click.option("--location", help="Where.")
        @click.option(
            "--working-copy",
            "working",
            metavar="ITEM_OR_PATH",
            help="The working copy examined (Art. 107 BLTTHS: examination is done on copies): "
            "another item of the case, or the copy's file (hashed, SHA-256 recorded).",
        )
        @click.option(
            "--on-original",
            "on_original",
            metavar="REASON",
            help="Why the original acquired image itself was examined (recorded; custody "
            "verify notes it).",
        )
        @_seizure_options
        @pass_app
        def _cmd(
            app: App,
            item: str,
            purpose: str,
            location: str | None,
            working: str | None,
            on_original: str | None,
            participants: tuple[str, ...],
            session: str | None,
        ) -> None:
            from evidencekit.workflows.seizure import examine

            case = app.case()
            se = examine(
                case,
                app.identity(),
                kind,
                item,
                purpose=purpose,
                location=location,
                working=working,
                on_original=on_original,
                participants=participants,
                session=session,
            )
            _appended(app, case, se)

        _cmd.__doc__ = (
            f"Record that ITEM was {kind} (and why), naming the working copy used; an original "
            "acquired image needs --working-copy or --on-original."
        )
        return _cmd

    custody.command(_name)(_make(_kind))


for _name, _terminal in TERMINAL_COMMANDS.items():

    def _make_terminal(kind: EventKind) -> Any:
        @click.argument("item")
        @click.option("--reason", required=True, help="Why (court order, owner, …).")
        @click.option(
            "--to",
            "--counterpart",
            "counterpart",
            help="Who it went to: a pinned examiner, or with --to-id a person or body who "
            "holds no key (an owner, a court).",
        )
        @_party_options
        @click.option("--location", help="Where.")
        @click.option(
            "--override-reason",
            help="Record it although you are not the item's custodian (the reason is recorded).",
        )
        @_seizure_options
        @pass_app
        def _cmd(
            app: App,
            item: str,
            reason: str,
            counterpart: str | None,
            to_role: str | None,
            to_id: str | None,
            location: str | None,
            override_reason: str | None,
            participants: tuple[str, ...],
            session: str | None,
        ) -> None:
            from evidencekit.workflows.custody import record

            case = app.case()
            details = _seizure_details(case, participants, session)
            se = record(
                case,
                app.identity(),
                kind,
                item,
                reason=reason,
                counterpart=_counterpart(case, counterpart, to_role, to_id),
                location=location,
                override=override_reason,
                details=details,
            )
            _appended(app, case, se)

        _cmd.__doc__ = f"Record that ITEM was {kind}; no event may follow."
        return _cmd

    custody.command(_name)(_make_terminal(_terminal))


@custody.command("timestamp")
@click.option("--tsa", "tsa_url", required=True, help="URL of an RFC 3161 timestamp authority.")
@pass_app
def timestamp(app: App, tsa_url: str) -> None:
    """Have a timestamp authority timestamp the ledger's latest checkpoint; its token is
    recorded in the ledger (check offline with `custody verify --tsa-cert`)."""
    from evidencekit.workflows.custody import timestamp_checkpoint

    case = app.case()
    se = timestamp_checkpoint(case, app.identity(), tsa_url)
    _appended(app, case, se)
