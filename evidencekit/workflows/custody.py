"""Custody use cases: record events in a case's ledger, read them back, verify, prove, export.

This is the interface the acquisition, seal, collection and report workflows use
(docs/interfaces.md, "chain"). Every function opens the case's ledger (`custody.sqlite`, or the
PostgreSQL database `case.toml` names), does its work and closes it; appends are durable before
they return.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

from cryptography import x509

from evidencekit.case import CASE_FILE, Case
from evidencekit.chain.checkpoint_memory import (
    CheckpointMemory,
    Remembered,
    check_extends,
    home_memory,
)
from evidencekit.chain.events import (
    Event,
    SignedEvent,
    clean_text,
    jsonable_details,
    normalise_digests,
)
from evidencekit.chain.kinds import EventKind
from evidencekit.chain.ledger import AppendResult, Draft, Ledger
from evidencekit.chain.parties import Party
from evidencekit.chain.proof import ConsistencyResult
from evidencekit.chain.verify import LedgerStatus
from evidencekit.chain.verify_status import in_order
from evidencekit.errors import (
    CustodyError,
    IntegrityError,
    InterruptedAfterRecording,
    UsageError,
)
from evidencekit.identity import Identity, home_dir
from evidencekit.ids import check_item_id
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat
from evidencekit.workflows.anchors import CHAIN_ADDED, TRUST_CHANGES
from evidencekit.workflows.origin import ledger_origin
from evidencekit.workflows.reader_trust import ReaderAnchors
from evidencekit.workflows.trust import (
    CaseTrust,
    case_trust,
    note_signers,
    with_trust_problems,
)
from evidencekit.workflows.wording import described


def ledger_witnesses(case: Case) -> list[str]:
    """What shows that `case` has had custody events, for the message that refuses to go on
    without its ledger: `case init` writes `case.toml` and the first event together, so a case
    folder alone means a ledger existed; items and reports say more.

    The examiner's home remembering the newest checkpoint it has seen of this case (docs/design.md,
    "Examiner identity") is the witness that does not live in the case folder; it belongs here.
    """
    found = [f"{CASE_FILE} of case {case.info.number!r} (created {isoformat(case.info.created)})"]
    items = case.items()
    if items:
        found.append(
            f"{len(items)} item(s) under evidence/ ({', '.join(items[:5])}"
            + (", …)" if len(items) > 5 else ")")
        )
    reports = sorted(case.reports_dir.glob("*.pdf")) if case.reports_dir.is_dir() else []
    if reports:
        found.append(f"{len(reports)} report(s) under reports/")
    return found


def _missing_ledger(case: Case, what: str) -> IntegrityError:
    witnesses = ledger_witnesses(case)
    url = case.info.ledger
    return IntegrityError(
        f"the custody ledger {str(case.ledger_location)!r} {what}, but the case has had events "
        f"({'; '.join(witnesses)}); a case's ledger is created only by `case init` and is never "
        "started again",
        hint=(
            "restore custody.sqlite from a backup copy"
            if url is None
            else "check the [ledger] url in case.toml; restore the database from a backup"
        )
        + (
            "; if `case init` itself was interrupted (the folder holds nothing else), delete "
            "the folder and run `evidencekit case init` again"
            if len(witnesses) == 1
            else ""
        ),
    )


def open_ledger(
    case: Case,
    *,
    writable: bool = False,
    trusted: Mapping[str, x509.Certificate] | None = None,
    create: bool = False,
    remembered: bool = True,
) -> Ledger:
    """The case's ledger, which must exist and hold at least its `case_opened` event, and —
    unless `remembered` is false — still hold the newest checkpoint this examiner's home has
    seen of it (`chain.checkpoint_memory`: a truncated or rebuilt ledger is caught by the next
    command).

    Nothing here creates a ledger: only `start_ledger` (from `case init`) does. `create` is
    accepted for callers written before that rule; it must be False. A `writable` ledger checks
    what each append builds on against `trusted` (default: `trusted_with(case)`, worked out
    before the ledger is opened, so it may read the ledger itself); a reader needs no trust.

    Raises:
        IntegrityError: the ledger is missing, empty, damaged or not a ledger (a case that
            exists has had events, so its ledger must be there), or it was rolled back.
        CustodyError: it cannot be opened (disk full, permissions, locked).
    """
    if create:
        raise CustodyError(
            "a custody ledger is created only by `case init` (workflows.custody.start_ledger)"
        )
    location = case.ledger_location
    if isinstance(location, Path):
        try:
            st = location.stat()
        except FileNotFoundError:
            raise _missing_ledger(case, "is missing") from None
        except OSError as exc:
            raise CustodyError(
                f"cannot open the custody ledger {str(location)!r}: {exc.strerror}"
            ) from exc
        if st.st_size == 0:
            raise _missing_ledger(case, "is empty (0 bytes)")
    if trusted is None:
        trusted = trusted_with(case) if writable else {}
    ledger = Ledger.open(location, ledger_origin(case), trusted=trusted, writable=writable)
    try:
        # recalled before the size is read: another process may append and remember a newer
        # checkpoint meanwhile, and the ledger only grows
        seen = _recall(ledger) if remembered else None
        size = ledger.size()
        if size == 0:
            raise _missing_ledger(case, "holds no events")
        if seen is not None:
            check_extends(seen, size, ledger.node)
            ledger.verified = seen.size if seen.checked else 0
    except BaseException:
        ledger.close()
        raise
    return ledger


def _recall(ledger: Ledger) -> Remembered | None:
    """The newest checkpoint this examiner's home has seen of `ledger`, if any."""
    return home_memory().recall(ledger.origin)


