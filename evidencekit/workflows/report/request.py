"""The report use cases as typed requests (`report build|verify|cosign|extend|extract`): one
frozen request each, one function that carries it out, so a lab's script and the command line
make the same report the same way.

Certificates, CA anchors and validation data are given as the values they are read into
(`x509.Certificate`, `ReaderAnchors`, `ValidationInputs`), not as file names: a caller reads
them once (the command line from its --trust, --tsa-cert, --cert, --crl and --ocsp files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509

from evidencekit.case import Case
from evidencekit.identity import Identity
from evidencekit.report.ltv import ValidationInputs
from evidencekit.workflows.reader_trust import ReaderAnchors
from evidencekit.workflows.report.amend import AmendResult, cosign_report, extend_report
from evidencekit.workflows.report.build import ReportResult, build_report
from evidencekit.workflows.report.extract import ExtractResult, extract_attachments
from evidencekit.workflows.report.verify import ReportVerification, verify_report

PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
"""The PAdES baseline level of a signature (B-T and above need a timestamp authority)."""
CosignLevel = Literal["B-B", "B-T", "B-LT"]
"""A co-signature's level: B-LTA is what `extend` adds to the whole document."""
ReportLanguage = Literal["vi", "en"]
ReportForm = Literal["report", "bien-ban"]
"""The full report, or the seizure record (Biên bản) of one item or one session."""
CosignRole = Literal["receiver", "supervisor", "witness"]


@dataclass(frozen=True, slots=True)
class BuildReportRequest:
    """What `report build` is asked to make.

    Attributes:
        items: only these items (empty: every item of the case; the Biên bản: exactly one,
            unless `session` names a seizure session).
        lang: the report's language (None: the case's).
        out: the PDF to write (None: `CASE/reports/<case>-<UTC time>-<lang>.pdf`).
        tsa_url: an RFC 3161 timestamp authority (needed from B-T up).
        level: the PAdES level (None: B-LT with a TSA, else B-B).
        validation: CA certificates and revocation data for the DSS (B-LT, B-LTA).
        sign: False writes an unsigned preview (no custody event, no identity needed).
        rehash: also re-hash every sealed file first (else signatures, signers and sizes).
        copies: how many copies the Biên bản says it is made in.
        record: False leaves the custody event out (benchmarks only: a signed report the
            ledger does not know fails `report verify --case`).
    """

    items: tuple[str, ...] = ()
    lang: ReportLanguage | None = None
    out: Path | None = None
    tsa_url: str | None = None
    level: PadesLevel | None = None
    validation: ValidationInputs | None = None
    sign: bool = True
    rehash: bool = False
    form: ReportForm = "report"
    session: str | None = None
    copies: int = 2
    record: bool = True


def issue_report(
    case: Case, identity: Identity | None, request: BuildReportRequest
) -> ReportResult:
    """Verify the ledger and the seals, render the report, sign it as `identity`, record
    `report_issued`, then publish it under its name (`build_report` with the request's
    fields).

    Raises:
        UsageError: a bad item, language or option (a signature without an identity, --tsa
            or --level on an unsigned preview).
        IntegrityError: the ledger or a seal the report would show does not verify.
        ReportError: rendering, signing or writing failed.
        CustodyError: the ledger refused the event, or cannot be written.
    """
    return build_report(
        case,
        identity,
        items=request.items or None,
        lang=request.lang,
        out=request.out,
        tsa_url=request.tsa_url,
        sign=request.sign,
        record=request.record,
        rehash=request.rehash,
        level=request.level,
        validation=request.validation,
        form=request.form,
        session=request.session,
        copies=request.copies,
    )


@dataclass(frozen=True, slots=True)
class VerifyReportRequest:
    """What `report verify` checks.

    Attributes:
        path: the report (PDF).
        trust: certificates the reader trusts as signers, beside the case's examiners.
        anchors: the reader's CA roots: a signer whose chain goes to one is trusted at the
            time the signature's timestamps prove.
        tsa_certs: accept timestamps only from these authorities (or a CA above them); with a
            case, its `tsa` anchors count too.
    """

    path: Path
    trust: tuple[x509.Certificate, ...] = ()
    anchors: ReaderAnchors | None = None
    tsa_certs: tuple[x509.Certificate, ...] = ()


def check_report(request: VerifyReportRequest, case: Case | None = None) -> ReportVerification:
    """Check the report's signatures, coverage and signers; with `case`, its attachments and
    its record in the ledger too. Never raises for a failed check (`problems`).

    Raises:
        ReportError: the file cannot be read at all.
    """
    return verify_report(
        request.path,
        case=case,
        trust=request.trust,
        anchors=request.anchors,
        tsa_certs=request.tsa_certs,
    )


@dataclass(frozen=True, slots=True)
class CosignRequest:
    """What `report cosign` adds: a co-signature as `role`, as an incremental update.

    Attributes:
        out: write the co-signed report here (None: update `path` in place).
        level: the co-signature's level (None: B-LT with a TSA, else B-B).
    """

    path: Path
    role: CosignRole
    tsa_url: str | None = None
    level: CosignLevel | None = None
    validation: ValidationInputs | None = None
    out: Path | None = None


def cosign(request: CosignRequest, identity: Identity, case: Case | None = None) -> AmendResult:
    """Co-sign the report as `identity` and, with `case`, record `report_cosigned` (signed by
    the co-signer, who must be pinned in it). Without a case it is signed but not recorded.

    Raises:
        UsageError: a bad --out or level.
        IntegrityError: the report does not verify, or the case never issued it.
        ReportError: signing or writing failed.
        CustodyError: the ledger refused the event.
    """
    return cosign_report(
        request.path,
        identity,
        request.role,
        case=case,
        tsa_url=request.tsa_url,
        level=request.level,
        validation=request.validation,
        out=request.out,
    )


@dataclass(frozen=True, slots=True)
class ExtendRequest:
    """What `report extend` adds: a fresh DSS and an archive document timestamp from
    `tsa_url` (PAdES B-LTA).

    Attributes:
        out: write the extended report here (None: update `path` in place).
    """

    path: Path
    tsa_url: str
    validation: ValidationInputs | None = None
    out: Path | None = None


def extend(
    request: ExtendRequest, case: Case | None = None, identity: Identity | None = None
) -> AmendResult:
    """Extend the report and, with `case`, record `report_extended` signed by `identity`.

    Raises:
        UsageError: a case without an identity, or a bad --out.
        IntegrityError: the report does not verify, or the case never issued it.
        ReportError: the timestamp or writing failed.
        CustodyError: the ledger refused the event.
    """
    return extend_report(
        request.path,
        request.tsa_url,
        case=case,
        identity=identity,
        validation=request.validation,
        out=request.out,
    )


@dataclass(frozen=True, slots=True)
class ExtractRequest:
    """What `report extract` saves: the report's attachments, into the folder `out`."""

    path: Path
    out: Path


def extract(request: ExtractRequest) -> ExtractResult:
    """Save the attachments (plain names only, nothing overwritten, no symlink followed);
    the signature is not checked (`check_report` does that).

    Raises:
        IntegrityError: an attachment's name is not a plain file name, two share a name, or
            an entry embeds no file; nothing was written.
        ReportError: the report cannot be read; `out` is not a folder or already holds a
            file of that name; or a write failed.
    """
    return extract_attachments(request.path, request.out)
