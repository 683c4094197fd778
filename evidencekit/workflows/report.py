"""Build and verify the signed PDF report of a case.

Build: read each item's seal (and a logical collection's manifest) as JSON documents, take the
custody events, the latest signed checkpoint and the exports from the ledger, render, embed the
machine-readable record (seals, custody JSON Lines, CASE/UCO JSON-LD, checkpoint, report.json),
sign (PAdES B-B; B-T with a TSA), write atomically, and record a `report_issued` custody event
carrying the PDF's sha256.

Verify: the signature holds and covers the whole file, the signer is pinned (or trusted with
--trust); with the case, the attached seals are byte-identical to the case's, and the current
ledger provably extends the checkpoint embedded in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from evidencekit import __version__
from evidencekit.case import Case
from evidencekit.errors import ReportError, UsageError
from evidencekit.fsutil import atomic_write
from evidencekit.identity import Identity, fingerprint
from evidencekit.report.i18n import LANGUAGES, label
from evidencekit.report.model import (
    Attachment,
    Checkpoint,
    ReportModel,
    custody_from_events,
    item_from_documents,
    new_report_id,
    nfc,
)
from evidencekit.report.render import render_pdf
from evidencekit.report.sign import SignatureCheck, check_signature, finish_pdf, read_attachments
from evidencekit.timeutil import compact, isoformat, utcnow

log = logging.getLogger(__name__)

REPORT_SCHEMA = "evidencekit/report/1"
REPORT_JSON = "report.json"
CHECKPOINT_TXT = "checkpoint.txt"
SEAL_SUFFIX = ".seal.json"
MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True, slots=True)
class ReportResult:
    """A built report."""

    path: Path
    sha256: str
    report_id: str
    lang: str
    signed: bool
    timestamped: bool
    items: tuple[str, ...]
    size: int
    event_recorded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "report_id": self.report_id,
            "lang": self.lang,
            "signed": self.signed,
            "timestamped": self.timestamped,
            "items": list(self.items),
            "size": self.size,
            "event_recorded": self.event_recorded,
        }


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "report"


def default_report_path(case: Case, lang: str, now: dt.datetime) -> Path:
    """`C/reports/<case number>-<UTC time>-<lang>.pdf`, safe as a file name."""
    return case.reports_dir / f"{_safe(case.info.number)}-{compact(now)}-{lang}.pdf"


def _read_json(path: Path) -> tuple[dict[str, Any] | None, bytes | None]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        raise ReportError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(
            f"{str(path)!r} is not valid JSON: {exc}",
            hint="run `evidencekit verify` on the item",
        ) from exc
    return (doc if isinstance(doc, dict) else None), raw


def build_model(
    case: Case,
    identity: Identity | None,
    *,
    items: Sequence[str] | None = None,
    lang: str | None = None,
    now: dt.datetime | None = None,
    signed: bool = True,
) -> ReportModel:
    """Gather the case's documents into a report model (attachments included).

    Raises:
        UsageError: an unknown item or language.
        ReportError: a seal or manifest cannot be read.
    """
    lang = lang or case.info.language
    if lang not in LANGUAGES:
        raise UsageError(f"unknown report language {lang!r}", hint="use vi or en")
    now = now or utcnow()
    known = case.items()
    wanted = list(items) if items else known
    for item in wanted:
        if item not in known:
            raise UsageError(
                f"item {item!r} is not in case {case.info.number!r}",
                hint=f"items: {', '.join(known) or '(none)'}",
            )
    ledger = _ledger_snapshot(case)
    custody = custody_from_events(ledger.events)
    if not items:
        # In the order the ledger first saw them (acquired before collected from it), then the rest.
        first: dict[str, int] = {}
        for entry in custody:
            if entry.item_id is not None:
                first.setdefault(entry.item_id, entry.seq)
        wanted.sort(key=lambda i: (first.get(i, len(custody)), i))
    sections = []
    attachments: list[Attachment] = []
    seal_digests: dict[str, str] = {}
    for item in wanted:
        folder = case.item_dir(item)
        seal, seal_raw = _read_json(folder / f"{item}{SEAL_SUFFIX}")
        manifest, _ = _read_json(folder / f"{item}{MANIFEST_SUFFIX}")
        seal_sha = hashlib.sha256(seal_raw).hexdigest() if seal_raw is not None else None
        if seal_raw is not None and seal_sha is not None:
            seal_digests[item] = seal_sha
            attachments.append(
                Attachment(f"{item}{SEAL_SUFFIX}", seal_raw, f"seal {item}", "application/json")
            )
        per_item = tuple(e for e in custody if e.item_id == item)
        sections.append(item_from_documents(item, seal, manifest, per_item, seal_sha))
    checkpoint = None
    if ledger.checkpoint_text:
        checkpoint = Checkpoint(ledger.checkpoint_text, ledger.tree_size, ledger.root)
        attachments.append(
            Attachment(
                CHECKPOINT_TXT, ledger.checkpoint_text.encode("utf-8"), "checkpoint", "text/plain"
            )
        )
    if ledger.jsonl is not None:
        attachments.append(
            Attachment("custody.jsonl", ledger.jsonl, "custody JSON Lines", "application/jsonl")
        )
    if ledger.case_jsonld is not None:
        attachments.append(
            Attachment(
                "custody.case.jsonld", ledger.case_jsonld, "CASE/UCO JSON-LD", "application/ld+json"
            )
        )
    report_id = new_report_id(now)
    examiner = nfc(identity.name) if identity is not None else case.info.examiner
    fp = identity.fingerprint if identity is not None else ""
    meta = {
        "schema": REPORT_SCHEMA,
        "report_id": report_id,
        "lang": lang,
        "generated": isoformat(now),
        "case": {"number": case.info.number, "title": case.info.title},
        "examiner": {"name": examiner, "fingerprint": fp},
        "items": wanted,
        "seals": {k: f"sha256:{v}" for k, v in seal_digests.items()},
        "checkpoint": None
        if checkpoint is None
        else {"tree_size": checkpoint.tree_size, "root": checkpoint.root},
        "tool": {"name": "evidencekit", "version": __version__},
    }
    attachments.append(
        Attachment(
            REPORT_JSON,
            json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"),
            "report metadata",
        )
    )
    return ReportModel(
        report_id=report_id,
        lang=lang,
        generated=now,
        timezone=case.info.timezone,
        case_number=case.info.number,
        case_title=case.info.title,
        agency=case.info.agency,
        examiner=examiner,
        examiner_fingerprint=fp or "—",
        tool_version=__version__,
        items=tuple(sections),
        custody=custody,
        checkpoint=checkpoint,
        attachments=tuple(attachments),
        signed=signed,
    )


def build_report(
    case: Case,
    identity: Identity | None,
    *,
    items: Sequence[str] | None = None,
    lang: str | None = None,
    out: Path | None = None,
    tsa_url: str | None = None,
    sign: bool = True,
    record: bool = True,
    now: dt.datetime | None = None,
) -> ReportResult:
    """Build, sign and write the report; record `report_issued` in the ledger.

    Args:
        identity: the examiner who signs (may be None only with `sign=False`).
        out: the PDF's path (default: `C/reports/<case>-<UTC time>-<lang>.pdf`).
        tsa_url: an RFC 3161 timestamp authority, for PAdES B-T.
        sign: False writes an unsigned preview (no custody event).
        record: False skips the custody event (benchmarks).

    Raises:
        UsageError: bad item, language, or options.
        ReportError: rendering, signing or writing failed.
        CustodyError: the ledger refused the event.
    """
    if sign and identity is None:
        raise UsageError("signing a report needs an examiner identity")
    if tsa_url and not sign:
        raise UsageError("--tsa needs a signature; drop --no-sign")
    if sign and record and identity is not None and not case.is_pinned(identity.fingerprint):
        # Checked before anything is written: a report the ledger cannot record is refused.
        raise ReportError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
            f"{case.info.number!r}, so the report could not be recorded in its ledger",
            hint="a pinned examiner adds you: evidencekit case add-examiner CERT.pem",
        )
    now = now or utcnow()
    model = build_model(case, identity, items=items, lang=lang, now=now, signed=sign)
    pdf = render_pdf(model)
    final = finish_pdf(
        pdf,
        model.attachments,
        identity if sign else None,
        tsa_url=tsa_url,
        reason=label(model.lang, "title"),
        location=case.info.agency or None,
        now=now,
    )
    path = out if out is not None else default_report_path(case, model.lang, now)
    if path.exists() and path.is_dir():
        raise UsageError(f"--out {str(path)!r} is a folder", hint="give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, final)
    except OSError as exc:
        raise ReportError(f"cannot write the report {str(path)!r}: {exc.strerror}") from exc
    digest = hashlib.sha256(final).hexdigest()
    recorded = False
    if sign and record and identity is not None:
        _record_report_issued(
            case,
            identity,
            report_id=model.report_id,
            sha256=digest,
            path=path,
            items=[i.item_id for i in model.items],
            lang=model.lang,
        )
        recorded = True
    return ReportResult(
        path=path,
        sha256=digest,
        report_id=model.report_id,
        lang=model.lang,
        signed=sign,
        timestamped=bool(tsa_url),
        items=tuple(i.item_id for i in model.items),
        size=len(final),
        event_recorded=recorded,
    )


# -- verification ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportVerification:
    """The outcome of `report verify`; `problems` empty means everything holds."""

    path: Path
    sha256: str
    signature: SignatureCheck
    report_id: str | None = None
    attachments: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
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
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def verify_report(
    path: Path,
    *,
    case: Case | None = None,
    trust: Sequence[x509.Certificate] = (),
) -> ReportVerification:
    """Check a report's signature, coverage and signer; with `case`, its attachments too.

    Never raises for a failed check (see `problems`).

    Raises:
        ReportError: the file cannot be read at all.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read report {str(path)!r}: {exc.strerror}") from exc
    trusted: dict[str, x509.Certificate] = dict(case.trusted()) if case is not None else {}
    for cert in trust:
        trusted[fingerprint(cert)] = cert
    try:
        sig = check_signature(data, trusted)
    except ReportError as exc:
        sig = SignatureCheck(signed=False, problems=(str(exc),))
    problems = list(sig.problems)
    notes = list(sig.notes)
    if not trusted and sig.signed:
        notes.append("no certificate to trust: give --case or --trust CERT.pem")
    try:
        files = read_attachments(data)
    except ReportError as exc:
        files = {}
        if str(exc) not in problems:
            problems.append(str(exc))
    meta: dict[str, Any] = {}
    if REPORT_JSON in files:
        try:
            loaded = json.loads(files[REPORT_JSON])
            meta = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            problems.append(f"the attached {REPORT_JSON} is not valid JSON")
    report_id = meta.get("report_id") if isinstance(meta.get("report_id"), str) else None
    examiner = meta.get("examiner") if isinstance(meta.get("examiner"), dict) else {}
    claimed = examiner.get("fingerprint") if examiner else None
    if claimed and sig.signer_fingerprint and claimed != sig.signer_fingerprint:
        problems.append(
            f"the report names examiner sha256:{claimed[:16]}… but was signed by "
            f"sha256:{sig.signer_fingerprint[:16]}…"
        )
    digest = hashlib.sha256(data).hexdigest()
    if case is not None and sig.signed:
        _check_against_case(case, files, meta, digest, problems, notes)
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


