"""Who a case trusts, read from its ledger: the one place every verifier asks.

`case.toml` is a file anyone with write access to the case folder can edit, so it is only a
convenience copy. The trust list is what the ledger's signed events say:

- the case's first event (`case_opened`, seq 0) pins its creator, the signer of that event, and
  every certificate it carries (`details.certificates`: the creator's and those of
  `case init --pin`, since this check exists); for cases opened before, the creator's
  certificate is the `case.toml` one with the signer's fingerprint;
- each later `examiner_added` event pins the certificate it carries (`details.certificate`), and
  counts only when it is signed, by a signature that verifies, by an examiner already pinned at
  that point of the ledger.

Every fingerprint is recomputed from its certificate. An examiner `case.toml` pins that the
ledger does not is *not* trusted and is reported as an integrity problem (exit 3); an examiner
the ledger pins that `case.toml` lacks (a crash between the two writes) is trusted and noted.

- each `examiner_revoked` event ends a pinned examiner's trust from that point of the ledger on:
  it counts when signed by an examiner pinned (and not revoked) at that point, and never when it
  would leave the case with no examiner at all. The revoked certificate stays known, so what
  they signed before keeps verifying; what they signed after is a `revoked-signer` problem, and
  a revoked certificate is never pinned again (a new certificate is).

`custody verify` also reports every event signed by an examiner before the event that pinned
them, or after the event that revoked them (`with_trust_problems`).

- CA trust anchors (`workflows.anchors`): `trust_anchor_added` / `trust_anchor_removed` count
  only when signed by a pinned, not revoked examiner (like every trust-list change); an examiner
  who is not pinned joins with a `certificate_chain_added` event signed by their own key, whose
  chain must go to an examiner anchor active at that point, within its limits; revocation data
  (`revocation_data_added`) is read back from the case. What such an examiner signs is checked
  again, at the time a timestamp proves, by `workflows.proven`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography import x509

from evidencekit.case import CASE_FILE, Case
from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import KEY_PREFIX, parse_note
from evidencekit.chain.encoding import check_bytes, event_signature_ok
from evidencekit.chain.events import Event
from evidencekit.chain.ledger import Ledger
from evidencekit.chain.store import EventRow, LedgerStore
from evidencekit.chain.verify_status import LedgerStatus, in_order
from evidencekit.errors import CustodyError, EvidenceKitError
from evidencekit.identity import display_name_key, fingerprint, load_cert_pem, subject_name
from evidencekit.identity.validation import EXAMINER, validate_chain
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat
from evidencekit.workflows.anchors import (
    ANCHOR_ADDED,
    ANCHOR_REMOVED,
    CHAIN_ADDED,
    REVOCATION_ADDED,
    ChainSigner,
    StoredRevocation,
    TrustAnchor,
    anchor_from,
    chain_from,
    stored_revocation,
)
from evidencekit.workflows.origin import ledger_origin

log = logging.getLogger(__name__)

ADDED: Final = "examiner_added"
REVOKED: Final = "examiner_revoked"


@dataclass(frozen=True, slots=True)
class Pinned:
    """An examiner the ledger pins: the certificate, and the event that pinned it."""

    name: str
    fingerprint: str
    certificate: x509.Certificate
    seq: int


@dataclass(frozen=True, slots=True)
class Revoked:
    """A pinned examiner the ledger revoked: by which event, when, by whom and why."""

    name: str
    fingerprint: str
    seq: int
    time: dt.datetime
    by: str
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "event": self.seq,
            "time": isoformat(self.time),
            "by": self.by,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class CaseTrust:
    """The examiners a case trusts according to its ledger, and what disagrees with that."""

    pinned: tuple[Pinned, ...]
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    untrusted: dict[str, str] = field(default_factory=dict)
    """fingerprint -> why, for certificates `case.toml` pins but the ledger does not."""
    identity: str | None = None
    """The case identity: `sha256:` and the Merkle leaf hash of its first event (case_opened),
    which reports show and a reader outside the lab pins (`--case-identity`)."""
    revoked: tuple[Revoked, ...] = ()
    anchors: tuple[TrustAnchor, ...] = ()
    """CA trust anchors the ledger added (removed ones too, with the event that removed them)."""
    chained: tuple[ChainSigner, ...] = ()
    """Examiners trusted through an anchor (not pinned): what they sign is checked at its
    proven time by `workflows.proven`."""
    revocation: tuple[StoredRevocation, ...] = ()
    """CRLs and OCSP responses the case keeps."""

    @property
    def certificates(self) -> dict[str, x509.Certificate]:
        """fingerprint -> certificate of every examiner the ledger pinned, revoked ones included
        (what they signed before their revocation keeps verifying; `revoked_at` says when their
        trust ended), and of every examiner trusted through an anchor (whose signatures
        `workflows.proven` checks further)."""
        out = {c.fingerprint: c.certificate for c in self.chained}
        out.update({p.fingerprint: p.certificate for p in self.pinned})
        return out

    @property
    def pinned_signers(self) -> dict[str, x509.Certificate]:
        """fingerprint -> certificate of the pinned examiners (no anchor-trusted one)."""
        return {p.fingerprint: p.certificate for p in self.pinned}

    @property
    def examiner_anchors(self) -> bool:
        """Whether the ledger ever added an examiner anchor (checkpoint timestamps are then
        mandatory: docs/trust.md)."""
        return any(a.anchor.kind == EXAMINER for a in self.anchors)

    def chained_signer(self, fp: str | None) -> ChainSigner | None:
        return next((c for c in self.chained if c.fingerprint == fp), None)

    def through_ca(self, fp: str) -> bool:
        """Whether an examiner the case does not pin is, or may become, trusted through an
        active CA anchor: writers then start their work, and the append checks the chain
        (`workflows.custody.present_chain`) before anything is recorded."""
        if fp in self.pinned_signers:
            return False
        return self.chained_signer(fp) is not None or any(a.removed is None for a in self.anchors)

    def needs_chain(self, fp: str) -> bool:
        """Whether an examiner who is not pinned must (again) record their chain: they never
        did, or the anchor it went to was removed since."""
        if fp in self.pinned_signers:
            return False
        c = self.chained_signer(fp)
        if c is None:
            return True
        return any(a.seq == c.anchor_seq and a.removed is not None for a in self.anchors)

    @property
    def signers(self) -> dict[str, x509.Certificate]:
        """fingerprint -> certificate of the examiners who may sign now (pinned, not revoked)."""
        gone = {r.fingerprint for r in self.revoked}
        return {p.fingerprint: p.certificate for p in self.pinned if p.fingerprint not in gone}

    def revoked_at(self, fp: str | None) -> Revoked | None:
        """The revocation of the examiner with fingerprint `fp`, if the ledger records one."""
        return next((r for r in self.revoked if r.fingerprint == fp), None)

    def to_dict(self) -> dict[str, object]:
        return {
            "pinned": [
                {"name": p.name, "fingerprint": p.fingerprint, "event": p.seq} for p in self.pinned
            ],
            "revoked": [r.to_dict() for r in self.revoked],
            "anchors": [a.to_dict() for a in self.anchors],
            "chained": [c.to_dict() for c in self.chained],
            "revocation_data": [r.to_dict() for r in self.revocation],
            "problems": list(self.problems),
            "notes": list(self.notes),
            "identity": self.identity,
        }


def case_identity(first_event: bytes) -> str:
    """The case identity of a ledger whose event 0 is `first_event` (its exact bytes)."""
    return "sha256:" + merkle.leaf_hash(first_event).hex()


def identity_of(case: Case) -> str:
    """The case identity a seal written into `case` names: read from the ledger's first event
    only (the writer's guard has already checked, through :func:`case_trust`, that the examiner
    is pinned by that ledger).

    Raises:
        CustodyError: the case has no ledger or its ledger has no first event.
    """
    pinned = case.pinned_identity
    try:
        with Ledger.open(
            case.ledger_location, ledger_origin(case), trusted={}, writable=False
        ) as ledger:
            first = list(ledger.store.rows(0, 1))
    except EvidenceKitError as exc:
        raise CustodyError(f"cannot read the case identity from the ledger: {exc.message}") from exc
    if not first or first[0].seq != 0:
        raise CustodyError(
            f"the case's ledger {str(case.ledger_location)!r} has no first event: it has no "
            "identity for a seal to name"
        )
    identity = case_identity(_blob(first[0].data))
    if pinned and identity != pinned:
        raise CustodyError(
            f"the ledger's first event is {identity}, not the case identity {pinned} given"
        )
    return identity


def case_trust(case: Case) -> CaseTrust:
    """Replay the ledger's trust events and check `case.toml` against them.

    When the reader pinned the case identity (`case.pinned_identity`, from `--case-identity`),
    `case.toml` is not consulted at all: the ledger must start with that very event, and only
    what its events pin is trusted.

    Never raises for a finding: an unreadable ledger, a substituted certificate or a pin
    without an event becomes a problem (and the examiner concerned is not trusted).
    """
    problems: list[str] = []
    pinned_identity = case.pinned_identity
    try:
        toml_certs = {} if pinned_identity else case.trusted()
    except EvidenceKitError as exc:
        problems.append(exc.message)
        toml_certs = {}
    if case.info.ledger is None and not case.ledger_path.exists():
        problems.append(
            f"the case has no custody ledger ({case.ledger_path.name}): nobody is trusted"
        )
        return CaseTrust((), tuple(problems), untrusted=_all_untrusted(toml_certs))
    try:
        with Ledger.open(
            case.ledger_location, ledger_origin(case), trusted={}, writable=False
        ) as ledger:
            first = list(ledger.store.rows(0, 1))
            later = list(ledger.store.rows(1, None, item=None))
    except EvidenceKitError as exc:
        problems.append(f"cannot read the ledger's trust events: {exc.message}")
        return CaseTrust((), tuple(problems), untrusted=_all_untrusted(toml_certs))
    identity = case_identity(_blob(first[0].data)) if first and first[0].seq == 0 else None
    if pinned_identity and identity != pinned_identity:
        problems.append(
            f"the ledger's first event is {identity or 'missing'}, not the case identity "
            f"{pinned_identity} the reader trusts: this is another ledger, nobody is trusted"
        )
        return CaseTrust((), tuple(problems), identity=identity)
    pinned: dict[str, Pinned] = {}
    revoked: dict[str, Revoked] = {}
    ca = _CaState()
    creator = _creator(first, toml_certs, problems)
    if creator is not None:
        for p in creator:
            pinned.setdefault(p.fingerprint, p)
        for row in later:
            gone = _revoked(row, pinned, revoked, problems)
            if gone is not None:
                revoked[gone.fingerprint] = gone
                continue
            added = _added(row, pinned, revoked, problems)
            if added is not None:
                pinned.setdefault(added.fingerprint, added)
                continue
            _ca_row(case, row, pinned, revoked, ca, problems)
    untrusted: dict[str, str] = {}
    for fp, cert in toml_certs.items():
        if fp not in pinned:
            why = (
                f"{CASE_FILE} pins {subject_name(cert)!r} ({fp[:16]}) but the ledger never added "
                f"them (no {ADDED} event signed by a pinned examiner)"
            )
            untrusted[fp] = why
            problems.append(f"{why}: not trusted")
    notes = [
        f"{p.name} ({p.fingerprint[:16]}) is pinned by ledger event {p.seq} but missing from "
        f"{CASE_FILE}"
        for fp, p in pinned.items()
        if fp not in toml_certs
    ]
    if pinned_identity:
        notes = []  # case.toml was not read
    else:
        _check_revoked_copy(case, revoked, problems, notes)
    return CaseTrust(
        tuple(pinned.values()),
        tuple(problems),
        tuple(notes),
        untrusted,
        identity,
        tuple(revoked.values()),
        tuple(ca.anchors.values()),
        tuple(ca.chained.values()),
        tuple(ca.revocation),
    )


@dataclass
class _CaState:
    """The CA side of the trust list while the ledger is replayed."""

    anchors: dict[int, TrustAnchor] = field(default_factory=dict)
    """By the event that added each."""
    chained: dict[str, ChainSigner] = field(default_factory=dict)
    revocation: list[StoredRevocation] = field(default_factory=list)

    def active(self) -> list[TrustAnchor]:
        return [a for a in self.anchors.values() if a.removed is None]


_CA_KINDS = (ANCHOR_ADDED, ANCHOR_REMOVED, CHAIN_ADDED, REVOCATION_ADDED)
_CA_MARKS = tuple(f'"kind":"{k}"'.encode() for k in _CA_KINDS)


def _ca_row(
    case: Case,
    row: EventRow,
    pinned: dict[str, Pinned],
    revoked: dict[str, Revoked],
    ca: _CaState,
    problems: list[str],
) -> None:
    """Apply one anchor, chain or revocation-data event, when it counts (else a problem)."""
    if row.kind not in _CA_KINDS and not any(m in row.data for m in _CA_MARKS):
        return  # the kind column can lie, so the bytes are looked at too (cheap)
    event = _parse(row, problems)
    if event is None or event.kind not in _CA_KINDS:
        return
    where = f"ledger event {row.seq} ({event.kind})"
    if event.kind in (ANCHOR_ADDED, ANCHOR_REMOVED):
        # a trust-list change: a pinned examiner only, never one trusted through an anchor
        signer = _signer(row, where, pinned, revoked, problems)
        if signer is None:
            return
        if event.kind == ANCHOR_ADDED:
            try:
                a = anchor_from(event.details, row.seq, signer.name, event.reason)
            except EvidenceKitError as exc:
                problems.append(f"{where}: {exc.message}: ignored")
                return
            if any(o.fingerprint == a.fingerprint for o in ca.active()):
                problems.append(f"{where}: {a.anchor.name} is already an anchor: ignored")
                return
            ca.anchors[a.seq] = a  # by event: an anchor removed and added again is two
        else:
            fp = event.details.get("fingerprint")
            old = next((o for o in ca.active() if o.fingerprint == fp), None)
            if old is None:
                problems.append(f"{where} names {str(fp)[:16]!r}, not an anchor: ignored")
                return
            ca.anchors[old.seq] = dataclasses.replace(old, removed=row.seq)
        return
    if event.kind == CHAIN_ADDED:
        _chain_row(row, event, where, pinned, ca, problems)
        return
    known = pinned.get(row.signer) or ca.chained.get(row.signer)
    if known is None or row.signer in revoked:
        problems.append(f"{where} is signed by {row.signer[:16]}, whom the case does not trust")
        return
    if not event_signature_ok(row.signer, known.certificate, row.data, row.signature):
        problems.append(f"{where}: the signature does not match the event")
        return
    try:
        ca.revocation.append(stored_revocation(case.path, event.details, row.seq))
    except EvidenceKitError as exc:
        problems.append(f"{where}: {exc.message}")


def _chain_row(
    row: EventRow,
    event: Event,
    where: str,
    pinned: dict[str, Pinned],
    ca: _CaState,
    problems: list[str],
) -> None:
    """An examiner presenting their chain: signed by that chain's own leaf, which must go to
    an examiner anchor active at this point of the ledger, within its limits, at the event's
    time (revocation is checked per signature, at its proven time)."""
    try:
        leaf, others = chain_from(event.details)
    except EvidenceKitError as exc:
        problems.append(f"{where}: {exc.message}: ignored")
        return
    fp = fingerprint(leaf)
    if fp != row.signer:
        problems.append(f"{where} carries {fp[:16]} but is signed by {row.signer[:16]}: ignored")
        return
    prev = ca.chained.get(fp)
    if fp in pinned or (prev is not None and ca.anchors[prev.anchor_seq].removed is None):
        return  # already trusted: nothing more (after their anchor's removal, a new chain)
    if not event_signature_ok(fp, leaf, row.data, row.signature):
        problems.append(f"{where}: the signature does not match the event")
        return
    active = [a for a in ca.anchors.values() if a.active_at(row.seq)]
    result = validate_chain(
        leaf, others, [a.anchor for a in active], moment=event.time, revocation=False
    )
    if not result.ok or result.anchor is None:
        problems.append(f"{where}: {result.problem}: {subject_name(leaf)!r} is not trusted")
        return
    through = next(a for a in active if a.anchor is result.anchor)
    ca.chained[fp] = ChainSigner(
        subject_name(leaf), fp, leaf, others, row.seq, through.fingerprint, through.seq
    )


def _check_revoked_copy(
    case: Case, revoked: dict[str, Revoked], problems: list[str], notes: list[str]
) -> None:
    """`case.toml`'s copy of the revocations against the ledger's: a revocation the ledger does
    not hold is an edit (a problem); one `case.toml` lacks is a crash between the two writes
    (a note; `case revoke-examiner` again writes the copy)."""
    for e in case.info.examiners:
        r = revoked.get(e.fingerprint)
        if e.revoked_event is not None and (r is None or r.seq != e.revoked_event):
            problems.append(
                f"{CASE_FILE} says {e.name!r} ({e.fingerprint[:16]}) was revoked by ledger event "
                f"{e.revoked_event}, but the ledger records "
                + (f"their revocation at event {r.seq}" if r else "no such revocation")
            )
        elif e.revoked_event is None and r is not None:
            notes.append(
                f"{r.name} ({r.fingerprint[:16]}) is revoked by ledger event {r.seq} but "
                f"{CASE_FILE} does not say so"
            )


def _blob(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _all_untrusted(certs: dict[str, x509.Certificate]) -> dict[str, str]:
    return {fp: "the case's trust could not be read from its ledger" for fp in certs}


def _parse(row: EventRow, problems: list[str]) -> Event | None:
    """The event a row holds, when its bytes are a canonical event whose actor is the row's
    signer (else a problem)."""
    try:
        check_bytes(row.data)
        event = Event.decode(row.data)
    except EvidenceKitError as exc:
        problems.append(f"ledger event {row.seq}: {exc.message}")
        return None
    if event.seq != row.seq or event.actor.fingerprint != row.signer:
        problems.append(f"ledger event {row.seq}: its position or signer does not match its row")
        return None
    return event


def _creator(
    rows: list[EventRow], toml_certs: dict[str, x509.Certificate], problems: list[str]
) -> list[Pinned] | None:
    """The examiners event 0 pins: its signer first, with the certificate it carries (or, in
    cases opened before events carried it, the one `case.toml` holds for that fingerprint),
    then every other certificate it carries."""
    if not rows or rows[0].seq != 0:
        problems.append("the ledger has no first event (case_opened): nobody is trusted")
        return None
    row = rows[0]
    event = _parse(row, problems)
    if event is None:
        return None
    if event.kind != "case_opened" or event.item_id is not None:
        problems.append(f"ledger event 0 is {event.kind}, not case_opened: nobody is trusted")
        return None
    fp = row.signer
    carried = _certs(event.details.get("certificates"))
    own = [c for c in carried if fingerprint(c) == fp]
    cert = own[0] if own else toml_certs.get(fp)
    if cert is None:
        problems.append(
            f"the case's creator ({fp[:16]}, signer of ledger event 0) has no certificate in the "
            f"event or in {CASE_FILE}: nobody is trusted"
        )
        return None
    if not event_signature_ok(fp, cert, row.data, row.signature):
        problems.append(
            "ledger event 0 (case_opened) is not signed by its creator: nobody is trusted"
        )
        return None
    others = [Pinned(subject_name(c), fingerprint(c), c, 0) for c in carried]
    return [Pinned(event.actor.name, fp, cert, 0), *others]


def _signer(
    row: EventRow,
    where: str,
    pinned: dict[str, Pinned],
    revoked: dict[str, Revoked],
    problems: list[str],
) -> Pinned | None:
    """The examiner who signed a trust-list change, when they were pinned and not revoked at
    that point of the ledger and the signature verifies (else a problem)."""
    signer = pinned.get(row.signer)
    if signer is None:
        problems.append(f"{where} is signed by {row.signer[:16]}, who was not pinned then")
        return None
    gone = revoked.get(row.signer)
    if gone is not None:
        problems.append(
            f"{where} is signed by {signer.name} ({row.signer[:16]}), revoked by event "
            f"{gone.seq}: ignored"
        )
        return None
    if not event_signature_ok(signer.fingerprint, signer.certificate, row.data, row.signature):
        problems.append(f"{where}: the signature does not match the event")
        return None
    return signer


def _revoked(
    row: EventRow, pinned: dict[str, Pinned], revoked: dict[str, Revoked], problems: list[str]
) -> Revoked | None:
    """The examiner an `examiner_revoked` row revokes, when it counts: signed by an examiner
    pinned and not revoked then, naming a pinned, not yet revoked examiner by the fingerprint
    of their certificate, and leaving at least one examiner who may sign."""
    if row.kind != REVOKED and b'"kind":"examiner_revoked"' not in row.data:
        return None
    event = _parse(row, problems)
    if event is None or event.kind != REVOKED:
        return None
    where = f"ledger event {row.seq} ({REVOKED})"
    signer = _signer(row, where, pinned, revoked, problems)
    if signer is None:
        return None
    fp = event.details.get("fingerprint")
    target = pinned.get(fp) if isinstance(fp, str) else None
    if target is None:
        problems.append(f"{where} names {str(fp)[:16]!r}, who is not pinned: ignored")
        return None
    if fp in revoked:
        problems.append(f"{where}: {target.name} was already revoked by event {revoked[fp].seq}")
        return None
    if not set(pinned) - set(revoked) - {fp}:
        problems.append(
            f"{where} would revoke {target.name}, the last examiner who may sign: ignored"
        )
        return None
    return Revoked(
        target.name, target.fingerprint, row.seq, event.time, signer.name, event.reason or ""
    )


def _added(
    row: EventRow, pinned: dict[str, Pinned], revoked: dict[str, Revoked], problems: list[str]
) -> Pinned | None:
    """The examiner an `examiner_added` row pins, when a pinned examiner signed it."""
    if row.kind != ADDED and b'"kind":"examiner_added"' not in row.data:
        return None  # the kind column can lie, so the bytes are looked at too (cheap)
    event = _parse(row, problems)
    if event is None or event.kind != ADDED:
        return None
    where = f"ledger event {row.seq} ({ADDED})"
    signer = _signer(row, where, pinned, revoked, problems)
    if signer is None:
        return None
    certs = _certs([event.details.get("certificate")])
    if not certs:
        problems.append(f"{where} carries no readable certificate")
        return None
    cert = certs[0]
    fp = fingerprint(cert)
    stated = event.details.get("fingerprint")
    if stated is not None and stated != fp:
        problems.append(
            f"{where} states fingerprint {stated} but carries a certificate with {fp}: ignored"
        )
        return None
    if fp in revoked:
        problems.append(
            f"{where} pins {subject_name(cert)!r} ({fp[:16]}) again, revoked by event "
            f"{revoked[fp].seq}: a revoked certificate is never trusted again (a new one is)"
        )
        return None
    name = subject_name(cert)
    for other in pinned.values():
        if other.fingerprint != fp and display_name_key(other.name) == display_name_key(name):
            # `case add-examiner` refuses this; an event written past the tool does not get
            # the look-alike pinned either (logs and reports show examiners by name)
            problems.append(
                f"{where} pins {name!r} ({fp[:16]}), shown as the same person as the pinned "
                f"examiner {other.name!r} ({other.fingerprint[:16]}): ignored"
            )
            return None
    return Pinned(name, fp, cert, row.seq)


def _certs(values: Any) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    if not isinstance(values, list):
        return out
    for v in values:
        if isinstance(v, str):
            try:
                out.append(load_cert_pem(v))
            except EvidenceKitError:
                continue
    return out


def with_trust_problems(
    status: LedgerStatus,
    trust: CaseTrust,
    store: LedgerStore | None = None,
    reader_trusted: Collection[str] = (),
) -> LedgerStatus:
    """`custody verify`'s status with the trust list's problems added (ledger-wide, exit 3),
    and, given the ledger's `store`, every event signed by an examiner before the event that
    pinned them (examiners the reader trusts with --trust, `reader_trusted`, are exempt) and
    every event or checkpoint signed after the event that revoked them (nobody is exempt)."""
    extra = [Problem.of_event("untrusted-examiner", p) for p in trust.problems]
    if store is not None:
        extra += _signed_before_pinned(store, trust, reader_trusted)
        extra += _signed_after_revoked(store, trust)
    if not extra:
        return status
    return dataclasses.replace(status, problems=in_order([*status.problems, *extra]))


def _signed_before_pinned(
    store: LedgerStore, trust: CaseTrust, reader_trusted: Collection[str]
) -> list[Problem]:
    """Events signed by an examiner the ledger pinned only later. Only the rows before the last
    `examiner_added` are read (their signer column, which `custody verify` checks against each
    event's actor), so a ledger whose examiners were all pinned early costs nothing here."""
    late = {
        p.fingerprint: p for p in trust.pinned if p.seq > 0 and p.fingerprint not in reader_trusted
    }
    if not late:
        return []
    out: list[Problem] = []
    for row in store.rows(0, max(p.seq for p in late.values())):
        pinned = late.get(row.signer)
        if pinned is not None and row.seq < pinned.seq:
            out.append(
                Problem.of_event(
                    "signed-before-pinned",
                    f"signed by {pinned.name} ({pinned.fingerprint[:16]}), who was pinned only "
                    f"by event {pinned.seq}",
                    row.seq,
                    row.item,
                )
            )
    return out


def _signed_after_revoked(store: LedgerStore, trust: CaseTrust) -> list[Problem]:
    """Events and checkpoints signed by an examiner after the event that revoked them (a
    `--trust` certificate does not lift a revocation the case recorded). Only the rows after
    the first revocation are read, so a case without one costs nothing here."""
    if not trust.revoked:
        return []
    by_fp = {r.fingerprint: r for r in trust.revoked}
    out: list[Problem] = []
    for row in store.rows(min(r.seq for r in trust.revoked) + 1, None):
        r = by_fp.get(row.signer)
        if r is not None and row.seq > r.seq:
            out.append(
                Problem.of_event(
                    "revoked-signer",
                    f"signed by {r.name} ({r.fingerprint[:16]}), whose trust was revoked by "
                    f"event {r.seq} ({isoformat(r.time)}, by {r.by}: {r.reason})",
                    row.seq,
                    row.item,
                )
            )
    for cp in store.checkpoints():
        r = next((by_fp[fp] for fp in note_signers(cp.note) if fp in by_fp), None)
        if r is not None and cp.tree_size > r.seq + 1:
            out.append(
                Problem.of_event(
                    "revoked-signer",
                    f"checkpoint of {cp.tree_size} events signed by {r.name} "
                    f"({r.fingerprint[:16]}), whose trust was revoked by event {r.seq}",
                )
            )
    return out


def note_signers(note: str) -> list[str]:
    """The fingerprints a signed checkpoint names as its signers (not the row's column, which
    anyone with the file can edit)."""
    try:
        _body, sigs = parse_note(note)
    except EvidenceKitError:
        return []  # custody verify reports the malformed checkpoint itself
    return [s.name.removeprefix(KEY_PREFIX) for s in sigs if s.name.startswith(KEY_PREFIX)]
