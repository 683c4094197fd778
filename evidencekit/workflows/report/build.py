"""Build the signed PDF report of a case.

Parse each item's seal (`hash.seal.read.parse_seal`) and read a logical collection's manifest, take
the custody events (`chain.events.Event`), the latest signed checkpoint and the exports from the
ledger, render, embed the machine-readable record (seals, custody JSON Lines, CASE/UCO JSON-LD,
checkpoint, report.json), sign (PAdES B-B; with a TSA B-T, B-LT by default, or B-LTA), and
record a `report_issued` custody event carrying the PDF's sha256. Before anything is rendered,
the whole ledger and every seal the report shows are verified (`check_case`); the PDF is
written under a temporary name and renamed to its own only after its event is committed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidencekit import __version__
from evidencekit.case import Case
from evidencekit.errors import (
    IntegrityError,
    InterruptedAfterRecording,
    ReportError,
    UsageError,
)
from evidencekit.hash.seal.document import Seal
from evidencekit.hash.seal.read import parse_seal
from evidencekit.identity import Identity
from evidencekit.report.i18n import LANGUAGES, label
from evidencekit.report.ltv import ValidationInputs
from evidencekit.report.model import (
    Attachment,
    Checkpoint,
    ReportModel,
    custody_from_events,
    item_from_seal,
    new_report_id,
    nfc,
)
from evidencekit.report.render import render_pdf
from evidencekit.report.render.bienban import render_record
from evidencekit.report.sign import finish_pdf, pades_level
from evidencekit.timeutil import compact, isoformat, utcnow
from evidencekit.workflows.commit import link_into_place
from evidencekit.workflows.report.bienban import FORMS, record_items, record_model
from evidencekit.workflows.report.embedded import (
    ledger_attachments,
    report_json_attachment,
    seal_attachment,
)
from evidencekit.workflows.report.ledger import (
    LedgerSnapshot,
    _ledger_snapshot,
    _record_report_issued,
)
from evidencekit.workflows.report.names import MANIFEST_SUFFIX, REPORT_SCHEMA, SEAL_SUFFIX
from evidencekit.workflows.report.photos import with_data
from evidencekit.workflows.trust import case_trust


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
    level: str | None = None  # the PAdES level it was signed at (None: unsigned)

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
            "level": self.level,
        }


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "report"


def default_report_path(case: Case, lang: str, now: dt.datetime, form: str = "report") -> Path:
    """`C/reports/<case number>-<UTC time>-<lang>.pdf` (`…-bien-ban-<lang>.pdf` for a Biên
    bản), safe as a file name."""
    kind = "" if form == "report" else f"{form}-"
    return case.reports_dir / f"{_safe(case.info.number)}-{compact(now)}-{kind}{lang}.pdf"


def _read_bytes(path: Path) -> bytes | None:
    """The file's bytes; None when there is none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ReportError(f"cannot read {str(path)!r}: {exc.strerror}") from exc


def _read_seal(path: Path) -> tuple[Seal | None, bytes | None]:
    """The item's parsed seal and its bytes (both None when the item has no seal yet).

    Raises:
        IntegrityError: the file is not a seal of a known schema.
    """
    raw = _read_bytes(path)
    return (None, None) if raw is None else (parse_seal(path, raw), raw)


def _read_json(path: Path) -> dict[str, Any] | None:
    raw = _read_bytes(path)
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError(
            f"{str(path)!r} is not valid JSON: {exc}",
            hint="run `evidencekit verify` on the item",
        ) from exc
    return doc if isinstance(doc, dict) else None


