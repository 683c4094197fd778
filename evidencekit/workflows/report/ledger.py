"""The report's access to the custody ledger (through the custody helper's API).

For building: the events, latest checkpoint and exports to embed, and the `report_issued` event.
For verifying: whether the current ledger extends an embedded checkpoint (as problems and notes),
and whether it records a PDF as issued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evidencekit.case import Case
from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import parse_checkpoint_body, parse_note, verify_checkpoint
from evidencekit.chain.events import Event
from evidencekit.errors import EvidenceKitError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.problems import Problem
from evidencekit.workflows import custody
from evidencekit.workflows.origin import ledger_origin
from evidencekit.workflows.report.names import CHECKPOINT_TXT
from evidencekit.workflows.wording import described


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """What the report needs from the ledger."""

    events: tuple[Event, ...] = ()
    checkpoint_text: str | None = None
    tree_size: int | None = None
    root: str | None = None
    jsonl: bytes | None = None
    case_jsonld: bytes | None = None


def _ledger_snapshot(case: Case) -> LedgerSnapshot:
    """Events, latest checkpoint and exports; empty when the case has no ledger yet.

    Raises:
        IntegrityError: the ledger or its latest checkpoint is damaged.
    """

    with custody.open_ledger(case) as ledger:
        events = tuple(se.event for se in ledger.events())
    note = custody.latest_checkpoint(case)
    size = root = None
    if note is not None:
        body, _sigs = parse_note(note)
        parsed = parse_checkpoint_body(body)
        size, root = parsed.size, parsed.root.hex()
    return LedgerSnapshot(
        events=events,
        checkpoint_text=note,
        tree_size=size,
        root=root,
        jsonl=custody.export_jsonl_bytes(case) if events else None,
        case_jsonld=custody.export_case_bytes(case) if events else None,
    )


def _record_report_issued(
    case: Case,
    identity: Identity,
    *,
    report_id: str,
    sha256: str,
    size: int,
    path: Path,
    items: Sequence[str],
    lang: str,
    form: str = "report",
) -> None:
    """Append one case-level `report_issued` event carrying the PDF's sha256 and size: the
    report as issued, which stays the first `size` bytes of the file after co-signatures,
    document timestamps and validation data are appended as incremental updates.

    Raises:
        CustodyError: the ledger refuses it (e.g. the identity is not pinned).
    """

    custody.record_event(
        case,
        identity,
        "report_issued",
        None,
        description=described(case, "report_issued", report_id=report_id, language=lang),
        digests={"sha256": sha256},
        details={
            "report_id": report_id,
            "file": path.name,
            "size": size,
            "lang": lang,
            "items": list(items),
            # a Biên bản says so (a report's details are as they always were)
            **({"form": form} if form != "report" else {}),
        },
    )


def _check_checkpoint(case: Case, text: str) -> tuple[list[Problem], list[str]]:
    """The problems and notes about the embedded checkpoint (one of them is given).

    The checkpoint must be signed by a pinned examiner, name this case's ledger, and the current
    ledger (whose own latest checkpoint must verify too) must extend it: a Merkle consistency
    proof from the embedded tree to the current one.
    """

    def bad_checkpoint(message: str) -> tuple[list[Problem], list[str]]:
        return [Problem.of_report("bad-checkpoint", "attachment", message, CHECKPOINT_TXT)], []

    def bad_ledger(kind: str, message: str) -> tuple[list[Problem], list[str]]:
        return [Problem.of_report(kind, "ledger", message)], []

    trusted = custody.trusted_with(case)
    try:
        old = verify_checkpoint(text, trusted).checkpoint
    except IntegrityError as exc:
        return bad_checkpoint(f"embedded checkpoint: {exc}")
    if old.origin != ledger_origin(case):
        return bad_checkpoint(f"embedded checkpoint is for ledger {old.origin!r}, not this case's")
    try:
        latest = custody.latest_checkpoint(case)
        if latest is None:
            return bad_ledger("ledger-invalid", "the case's ledger has no checkpoint")
        new = verify_checkpoint(latest, trusted).checkpoint
        with custody.open_ledger(case) as ledger:
            size = ledger.size()
            if size != new.size:
                return bad_ledger(
                    "ledger-invalid",
                    f"the ledger holds {size} events but its latest checkpoint says {new.size}",
                )
            current = merkle.root(ledger.node, size)
            if current != new.root:
                return bad_ledger(
                    "ledger-invalid",
                    "the ledger's Merkle root differs from its latest signed checkpoint",
                )
            if old.size > size:
                return bad_ledger(
                    "rolled-back",
                    f"the ledger holds {size} events, fewer than the {old.size} of the "
                    "checkpoint in the report: history was removed",
                )
            proof = merkle.consistency_proof(ledger.node, old.size, size) if old.size else []
        if old.size == 0:
            return [], ["the embedded checkpoint is of the empty ledger"]
        merkle.verify_consistency(old.size, size, proof, old.root, current)
    except EvidenceKitError as exc:
        return bad_ledger("not-extended", f"ledger consistency: {exc}")
    return [], [
        f"the current ledger ({size} events) extends the report's checkpoint ({old.size} events):"
        " consistency proof verified"
    ]


def _find_report_event(case: Case, data: bytes) -> tuple[int, int] | None:
    """The report_issued event that recorded `data` as issued: (its seq, the size it recorded).

    The event binds the whole file as `report build` published it; later incremental updates
    (co-signatures, document timestamps, validation data) only append, so the issued report is
    the first `size` bytes (events written before sizes were recorded bind the whole file).
    """

    for event in custody.list_events(case):
        if event.get("kind") != "report_issued":
            continue
        want = (event.get("digests") or {}).get("sha256")
        size = (event.get("details") or {}).get("size", len(data))
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= len(data):
            continue
        if hashlib.sha256(data[:size]).hexdigest() == want:
            seq = event.get("seq")
            if isinstance(seq, int):
                return seq, size
    return None


RevisionKind = Literal["report_cosigned", "report_extended"]
"""The events that bind a report's later revision (a co-signature, an extension)."""


def _record_report_revision(
    case: Case,
    identity: Identity,
    kind: RevisionKind,
    *,
    description: str,
    sha256: str,
    size: int,
    path: Path,
    details: dict[str, object],
) -> None:
    """Append one case-level `report_cosigned` or `report_extended` event binding the PDF as
    it is after the co-signature or extension (its sha256 and size: later revisions only
    append, so it stays the first `size` bytes of the file).

    Raises:
        CustodyError: the ledger refuses it (e.g. the identity is not pinned).
    """
    custody.record_event(
        case,
        identity,
        kind,
        None,
        description=description,
        digests={"sha256": sha256},
        details={"file": path.name, "size": size, **details},
    )


def _revision_events(case: Case, data: bytes) -> list[dict[str, object]]:
    """The `report_cosigned` and `report_extended` events that bind a prefix of `data` (the
    file as it was after that co-signature or extension), in ledger order."""
    found: list[dict[str, object]] = []
    for event in custody.list_events(case):
        if event.get("kind") not in ("report_cosigned", "report_extended"):
            continue
        want = (event.get("digests") or {}).get("sha256")
        size = (event.get("details") or {}).get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= len(data):
            continue
        if hashlib.sha256(data[:size]).hexdigest() == want:
            found.append(event)
    return found