def _remember(note: str | None, identity: Identity | None = None) -> None:
    """Keep `note` (a checkpoint just written or verified) in the home of `identity` (the
    signer), else in `EVIDENCEKIT_HOME` — only a home that exists: a reader without one (or the
    demo, which keeps its own) is not given a folder it did not ask for."""
    home = identity.info.path.parent.parent if identity is not None else home_dir()
    if note is not None and home.is_dir():
        CheckpointMemory(home).remember(note)


def start_ledger(case: Case, identity: Identity, **fields: Unpack[EventText]) -> AppendResult:
    """Create the case's ledger with its first event, `case_opened` (what `case init` does; the
    only place a ledger is created).

    Raises:
        CustodyError: a ledger already exists, or cannot be created.
    """
    _check_signer(case, identity)
    draft = make_draft(case, "case_opened", None, **fields)
    with Ledger.create(
        case.ledger_location, ledger_origin(case), trusted=trusted_with(case)
    ) as ledger:
        result = ledger.append(identity, [draft])
    _remember(result.checkpoint, identity)
    return result


def resolve_party(case: Case, name_or_fp: str | Party) -> Party:
    """A counterpart: a pinned examiner the text names (exact display name, NFC, or a
    fingerprint prefix of 8+ hex digits), bound by certificate fingerprint; or a `Party` built
    with `chain.parties` (a keyless party, or an examiner with a role), checked here.

    A text that names no pinned examiner is refused, never recorded as a bare name: a typo of
    an examiner's name must not become someone else, and a party who holds no key is recorded
    as such, with their role and identity document (`chain.parties.keyless`).

    Raises:
        UsageError: the text names nobody or several, the party is malformed, or it claims a
            key that is not a pinned examiner's.
    """
    from evidencekit.chain import parties

    if isinstance(name_or_fp, Party):
        party = name_or_fp
        if party.legacy and party.fingerprint is None:
            raise UsageError(
                f"counterpart {party.name!r} has neither a key nor an identity document",
                hint="record a party who holds no key with chain.parties.keyless",
            )
        if not party.legacy:
            parties.check(
                party.name,
                role=party.role,
                fingerprint=party.fingerprint,
                holds_key=party.holds_key,
                document=None
                if party.document_type is None
                else {"type": party.document_type, "number": party.document_number},
            )
        if party.fingerprint is None:
            return party
        text = party.fingerprint
    else:
        text = unicodedata.normalize("NFC", name_or_fp.strip())
        party = None
    if not text:
        raise UsageError("the counterpart's name is empty")
    trust = case_trust(case)
    key = text.lower().removeprefix("sha256:").replace(":", "")
    by_fp = len(key) >= 8 and all(c in "0123456789abcdef" for c in key)
    matches = [p for p in trust.pinned if p.name == text] or [
        p for p in trust.pinned if by_fp and p.fingerprint.startswith(key)
    ]
    if len(matches) > 1:
        raise UsageError(
            f"{len(matches)} pinned examiners match {text!r}",
            hint="name the recipient by certificate fingerprint (8+ hex digits)",
        )
    if not matches:
        raise UsageError(
            f"no examiner pinned in case {case.info.number!r} is named {text!r}; a party who "
            "holds no key is recorded with their role and identity document",
            hint="e.g. --to-role witness --to-id cccd:001203004567 (the name is kept as typed)",
        )
    found = matches[0]
    gone = trust.revoked_at(found.fingerprint)
    if gone is not None:
        raise UsageError(
            f"examiner {found.name!r} ({found.fingerprint[:16]}) was revoked by ledger event "
            f"{gone.seq}: they cannot receive anything",
        )
    if party is not None and party.name != found.name:
        raise UsageError(
            f"the counterpart is named {party.name!r} but the certificate "
            f"{found.fingerprint[:16]} is {found.name!r}'s"
        )
    return parties.examiner(found.name, found.fingerprint, party.role if party else None)