def build_model(
    case: Case,
    identity: Identity | None,
    *,
    items: Sequence[str] | None = None,
    lang: str | None = None,
    now: dt.datetime | None = None,
    signed: bool = True,
    ledger: LedgerSnapshot | None = None,
    form: str = "report",
) -> ReportModel:
    """Gather the case's documents into a report model (attachments included).

    Raises:
        UsageError: an unknown item or language.
        ReportError: a seal or manifest cannot be read, or a manifest is not JSON.
        IntegrityError: a seal is not a seal (`build_report` verifies every seal first).
    """
    lang = lang or case.info.language
    if lang not in LANGUAGES:
        raise UsageError(f"unknown report language {lang!r}", hint="use vi or en")
    now = now or utcnow()
    known = case.items()
    wanted = list(items) if items else known
    if form != "report":
        # a Biên bản may be of an item that is only registered (seized, not yet imaged)
        known = sorted(
            {*known, *(e.item_id for e in (ledger.events if ledger else ()) if e.item_id)}
        )
    for item in wanted:
        if item not in known:
            raise UsageError(
                f"item {item!r} is not in case {case.info.number!r}",
                hint=f"items: {', '.join(known) or '(none)'}",
            )
    ledger = ledger if ledger is not None else _ledger_snapshot(case)
    seals = {item: _read_seal(case.item_dir(item) / f"{item}{SEAL_SUFFIX}") for item in wanted}
    typed = {
        item: nfc(seal.description)
        for item, (seal, _raw) in seals.items()
        if seal is not None and seal.description
    }
    custody = custody_from_events(ledger.events, typed)
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
        seal, seal_raw = seals[item]
        manifest = _read_json(folder / f"{item}{MANIFEST_SUFFIX}")
        seal_sha = hashlib.sha256(seal_raw).hexdigest() if seal_raw is not None else None
        if seal_raw is not None and seal_sha is not None:
            seal_digests[item] = seal_sha
            attachments.append(seal_attachment(item, seal_raw))
        per_item = tuple(e for e in custody if e.item_id == item)
        section = item_from_seal(item, seal, manifest, per_item, seal_sha)
        if section.photos:
            section = dataclasses.replace(section, photos=with_data(case, section.photos))
        sections.append(section)
    checkpoint = None
    if ledger.checkpoint_text:
        checkpoint = Checkpoint(ledger.checkpoint_text, ledger.tree_size, ledger.root)
    attachments += ledger_attachments(ledger)
    report_id = new_report_id(now)
    case_id = case_trust(case).identity
    examiner = nfc(identity.name) if identity is not None else case.info.examiner
    fp = identity.fingerprint if identity is not None else ""
    meta = {
        "schema": REPORT_SCHEMA,
        "report_id": report_id,
        "lang": lang,
        "generated": isoformat(now),
        "case": {"number": case.info.number, "title": case.info.title, "identity": case_id},
        "examiner": {"name": examiner, "fingerprint": fp},
        "items": wanted,
        "seals": {k: f"sha256:{v}" for k, v in seal_digests.items()},
        "checkpoint": None
        if checkpoint is None
        else {"tree_size": checkpoint.tree_size, "root": checkpoint.root},
        "tool": {"name": "evidencekit", "version": __version__},
        **({"form": form} if form != "report" else {}),
    }
    attachments.append(report_json_attachment(meta))
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
        extra={label(lang, "case_identity"): case_id} if case_id else {},
    )