def _check_against_case(
    case: Case,
    files: dict[str, bytes],
    meta: dict[str, Any],
    digest: str,
    problems: list[str],
    notes: list[str],
) -> None:
    number = meta.get("case", {}).get("number") if isinstance(meta.get("case"), dict) else None
    if number is not None and number != case.info.number:
        problems.append(f"the report is for case {number!r}, not {case.info.number!r}")
    seals = {n[: -len(SEAL_SUFFIX)]: d for n, d in files.items() if n.endswith(SEAL_SUFFIX)}
    listed = meta.get("seals") if isinstance(meta.get("seals"), dict) else {}
    for item in sorted(set(listed or {}) - set(seals)):
        problems.append(f"the seal of item {item!r} listed in {REPORT_JSON} is not attached")
    for item, attached in sorted(seals.items()):
        try:
            on_disk = (case.item_dir(item) / f"{item}{SEAL_SUFFIX}").read_bytes()
        except UsageError:
            problems.append(f"attached seal has an invalid item id {item!r}")
            continue
        except OSError:
            problems.append(f"item {item!r}: the case has no seal for it any more")
            continue
        if on_disk != attached:
            problems.append(
                f"item {item!r}: the attached seal differs from the case's "
                f"(report sha256:{hashlib.sha256(attached).hexdigest()[:16]}…, case "
                f"sha256:{hashlib.sha256(on_disk).hexdigest()[:16]}…)"
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
        problems.append(f"the attached {CHECKPOINT_TXT} is not UTF-8 text")
        return
    for line in _check_checkpoint(case, text):
        (problems if line.startswith("!") else notes).append(line.lstrip("!"))
    found = _find_report_event(case, digest)
    if found is not None:
        notes.append(f"the ledger records this PDF as issued (event {found})")
    else:
        notes.append("the ledger holds no report_issued event with this PDF's sha256")


# -- ledger access (the custody helper's API) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerSnapshot:
    """What the report needs from the ledger."""

    events: tuple[dict[str, Any], ...] = ()
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
    from evidencekit.chain.checkpoint import parse_checkpoint_body, parse_note
    from evidencekit.workflows import custody

    events = tuple(custody.list_events(case))
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
        jsonl=_export(case, "jsonl", events),
        case_jsonld=_export(case, "case", events),
    )


