"""Verify a signed report, alone or against its case.

Every signature holds and its signer is pinned (or trusted with --trust); after the first
signature only further signatures, document timestamps and validation data; attachment names are
plain file names; with the case, the attached seals are byte-identical to the case's, and the
current ledger provably extends the checkpoint embedded in the report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from evidencekit.case import Case
from evidencekit.errors import EvidenceKitError, ReportError, UsageError
from evidencekit.identity import fingerprint
from evidencekit.identity.validation import TSA, Anchor
from evidencekit.problems import Problem, ReportPart
from evidencekit.report.attachments import shown
from evidencekit.report.sign import SignatureCheck, check_signature, read_attachment_entries
from evidencekit.workflows.proven import revocation_lists
from evidencekit.workflows.reader_trust import ReaderAnchors, TsaAnchors
from evidencekit.workflows.report.ledger import (
    _check_checkpoint,
    _find_report_event,
    _revision_events,
)
from evidencekit.workflows.report.names import CHECKPOINT_TXT, REPORT_JSON, SEAL_SUFFIX
from evidencekit.workflows.trust import CaseTrust, case_trust


@dataclass(frozen=True, slots=True)
class ReportVerification:
    """The outcome of `report verify`; `problems` empty means everything holds. `notes` say
    what held or was not checked (never a problem)."""

    path: Path
    sha256: str
    signature: SignatureCheck
    report_id: str | None = None
    attachments: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    case_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "ok": self.ok,
            "sha256": self.sha256,
            "report_id": self.report_id,
            "signature": self.signature.to_dict(),
            "attachments": list(self.attachments),
            "case_checked": self.case_checked,
            # the report's JSON has always carried each problem as its one line of text
            "problems": [p.message for p in self.problems],
            "notes": list(self.notes),
        }


def verify_report(
    path: Path,
    *,
    case: Case | None = None,
    trust: Sequence[x509.Certificate] = (),
    anchors: ReaderAnchors | None = None,
    tsa_certs: Sequence[x509.Certificate] = (),
) -> ReportVerification:
    """Check a report's signature, coverage and signer; with `case`, its attachments too.
    `anchors`: the reader's CA roots (`--trust ROOT.pem`): a signer whose chain (carried in the
    signature) goes to one is trusted when it holds at the time the signature's timestamps
    prove, else at its claimed time with any revocation counting against it.
    `tsa_certs` (a TSA's certificate or a CA above it) and, with `case`, the case's `tsa`
    anchors: every timestamp of the report must come from one of them (when there are any).

    Never raises for a failed check (see `problems`).

    Raises:
        ReportError: the file cannot be read at all.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read report {str(path)!r}: {exc.strerror}") from exc
    # who the case trusts is what its ledger says (workflows.trust), not case.toml
    case_trusts = case_trust(case) if case is not None else None
    trusted: dict[str, x509.Certificate] = case_trusts.certificates if case_trusts else {}
    for cert in trust:
        trusted[fingerprint(cert)] = cert
    chains = None
    if anchors:
        crls, ocsps = revocation_lists(case_trusts) if case_trusts else ([], [])
        chains = anchors.with_data(crls, ocsps)
    tsas = _tsa_anchors(case_trusts, tsa_certs, anchors)
    try:
        sig = check_signature(data, trusted, chains, tsas)
    except ReportError as exc:
        sig = SignatureCheck(signed=False, problems=(str(exc),))
    problems = [Problem.of_report("report-signature", "signature", m) for m in sig.problems]
    problems += [
        Problem.of_report("case-trust", "case", f"case trust: {p}")
        for p in (case_trusts.problems if case_trusts else ())
    ]
    notes = list(sig.notes)
    if not trusted and not anchors and sig.signed:
        notes.append("no certificate to trust: give --case or --trust CERT.pem")
    files = _read_files(data, problems)
    meta: dict[str, Any] = {}
    if REPORT_JSON in files:
        try:
            loaded = json.loads(files[REPORT_JSON])
            meta = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            problems.append(
                Problem.of_report(
                    "malformed-report",
                    "attachment",
                    f"the attached {REPORT_JSON} is not valid JSON",
                    REPORT_JSON,
                )
            )
    report_id = meta.get("report_id") if isinstance(meta.get("report_id"), str) else None
    examiner = meta.get("examiner") if isinstance(meta.get("examiner"), dict) else {}
    claimed = examiner.get("fingerprint") if examiner else None
    if claimed and sig.signer_fingerprint and claimed != sig.signer_fingerprint:
        problems.append(
            Problem.of_report(
                "examiner-mismatch",
                "signature",
                f"the report names examiner sha256:{claimed[:16]}… but its first signature is "
                f"by sha256:{sig.signer_fingerprint[:16]}…",
            )
        )
    digest = hashlib.sha256(data).hexdigest()
    if case is not None and sig.signed:
        _check_against_case(case, files, meta, data, problems, notes)
        _check_amendments(case, sig, data, problems, notes)
        if case_trusts is not None:
            problems += _revoked_signer(case, case_trusts, sig.signer_fingerprint, data)
            problems += _chained_signer(case, case_trusts, sig.signer_fingerprint, data)
    return ReportVerification(
        path=path,
        sha256=digest,
        signature=sig,
        report_id=report_id,
        attachments=tuple(sorted(files)),
        problems=tuple(problems),
        notes=tuple(notes),
        case_checked=case is not None,
    )


def _tsa_anchors(
    trust: CaseTrust | None, tsa_certs: Sequence[x509.Certificate], anchors: ReaderAnchors | None
) -> TsaAnchors | None:
    """The TSAs a report's timestamps must come from: the case's active `tsa` anchors and the
    reader's `--tsa-cert`; None (not checked, a note says so) when there are none."""
    found = [
        t.anchor
        for t in (trust.anchors if trust else ())
        if t.anchor.kind == TSA and t.removed is None
    ]
    found += [Anchor(c, TSA) for c in tsa_certs]
    if not found:
        return None
    crls, ocsps = revocation_lists(trust) if trust else ([], [])
    if anchors:
        crls, ocsps = [*crls, *anchors.crls], [*ocsps, *anchors.ocsps]
    return TsaAnchors(tuple(found), tuple(crls), tuple(ocsps))


def _read_files(data: bytes, problems: list[Problem]) -> dict[str, bytes]:
    """The attachments by name; every hostile name, duplicate or unreadable entry is a problem
    (a name that is a path or holds controls would write outside an extraction folder, or
    disguise itself on a terminal; a duplicate makes two readers see two different files)."""
    try:
        entries = read_attachment_entries(data)
    except ReportError as exc:
        # the signature check read the same attachments: say it once
        if str(exc) not in (p.message for p in problems):
            problems.append(Problem.of_report("bad-attachment", "attachment", str(exc)))
        return {}
    files: dict[str, bytes] = {}
    for entry in entries:
        problems += [
            Problem.of_report("bad-attachment", "attachment", m, entry.key)
            for m in entry.problems()
        ]
        if entry.key in files:
            problems.append(
                Problem.of_report(
                    "bad-attachment",
                    "attachment",
                    f"two attachments are named {shown(entry.key)}",
                    entry.key,
                )
            )
            continue
        if entry.data is not None:
            files[entry.key] = entry.data
    return files


def _check_against_case(
    case: Case,
    files: dict[str, bytes],
    meta: dict[str, Any],
    data: bytes,
    problems: list[Problem],
    notes: list[str],
) -> None:
    def problem(kind: str, part: ReportPart, message: str, name: str | None = None) -> None:
        problems.append(Problem.of_report(kind, part, message, name))

    number = meta.get("case", {}).get("number") if isinstance(meta.get("case"), dict) else None
    if number is not None and number != case.info.number:
        problem(
            "wrong-case", "report", f"the report is for case {number!r}, not {case.info.number!r}"
        )
    claimed = meta.get("case", {}).get("identity") if isinstance(meta.get("case"), dict) else None
    actual = case_trust(case).identity
    if claimed is not None and claimed != actual:
        problem(
            "wrong-case",
            "case",
            f"the report names case identity {claimed}, but this case's ledger starts with "
            f"{actual or 'no event'}: another ledger",
        )
    seals = {n[: -len(SEAL_SUFFIX)]: d for n, d in files.items() if n.endswith(SEAL_SUFFIX)}
    listed = meta.get("seals") if isinstance(meta.get("seals"), dict) else {}
    for item in sorted(set(listed or {}) - set(seals)):
        problem(
            "seal-not-attached",
            "attachment",
            f"the seal of item {item!r} listed in {REPORT_JSON} is not attached",
            f"{item}{SEAL_SUFFIX}",
        )
    for item, attached in sorted(seals.items()):
        try:
            on_disk = (case.item_dir(item) / f"{item}{SEAL_SUFFIX}").read_bytes()
        except UsageError:
            name = f"{item}{SEAL_SUFFIX}"
            problem(
                "bad-attachment",
                "attachment",
                f"attached seal has an invalid item id {item!r}",
                name,
            )
            continue
        except OSError:
            problem("seal-missing", "case", f"item {item!r}: the case has no seal for it any more")
            continue
        if on_disk != attached:
            problem(
                "seal-mismatch",
                "attachment",
                f"item {item!r}: the attached seal differs from the case's "
                f"(report sha256:{hashlib.sha256(attached).hexdigest()[:16]}…, case "
                f"sha256:{hashlib.sha256(on_disk).hexdigest()[:16]}…)",
                f"{item}{SEAL_SUFFIX}",
            )
        else:
            notes.append(f"item {item}: attached seal matches the case")
    cp = files.get(CHECKPOINT_TXT)
    if cp is None:
        notes.append("no checkpoint attached (the ledger was empty when the report was built)")
        return
    try:
        text = cp.decode("utf-8")
    except UnicodeDecodeError:
        problem(
            "bad-checkpoint",
            "attachment",
            f"the attached {CHECKPOINT_TXT} is not UTF-8 text",
            CHECKPOINT_TXT,
        )
        return
    found_problems, found_notes = _check_checkpoint(case, text)
    problems += found_problems
    notes += found_notes
    # The consistency proof is built from the stored tree; an event edited in place since the
    # report leaves that tree as it was, so the whole ledger is verified too.
    from evidencekit.workflows.custody import verify_custody

    try:
        status = verify_custody(case)
    except EvidenceKitError as exc:
        problem("ledger-invalid", "ledger", f"the case's custody ledger cannot be verified: {exc}")
        return
    if not status.ok:
        shown = "; ".join(str(p) for p in status.problems[:3])
        problem("ledger-invalid", "ledger", f"the case's custody ledger does not verify: {shown}")
    problems += _check_export(case, files.get(CUSTODY_JSONL))
    try:
        found = _find_report_event(case, data)
    except EvidenceKitError as exc:
        problem(
            "ledger-invalid", "ledger", f"cannot look the report up in the case's ledger: {exc}"
        )
        return
    if found is not None:
        seq, size = found
        if size == len(data):
            notes.append(f"the ledger records this PDF as issued (event {seq})")
        else:
            notes.append(
                f"the ledger records the first {size} bytes of this PDF as issued (event {seq}); "
                f"the {len(data) - size} bytes after them are later revisions (checked above)"
            )
    else:
        # `report build` publishes a PDF only after its event is committed: a signed report
        # the ledger does not know was never issued (killed, or the ledger full) or its event
        # was removed.
        problem(
            "not-issued",
            "ledger",
            f"the case's ledger holds no report_issued event for this PDF (sha256 "
            f"{hashlib.sha256(data).hexdigest()[:16]}…, nor of any earlier revision of it): "
            "the report was never recorded as issued",
        )


CUSTODY_JSONL = "custody.jsonl"
"""The custody export a report attaches (`workflows.report.embedded`)."""


def _check_export(case: Case, raw: bytes | None) -> list[Problem]:
    """The attached custody export is the case's ledger: each event line is, byte for byte,
    what `custody export` writes of the ledger's event with that seq, and its checkpoint line
    one the ledger stored. A modified `report build` could otherwise attach (and render the
    record from) events that say something else — another CCCD, another seal number — under a
    valid report signature."""
    if raw is None:
        return []
    from evidencekit.chain.export import export_jsonl
    from evidencekit.workflows.custody import open_ledger

    def wrong(message: str) -> list[Problem]:
        return [
            Problem.of_report(
                "export-mismatch",
                "attachment",
                f"the attached {CUSTODY_JSONL} is not the case's ledger: {message}",
                CUSTODY_JSONL,
            )
        ]

    try:
        with open_ledger(case) as ledger:
            events = {se.seq: se for se in ledger.events()}
            stored = {(c.tree_size, c.root.hex(), c.note) for c in ledger.store.checkpoints()}
    except EvidenceKitError as exc:
        return wrong(f"the ledger cannot be read ({exc})")
    lines = raw.split(b"\n")
    if lines[-1] != b"":
        return wrong("it does not end with a newline")
    for n, line in enumerate(lines[:-1]):
        try:
            doc = json.loads(line)
        except ValueError:
            return wrong(f"line {n + 1} is not JSON")
        kind = doc.get("type") if isinstance(doc, dict) else None
        if kind == "event":
            seq = doc.get("seq")
            if type(seq) is not int or seq != n:
                return wrong(f"line {n + 1} is not event {n}")
            se = events.get(seq)
            if se is None:
                return wrong(f"the ledger holds no event {seq}")
            if export_jsonl([se], None) != line + b"\n":
                return wrong(
                    f"its event {seq} ({se.event.kind}) differs from the ledger's: the report "
                    "was built from events the ledger does not hold"
                )
        elif kind == "checkpoint" and n == len(lines) - 2:
            key = (doc.get("tree_size"), doc.get("root"), doc.get("note"))
            if key not in stored:
                return wrong("its checkpoint is not one the ledger stored")
        else:
            return wrong(f"line {n + 1} is neither an event nor the closing checkpoint")
    return []


def _revoked_signer(case: Case, trust: CaseTrust, fp: str | None, data: bytes) -> list[Problem]:
    """A report signed by an examiner the ledger revoked must have been issued (its
    `report_issued` event) before the revocation."""
    r = trust.revoked_at(fp)
    if r is None:
        return []
    try:
        found = _find_report_event(case, data)
    except EvidenceKitError:
        return []  # reported by _check_against_case
    if found is not None and found[0] < r.seq:
        return []
    when = f"issued by event {found[0]}" if found else "not recorded as issued"
    return [
        Problem.of_report(
            "revoked-signer",
            "signature",
            f"the report is signed by {r.name} ({r.fingerprint[:16]}), whose trust was revoked "
            f"by ledger event {r.seq} ({r.reason}); it was {when}, not before",
        )
    ]


def _chained_signer(case: Case, trust: CaseTrust, fp: str | None, data: bytes) -> list[Problem]:
    """A report signed by an examiner trusted through a CA anchor: their certificate is checked
    at the time the first timestamp after its `report_issued` event proves (docs/trust.md)."""
    from evidencekit.workflows.custody import open_ledger
    from evidencekit.workflows.proven import ChainCheck, proven_times

    c = trust.chained_signer(fp)
    if c is None:
        return []
    try:
        found = _find_report_event(case, data)
        if found is None:
            return []  # "not issued" is reported by _check_against_case
        with open_ledger(case) as ledger:
            proofs, _ = proven_times(ledger.store, ledger.node, ledger.origin, trust)
    except EvidenceKitError:
        return []  # reported by _check_against_case
    why = ChainCheck(trust).problem(c, found[0], proofs.bound(found[0]))
    if why is None:
        return []
    kind = "revoked-signer" if why[0] == "revoked-certificate" else "case-trust"
    return [
        Problem.of_report(
            kind, "signature", f"the report (issued by ledger event {found[0]}): {why[1]}"
        )
    ]


def _check_amendments(
    case: Case, sig: SignatureCheck, data: bytes, problems: list[Problem], notes: list[str]
) -> None:
    """Every co-signature is recorded by a `report_cosigned` event of its signer, naming its
    field and the role that field declares, binding the file up to (at least) that signature;
    a document timestamp recorded by `report_extended` is named, one that is not is only noted
    (anyone may renew an archive timestamp: it adds validation data, never content)."""
    try:
        events = _revision_events(case, data)
    except EvidenceKitError as exc:
        problems.append(
            Problem.of_report("ledger-invalid", "ledger", f"cannot read the case's ledger: {exc}")
        )
        return
    for entry in sig.signers[1:]:
        size_ok = [e for e in events if _size(e) >= entry.end > 0]
        if entry.kind == "document timestamp":
            ext = [e for e in size_ok if e.get("kind") == "report_extended"]
            notes.append(
                f"signature {entry.number} (document timestamp): recorded by ledger event "
                f"{ext[0].get('seq')} (report_extended)"
                if ext
                else f"signature {entry.number} (document timestamp): not recorded in the "
                "case's ledger (an archive timestamp anyone may add)"
            )
            continue
        mine = [
            e
            for e in size_ok
            if e.get("kind") == "report_cosigned"
            and _get(e, "details", "field") == entry.field
            and _get(e, "details", "role") == entry.role
            and _get(e, "actor", "fingerprint") == entry.fingerprint
        ]
        if mine:
            notes.append(
                f"signature {entry.number} ({entry.role}, {entry.name}): recorded by ledger "
                f"event {mine[0].get('seq')} (report_cosigned)"
            )
        else:
            problems.append(
                Problem.of_report(
                    "cosign-not-recorded",
                    "ledger",
                    f"signature {entry.number} ({entry.role}, {entry.name}, field "
                    f"{shown(entry.field)}) is not recorded in the case's ledger: no "
                    "report_cosigned event of that signer binds the report as co-signed",
                )
            )
    # and the other way: a report_cosigned event binding this report names a co-signature
    # the report holds (its field, role and signer, within the bytes the event binds) — else
    # the ledger, and every report built from it, says the report was co-signed when it was
    # not (an event anyone pinned can record for any file)
    cosigs = [e for e in sig.signers[1:] if e.kind != "document timestamp"]
    stamps = [e for e in sig.signers[1:] if e.kind == "document timestamp"]
    for e in events:
        if e.get("kind") == "report_extended":
            if not any(0 < t.end <= _size(e) for t in stamps):
                problems.append(
                    Problem.of_report(
                        "extension-not-in-report",
                        "ledger",
                        f"ledger event {e.get('seq')} (report_extended) says an archive "
                        "timestamp was added to this report, but the bytes it binds hold no "
                        "document timestamp: the event does not describe this file",
                    )
                )
            continue
        if e.get("kind") != "report_cosigned":
            continue
        field, role = _get(e, "details", "field"), _get(e, "details", "role")
        fingerprint = _get(e, "actor", "fingerprint")
        if any(
            0 < c.end <= _size(e)
            and c.field == field
            and c.role == role
            and c.fingerprint == fingerprint
            for c in cosigs
        ):
            continue
        problems.append(
            Problem.of_report(
                "cosign-not-in-report",
                "ledger",
                f"ledger event {e.get('seq')} (report_cosigned) says "
                f"{_get(e, 'actor', 'name')!s} ({str(fingerprint)[:16]}) co-signed this report "
                f"as {role!s} in field {shown(str(field))}, but the report holds no such "
                "signature: the event does not describe this file",
            )
        )


def _get(event: dict[str, object], part: str, key: str) -> object:
    value = event.get(part)
    return value.get(key) if isinstance(value, dict) else None


def _size(event: dict[str, object]) -> int:
    details = event.get("details")
    size = details.get("size") if isinstance(details, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else 0