def _check_signer(case: Case, identity: Identity) -> None:
    if not case.is_pinned(identity.fingerprint):
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
            f"{case.info.number!r}",
            hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
        )


class EventText(TypedDict, total=False):
    """An event's form fields as callers give them to `make_draft` and `record_event` (all
    optional keywords): texts as typed; `counterpart` a pinned examiner's name or fingerprint,
    or a `chain.parties.Party` (a party who holds no key); `digests` {algorithm: hex} (or
    "algorithm:hex" values); `details` JSON-able."""

    description: str | None
    digests: Mapping[str, str] | None
    details: Mapping[str, Any] | None
    purpose: str | None
    location: str | None
    counterpart: str | Party | None
    seal_number: str | None
    condition: str | None
    note: str | None
    reason: str | None
    override: str | None


def make_draft(
    case: Case, kind: EventKind, item_id: str | None, **fields: Unpack[EventText]
) -> Draft:
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
    case: Case,
    identity: Identity,
    kind: EventKind,
    item_id: str | None,
    **fields: Unpack[EventText],
) -> SignedEvent:
    """Append one signed event (fields as for `make_draft`) to the case ledger and sign a
    checkpoint over it.

    Committed durably (WAL, synchronous=FULL) before it returns.

    Raises:
        CustodyError: the custody rules forbid the event, or `identity` is not pinned.
        UsageError: invalid item id.
        TypeError: an unknown keyword.
    """
    return record(case, identity, kind, item_id, **fields).events[0]


def record(
    case: Case,
    identity: Identity,
    kind: EventKind,
    item_id: str | None,
    **fields: Unpack[EventText],
) -> AppendResult:
    """`record_event`, returning what the append committed (the event and the checkpoint
    signed with it), so a caller can show both without opening the ledger again.

    Raises:
        as `record_event`; IntegrityError: the ledger is missing or does not verify.
    """
    draft = make_draft(case, kind, item_id, **fields)
    return record_drafts(case, identity, [draft])


def record_drafts(case: Case, identity: Identity, drafts: Sequence[Draft]) -> AppendResult:
    """Append several events in one transaction with one checkpoint (batch imports, bench).

    Raises:
        CustodyError: one of them breaks the rules, or the ledger cannot be written (then none
            is appended).
        IntegrityError: the ledger is missing, empty or does not verify (nothing is appended).
    """

    trust = case_trust(case)
    if not trust.anchors:
        _check_signer(case, identity)  # with anchors, an examiner not pinned may still chain
    revoked = trust.revoked_at(identity.fingerprint)
    if revoked is not None:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) was revoked by ledger "
            f"event {revoked.seq} of case {case.info.number!r} ({revoked.reason}): nothing was "
            "recorded",
            hint="an examiner the case still trusts records it",
        )
    pinned = identity.fingerprint in trust.pinned_signers
    if not pinned and any(d.kind in TRUST_CHANGES for d in drafts):
        # a CA-trusted signer may sign evidence events, never change the trust list
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned by the "
            f"ledger of case {case.info.number!r}: only a pinned examiner changes its trust "
            "list; nothing was recorded",
            hint="a pinned examiner signs it (evidencekit case show lists them)",
        )
    if trust.needs_chain(identity.fingerprint):
        drafts = [*present_chain(case, trust, identity), *drafts]
    elif not pinned and trust.revocation:
        _refuse_revoked_certificate(case, trust, identity)
    with open_ledger(case, writable=True, trusted=trust.certificates) as ledger:
        if trust.revoked:
            _refuse_revoked_base(ledger, trust)
        if identity.fingerprint not in ledger.trusted and drafts[0].kind != CHAIN_ADDED:
            # case.toml lists them, but no event of the ledger pins them (docs/trust.md): what
            # they signed would fail every verification, so nothing is signed
            raise CustodyError(
                f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned by the "
                f"ledger of case {case.info.number!r}: nothing was recorded",
                hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
            )
        result = ledger.append(identity, drafts)
        try:
            ledger.close()
            _remember(result.checkpoint, identity)
        except KeyboardInterrupt as exc:
            raise _recorded_then_interrupted(result) from exc
    return result


