"""The Biên bản (seizure record) of one item or one seizure session: which items it covers, and
its model from the ledger's events and the items' seals.

`report build --form bien-ban` goes through `build.build_report` like the report does — the same
checks before rendering (the whole ledger and every shown seal verify), the same attachments
(seals, custody exports, checkpoint, report.json), the same signature and `report_issued` event
— only the pages differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from evidencekit.case import Case
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party
from evidencekit.errors import UsageError
from evidencekit.hash.seal.document import Seal
from evidencekit.hash.seal.read import parse_seal
from evidencekit.identity import Identity
from evidencekit.report.model import ReportModel
from evidencekit.report.model.record import (
    RecordItem,
    SeizureRecord,
    record_frame,
    record_item,
    session_events,
    session_items,
)
from evidencekit.workflows.report.names import SEAL_SUFFIX
from evidencekit.workflows.report.photos import with_data

FORMS = ("report", "bien-ban")
"""What `report build --form` renders: the full report, or the Biên bản."""


def record_items(
    events: Sequence[Event], case: Case, items: Sequence[str] | None, session: str | None
) -> list[str]:
    """The items a Biên bản covers: the one given with `--item`, or those of `--session`.

    Raises:
        UsageError: neither or both are given, more than one item, or an unknown session.
    """
    if session is not None and items:
        raise UsageError(
            "a Biên bản is of one item (--item) or of one session (--session), not both"
        )
    if session is None:
        if not items or len(items) != 1:
            raise UsageError(
                "--form bien-ban needs one --item ID or a --session ID",
                hint="a seizure session's record: --session ID (its items are those registered "
                "in it)",
            )
        known = sorted({*case.items(), *(e.item_id for e in events if e.item_id)})
        if items[0] not in known:
            raise UsageError(
                f"item {items[0]!r} is not in case {case.info.number!r}",
                hint=f"items: {', '.join(known) or '(none)'}",
            )
        return list(items)
    opened, _closed = session_events(events, session)
    if opened is None:
        known = sorted(
            {
                str(e.details.get("session"))
                for e in events
                if e.kind == "session_opened" and e.details.get("session")
            }
        )
        raise UsageError(
            f"session {session!r} is not in case {case.info.number!r}",
            hint=f"sessions: {', '.join(known) or '(none)'}",
        )
    found = session_items(events, session)
    if not found:
        raise UsageError(
            f"session {session!r} has no item registered in it",
            hint="register items with the session (custody register --session ID)",
        )
    return found


def _with_photos(case: Case, item: RecordItem) -> RecordItem:
    if not item.photos:
        return item
    return dataclasses.replace(item, photos=with_data(case, item.photos))


def record_model(
    case: Case,
    identity: Identity | None,
    report: ReportModel,
    events: Sequence[Event],
    items: Sequence[str],
    session: str | None,
    *,
    copies: int = 2,
) -> SeizureRecord:
    """The Biên bản of `items` (and `session`), sharing the report's id, language and signer.

    Raises:
        IntegrityError: a seal is not a seal (`check_case` verified each one before).
        ReportError: a seal cannot be read.
    """
    if copies < 1:
        raise UsageError(f"--copies {copies} is not a number of copies", hint="1 or more")
    seals: dict[str, Seal | None] = {}
    for item in items:
        path = case.item_dir(item) / f"{item}{SEAL_SUFFIX}"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            seals[item] = None
            continue
        seals[item] = parse_seal(path, raw)
    examiner = None if identity is None else Party(report.examiner, identity.fingerprint)
    frame = record_frame(events, items, session, agency=case.info.agency, examiner=examiner)
    return SeizureRecord(
        report_id=report.report_id,
        lang=report.lang,
        generated=report.generated,
        timezone=report.timezone,
        case_number=report.case_number,
        case_title=report.case_title,
        agency=frame.agency,
        examiner=report.examiner,
        examiner_fingerprint=report.examiner_fingerprint,
        tool_version=report.tool_version,
        session_id=frame.session_id,
        record_number=frame.record_number,
        place=frame.place,
        start=frame.start,
        end=frame.end,
        legal_basis=frame.legal_basis,
        participants=frame.participants,
        refusals=frame.refusals,
        statements=frame.statements,
        items=tuple(_with_photos(case, record_item(i, events, seals[i])) for i in items),
        copies=copies,
        signed=report.signed,
    )