def _export(case: Case, fmt: str, events: Sequence[dict[str, Any]]) -> bytes | None:
    """The custody helper's export in `fmt` ("jsonl" or "case"), when it provides one."""
    from evidencekit.workflows import custody

    name = "export_jsonl_bytes" if fmt == "jsonl" else "export_case_bytes"
    exporter = getattr(custody, name, None)
    if callable(exporter) and events:
        data = exporter(case)
        return data if isinstance(data, bytes) else str(data).encode("utf-8")
    if fmt == "jsonl" and events:
        # Until the custody export lands: the events exactly as the ledger lists them.
        lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) for e in events]
        return ("\n".join(lines) + "\n").encode("utf-8")
    return None


def _record_report_issued(
    case: Case,
    identity: Identity,
    *,
    report_id: str,
    sha256: str,
    path: Path,
    items: Sequence[str],
    lang: str,
) -> None:
    """Append one case-level `report_issued` event carrying the PDF's sha256.

    Raises:
        CustodyError: the ledger refuses it (e.g. the identity is not pinned).
    """
    from evidencekit.workflows.custody import record_event

    record_event(
        case,
        identity,
        "report_issued",
        None,
        description=f"report {report_id} ({lang})",
        digests={"sha256": sha256},
        details={"report_id": report_id, "file": path.name, "lang": lang, "items": list(items)},
    )