def present_chain(case: Case, trust: CaseTrust, identity: Identity) -> list[Draft]:
    """The `certificate_chain_added` event an examiner who is not pinned records first, when
    their certificate chains to an examiner anchor of the case (else nothing: the caller
    refuses). The chain is checked now without revocation; `custody verify` checks each of
    their signatures at its proven time, revocation included.
    """
    from evidencekit.identity import cert_pem
    from evidencekit.identity.validation import validate_chain
    from evidencekit.timeutil import utcnow

    active = [a.anchor for a in trust.anchors if a.removed is None]
    if not active:
        return []
    # the CA certificates kept with the identity (`Identity.chain`: from its PKCS#12 file or
    # `keys add-token --chain`) are path material beside the anchors' intermediates
    result = validate_chain(
        identity.certificate, identity.chain, active, moment=utcnow(), revocation=False
    )
    if not result.ok:
        raise CustodyError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is neither pinned by "
            f"case {case.info.number!r} nor trusted through its CA anchors: {result.problem}; "
            "nothing was recorded",
            hint="evidencekit case show lists the anchors and their limits",
        )
    return [
        make_draft(
            case,
            CHAIN_ADDED,
            None,
            description=described(case, "certificate_chain", name=identity.name),
            details={
                "name": identity.name,
                "fingerprint": identity.fingerprint,
                "certificates": [cert_pem(c) for c in result.path[::-1][:-1]],
            },
        )
    ]


def _refuse_revoked_certificate(case: Case, trust: CaseTrust, identity: Identity) -> None:
    """An examiner trusted through a CA whose certificate the revocation data the case keeps
    shows revoked signs nothing more (what they signed past the tool fails `custody verify`).

    Raises:
        CustodyError: it does.
    """
    from evidencekit.identity.validation import validate_chain
    from evidencekit.timeutil import utcnow
    from evidencekit.workflows.proven import revocation_lists

    c = trust.chained_signer(identity.fingerprint)
    if c is None:
        return
    crls, ocsps = revocation_lists(trust)
    active = [a.anchor for a in trust.anchors if a.removed is None]
    result = validate_chain(
        c.certificate, c.others, active, moment=utcnow(), crls=crls, ocsps=ocsps
    )
    if result.revoked is not None:
        raise CustodyError(
            f"the certificate of {identity.name!r} ({identity.fingerprint[:16]}) is revoked: "
            f"{result.revoked.describe()}; nothing was recorded",
            hint="an examiner the case still trusts records it",
        )


def _refuse_revoked_base(ledger: Ledger, trust: CaseTrust) -> None:
    """Never build on a ledger whose latest checkpoint a revoked examiner signed after their
    revocation (what they appended past the tool): the pre-append check trusts their
    certificate, which their earlier events need.

    Raises:
        IntegrityError: it does.
    """

    cp = ledger.latest_checkpoint()
    if cp is None:
        return
    for fp in note_signers(cp.note):
        r = trust.revoked_at(fp)
        if r is not None and cp.tree_size > r.seq + 1:
            raise IntegrityError(
                f"refusing to append: the ledger's latest checkpoint ({cp.tree_size} events) is "
                f"signed by {r.name} ({fp[:16]}), whose trust was revoked by event {r.seq}",
                hint="nothing was recorded; `evidencekit custody verify` names what they signed",
            )


def _recorded_then_interrupted(result: AppendResult) -> InterruptedAfterRecording:
    """The interruption of a command whose append has committed, naming what it recorded."""
    seqs = [e.seq for e in result.events]
    what = f"event {seqs[0]}" if len(seqs) == 1 else f"events {seqs[0]}–{seqs[-1]}"
    kinds = ", ".join(dict.fromkeys(e.event.kind for e in result.events))
    return InterruptedAfterRecording(
        f"interrupted after {what} ({kinds}) was committed to the custody ledger: it is "
        "recorded; `evidencekit custody log` shows it"
    )


# -- reading (reports, CLI) ---------------------------------------------------------------------


def list_events(case: Case, item_id: str | None = None) -> list[dict[str, Any]]:
    """Every event (or one item's) as dicts: all fields, actor {name, fingerprint}, UTC time
    (RFC 3339 "Z"), `seq`, `signature`, `leaf_hash`.

    Raises:
        IntegrityError: the ledger is missing or damaged.
    """
    with open_ledger(case) as ledger:
        return [e.to_dict() for e in ledger.events(False if item_id is None else item_id)]


