"""Verify evidence items: find their seals, gather the trusted signers (from the case's ledger,
`workflows.trust`, and `--trust`), load the format plug-ins (E01 media checks …), verify, check
that a seal inside the case names this case and its folder's item (seal/2) and is the one its
ledger recorded, and optionally record a `verified` custody event.

The format plug-ins (E01 media, tar items) are registered when this module is imported
(`workflows.verifiers`)."""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from evidencekit.case import CASE_FILE, Case
from evidencekit.errors import (
    CustodyError,
    EvidenceKitError,
    IntegrityError,
    PartialReadError,
    UsageError,
    worst_exit_code,
)
from evidencekit.hash.seal.document import SEAL_SUFFIX
from evidencekit.hash.seal.read import find_seal, load_seal
from evidencekit.hash.seal.status import VerifyStatus
from evidencekit.hash.seal.verify import verify_seal
from evidencekit.identity import Identity, fingerprint, load_cert_file, load_cert_pem, subject_name
from evidencekit.identity.validation import (
    Limits,
    is_ca,
)
from evidencekit.ids import check_item_id
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat, parse_iso
from evidencekit.workflows.progress import Progress, Tick
from evidencekit.workflows.reader_trust import ReaderAnchors, read_data_file, reader_anchors
from evidencekit.workflows.trust import CaseTrust, case_trust
from evidencekit.workflows.verifiers import register_verifiers
from evidencekit.workflows.verify_record import REFUSED, UNLOCK_FAILED

log = logging.getLogger(__name__)

register_verifiers()


def trusted_signers(case: Case | None, trust: Sequence[Path] = ()) -> dict[str, x509.Certificate]:
    """The examiners the case's ledger pins plus every `--trust` certificate.

    Raises:
        IdentityError: a --trust file is not a certificate.
    """
    trusted = case_trust(case).certificates if case is not None else {}
    return _with_trust_files(trusted, trust)


def _with_trust_files(
    trusted: dict[str, x509.Certificate], trust: Sequence[Path]
) -> dict[str, x509.Certificate]:
    out = dict(trusted)
    for path in trust:
        cert = load_cert_file(path)
        out[fingerprint(cert)] = cert
    return out


def _looks_like_path(target: str) -> bool:
    return "/" in target or target.endswith(SEAL_SUFFIX) or target in (".", "..")


def resolve_target(case: Case | None, target: str, *, as_item: bool = False) -> Path:
    """An item id of the case, an item folder, or a seal file -> the seal file's path.

    An item id of the case comes first (as for `ls` and `acquire files`): a folder of the same
    name in the current folder is not what `verify ITEM` checks. `as_item`: `target` is an item
    id (`verify --all`), whatever is in the current folder. A missing seal file is returned as
    is (verification reports it); an item id without a case or without a folder raises.

    Raises:
        UsageError: the target names nothing we can verify.
    """
    path = Path(target)
    if case is not None and (as_item or _is_case_item(case, target)):
        item_dir = case.item_dir(target)
        return find_seal(item_dir) if item_dir.is_dir() else item_dir / f"{target}{SEAL_SUFFIX}"
    if path.exists() or _looks_like_path(target):
        return find_seal(path) if path.is_dir() else path
    if case is None:
        raise UsageError(
            f"{target!r} is neither a file nor a folder, and no case is open to look it up",
            hint="give the seal file or item folder, or --case DIR",
        )
    item_dir = case.item_dir(target)
    if not item_dir.is_dir():
        return item_dir / f"{target}{SEAL_SUFFIX}"
    return find_seal(item_dir)


def _is_case_item(case: Case, target: str) -> bool:
    """Whether `target` is an item id the case has a folder for (a name with `/` never is)."""
    if _looks_like_path(target):
        return False
    try:
        check_item_id(target)
    except EvidenceKitError:
        return False
    return (case.evidence_dir / target).is_dir()


