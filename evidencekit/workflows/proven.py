"""Time you can prove, and what a CA-trusted signer signed checked at that time (docs/trust.md).

An event's `time` and a seal's `sealed` are written by the signer: a key revoked yesterday can
sign today and write last week. What bounds an event from above is the first RFC 3161 timestamp
over a checkpoint that covers it (`checkpoint_timestamped`): the event existed when the TSA
signed. So, in a case that trusts a CA anchor:

- every timestamp counts only when its TSA's certificate chains to a `tsa` anchor of the case
  (at the token's time, timeStamping EKU); otherwise it is an `untrusted-tsa` problem and proves
  nothing;
- every event after the first examiner anchor (the timestamp events themselves aside) must be
  covered by such a timestamp, else it is a `not-timestamped` problem: timestamps are mandatory;
- each event signed by an examiner trusted through an anchor is checked at its proven time: the
  chain to an anchor active at that point of the ledger, within its limits, the certificate
  valid then and not revoked *before* it according to the revocation data the case keeps
  (`revoked-certificate`, naming the revocation; `chain-invalid` for anything else). A
  certificate revoked after the proven time does not touch what it signed before.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from evidencekit.chain import merkle
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.merkle import NodeSource
from evidencekit.chain.store import EventRow, LedgerStore
from evidencekit.errors import EvidenceKitError
from evidencekit.identity import fingerprint, subject_name
from evidencekit.identity.validation import (
    EXAMINER,
    TSA,
    Anchor,
    ChainResult,
    token_certificates,
    validate_chain,
)
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat, parse_iso
from evidencekit.workflows.anchors import ChainSigner
from evidencekit.workflows.reader_trust import ReaderAnchors
from evidencekit.workflows.trust import CaseTrust

TIMESTAMPED = "checkpoint_timestamped"


@dataclass(frozen=True, slots=True)
class ProvenTime:
    """A timestamp that proves time: events below `size` existed at `time`."""

    seq: int
    size: int
    time: dt.datetime
    note: str = ""
    """The signed checkpoint the timestamp is over (its own proven time)."""


class Proofs:
    """The timestamps of a ledger that prove time, and the earliest one covering an event."""

    def __init__(self, proofs: Iterable[ProvenTime]) -> None:
        by_size = sorted(proofs, key=lambda p: p.size)
        self.own: dict[str, dt.datetime] = {}
        """signed checkpoint text -> the earliest time a timestamp over it proves."""
        for p in by_size:
            if p.note and (p.note not in self.own or p.time < self.own[p.note]):
                self.own[p.note] = p.time
        self._sizes = [p.size for p in by_size]
        # suffix minimum: the earliest time among timestamps covering more than i events
        self._earliest: list[dt.datetime] = []
        best: dt.datetime | None = None
        for p in reversed(by_size):
            best = p.time if best is None or p.time < best else best
            self._earliest.append(best)
        self._earliest.reverse()

    def bound(self, seq: int) -> dt.datetime | None:
        """The earliest proven time by which event `seq` existed (None: none covers it)."""
        i = bisect.bisect_right(self._sizes, seq)  # first timestamp with size > seq
        return self._earliest[i] if i < len(self._earliest) else None


def proven_times(
    store: LedgerStore,
    node: NodeSource,
    origin: str,
    trust: CaseTrust,
    reader_tsas: Sequence[x509.Certificate] = (),
) -> tuple[Proofs, list[Problem]]:
    """Check the TSA of every timestamp event against the case's `tsa` anchors — and, for a
    reader's own check, the TSAs the reader names (`--tsa-cert`: a TSA's certificate or a CA
    above it), `reader_tsas` — and that its checkpoint describes this ledger; the timestamps
    that hold are the proofs."""
    proofs: list[ProvenTime] = []
    problems: list[Problem] = []
    crls, ocsps = revocation_lists(trust)
    extra = [Anchor(c, TSA) for c in reader_tsas]
    for row in store.rows(0, None, item=None):
        if row.kind != TIMESTAMPED:
            continue
        try:
            proofs.append(_proof(row, node, origin, trust, crls, ocsps, extra))
        except EvidenceKitError as exc:
            problems.append(Problem.of_event("untrusted-tsa", exc.message, row.seq, None))
    return Proofs(proofs), problems


def _proof(
    row: EventRow,
    node: NodeSource,
    origin: str,
    trust: CaseTrust,
    crls: Sequence[bytes],
    ocsps: Sequence[bytes],
    extra: Sequence[Anchor] = (),
) -> ProvenTime:
    from evidencekit.chain.timestamp import verify_token

    try:
        details = json.loads(row.data)["details"]
        note = str(details["checkpoint"])
        token = base64.b64decode(details["token"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise EvidenceKitError(f"a timestamp event without a readable token: {exc}") from exc
    cp = verify_checkpoint(note, trust.certificates).checkpoint
    if cp.origin != origin or not 0 < cp.size <= row.seq or merkle.root(node, cp.size) != cp.root:
        raise EvidenceKitError("the timestamped checkpoint does not describe this ledger")
    info = verify_token(token, note.encode("utf-8"))
    anchors = [a.anchor for a in trust.anchors if a.active_at(row.seq)] + list(extra)
    result = validate_chain(
        info.tsa,
        [c for c in token_certificates(token) if c != info.tsa],
        anchors,
        moment=info.time,
        purpose=TSA,
        crls=crls,
        ocsps=ocsps,
    )
    if not result.ok:
        raise EvidenceKitError(
            f"the timestamp of {isoformat(info.time)} proves no time: its TSA "
            f"{info.tsa_name!r} is not one the case trusts ({result.problem})"
        )
    return ProvenTime(row.seq, cp.size, info.time, note)


def revocation_lists(trust: CaseTrust) -> tuple[list[bytes], list[bytes]]:
    crls = [r.data.der for r in trust.revocation if r.data.kind == "crl"]
    ocsps = [r.data.der for r in trust.revocation if r.data.kind == "ocsp"]
    return crls, ocsps


class ChainCheck:
    """Checks of CA-trusted signers at proven times, each (signer, time) validated once."""

    def __init__(self, trust: CaseTrust) -> None:
        self.trust = trust
        self.crls, self.ocsps = revocation_lists(trust)
        self._done: dict[tuple[str, dt.datetime, tuple[str, ...]], ChainResult] = {}

    def problem(self, c: ChainSigner, seq: int, when: dt.datetime | None) -> tuple[str, str] | None:
        """(kind, message) when what `c` signed at ledger position `seq`, proven to exist by
        `when`, does not count; None when it does."""
        if seq < c.seq:
            return (
                "signed-before-pinned",
                f"signed by {c.name} ({c.fingerprint[:16]}) before their certificate chain was "
                f"recorded (event {c.seq})",
            )
        anchor = next((a for a in self.trust.anchors if a.seq == c.anchor_seq), None)
        if anchor is not None and anchor.removed is not None and seq > anchor.removed:
            return (
                "chain-invalid",
                f"signed by {c.name} ({c.fingerprint[:16]}), trusted through anchor "
                f"{anchor.anchor.name!r}, which event {anchor.removed} removed",
            )
        if when is None:
            return (
                "not-timestamped",
                f"signed by {c.name} ({c.fingerprint[:16]}), trusted through a CA anchor, and "
                "no timestamped checkpoint covers it yet: nothing proves when it was signed, so "
                "its certificate's validity and revocation cannot be checked",
            )
        active = [a.anchor for a in self.trust.anchors if a.active_at(seq)]
        key = (c.fingerprint, when, tuple(a.fingerprint for a in active))
        result = self._done.get(key)
        if result is None:
            result = validate_chain(
                c.certificate,
                c.others,
                active,
                moment=when,
                purpose=EXAMINER,
                crls=self.crls,
                ocsps=self.ocsps,
            )
            self._done[key] = result
        if result.ok:
            return None
        if result.revoked is not None:
            return (
                "revoked-certificate",
                f"signed by {c.name} ({c.fingerprint[:16]}) and first proven by the timestamp "
                f"of {isoformat(when)}: {result.revoked.describe()}",
            )
        return ("chain-invalid", f"at its proven time {isoformat(when)}: {result.problem}")


def ledger_problems(
    store: LedgerStore, node: NodeSource, origin: str, trust: CaseTrust
) -> list[Problem]:
    """`custody verify`'s checks of time and CA-trusted signers (none in a case without
    anchors)."""
    if not trust.anchors:
        return []
    proofs, problems = proven_times(store, node, origin, trust)
    examiner_anchors = [a.seq for a in trust.anchors if a.anchor.kind == EXAMINER]
    if not examiner_anchors:
        return problems
    check = ChainCheck(trust)
    problems += _checkpoint_problems(store, trust, proofs, check, min(examiner_anchors))
    for row in store.rows(min(examiner_anchors) + 1, None):
        if row.kind == TIMESTAMPED:
            continue  # it carries its own proof, over what came before it
        when = proofs.bound(row.seq)
        c = trust.chained_signer(row.signer)
        found = check.problem(c, row.seq, when) if c is not None else None
        if found is not None:
            problems.append(Problem.of_event(found[0], found[1], row.seq, row.item))
        elif when is None:
            problems.append(
                Problem.of_event(
                    "not-timestamped",
                    "no timestamped checkpoint covers this event yet, and the case trusts a CA "
                    "anchor: run `evidencekit custody timestamp --tsa URL`",
                    row.seq,
                    row.item,
                )
            )
    return problems


def _checkpoint_problems(
    store: LedgerStore, trust: CaseTrust, proofs: Proofs, check: ChainCheck, first_anchor: int
) -> list[Problem]:
    """Checkpoints signed by an examiner trusted through a CA anchor, checked like events: at
    the time the checkpoint's own timestamp proves when it has one, else at that of the event
    it was signed with (its last one; a checkpoint restates a tree the ledger recomputes, so
    one signed later over the same tree asserts nothing new). A checkpoint nothing proves yet
    is not reported here: its last event is (`not-timestamped`); nor is one signed with its
    signer's own last event and proven with it (the event's problem says it)."""
    from evidencekit.workflows.trust import note_signers

    out: list[Problem] = []
    for cp in store.checkpoints():
        if cp.tree_size <= first_anchor + 1:
            continue
        for fp in note_signers(cp.note):
            c = trust.chained_signer(fp)
            if c is None:
                continue
            own = proofs.own.get(cp.note)
            bound = proofs.bound(cp.tree_size - 1)
            when = own if own is not None else bound
            if when is None:
                continue
            if when == bound and _last_signer(store, cp.tree_size) == fp:
                continue  # signed with their own event, proven at the same time: that event's
                # verdict is this checkpoint's (and is reported once, for the event)
            found = check.problem(c, cp.tree_size - 1, when)
            if found is None or found[0] == "not-timestamped":
                continue
            by = "its own timestamp" if own is not None else "the timestamp over its last event"
            out.append(
                Problem.of_event(
                    found[0],
                    f"the checkpoint of {cp.tree_size} events (proven by {by}): {found[1]}",
                )
            )
    return out


def _last_signer(store: LedgerStore, size: int) -> str | None:
    rows = list(store.rows(size - 1, size))
    return rows[0].signer if rows else None


def tsa_paths(store: LedgerStore, trust: CaseTrust) -> list[tuple[x509.Certificate, ...]]:
    """The certification paths (anchor first) of the TSAs whose timestamps the ledger holds,
    where they chain to a `tsa` anchor (revocation aside): what `case add-revocation --fetch`
    fetches revocation data for, beside the examiners'."""
    from evidencekit.chain.timestamp import verify_token

    out: list[tuple[x509.Certificate, ...]] = []
    seen: set[bytes] = set()
    for row in store.rows(0, None, item=None):
        if row.kind != TIMESTAMPED:
            continue
        try:
            details = json.loads(row.data)["details"]
            note = str(details["checkpoint"])
            token = base64.b64decode(details["token"], validate=True)
            info = verify_token(token, note.encode("utf-8"))
            others = [c for c in token_certificates(token) if c != info.tsa]
        except (EvidenceKitError, ValueError, KeyError, TypeError, binascii.Error):
            continue  # custody verify names it
        key = info.tsa.fingerprint(hashes.SHA256())
        if key in seen:
            continue
        seen.add(key)
        anchors = [a.anchor for a in trust.anchors if a.removed is None]
        result = validate_chain(
            info.tsa, others, anchors, moment=info.time, purpose=TSA, revocation=False
        )
        if result.ok:
            out.append(result.path)
    return out