def latest_checkpoint(case: Case) -> str | None:
    """The latest signed checkpoint (C2SP signed note text), or None when there is none.

    Raises:
        IntegrityError: the ledger is missing or damaged.
    """
    with open_ledger(case) as ledger:
        cp = ledger.latest_checkpoint()
        return None if cp is None else cp.note


def trusted_with(case: Case | None, extra: Sequence[x509.Certificate] = ()) -> dict[str, Any]:
    """The examiners the case's ledger pins (`workflows.trust`) plus `extra` (--trust), by
    fingerprint."""
    from evidencekit.identity import fingerprint

    trusted: dict[str, Any] = case_trust(case).certificates if case is not None else {}
    for cert in extra:
        trusted[fingerprint(cert)] = cert
    return trusted


def verify_custody(
    case: Case,
    extra_trust: Sequence[x509.Certificate] = (),
    *,
    workers: int | None = None,
    tsa_certs: Sequence[x509.Certificate] = (),
    anchors: ReaderAnchors | None = None,
) -> LedgerStatus:
    """Recompute and check the whole ledger (signatures against the case's pinned certificates
    plus `extra_trust`, chains, rules, tree, checkpoints, timestamps — against `tsa_certs` when
    given). With the reader's CA `anchors` (`--trust ROOT.pem`), every signer whose chain goes
    to one is trusted and each event they signed is checked against it at its proven time
    (`workflows.proven.reader_problems`). Never raises for a mismatch.

    Raises:
        IntegrityError: the case's ledger is missing, empty or not a ledger.
    """
    from evidencekit.chain.verify import verify_ledger
    from evidencekit.identity import fingerprint

    trust = case_trust(case)
    extra = {fingerprint(c): c for c in extra_trust}
    with open_ledger(case, remembered=False) as ledger:
        seen = _recall(ledger)
        chained: dict[str, tuple[x509.Certificate, tuple[x509.Certificate, ...]]] = {}
        if anchors:
            from evidencekit.workflows.proven import reader_signers

            chained = reader_signers(ledger.store, trust, anchors)
        via_ca = {fp: v[0] for fp, v in chained.items()}
        status = verify_ledger(
            ledger.store,
            ledger.origin,
            {**trust.certificates, **via_ca, **extra},
            workers=workers,
            tsa_certs=tsa_certs,
        )
        status = with_trust_problems(status, trust, ledger.store, {**extra, **via_ca})
        status = _with_proven_time(status, ledger, trust)
        if anchors and chained:
            from evidencekit.workflows.proven import reader_problems

            found = reader_problems(
                ledger.store, ledger.node, ledger.origin, trust, anchors, chained, tsa_certs
            )
            if found:
                problems = in_order([*status.problems, *found])
                status = dataclasses.replace(status, problems=problems)
        status = _with_case_files(case, ledger, status)
        status = _with_device_notes(ledger, status)
        status = _with_working_copies(ledger, status)
        try:
            if seen is not None:
                check_extends(seen, status.events, ledger.node)
        except IntegrityError as exc:
            # a rollback is listed with everything else the full check found
            problems = in_order((*status.problems, Problem.of_event("rolled-back", exc.message)))
            status = dataclasses.replace(status, problems=problems)
    if status.ok:
        _remember(status.latest_checkpoint)
    elif home_dir().is_dir():
        # marked so in this home: its next append checks every event again instead of only
        # those after the remembered checkpoint
        CheckpointMemory(home_dir()).mark_unchecked(ledger_origin(case))
    return status


def _with_proven_time(status: LedgerStatus, ledger: Ledger, trust: CaseTrust) -> LedgerStatus:
    """The checks of time and of CA-trusted signers (`workflows.proven`), in a case with
    anchors."""
    from evidencekit.workflows.proven import ledger_problems

    extra = ledger_problems(ledger.store, ledger.node, ledger.origin, trust)
    if not extra:
        return status
    return dataclasses.replace(status, problems=in_order([*status.problems, *extra]))


def _events_of_kinds(ledger: Ledger, kinds: Collection[str]) -> list[Event]:
    """The ledger's events of `kinds`, decoded, in order (by the row's kind column: a row whose
    column lies, or that does not decode, is the ledger's own checks' to name)."""
    events = []
    for row in ledger.store.rows():
        if row.kind not in kinds:
            continue
        try:
            events.append(Event.decode(row.data))
        except IntegrityError:
            continue
    return events