def verify_items(
    case: Case | None,
    targets: Sequence[str],
    *,
    trust: Sequence[Path] = (),
    rehash: bool = True,
    on_progress: Callable[[str, int], None] | None = None,
    anchors: ReaderAnchors | None = None,
    every_item: bool = False,
) -> list[VerifyStatus]:
    """Verify every target (item ids, item folders, seal files); one status each.

    An item the ledger records as registered but never sealed (seized, not imaged yet) has no
    seal: its status is `NOT_IMAGED`, its photos and documents checked; named as a target it
    is also `not-sealed` (nothing sealed was checked, exit 1), while `every_item` (`verify
    --all`: each item of the case) counts it as holding when its files do.

    `anchors`: CA certificates the reader trusts (with `--trust ROOT.pem`): a seal whose chain
    goes to one, within its limits, valid at its `sealed` time and revoked at no time the
    revocation data given shows, is trusted (outside a case nothing proves when a seal was made,
    so any revocation counts against it).

    Raises:
        UsageError: a target names nothing.
        IdentityError: a --trust file is not a certificate.
    """
    case_trusts = case_trust(case) if case is not None else None
    if anchors is None:
        trust, found = reader_anchors(trust)
        anchors = found if found.anchors else None
    trusted = _with_trust_files(case_trusts.certificates if case_trusts else {}, trust)
    statuses: list[VerifyStatus] = []
    for target in targets:
        try:
            seal_path = resolve_target(case, target, as_item=every_item)
        except UsageError as exc:  # one target that names no seal does not hide the others
            st = _not_sealed(case, target, exc)
            item = st.item_id or (
                target if case is not None and not _looks_like_path(target) else None
            )
            if case is not None and case_trusts is not None and item is not None:
                # a registered item not yet imaged: its photos and documents still verify
                st = _with_case_files(case, item, case_trusts.certificates, st)
            statuses.append(st)
            continue
        cb = None
        if on_progress is not None:

            def cb(
                n: int, _t: str = target, _report: Callable[[str, int], None] = on_progress
            ) -> None:
                _report(_t, n)

        item = _case_item(case, seal_path) if case is not None else None
        if case is not None and item is not None:
            unsafe = _planted_link(case, item, seal_path)
            if unsafe is not None:
                statuses.append(unsafe)
                continue
            if case_trusts is not None and not seal_path.parent.exists():
                unimaged = _not_imaged(case, item, seal_path, case_trusts, every_item)
                if unimaged is not None:
                    statuses.append(unimaged)
                    continue
        # a seal of the case's evidence folder must name this case and this folder's item
        in_case = case_trusts is not None and item is not None
        chained: dict[str, x509.Certificate] = {}
        chain_problems: list[Problem] = []
        if anchors is not None and anchors.anchors:
            chained, chain_problems = _reader_chain(seal_path, anchors)
        status = verify_seal(
            seal_path,
            trusted={**trusted, **chained},
            rehash=rehash,
            on_progress=cb,
            case_identity=case_trusts.identity if in_case and case_trusts else None,
            item_id=item if in_case else None,
        )
        if status.item_id is None and in_case:
            status = dataclasses.replace(status, item_id=item)  # e.g. its seal is missing
        extra: list[Problem] = list(chain_problems)
        fp = status.signer_fingerprint
        if case_trusts is None and fp in trusted and fp not in chained:
            status = dataclasses.replace(status, notes=(*status.notes, OUTSIDE_NOTE))
        if case_trusts is not None:
            status = _explain_untrusted(status, case_trusts)
            extra += _revoked_signer(case, item, seal_path, status, case_trusts)
            extra += _chained_signer(case, item, seal_path, status, case_trusts)
        if case is not None and case_trusts is not None and item is not None:
            # an item of the case: the case's own record must hold together
            extra += [
                Problem.of_file("untrusted-examiner", CASE_FILE, p) for p in case_trusts.problems
            ]
            if status.seal_sha256 is not None:
                extra += _ledger_binding(
                    case, item, seal_path.name, status.seal_sha256, case_trusts.certificates
                )
        if extra:
            status = dataclasses.replace(status, problems=status.problems + tuple(extra))
        if case is not None and case_trusts is not None and item is not None:
            status = _with_case_files(case, item, case_trusts.certificates, status)
        statuses.append(status)
    return statuses