def reader_signers(
    store: LedgerStore, trust: CaseTrust, anchors: ReaderAnchors
) -> dict[str, tuple[x509.Certificate, tuple[x509.Certificate, ...]]]:
    """fingerprint -> (certificate, other certificates) of every signer of the ledger whose
    chain builds to one of the reader's CA anchors (`--trust ROOT.pem`): the examiners the
    ledger pins or trusts through its own anchors, and those who presented a chain
    (`certificate_chain_added`) the case itself does not count."""
    from evidencekit.workflows.anchors import CHAIN_ADDED, chain_from

    found: dict[str, tuple[x509.Certificate, tuple[x509.Certificate, ...]]] = {}
    for p in trust.pinned:
        found.setdefault(p.fingerprint, (p.certificate, ()))
    for c in trust.chained:
        found[c.fingerprint] = (c.certificate, c.others)
    for row in store.rows(0, None, item=None):
        if row.kind != CHAIN_ADDED or row.signer in found:
            continue
        try:
            leaf, others = chain_from(json.loads(row.data)["details"])
        except (EvidenceKitError, ValueError, KeyError, TypeError):
            continue  # custody verify names a malformed event itself
        if fingerprint(leaf) == row.signer:
            found[row.signer] = (leaf, others)
    return {fp: v for fp, v in found.items() if anchors.covers(*v)}