def _with_working_copies(ledger: Ledger, status: LedgerStatus) -> LedgerStatus:
    """`status` with a `rule-violation` for every examination event whose working copy the
    ledger does not show to be a copy of the item (`workflows.seizure.copy_problem`): the
    check `custody access/analyse` makes, made again for events written past the tool."""
    from evidencekit.chain.kinds import EXAMINATION_KINDS
    from evidencekit.workflows.seizure import CONTENT_KINDS, copy_problem

    events = _events_of_kinds(ledger, EXAMINATION_KINDS | CONTENT_KINDS)
    found = []
    for i, ev in enumerate(events):
        wc = ev.details.get("working_copy")
        if ev.kind not in EXAMINATION_KINDS or ev.item_id is None or not isinstance(wc, dict):
            continue
        why = copy_problem(events[:i], ev.item_id, wc)
        if why is not None:
            found.append(Problem.of_event("rule-violation", why, ev.seq, ev.item_id))
    if not found:
        return status
    return dataclasses.replace(status, problems=in_order((*status.problems, *found)))


def _with_case_files(case: Case, ledger: Ledger, status: LedgerStatus) -> LedgerStatus:
    """`status` with the problems and notes of the photos and documents the ledger records
    (`workflows.casefiles`: each re-hashed against its event)."""
    from evidencekit.workflows.casefiles import check_files, recorded_files, unrecorded_files

    events = [
        {"seq": ev.seq, "kind": ev.kind, "item": ev.item_id, "details": ev.details}
        for ev in _events_of_kinds(ledger, ("registered", "document_attached"))
    ]
    files = recorded_files(events)
    problems, notes = check_files(case, files)
    extra, extra_notes = unrecorded_files(case, files)
    problems += extra
    notes += extra_notes
    if not problems and not notes:
        return status
    return dataclasses.replace(
        status,
        problems=in_order((*status.problems, *problems)),
        notes=(*status.notes, *notes),
    )


def _with_device_notes(ledger: Ledger, status: LedgerStatus) -> LedgerStatus:
    """`status` with a note for each item whose acquisition measured another capacity or
    serial than it was registered with (`chain.details.device_notes`): both stay on
    record, and the reader is told."""
    from evidencekit.chain.details import device_notes

    events = [
        {"seq": ev.seq, "kind": ev.kind, "item": ev.item_id, "details": ev.details}
        for ev in _events_of_kinds(ledger, ("registered", "acquired"))
    ]
    notes = [d.message() for d in device_notes(events)]
    if not notes:
        return status
    return dataclasses.replace(status, notes=(*status.notes, *notes))


def timestamp_checkpoint(case: Case, identity: Identity, tsa_url: str) -> AppendResult:
    """Have the TSA at `tsa_url` timestamp the ledger's latest checkpoint, and record its token
    in the ledger (a `checkpoint_timestamped` event: append-only like every event).

    Raises:
        CustodyError: no checkpoint yet, the TSA is unreachable or refuses, or the examiner
            may not append.
        IntegrityError: the TSA's answer does not verify.
    """
    import base64

    from evidencekit.chain.timestamp import request_token, verify_token
    from evidencekit.timeutil import isoformat

    note = latest_checkpoint(case)
    if note is None:
        raise CustodyError("the ledger has no checkpoint to timestamp")
    token = request_token(tsa_url, note.encode("utf-8"))
    info = verify_token(token, note.encode("utf-8"))
    return record(
        case,
        identity,
        "checkpoint_timestamped",
        None,
        description=described(case, "timestamp", tsa=info.tsa_name),
        details={
            "checkpoint": note,
            "token": base64.b64encode(token).decode("ascii"),
            "time": isoformat(info.time),
            "tsa": info.tsa_name,
            "tsa_fingerprint": info.tsa_fingerprint,
            "tsa_url": tsa_url,
        },
    )


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
    with open_ledger(case) as ledger:
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
    with open_ledger(case) as ledger:
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

    with open_ledger(case) as ledger:
        return export_jsonl(ledger.events(), ledger.latest_checkpoint())


def export_case_bytes(case: Case) -> bytes:
    """The whole ledger as CASE 1.5.0 / UCO JSON-LD."""
    from evidencekit.chain.export import export_case_uco

    with open_ledger(case) as ledger:
        return export_case_uco(
            ledger.events(),
            origin=ledger.origin,
            case_number=case.info.number,
            case_title=case.info.title,
            checkpoint=ledger.latest_checkpoint(),
        )