OUTSIDE_NOTE = (
    "outside a case: the signer is trusted by the certificate given with --trust; a revocation "
    "of an examiner is recorded only in the case's ledger, so this check cannot know of one, "
    "nor prove when the seal was made (verify it inside the case, or with --case-identity; "
    "docs/trust.md)"
)
"""The note of a seal whose signer a reader pinned outside any case (docs/trust.md, "What a
reader outside the case can conclude")."""

NOT_SEALED = "not-sealed"
"""The problem kind of a target with no seal to verify (an item folder without one, a name that
is neither a file nor an item): nothing was checked, an operational outcome (exit 1)."""


def _not_sealed(case: Case | None, target: str, exc: UsageError) -> VerifyStatus:
    folder = Path(target)
    named_item = case is not None and not _looks_like_path(target)
    if named_item and case is not None and (_is_case_item(case, target) or not folder.is_dir()):
        folder = case.evidence_dir / target
    item = folder.name if folder.is_dir() else None
    message = exc.message + (f"; {exc.hint}" if exc.hint else "")
    problem = Problem.of_file(NOT_SEALED, target, message)
    return VerifyStatus(folder / f"{folder.name}{SEAL_SUFFIX}", item, None, None, None, (problem,))


def _case_item(case: Case, seal_path: Path) -> str | None:
    """The item id when `seal_path` is `evidence/ITEM/<name>` of the case (by path, without
    following links), else None: such a seal must be the one the case's ledger recorded."""
    evidence = Path(os.path.abspath(case.evidence_dir))
    path = Path(os.path.abspath(seal_path))
    if path.parent.parent != evidence:
        return None
    return path.parent.name


NOT_IMAGED = "not-imaged"
"""The `status` of an item the ledger registered and never sealed (no image, no collection
yet): not a seal's status; its photos and documents are still checked."""


def _not_imaged(
    case: Case, item: str, seal_path: Path, trust: CaseTrust, every_item: bool
) -> VerifyStatus | None:
    """The status of `item` when its folder is missing and its events (each verifying) record
    no seal: registered, not imaged yet. None otherwise (a sealed item whose folder is gone is
    an integrity failure, which verify_seal reports as a missing seal)."""
    from evidencekit.workflows.custody import open_ledger

    try:
        check_item_id(item)
        with open_ledger(case) as ledger:
            events = ledger.verified_events(item, trust.certificates)
    except EvidenceKitError:
        return None  # an unreadable or rewritten ledger: the seal check reports it
    if not events or any(se.event.kind in SEAL_EVENTS for se in events):
        return None
    problems: tuple[Problem, ...] = ()
    if not every_item:
        problems = (
            Problem.of_file(
                NOT_SEALED,
                item,
                f"item {item!r} is registered but not imaged yet: there is no seal to verify",
            ),
        )
    status = VerifyStatus(seal_path, item, NOT_IMAGED, None, None, problems)
    return _with_case_files(case, item, trust.certificates, status)


def case_items(case: Case) -> list[str]:
    """Every item of the case, for `verify --all`: those with a folder under `evidence/` and
    those the ledger names (an item registered and not imaged, or one whose sealed folder is
    missing — which its verification then reports), sorted.

    Raises:
        IntegrityError, CustodyError: the ledger cannot be read.
    """
    from evidencekit.workflows.custody import open_ledger

    with open_ledger(case) as ledger:
        named = {se.event.item_id for se in ledger.events(False)}
    return sorted({*case.items(), *(i for i in named if i is not None)})


