"""Custody commands of the seizure record (issue 16): `session open|close`, `seal-apply`,
`seal-open`, `reseal` (the physical seal; `sealed` is the cryptographic one), `attach` (a
document, such as the scanned signed Biên bản)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from evidencekit.cli.commands.custody._common import _appended, _signer
from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import N_, _
from evidencekit.cli.options import participant_options
from evidencekit.cli.runtime import App, pass_app

F = TypeVar("F", bound=Callable[..., Any])


def _seal_numbers(help_text: str) -> Callable[[F], F]:
    """`--seal-number N` (repeatable, required) of the three physical-seal commands."""
    return click.option("--seal-number", "numbers", multiple=True, required=True, help=help_text)


@custody.group("session")
def session() -> None:
    """A seizure session (the Biên bản's place, start and end, legal basis and participants):
    open it, record items and seals in it with --session ID, then close it."""


@session.command("open")
@click.argument("session_id", metavar="ID")
@click.option("--place", required=True, help="Where the seizure takes place.")
@click.option("--agency", required=True, help="The agency conducting it.")
@click.option("--record-number", help="The record's number (số biên bản).")
@click.option(
    "--basis",
    "basis",
    multiple=True,
    help='A legal basis, e.g. "Điều 107 BLTTHS 2015" or "Lệnh khám xét số 12/LKX". Repeatable.',
)
@participant_options(session=False)
@pass_app
def session_open(
    app: App,
    session_id: str,
    place: str,
    agency: str,
    record_number: str | None,
    basis: tuple[str, ...],
    participants: tuple[str, ...],
) -> None:
    """Open seizure session ID (its start is this event's time)."""
    from evidencekit.workflows.recording import SessionOpenRequest, record_custody

    case = app.case()
    request = SessionOpenRequest(session_id, place, agency, record_number, basis, participants)
    _appended(app, case, record_custody(case, _signer(app), request))


@session.command("show")
@click.argument("session_id", metavar="ID")
@pass_app
def session_show(app: App, session_id: str) -> None:
    """Show seizure session ID: its opening, the events that name it, its closing."""
    from evidencekit.cli.commands.custody._common import _event_lines
    from evidencekit.errors import UsageError
    from evidencekit.workflows.seizure import session_events

    case = app.case()
    events = session_events(case, session_id)
    if not events:
        raise UsageError(
            _("no seizure session {session_id!r} was opened in case {number!r}").format(
                session_id=session_id, number=case.info.number
            ),
            hint=_("`evidencekit custody log` lists the session_opened events"),
        )
    lines = [line for e in events for line in _event_lines(e, case.info.timezone)]
    app.emit(
        "evidencekit/custody-session/1",
        {"session": session_id, "closed": events[-1]["kind"] == "session_closed", "events": events},
        lines,
    )


@session.command("close")
@click.argument("session_id", metavar="ID")
@click.option(
    "--refused",
    "refused",
    multiple=True,
    metavar="SPEC",
    help="A participant who refused to sign: name=… (a participant of the session) or a full "
    "SPEC. Repeatable, each with its --reason, in order.",
)
@click.option("--reason", "reasons", multiple=True, help="Why the matching --refused did not sign.")
@click.option("--statement", help="Statements and objections of those present.")
@pass_app
def session_close(
    app: App,
    session_id: str,
    refused: tuple[str, ...],
    reasons: tuple[str, ...],
    statement: str | None,
) -> None:
    """Close seizure session ID (its end is this event's time)."""
    from evidencekit.errors import UsageError
    from evidencekit.workflows.recording import SessionCloseRequest, record_custody

    if len(refused) != len(reasons):
        raise UsageError(
            _(
                "{count} --refused but {count2} --reason: give one reason for each "
                "participant who refused to sign"
            ).format(count=len(refused), count2=len(reasons))
        )
    case = app.case()
    request = SessionCloseRequest(
        session_id, tuple(zip(refused, reasons, strict=True)), statements=statement
    )
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("seal-apply")
@click.argument("item")
@_seal_numbers(N_("Seal number. Repeatable."))
@click.option("--method", required=True, help="How it was sealed (bag, tape, signatures).")
@participant_options
@pass_app
def seal_apply(
    app: App,
    item: str,
    numbers: tuple[str, ...],
    method: str,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Record that ITEM was physically sealed (niêm phong)."""
    from evidencekit.workflows.recording import Presence, SealApplyRequest, record_custody

    case = app.case()
    request = SealApplyRequest(item, numbers, method, Presence(participants, session))
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("seal-open")
@click.argument("item")
@_seal_numbers(N_("The number of an applied seal. Repeatable."))
@click.option(
    "--state",
    "seal_state",
    type=click.Choice(["intact", "damaged"]),
    required=True,
    help="The state of the seal when opened.",
)
@click.option("--state-note", help="What was seen of the seal.")
@click.option("--reason", required=True, help="Why it is opened.")
@participant_options
@pass_app
def seal_open(
    app: App,
    item: str,
    numbers: tuple[str, ...],
    seal_state: str,
    state_note: str | None,
    reason: str,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Record that ITEM's physical seal was opened (mở niêm phong); re-seal it before it is
    transferred, released or returned."""
    from evidencekit.workflows.recording import Presence, SealOpenRequest, record_custody

    case = app.case()
    request = SealOpenRequest(
        item,
        numbers,
        "intact" if seal_state == "intact" else "damaged",
        reason,
        state_note=state_note,
        presence=Presence(participants, session),
    )
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("reseal")
@click.argument("item")
@_seal_numbers(N_("New seal number. Repeatable."))
@click.option(
    "--replaces",
    "replaces",
    multiple=True,
    required=True,
    help="The opened seal it replaces. Repeatable.",
)
@click.option("--method", required=True, help="How it was sealed again.")
@participant_options
@pass_app
def reseal_cmd(
    app: App,
    item: str,
    numbers: tuple[str, ...],
    replaces: tuple[str, ...],
    method: str,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Record that ITEM was sealed again (niêm phong lại) after its seal was opened."""
    from evidencekit.workflows.recording import Presence, ResealRequest, record_custody

    case = app.case()
    request = ResealRequest(item, numbers, replaces, method, Presence(participants, session))
    _appended(app, case, record_custody(case, _signer(app), request))


@custody.command("attach")
@click.argument("item")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--what",
    type=click.Choice(["signed-record", "other"]),
    required=True,
    help="signed-record: the scanned signed copy of a Biên bản; other: another document.",
)
@click.option("--note", help="What the document is.")
@participant_options
@pass_app
def attach(
    app: App,
    item: str,
    file: Path,
    what: str,
    note: str | None,
    participants: tuple[str, ...],
    session: str | None,
) -> None:
    """Attach FILE to ITEM (hashed, kept in CASE/documents/ITEM/, checked by custody verify
    and verify)."""
    from evidencekit.ids import check_item_id
    from evidencekit.workflows.recording import AttachRequest, Presence, record_custody

    case = app.case()
    check_item_id(item)  # before a passphrase is asked for
    request = AttachRequest(
        item,
        file,
        "signed-record" if what == "signed-record" else "other",
        note=note,
        presence=Presence(participants, session),
    )
    _appended(app, case, record_custody(case, _signer(app), request, on_info=app.info))