def _write_partial(path: Path, data: bytes) -> Path:
    """`data` written durably beside `path` under a name of its own (`NAME.partial-XXXX`)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{path.name}{PARTIAL}", dir=path.parent)
    except OSError as exc:
        raise ReportError(f"cannot write the report {str(path)!r}: {exc.strerror}") from exc
    partial = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(partial, 0o644)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ReportError(
            f"cannot write the report {str(path)!r}: {exc.strerror}",
            hint="free space on that disk and build it again; nothing was recorded",
        ) from exc
    return partial


def _free_path(path: Path) -> Path:
    """`path`, or `NAME-2.pdf`, `NAME-3.pdf` … when a report already has that name (two builds
    in one second share the default name): a report is never overwritten."""
    candidate, n = path, 1
    # a name a report left under a temporary name is to have is taken too (case show says so)
    while os.path.lexists(candidate) or any(path.parent.glob(f"{candidate.name}{PARTIAL}*")):
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _publish(partial: Path, path: Path, recorded: bool) -> None:
    """Give the finished report its name (after its custody event is committed), never over
    another file: linked to it (EEXIST if something took the name meanwhile), then the temporary
    name removed; on a file system without hard links, renamed if the name is still free."""
    try:
        link_into_place(partial, path, drop=_drop_partial)
    except OSError as exc:
        taken = isinstance(exc, FileExistsError)
        raise ReportError(
            f"the report was {'recorded in the ledger but ' if recorded else ''}could not be "
            f"renamed from {str(partial)!r} to {str(path)!r}: {exc.strerror}",
            hint="another file took that name meanwhile and was left as it is; give the report "
            "a free name by hand"
            if taken
            else f"rename it by hand: mv -n {str(partial)!r} {str(path)!r}",
        ) from exc


def _drop_partial(partial: Path) -> None:
    """Remove the temporary name of a report now linked under its own."""
    os.unlink(partial)


PARTIAL = ".partial-"


def unfinished_reports(case: Case) -> list[dict[str, object]]:
    """Reports left under their temporary name (`NAME.pdf.partial-XXXX`) by a `report build`
    that was killed or failed before publishing: each with its sha256, whether the ledger
    records it as issued (killed after its event: rename it to `final`), and its final name.
    One the ledger does not record was never issued (`report verify --case` rejects it).

    A temporary name that is a second name of the published report (killed between the link
    and the removal) is removed instead.

    Raises:
        IntegrityError: the ledger is missing or damaged.
    """
    folder = case.reports_dir
    partials = sorted(folder.glob(f"*.pdf{PARTIAL}*")) if folder.is_dir() else []
    if not partials:
        return []
    from evidencekit.workflows.custody import list_events

    issued = {
        str((e.get("digests") or {}).get("sha256")): e
        for e in list_events(case)
        if e.get("kind") == "report_issued"
    }
    out: list[dict[str, object]] = []
    for partial in partials:
        final = folder / partial.name.partition(PARTIAL)[0]
        try:
            if final.exists() and os.path.samefile(partial, final):
                # killed between the link and the removal of the temporary name: the report
                # is published; its second name goes
                partial.unlink()
                continue
        except OSError:
            pass  # read-only media: listed below like any other
        try:
            sha = hashlib.sha256(partial.read_bytes()).hexdigest()
        except OSError:
            continue  # removed meanwhile, or unreadable: nothing to say about it
        event = issued.get(sha)
        out.append(
            {
                "file": str(partial),
                "sha256": sha,
                "recorded": event is not None,
                "event": None if event is None else event.get("seq"),
                "final": str(final),
            }
        )
    return out


def _stopped_after_recording(partial: Path, path: Path) -> InterruptedAfterRecording:
    return InterruptedAfterRecording(
        f"interrupted after the report was recorded as issued, before it was renamed: it is "
        f"{str(partial)!r}; rename it to {str(path)!r} (`evidencekit case show` names it)"
    )


def check_case(case: Case, items: Sequence[str] | None, *, rehash: bool = False) -> None:
    """What a report may be built on: the whole custody ledger verifies, and so does the seal
    of every item it reports on (signature, signer, every sealed file present at its size;
    with `rehash`, its digests too). A broken ledger or seal is never rendered as if it held.
    `items` None is every item of the case.

    Raises:
        IntegrityError: the ledger or a seal does not verify (every problem of a seal is
            named, the first few of the ledger's).
        UsageError: an unknown item.
    """
    from evidencekit.workflows.custody import verify_custody
    from evidencekit.workflows.verify import verify_items

    status = verify_custody(case)
    if not status.ok:
        shown = "; ".join(str(p) for p in status.problems[:3])
        more = len(status.problems) - 3
        raise IntegrityError(
            f"the custody ledger {str(case.ledger_location)!r} does not verify: {shown}"
            + (f"; … and {more} more" if more > 0 else "")
            + "; no report was built",
            hint="run: evidencekit custody verify",
        )
    known = case.items()
    for item in items or ():
        if item not in known:
            raise UsageError(
                f"item {item!r} is not in case {case.info.number!r}",
                hint=f"items: {', '.join(known) or '(none)'}",
            )
    listed: Sequence[str] = known if items is None else items
    sealed = [i for i in listed if (case.item_dir(i) / f"{i}{SEAL_SUFFIX}").is_file()]
    problems = [
        f"item {st.item_id or st.seal_path}: {p.text()}"
        for st in verify_items(case, sealed, rehash=rehash)
        for p in st.problems
    ]
    if problems:
        raise IntegrityError(
            f"{len(problems)} problem(s) with the seals the report would show: "
            + "; ".join(problems[:5])
            + ("; …" if len(problems) > 5 else "")
            + "; no report was built",
            hint="run: evidencekit verify ITEM for every problem",
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
    rehash: bool = False,
    now: dt.datetime | None = None,
    level: str | None = None,
    validation: ValidationInputs | None = None,
    form: str = "report",
    session: str | None = None,
    copies: int = 2,
) -> ReportResult:
    """Build, sign and write the report; record `report_issued` in the ledger.

    Args:
        identity: the examiner who signs (may be None only with `sign=False`).
        out: the PDF's path (default: `C/reports/<case>-<UTC time>-<lang>.pdf`).
        tsa_url: an RFC 3161 timestamp authority (B-T and above need one).
        level: PAdES B-B, B-T, B-LT or B-LTA; default B-LT with a TSA, else B-B.
        validation: CA certificates and revocation data for the DSS (B-LT, B-LTA).
        sign: False writes an unsigned preview (no custody event).
        record: False skips the custody event (benchmarks).
        rehash: also re-hash every sealed file before building (`check_case`).
        form: "report" (the full report) or "bien-ban" (the seizure record of one item or of
            `session`, `workflows.report.bienban`).
        session: the seizure session whose Biên bản to build (its registered items).
        copies: the number of copies the Biên bản says it is made in.

    Raises:
        UsageError: bad item, language, or options.
        IntegrityError: the ledger or a seal the report would show does not verify.
        ReportError: rendering, signing or writing failed.
        CustodyError: the ledger refused the event, or cannot be written (disk full).
    """
    if sign and identity is None:
        raise UsageError("signing a report needs an examiner identity")
    if tsa_url and not sign:
        raise UsageError("--tsa needs a signature; drop --no-sign")
    if level is not None and not sign:
        raise UsageError("--level needs a signature; drop --no-sign")
    if sign:
        level = pades_level(level or ("B-LT" if tsa_url else "B-B"), tsa_url)
    if (
        sign
        and record
        and identity is not None
        and not case.is_pinned(identity.fingerprint)
        and not case_trust(case).through_ca(identity.fingerprint)  # checked on append
    ):
        # Checked before anything is written: a report the ledger cannot record is refused.
        raise ReportError(
            f"examiner {identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
            f"{case.info.number!r}, so the report could not be recorded in its ledger",
            hint="a pinned examiner adds you: evidencekit case add-examiner CERT.pem",
        )
    if out is not None and out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a folder", hint="give a file name")
    if out is not None and os.path.lexists(out):
        raise UsageError(
            f"--out {str(out)!r} exists: a report is never written over another file",
            hint="give a new file name",
        )
    if form not in FORMS:
        raise UsageError(f"unknown report form {form!r}", hint="report or bien-ban")
    if form == "report" and session is not None:
        raise UsageError("--session goes with --form bien-ban")
    now = now or utcnow()
    ledger = _ledger_snapshot(case) if form != "report" else None
    if ledger is not None:
        items = record_items(ledger.events, case, items, session)
        # the seals of its items that have one (an item only registered has none yet)
        check_case(case, [i for i in items if i in case.items()], rehash=rehash)
    else:
        items = list(items) if items else None
        check_case(case, items, rehash=rehash)
    model = build_model(
        case, identity, items=items, lang=lang, now=now, signed=sign, ledger=ledger, form=form
    )
    if ledger is not None:
        seizure = record_model(
            case, identity, model, ledger.events, list(items or ()), session, copies=copies
        )
        pdf = render_record(seizure)
    else:
        pdf = render_pdf(model)
    final = finish_pdf(
        pdf,
        model.attachments,
        identity if sign else None,
        tsa_url=tsa_url,
        reason=label(model.lang, "title" if form == "report" else "bb_pdf_title"),
        location=case.info.agency or None,
        now=now,
        level=level,
        validation=validation,
    )
    path = out if out is not None else _free_path(default_report_path(case, model.lang, now, form))
    digest = hashlib.sha256(final).hexdigest()
    recorded = sign and record and identity is not None
    # Written under a temporary name, recorded, then published: a crash or a full disk leaves
    # no signed report the ledger does not know (at worst a `.partial` file beside it).
    partial = _write_partial(path, final)
    try:
        if recorded and identity is not None:
            _record_report_issued(
                case,
                identity,
                report_id=model.report_id,
                sha256=digest,
                size=len(final),
                path=path,
                items=[i.item_id for i in model.items],
                lang=model.lang,
                form=form,
            )
    except InterruptedAfterRecording as exc:
        # its event is committed: the report it records is kept (and named), never removed
        raise _stopped_after_recording(partial, path) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        _publish(partial, path, recorded)
    except KeyboardInterrupt as exc:
        if path.exists():
            # stopped between the link and the removal of the temporary name: one file, two
            # names; the temporary one goes, the report stays published
            if partial.exists() and os.path.samefile(partial, path):
                partial.unlink()
            raise
        if not recorded:
            raise
        raise _stopped_after_recording(partial, path) from exc
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
        level=level if sign else None,
    )