def _planted_link(case: Case, item: str, seal_path: Path) -> VerifyStatus | None:
    """A failed status when `evidence/` or `evidence/ITEM` is a symbolic link (a planted link
    would make the case's item live, and be read, outside the case)."""
    for folder in (case.evidence_dir, case.evidence_dir / item):
        try:
            st = os.lstat(folder)
        except OSError:
            return None  # missing: verify_seal reports the missing seal
        if not stat.S_ISDIR(st.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a folder"
            problem = Problem.of_file(
                "unsafe-file",
                str(folder.relative_to(case.path)),
                f"is {what}: the item is not inside the case; nothing in it was read",
            )
            return VerifyStatus(seal_path, item, None, None, None, (problem,))
    return None


def _revoked_signer(
    case: Case | None, item: str | None, seal_path: Path, status: VerifyStatus, trust: CaseTrust
) -> list[Problem]:
    """A seal signed by an examiner the case's ledger revoked must predate the revocation on
    both counts: its `sealed` time (what the signer wrote) and the ledger order (the event that
    recorded the seal comes before the revocation: a revoked key back-dating a seal is caught
    here, since the ledger refuses their appends)."""
    r = trust.revoked_at(status.signer_fingerprint)
    if r is None or status.seal_sha256 is None:
        return []
    name = seal_path.name
    why = f"{r.name} ({r.fingerprint[:16]}) was revoked by ledger event {r.seq}"
    why += f" ({isoformat(r.time)}, by {r.by}: {r.reason})"
    try:
        sealed = parse_iso(str(load_seal(seal_path).document.get("sealed")))
    except (EvidenceKitError, ValueError):
        sealed = None
    if sealed is None or sealed > r.time:
        when = isoformat(sealed) if sealed is not None else "an unreadable time"
        return [Problem.of_file("revoked-signer", name, f"sealed at {when}, after {why}")]
    seq = _recording_event(case, item, status.seal_sha256) if case and item else None
    if seq is None:
        return [
            Problem.of_file(
                "revoked-signer",
                name,
                f"no ledger event before the revocation records this seal, and {why}",
            )
        ]
    if seq > r.seq:
        return [
            Problem.of_file(
                "revoked-signer",
                name,
                f"the ledger recorded this seal at event {seq}, after {why}",
            )
        ]
    return []


def _reader_chain(
    seal_path: Path, anchors: ReaderAnchors
) -> tuple[dict[str, x509.Certificate], list[Problem]]:
    """The seal's signer, when their chain (from the seal) goes to a reader's anchor: valid at
    the seal's own time, and not revoked at any time the given data shows (no timestamp proves
    the seal's time outside a case). Else a problem saying why."""
    name = seal_path.name
    try:
        seal = load_seal(seal_path)
        pems = seal.certificate_pems
        leaf = load_cert_pem(pems[0]) if pems else None
        others = [load_cert_pem(p) for p in pems[1:]]
        sealed = parse_iso(str(seal.document.get("sealed")))
    except (EvidenceKitError, ValueError):
        return {}, []  # verify_seal reports the malformed seal itself
    if leaf is None or is_ca(leaf):
        return {}, []
    if not anchors.covers(leaf, others):
        return {}, []  # not the reader's CA's: a --trust certificate may still pin it
    found = anchors.problem(
        leaf, others, claimed=sealed, proven=None, what=f"sealed by {subject_name(leaf)!r}"
    )
    if found is not None:
        return {}, [Problem.of_file(found[0], name, found[1])]
    return {fingerprint(leaf): leaf}, []


def _chained_signer(
    case: Case | None, item: str | None, seal_path: Path, status: VerifyStatus, trust: CaseTrust
) -> list[Problem]:
    """A seal signed by an examiner the case trusts through a CA anchor: checked at the time
    the first timestamp after the event that recorded it proves (`workflows.proven`)."""
    from evidencekit.workflows.custody import open_ledger
    from evidencekit.workflows.proven import ChainCheck, proven_times

    c = trust.chained_signer(status.signer_fingerprint)
    if c is None or status.seal_sha256 is None:
        return []
    name = seal_path.name
    seq = _recording_event(case, item, status.seal_sha256) if case and item else None
    if seq is None:
        return [
            Problem.of_file(
                "chain-invalid",
                name,
                f"signed by {c.name}, trusted through a CA anchor, and no ledger event records "
                "this seal: nothing proves when it was made",
            )
        ]
    try:
        with open_ledger(case) as ledger:  # type: ignore[arg-type]
            proofs, _ = proven_times(ledger.store, ledger.node, ledger.origin, trust)
    except EvidenceKitError as exc:
        return [Problem.of_file("chain-invalid", name, f"cannot read the ledger: {exc.message}")]
    found = ChainCheck(trust).problem(c, seq, proofs.bound(seq))
    if found is None:
        return []
    kind = "revoked-certificate" if found[0] == "revoked-certificate" else "chain-invalid"
    return [Problem.of_file(kind, name, f"recorded by ledger event {seq}: {found[1]}")]


def _recording_event(case: Case, item: str, seal_sha256: str) -> int | None:
    """The first ledger event of `item` that records the seal with this SHA-256, if any."""
    from evidencekit.workflows.custody import open_ledger

    try:
        check_item_id(item)
        with open_ledger(case) as ledger:
            events = ledger.events(item)
    except EvidenceKitError:
        return None  # _ledger_binding reports an unreadable ledger
    for se in events:
        if se.event.kind in SEAL_EVENTS and se.event.details.get("seal_sha256") == seal_sha256:
            return se.seq
    return None


def _explain_untrusted(status: VerifyStatus, trust: CaseTrust) -> VerifyStatus:
    """Say why a signer `case.toml` lists is not trusted (the ledger never added them)."""
    problems = []
    changed = False
    for p in status.problems:
        why = trust.untrusted.get(p.found or "") if p.kind == "unknown-signer" else None
        if why is not None:
            p = dataclasses.replace(
                p, message=f"signed by an examiner the case does not trust: {why}"
            )
            changed = True
        problems.append(p)
    return dataclasses.replace(status, problems=tuple(problems)) if changed else status


def _with_case_files(
    case: Case, item: str, trusted: Mapping[str, x509.Certificate], status: VerifyStatus
) -> VerifyStatus:
    """`status` with the problems and notes of the photos and documents the ledger records for
    `item` (`workflows.casefiles`), each re-hashed against the event that recorded it."""
    from evidencekit.workflows.casefiles import check_files, recorded_files, unrecorded_files
    from evidencekit.workflows.custody import open_ledger

    try:
        check_item_id(item)
        with open_ledger(case, create=False) as ledger:
            events = ledger.verified_events(item, trusted)
    except EvidenceKitError:
        return status  # the ledger's own trouble is reported by the seal's ledger binding
    files = recorded_files(
        {
            "seq": se.seq,
            "kind": se.event.kind,
            "item": se.event.item_id,
            "details": se.event.details,
        }
        for se in events
    )
    problems, notes = check_files(case, files, by_file=True)
    extra, extra_notes = unrecorded_files(case, files, item=item, by_file=True)
    if not files and not extra and not extra_notes:
        return status
    if files and not problems:
        notes.append(
            f"{len(files)} photo(s) and attached document(s) re-hashed: each is the one its "
            "custody event recorded"
        )
    return dataclasses.replace(
        status,
        item_id=status.item_id or item,
        problems=status.problems + tuple(problems) + tuple(extra),
        notes=(*status.notes, *notes, *extra_notes),
    )


SEAL_EVENTS = frozenset({"acquired", "collected", "sealed", "converted"})
"""Custody events that record an item's seal (its SHA-256 in `details.seal_sha256`)."""


def _ledger_binding(
    case: Case,
    item: str,
    name: str,
    on_disk: str,
    trusted: Mapping[str, x509.Certificate],
) -> list[Problem]:
    """The seal on disk must be the one the ledger recorded last for the item: an item imaged
    elsewhere (even by the same examiner) and copied over `evidence/ITEM` is caught here."""
    from evidencekit.workflows.custody import open_ledger

    try:
        check_item_id(item)
        with open_ledger(case, create=False) as ledger:
            events = ledger.verified_events(item, trusted)  # a rewritten row binds nothing
    except EvidenceKitError as exc:
        return [
            Problem.of_file(
                "ledger-mismatch", name, f"cannot check the seal against the ledger: {exc}"
            )
        ]
    recorded = None
    for se in events:
        sha = se.event.details.get("seal_sha256")
        if se.event.kind in SEAL_EVENTS and isinstance(sha, str):
            recorded = (se.seq, se.event.kind, sha)
    if recorded is None:
        return [
            Problem.of_file(
                "ledger-mismatch",
                name,
                f"the ledger records no seal for item {item!r}: it was not made in this case",
                found=f"sha256:{on_disk}",
            )
        ]
    seq, kind, sha = recorded
    if sha == on_disk:
        return []
    return [
        Problem.of_file(
            "ledger-mismatch",
            name,
            f"the seal is not the one the ledger recorded last for item {item!r} (event {seq}, "
            f"{kind}): it was replaced, or copied from elsewhere",
            expected=f"sha256:{sha}",
            found=f"sha256:{on_disk}",
        )
    ]


def record_verification(case: Case, identity: Identity, status: VerifyStatus) -> int:
    """Append a `verified` custody event carrying the result; its sequence number.

    Raises:
        CustodyError: the custody ledger refuses the event.
    """
    from evidencekit.workflows.custody import record_event

    if status.item_id is None:
        raise CustodyError(f"cannot record a verification of {str(status.seal_path)!r}: no item")
    problems: list[Problem] = list(status.problems)
    return record_event(
        case,
        identity,
        "verified",
        status.item_id,
        description=(
            "verification passed"
            if status.ok
            else f"verification FAILED: {len(problems)} problem(s)"
        ),
        digests={},
        details={
            "ok": status.ok,
            "seal": str(status.seal_path),
            "signer_fingerprint": status.signer_fingerprint,
            "problems": [p.to_dict() for p in problems],
            "bytes_hashed": status.bytes_hashed,
        },
    ).seq


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    """What `verify` is asked to do: check the seals `targets` name (item ids of the case, item
    folders, seal files), or with `every_item` each item of the case (`verify --all`).

    Attributes:
        trust: certificate files of further signers to accept (beside those the case's ledger
            pins).
        rehash: re-read every file (False: signatures and sizes only).
        record: append a `verified` custody event per verified item of the case (needs a case
            and an examiner).
        record_quietly: when `record`, a key that will not unlock or a ledger that refuses the
            event does not raise: the result says it was not recorded, and why (a plain
            `verify` in a case records when it can, `--record` insists).
        every_item: verify every item of the case (`case_items`) instead of `targets`, which
            must be empty; an item registered and not imaged yet holds when its photos and
            documents do.
        progress: told the bytes re-hashed so far, per target.
        limits: for `trust` files that are CA certificates (anchors): the signer's allowed O,
            OU, policies and EKUs.
        crls, ocsps: revocation data (CRL files, DER OCSP responses) for those anchors.
    """

    targets: tuple[str, ...] = ()
    trust: tuple[Path, ...] = ()
    rehash: bool = True
    record: bool = False
    progress: Progress | None = None
    limits: Limits = field(default_factory=Limits)
    crls: tuple[Path, ...] = ()
    ocsps: tuple[Path, ...] = ()
    every_item: bool = False
    record_quietly: bool = False


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Every target's status, in the order given, and whether `verified` events were recorded.

    Attributes:
        recorded: whether `verified` events were appended (one per item of the case checked).
        events: item id -> the sequence number of its `verified` event.
        not_recorded: (reason, message) when recording was asked for quietly and did not
            happen, or not for every item (`verify_record.UNLOCK_FAILED`: the key would not
            unlock; `verify_record.REFUSED`: the ledger refused an item's event), else None.
        every_item: the statuses are those of every item of the case (`verify --all`).
    """

    statuses: tuple[VerifyStatus, ...]
    recorded: bool
    events: Mapping[str, int] = field(default_factory=dict)
    not_recorded: tuple[str, str] | None = None
    every_item: bool = False

    @property
    def ok(self) -> bool:
        return all(st.ok for st in self.statuses)

    @property
    def exit_code(self) -> int:
        """The worst of the targets' outcomes (docs/design.md: 3 over 4 over 1): 3 when a seal
        does not verify, 4 when it verifies but is not `complete`, 1 when a target has no seal
        to verify, else 0 (an item not imaged yet whose files hold is 0)."""
        codes = []
        for st in self.statuses:
            if not st.problems:
                codes.append(
                    0 if st.status in ("complete", NOT_IMAGED) else PartialReadError.exit_code
                )
            elif not_sealed(st):
                codes.append(EvidenceKitError.exit_code)
            else:
                codes.append(IntegrityError.exit_code)
        return worst_exit_code(*codes)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "items": [
                {
                    **st.to_dict(),
                    "exit_code": VerifyResult((st,), False).exit_code,
                    "recorded_event": self.events.get(st.item_id or ""),
                }
                for st in self.statuses
            ],
            "recorded": self.recorded,
            "not_recorded": (
                {"reason": self.not_recorded[0], "message": self.not_recorded[1]}
                if self.not_recorded
                else None
            ),
            "all": self.every_item,
        }


def not_sealed(status: VerifyStatus) -> bool:
    """Whether the target had no seal to verify (nothing was checked)."""
    return bool(status.problems) and all(p.kind == NOT_SEALED for p in status.problems)


def recordable(status: VerifyStatus) -> bool:
    """Whether a `verified` event may be recorded for `status`: an item's seal file was there
    and checked (not an item without a seal, nor a name with no seal file; `verify_evidence`
    also requires the seal to be in the case's `evidence/ITEM/`)."""
    return (
        status.item_id is not None
        and status.status != NOT_IMAGED
        and not not_sealed(status)
        and status.seal_path.is_file()
    )


def verify_evidence(
    case: Case | None,
    request: VerifyRequest,
    examiner: Identity | Callable[[], Identity] | None = None,
) -> VerifyResult:
    """Verify every target of `request` (every item of the case with `every_item`); with
    `request.record`, then append a `verified` custody event per item of the case whose seal
    was checked, signed by `examiner` (or by the identity the callable returns, called only
    then: the passphrase is asked for after the re-hashing).

    Raises:
        UsageError: `record` or `every_item` without a case, `record` without an examiner,
            `every_item` with targets.
        IdentityError: a --trust file is not a certificate; the examiner's key cannot be
            unlocked (unless `record_quietly`).
        CustodyError: the ledger refuses a `verified` event (unless `record_quietly`).
        IntegrityError: the ledger does not verify, so nothing is appended to it (unless
            `record_quietly`).
    """
    if request.record and (case is None or examiner is None):
        raise UsageError("recording a verification needs a case and an examiner")
    if request.every_item and request.targets:
        raise UsageError(
            "--all verifies every item of the case: give no ITEM with it",
            hint="evidencekit verify --all, or evidencekit verify ITEM…",
        )
    if request.every_item and case is None:
        raise UsageError(
            "--all verifies every item of a case, and no case is open",
            hint="run it in the case folder, or give --case DIR",
        )
    on_progress: Callable[[str, int], None] | None = None
    if request.progress is not None:
        progress = request.progress

        def on_progress(target: str, done: int) -> None:
            progress(Tick(f"verifying {target}", done))

    leaves, anchors = reader_anchors(
        request.trust,
        request.limits,
        [read_data_file(p) for p in request.crls],
        [read_data_file(p) for p in request.ocsps],
    )
    targets = case_items(case) if request.every_item and case is not None else request.targets
    statuses = verify_items(
        case,
        targets,
        trust=leaves,
        rehash=request.rehash,
        on_progress=on_progress,
        anchors=anchors,
        every_item=request.every_item,
    )
    events: dict[str, int] = {}
    not_recorded: tuple[str, str] | None = None
    todo = [
        st
        for st in statuses
        if recordable(st) and case is not None and _case_item(case, st.seal_path) == st.item_id
    ]
    if request.record and case is not None and examiner is not None and todo:
        refused: list[str] = []
        try:
            identity = examiner if isinstance(examiner, Identity) else examiner()
        except EvidenceKitError as exc:  # the key will not unlock (wrong passphrase, token)
            if not request.record_quietly:
                raise
            not_recorded = (UNLOCK_FAILED, exc.message)
        else:
            for st in todo:
                assert st.item_id is not None
                try:
                    events[st.item_id] = record_verification(case, identity, st)
                except IntegrityError as exc:  # the ledger itself: nothing more is tried
                    if not request.record_quietly:
                        raise
                    refused.append(exc.message)
                    break
                except EvidenceKitError as exc:  # this item's rules: the others are recorded
                    if not request.record_quietly:
                        raise
                    refused.append(f"{st.item_id}: {exc.message}")
            if refused:
                not_recorded = (REFUSED, "; ".join(refused))
    return VerifyResult(
        tuple(statuses),
        bool(events),
        events,
        not_recorded,
        request.every_item,
    )
