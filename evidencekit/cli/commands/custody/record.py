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
    _end_kind,
    _party_options,
    _recipient,
    _signer,
)
from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import N_
from evidencekit.cli.options import participant_options
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
@click.option("--make", help='The device\'s make as read off it, e.g. "Seagate".')
@click.option("--model", help="The device's model as read off it.")
@click.option("--serial", help="The serial number on the device's label.")
@click.option(
    "--capacity",
    metavar="SIZE",
    help="The capacity on the label: bytes, or with a unit (64GB = 64·10⁹ bytes, 64GiB = "
    "64·2³⁰); recorded as bytes and as written. An acquisition that measures another "
    "capacity or serial is noted by custody verify, custody log and the reports.",
)
@participant_options
@pass_app
def register(
    app: App,
    item: str,
    description: str,
    seal_number: str | None,
    condition: str | None,
    location: str | None,
    photos: tuple[Path, ...],
    make: str | None,
    model: str | None,
    serial: str | None,
    capacity: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Register a seized physical ITEM before imaging (its first custody event)."""
    from evidencekit.ids import check_item_id
    from evidencekit.workflows.recording import Presence, RegisterRequest, record_custody
    from evidencekit.workflows.registration import DeviceDetails

    case = app.case()
    check_item_id(item)  # before a passphrase is asked for
    device = DeviceDetails(make, model, serial, capacity)
    request = RegisterRequest(
        item,
        description,
        photos=photos,
        seal_number=seal_number,
        condition=condition,
        location=location,
        device=device,
        presence=Presence(participants, session),
    )
    _appended(app, case, record_custody(case, _signer(app), request, on_info=app.info))


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
@participant_options
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
    from evidencekit.workflows.recording import Presence, TransferRequest, record_custody

    case = app.case()
    request = TransferRequest(
        item,
        _recipient(to, to_role, to_id),
        purpose,
        location=location,
        condition=condition,
        override_reason=override_reason,
        presence=Presence(participants, session),
    )
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("receive")
@click.argument("item")
@click.option("--location", help="Where it was received.")
@click.option("--condition", help="Condition / seal state on receipt.")
@click.option("--override-reason", help="Record it although the transfer named someone else.")
@participant_options
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
    from evidencekit.workflows.recording import Presence, ReceiveRequest, record_custody

    case = app.case()
    request = ReceiveRequest(
        item,
        location=location,
        condition=condition,
        override_reason=override_reason,
        presence=Presence(participants, session),
    )
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("note")
@click.argument("item")
@click.argument("text")
@participant_options
@pass_app
def note(
    app: App, item: str, text: str, participants: tuple[str, ...], session: str | None
) -> None:
    """Add a note to ITEM's history (use "-" as ITEM for a note about the whole case)."""
    from evidencekit.workflows.recording import NoteRequest, Presence, record_custody

    case = app.case()
    request = NoteRequest(None if item == "-" else item, text, Presence(participants, session))
    _appended(app, case, record_custody(case, _signer(app), request))


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
        @participant_options
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
            from evidencekit.workflows.recording import ExamineRequest, Presence, record_custody

            case = app.case()
            request = ExamineRequest(
                item,
                "accessed" if kind == "accessed" else "analysed",
                purpose,
                location=location,
                working_copy=working,
                on_original=on_original,
                presence=Presence(participants, session),
            )
            _appended(app, case, record_custody(case, _signer(app), request))

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
        @participant_options
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
            from evidencekit.workflows.recording import EndRequest, Presence, record_custody

            case = app.case()
            request = EndRequest(
                item,
                _end_kind(kind),
                reason,
                to=None if counterpart is None else _recipient(counterpart, to_role, to_id),
                location=location,
                override_reason=override_reason,
                presence=Presence(participants, session),
            )
            if counterpart is None and (to_role is not None or to_id is not None):
                _recipient(None, to_role, to_id)  # the usage error
            _appended(app, case, record_custody(case, _signer(app), request))

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
