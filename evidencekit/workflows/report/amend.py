"""Co-sign or extend a signed report: one more incremental update, recorded in the ledger.

`cosign_report`: the receiver, a supervisor or a witness adds their signature in a new field
(`EvidencekitCosignN-ROLE`); `extend_report`: a fresh DSS and an archive document timestamp
(PAdES B-LTA). Each is its own case-level custody event (`report_cosigned`,
`report_extended`) binding the file as it is afterwards; the `report_issued` event binds the
file as it was issued, which stays its first bytes, so neither breaks it.

The file is rewritten like `report build` writes one: the new bytes under a temporary name
beside it, fsynced, the event committed, then renamed over it (the old file is a prefix of the
new, so nothing is lost if the rename never happens: the temporary file is named).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from evidencekit.case import Case
from evidencekit.errors import IntegrityError, InterruptedAfterRecording, ReportError, UsageError
from evidencekit.fsutil import fsync_dir
from evidencekit.identity import Identity
from evidencekit.report.ltv import ValidationInputs
from evidencekit.report.sign import check_signature, cosign_pdf, extend_pdf, pades_level
from evidencekit.workflows.report.build import _write_partial
from evidencekit.workflows.report.ledger import (
    RevisionKind,
    _find_report_event,
    _record_report_revision,
)
from evidencekit.workflows.wording import described, role_words


@dataclass(frozen=True, slots=True)
class AmendResult:
    """A co-signed or extended report."""

    path: Path
    sha256: str
    size: int
    previous_size: int
    action: str  # "cosigned" or "extended"
    field: str | None  # the co-signature's field
    role: str | None
    event_recorded: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "previous_size": self.previous_size,
            "action": self.action,
            "field": self.field,
            "role": self.role,
            "event_recorded": self.event_recorded,
        }


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read report {str(path)!r}: {exc.strerror}") from exc


def _issued_in(case: Case, path: Path, data: bytes) -> dict[str, object]:
    """The report's id as the ledger issued it; a report this case never issued is refused
    (co-signing or extending it would record it as if it were the case's).

    Raises:
        IntegrityError: the ledger records no `report_issued` event for it.
    """
    found = _find_report_event(case, data)
    if found is None:
        raise IntegrityError(
            f"{str(path)!r} is not a report case {case.info.number!r} issued (no report_issued "
            "event binds it)",
            hint="run: evidencekit report verify REPORT.pdf --case CASE",
        )
    return {"issued_event": found[0]}


def _check_before(data: bytes, path: Path) -> None:
    """Only a report whose signatures hold is amended (`report verify` names the problems);
    who signed is not judged here, the ledger refuses an unpinned co-signer.

    Raises:
        IntegrityError: a signature does not hold, or a later revision changes the report.
    """
    check = check_signature(data, {})
    real = [p for p in check.problems if "unknown signer" not in p]
    if not check.signed or real:
        raise IntegrityError(
            f"{str(path)!r} does not verify, so it is not amended: "
            + "; ".join((real or ["it is not signed"])[:3]),
            hint="run: evidencekit report verify REPORT.pdf",
        )


_Revision = tuple[Case, Identity, RevisionKind, str, dict[str, object]]
"""What `_write` records once the revised report is in place: the case, the signer, the event's
kind, description and details."""


def _write(
    path: Path,
    out: Path | None,
    new: bytes,
    record: _Revision | None,
) -> tuple[Path, bool]:
    target = out if out is not None else path
    if out is not None and os.path.lexists(out):
        raise UsageError(f"--out {str(out)!r} exists", hint="give a new file name")
    partial = _write_partial(target, new)
    recorded = False
    kind = record[2] if record is not None else ""
    try:
        if record is not None:
            case, identity, revision, description, details = record
            _record_report_revision(
                case,
                identity,
                revision,
                description=description,
                sha256=hashlib.sha256(new).hexdigest(),
                size=len(new),
                path=target,
                details=details,
            )
            recorded = True
    except InterruptedAfterRecording as exc:
        raise InterruptedAfterRecording(
            f"interrupted after the {kind} event was recorded: the new report is "
            f"{str(partial)!r}; rename it to {str(target)!r}"
        ) from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    try:
        if out is not None:
            os.link(partial, target)
            os.unlink(partial)
        else:
            os.replace(partial, target)
        fsync_dir(target.parent)
    except OSError as exc:
        raise ReportError(
            f"the new report {str(partial)!r} could not be renamed to {str(target)!r}: "
            f"{exc.strerror}",
            hint=f"rename it by hand: mv {str(partial)!r} {str(target)!r}",
        ) from exc
    return target, recorded


def cosign_report(
    path: Path,
    identity: Identity,
    role: str,
    *,
    case: Case | None,
    tsa_url: str | None = None,
    level: str | None = None,
    validation: ValidationInputs | None = None,
    out: Path | None = None,
) -> AmendResult:
    """Add `identity`'s co-signature as `role` and record `report_cosigned` in the case.

    Args:
        level: the co-signature's PAdES level (default: B-LT with a TSA, else B-B).
        out: write the co-signed report there instead of over `path`.

    Raises:
        UsageError: a bad role, level or --out.
        IntegrityError: the report does not verify, or the case never issued it.
        ReportError: signing failed.
        CustodyError: the ledger refuses the event (the co-signer is not pinned).
    """
    level = pades_level(level or ("B-LT" if tsa_url else "B-B"), tsa_url)
    data = _read(path)
    _check_before(data, path)
    details: dict[str, object] = {}
    if case is not None:
        details = _issued_in(case, path, data)
        if not case.is_pinned(identity.fingerprint):
            raise ReportError(
                f"{identity.name!r} ({identity.fingerprint[:16]}) is not pinned in case "
                f"{case.info.number!r}, so the co-signature could not be recorded in its ledger",
                hint="a pinned examiner adds them: evidencekit case add-examiner CERT.pem",
            )
    new, field = cosign_pdf(
        data,
        identity,
        role,
        tsa_url=tsa_url,
        level=level,
        validation=validation,
        location=(case.info.agency or None) if case is not None else None,
    )
    record: _Revision | None = None
    if case is not None:
        details |= {"field": field, "role": role, "level": level, "previous_size": len(data)}
        said = described(case, "report_cosigned", role=role_words(case, role))
        record = (case, identity, "report_cosigned", said, details)
    target, recorded = _write(path, out, new, record)
    return AmendResult(
        path=target,
        sha256=hashlib.sha256(new).hexdigest(),
        size=len(new),
        previous_size=len(data),
        action="cosigned",
        field=field,
        role=role,
        event_recorded=recorded,
    )


def extend_report(
    path: Path,
    tsa_url: str,
    *,
    case: Case | None,
    identity: Identity | None,
    validation: ValidationInputs | None = None,
    out: Path | None = None,
) -> AmendResult:
    """Add a fresh DSS and an archive document timestamp; record `report_extended` (signed by
    `identity`) when a case is given.

    Raises:
        UsageError: a case without an identity, or a bad --out.
        IntegrityError: the report does not verify, or the case never issued it.
        ReportError: the TSA failed.
        CustodyError: the ledger refuses the event.
    """
    if case is not None and identity is None:
        raise UsageError("recording the extension in the case needs an examiner identity")
    data = _read(path)
    _check_before(data, path)
    details = _issued_in(case, path, data) if case is not None else {}
    new = extend_pdf(data, tsa_url, validation=validation)
    record: _Revision | None = None
    if case is not None and identity is not None:
        details |= {"tsa_url": tsa_url, "previous_size": len(data)}
        said = described(case, "report_extended")
        record = (case, identity, "report_extended", said, details)
    target, recorded = _write(path, out, new, record)
    return AmendResult(
        path=target,
        sha256=hashlib.sha256(new).hexdigest(),
        size=len(new),
        previous_size=len(data),
        action="extended",
        field=None,
        role=None,
        event_recorded=recorded,
    )