def _check_checkpoint(case: Case, text: str) -> list[str]:
    """Lines about the embedded checkpoint; those starting with "!" are problems.

    The checkpoint must be signed by a pinned examiner, name this case's ledger, and the current
    ledger (whose own latest checkpoint must verify too) must extend it: a Merkle consistency
    proof from the embedded tree to the current one.
    """
    from evidencekit.chain import merkle
    from evidencekit.chain.checkpoint import verify_checkpoint
    from evidencekit.errors import EvidenceKitError, IntegrityError
    from evidencekit.workflows import custody

    trusted = case.trusted()
    try:
        old = verify_checkpoint(text, trusted).checkpoint
    except IntegrityError as exc:
        return [f"!embedded checkpoint: {exc}"]
    if old.origin != custody.ledger_origin(case):
        return [f"!embedded checkpoint is for ledger {old.origin!r}, not this case's"]
    if not case.ledger_path.exists():
        return ["!the case has no custody ledger to check the embedded checkpoint against"]
    try:
        latest = custody.latest_checkpoint(case)
        if latest is None:
            return ["!the case's ledger has no checkpoint"]
        new = verify_checkpoint(latest, trusted).checkpoint
        with custody.open_ledger(case, create=False) as ledger:
            size = ledger.size()
            if size != new.size:
                return [
                    f"!the ledger holds {size} events but its latest checkpoint says {new.size}"
                ]
            current = merkle.root(ledger.node, size)
            if current != new.root:
                return ["!the ledger's Merkle root differs from its latest signed checkpoint"]
            if old.size > size:
                return [
                    f"!the ledger holds {size} events, fewer than the {old.size} of the "
                    "checkpoint in the report: history was removed"
                ]
            proof = merkle.consistency_proof(ledger.node, old.size, size) if old.size else []
        if old.size == 0:
            return ["the embedded checkpoint is of the empty ledger"]
        merkle.verify_consistency(old.size, size, proof, old.root, current)
    except EvidenceKitError as exc:
        return [f"!ledger consistency: {exc}"]
    return [
        f"the current ledger ({size} events) extends the report's checkpoint ({old.size} events):"
        " consistency proof verified"
    ]


def _find_report_event(case: Case, sha256: str) -> int | None:
    """The sequence number of the report_issued event carrying `sha256`, if any."""
    from evidencekit.workflows.custody import list_events

    for event in list_events(case):
        digests = event.get("digests") or {}
        if event.get("kind") == "report_issued" and digests.get("sha256") == sha256:
            seq = event.get("seq")
            return seq if isinstance(seq, int) else None
    return None