def reader_problems(
    store: LedgerStore,
    node: NodeSource,
    origin: str,
    trust: CaseTrust,
    anchors: ReaderAnchors,
    signers: dict[str, tuple[x509.Certificate, tuple[x509.Certificate, ...]]],
    reader_tsas: Sequence[x509.Certificate] = (),
) -> list[Problem]:
    """Every event signed by one of `signers` checked against the reader's anchors: at the
    time the case's timestamps prove (those whose TSA the case's `tsa` anchors or the reader's
    own `reader_tsas` trust), else at the time the event states, and then any revocation the
    data shows fails it (docs/trust.md, "A reader's own CA root")."""
    if not signers:
        return []
    proofs = (
        proven_times(store, node, origin, trust, reader_tsas)[0]
        if trust.anchors or reader_tsas
        else Proofs(())
    )
    crls, ocsps = revocation_lists(trust)
    check = anchors.with_data(crls, ocsps)
    problems: list[Problem] = []
    for row in store.rows(0, None):
        got = signers.get(row.signer)
        if got is None:
            continue
        try:
            claimed: dt.datetime | None = parse_iso(row.time)
        except ValueError:
            claimed = None
        found = check.problem(
            got[0],
            got[1],
            claimed=claimed,
            proven=proofs.bound(row.seq),
            what=f"signed by {subject_name(got[0])!r} ({row.signer[:16]}), checked against "
            "the reader's CA",
        )
        if found is not None:
            problems.append(Problem.of_event(found[0], found[1], row.seq, row.item))
    return problems
