"""Custody commands of the seizure record (issue 16): `session open|close`, `seal-apply`,
`seal-open`, `reseal` (the physical seal; `sealed` is the cryptographic one), `attach` (a
document, such as the scanned signed Biên bản)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from evidencekit.cli.commands.custody._common import _appended
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
    from evidencekit.workflows.seizure import open_session

    case = app.case()
    se = open_session(
        case,
        app.identity(),
        session_id,
        place=place,
        agency=agency,
        record_number=record_number,
        legal_basis=basis,
        participants=participants,
    )
    _appended(app, case, se)


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
    from evidencekit.workflows.seizure import close_session

    if len(refused) != len(reasons):
        raise UsageError(
            _(
                "{count} --refused but {count2} --reason: give one reason for each "
                "participant who refused to sign"
            ).format(count=len(refused), count2=len(reasons))
        )
    case = app.case()
    se = close_session(
        case,
        app.identity(),
        session_id,
        refusals=list(zip(refused, reasons, strict=True)),
        statements=statement,
    )
    _appended(app, case, se)


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
    from evidencekit.workflows.seizure import apply_seal

    case = app.case()
    se = apply_seal(
        case,
        app.identity(),
        item,
        seal_numbers=numbers,
        method=method,
        participants=participants,
        session=session,
    )
    _appended(app, case, se)


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
    from evidencekit.workflows.seizure import open_seal

    case = app.case()
    se = open_seal(
        case,
        app.identity(),
        item,
        seal_numbers=numbers,
        seal_state=seal_state,
        state_note=state_note,
        reason=reason,
        participants=participants,
        session=session,
    )
    _appended(app, case, se)


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
    from evidencekit.workflows.seizure import reseal

    case = app.case()
    se = reseal(
        case,
        app.identity(),
        item,
        seal_numbers=numbers,
        replaces=replaces,
        method=method,
        participants=participants,
        session=session,
    )
    _appended(app, case, se)


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
    from evidencekit.workflows.attach import attach_document

    case = app.case()
    check_item_id(item)
    se = attach_document(
        case,
        app.identity(),
        item,
        file,
        what=what,
        note=note,
        participants=participants,
        session=session,
        on_info=app.info,
    )
    _appended(app, case, se)
