"""Custody use cases: record events in a case's ledger, read them back, verify, prove, export.

This is the interface the acquisition, seal, collection and report workflows use
(docs/interfaces.md, "chain"). Every function opens the case's `custody.sqlite`, does its work
and closes it; appends are durable before they return.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, Unpack
from urllib.parse import quote

from cryptography import x509

from evidencekit.case import Case
from evidencekit.chain.events import (
    Party,
    SignedEvent,
    clean_text,
    jsonable_details,
    normalise_digests,
)
from evidencekit.chain.ledger import AppendResult, Draft, Ledger
from evidencekit.chain.proof import ConsistencyResult
from evidencekit.chain.verify import LedgerStatus
from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import Identity
from evidencekit.ids import check_item_id
from evidencekit.timeutil import compact


def ledger_origin(case: Case) -> str:
    """The ledger's checkpoint origin: `evidencekit.case/<case number>/<created UTC>`.

    Percent-encoded so it holds no spaces or '+' (C2SP checkpoint origin rules).
    """
    number = quote(unicodedata.normalize("NFC", case.info.number), safe="")
    return f"evidencekit.case/{number}/{compact(case.info.created)}"


def open_ledger(case: Case, *, create: bool = True) -> Ledger:
    """The case's ledger (created empty when missing and `create`).

    Raises:
        CustodyError: `create` is false and the case has no ledger.
        IntegrityError: the ledger file is damaged.
    """
    return Ledger.open(case.ledger_path, ledger_origin(case), create=create)


def resolve_party(case: Case, name_or_fp: str) -> Party:
    """A counterpart: a pinned examiner when the text names one (name or fingerprint
    prefix of 8+ hex digits), else just the name as typed (NFC)."""
    text = unicodedata.normalize("NFC", name_or_fp.strip())
    if not text:
        raise CustodyError("the counterpart's name is empty")
    key = text.lower().replace(":", "")
    matches = [
        e
        for e in case.info.examiners
        if e.name == text or (len(key) >= 8 and e.fingerprint.startswith(key))
    ]
    if len(matches) > 1:
        raise CustodyError(
            f"{len(matches)} pinned examiners match {text!r}",
            hint="name the recipient by certificate fingerprint (8+ hex digits)",
        )
    if matches:
        return Party(matches[0].name, matches[0].fingerprint)
    return Party(text, None)


def _check_signer(case: Case, identity: Identity) -> None:
    if not case.is_pinned(identity.fingerprint):
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
            f"{case.info.number!r}",
            hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
        )


class EventText(TypedDict, total=False):
    """An event's form fields as callers give them to `make_draft` and `record_event` (all
    optional keywords): texts as typed, `counterpart` a name or a pinned examiner's name or
    fingerprint, `digests` {algorithm: hex} (or "algorithm:hex" values), `details` JSON-able."""

    description: str | None
    digests: Mapping[str, str] | None
    details: Mapping[str, Any] | None
    purpose: str | None
    location: str | None
    counterpart: str | None
    seal_number: str | None
    condition: str | None
    note: str | None
    reason: str | None
    override: str | None


def make_draft(case: Case, kind: str, item_id: str | None, **fields: Unpack[EventText]) -> Draft:
    """Validate and normalise one event's fields (texts NFC, digests lowercase hex).

    Raises:
        UsageError: invalid item id.
        CustodyError: a malformed digest or empty counterpart.
        TypeError: a keyword that is not an `EventText` field (refused, not ignored: a
            misspelt field must not silently vanish from a signed record).
    """
    unknown = sorted(fields.keys() - EventText.__optional_keys__)
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}: not a custody event field")
    counterpart = fields.get("counterpart")
    return Draft(
        kind=kind,
        item_id=None if item_id is None else check_item_id(item_id),
        description=clean_text(fields.get("description")),
        counterpart=None if counterpart is None else resolve_party(case, counterpart),
        purpose=clean_text(fields.get("purpose")),
        location=clean_text(fields.get("location")),
        seal_number=clean_text(fields.get("seal_number")),
        condition=clean_text(fields.get("condition")),
        note=clean_text(fields.get("note")),
        reason=clean_text(fields.get("reason")),
        override=clean_text(fields.get("override")),
        digests=normalise_digests(fields.get("digests")),
        details=jsonable_details(fields.get("details")),
    )


def record_event(
    case: Case, identity: Identity, kind: str, item_id: str | None, **fields: Unpack[EventText]
) -> SignedEvent:
    """Append one signed event (fields as for `make_draft`) to the case ledger and sign a
    checkpoint over it.

    Committed durably (WAL, synchronous=FULL) before it returns.

    Raises:
        CustodyError: the custody rules forbid the event, or `identity` is not pinned.
        UsageError: invalid item id.
        TypeError: an unknown keyword.
    """
    draft = make_draft(case, kind, item_id, **fields)
    return record_drafts(case, identity, [draft]).events[0]


def record_drafts(case: Case, identity: Identity, drafts: Sequence[Draft]) -> AppendResult:
    """Append several events in one transaction with one checkpoint (batch imports, bench).

    Raises:
        CustodyError: one of them breaks the rules (then none is appended).
    """
    _check_signer(case, identity)
    with open_ledger(case) as ledger:
        return ledger.append(identity, drafts)


# -- reading (reports, CLI) ---------------------------------------------------------------------


def list_events(case: Case, item_id: str | None = None) -> list[dict[str, Any]]:
    """Every event (or one item's) as dicts: all fields, actor {name, fingerprint}, UTC time
    (RFC 3339 "Z"), `seq`, `signature`, `leaf_hash`. Empty when the case has no ledger."""
    if not case.ledger_path.exists():
        return []
    with open_ledger(case, create=False) as ledger:
        return [e.to_dict() for e in ledger.events(False if item_id is None else item_id)]


def latest_checkpoint(case: Case) -> str | None:
    """The latest signed checkpoint (C2SP signed note text), or None without a ledger."""
    if not case.ledger_path.exists():
        return None
    with open_ledger(case, create=False) as ledger:
        cp = ledger.latest_checkpoint()
        return None if cp is None else cp.note


def trusted_with(case: Case | None, extra: Sequence[x509.Certificate] = ()) -> dict[str, Any]:
    """The examiners the case's ledger pins (`workflows.trust`) plus `extra` (--trust), by
    fingerprint."""
    from evidencekit.identity import fingerprint
    from evidencekit.workflows.trust import case_trust

    trusted: dict[str, Any] = case_trust(case).certificates if case is not None else {}
    for cert in extra:
        trusted[fingerprint(cert)] = cert
    return trusted


def verify_custody(
    case: Case, extra_trust: Sequence[x509.Certificate] = (), *, workers: int | None = None
) -> LedgerStatus:
    """Recompute and check the whole ledger (signatures against the case's pinned certificates
    plus `extra_trust`, chains, rules, tree, checkpoints). Never raises for a mismatch.

    Raises:
        CustodyError: the case has no ledger.
    """
    from evidencekit.chain.verify import verify_ledger
    from evidencekit.identity import fingerprint
    from evidencekit.workflows.trust import case_trust, with_trust_problems

    trust = case_trust(case)
    extra = {fingerprint(c): c for c in extra_trust}
    with open_ledger(case, create=False) as ledger:
        status = verify_ledger(
            ledger.store, ledger.origin, {**trust.certificates, **extra}, workers=workers
        )
        return with_trust_problems(status, trust, ledger.store, extra)


def _checkpoint_for(ledger: Ledger, checkpoint_text: str | None) -> str:
    if checkpoint_text is not None:
        return checkpoint_text
    cp = ledger.latest_checkpoint()
    if cp is None:
        raise CustodyError("the ledger has no checkpoint yet")
    return cp.note


def prove_item(
    case: Case,
    item_id: str,
    *,
    event: int | None = None,
    checkpoint_text: str | None = None,
    extra_trust: Sequence[x509.Certificate] = (),
) -> dict[str, Any]:
    """An inclusion proof (JSON-able dict) for an item's events (or the one with seq `event`)
    against the latest checkpoint, or against `checkpoint_text` (e.g. one printed in a report).

    Raises:
        CustodyError: unknown item or event.
        IntegrityError: the given checkpoint does not verify or is not of this ledger.
    """
    from evidencekit.chain.checkpoint import verify_checkpoint
    from evidencekit.chain.proof import inclusion_document

    trusted = trusted_with(case, extra_trust)
    with open_ledger(case, create=False) as ledger:
        text = _checkpoint_for(ledger, checkpoint_text)
        vc = verify_checkpoint(text, trusted)
        if vc.checkpoint.origin != ledger.origin:
            raise IntegrityError(f"checkpoint is for ledger {vc.checkpoint.origin!r}")
        size = vc.checkpoint.size
        events = [e for e in ledger.events(check_item_id(item_id)) if e.seq < size]
        if event is not None:
            events = [e for e in events if e.seq == event]
        if not events:
            what = f"event {event} of item" if event is not None else "item"
            raise CustodyError(
                f"no {what} {item_id!r} in the ledger (tree size {size})",
                hint="list events with: evidencekit custody log ITEM",
            )
        return inclusion_document(ledger.node, events, size, text)


def consistency_from(
    case: Case, old_checkpoint: str, extra_trust: Sequence[x509.Certificate] = ()
) -> ConsistencyResult:
    """Prove and check that the current ledger extends `old_checkpoint` (a signed note).

    Raises:
        IntegrityError: the old checkpoint does not verify, is of another ledger, is larger
            than the ledger, or the ledger's history differs from it.
    """
    from evidencekit.chain.checkpoint import verify_checkpoint
    from evidencekit.chain.proof import consistency_document, verify_consistency_document

    trusted = trusted_with(case, extra_trust)
    old = verify_checkpoint(old_checkpoint, trusted)
    with open_ledger(case, create=False) as ledger:
        if old.checkpoint.origin != ledger.origin:
            raise IntegrityError(
                f"the old checkpoint is for ledger {old.checkpoint.origin!r}, "
                f"this case's is {ledger.origin!r}"
            )
        current = _checkpoint_for(ledger, None)
        new = verify_checkpoint(current, trusted)
        if old.checkpoint.size > new.checkpoint.size:
            raise IntegrityError(
                f"the old checkpoint covers {old.checkpoint.size} events but the ledger's "
                f"latest checkpoint only {new.checkpoint.size}: events were removed",
                hint="run: evidencekit custody verify",
            )
        try:
            doc = consistency_document(ledger.node, old, new.checkpoint.size, current)
        except ValueError as exc:
            raise IntegrityError(str(exc)) from exc
    return verify_consistency_document(doc, trusted)


def export_jsonl_bytes(case: Case) -> bytes:
    """The whole ledger as JSON Lines (events, then the latest checkpoint)."""
    from evidencekit.chain.export import export_jsonl

    with open_ledger(case, create=False) as ledger:
        return export_jsonl(ledger.events(), ledger.latest_checkpoint())


def export_case_bytes(case: Case) -> bytes:
    """The whole ledger as CASE 1.5.0 / UCO JSON-LD."""
    from evidencekit.chain.export import export_case_uco

    with open_ledger(case, create=False) as ledger:
        return export_case_uco(
            ledger.events(),
            origin=ledger.origin,
            case_number=case.info.number,
            case_title=case.info.title,
            checkpoint=ledger.latest_checkpoint(),
        )
