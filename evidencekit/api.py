"""The supported Python API of evidencekit (docs/api.md): one stable import path.

Everything a lab's script needs to do what the command line does — open a case, acquire a
disk, collect files, seal, verify, record custody events, build and verify reports — without
click, a terminal or a subprocess::

    from evidencekit import api

    examiner = api.IdentityStore().load(None, lambda name: b"passphrase")
    case = api.open_case(Path("/cases/VKS-2024-06"))
    sealed = api.seal_files(case, examiner, api.SealRequest("D1", (Path("photo.jpg"),)))

The names here follow semantic versioning (`API_VERSION`): a minor version adds names or
optional fields, only a major version removes or changes one. Names reached through other
modules (`evidencekit.workflows.*`, `evidencekit.chain.*`) are internal and may move.

Errors are the project's own (`evidencekit.errors`, re-exported here): `UsageError` for a bad
request, `IntegrityError` when something does not verify, `PartialReadError` (carrying the
result) when a seal was written but some source data could not be read, `CustodyError` when the
ledger refuses an event, and so on; each has a one-line `message` and an optional `hint`.
Verification returns a status object (`ok`, `problems`) instead of raising.

Case creation (`CaseInitRequest` → `create_case`) and the custody events a person records
(`RegisterRequest`, `TransferRequest`, … → `record_custody`) take typed requests since 2.1;
`init_case`, `record_event` and `record` keep working. The examiner's keys (`create_identity`,
`import_identity`, `add_token`, `show_identities`, `change_passphrase`, `export_certificate`)
and the reports (`issue_report`, `check_report`, `cosign`, `extend`, `extract`) take requests
since 2.2; `build_report` and `verify_report` keep their keyword arguments.
"""

from __future__ import annotations

from pathlib import Path

from evidencekit import __version__
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.case import Case, CaseInfo
from evidencekit.chain.ledger import AppendResult
from evidencekit.chain.verify_status import LedgerStatus
from evidencekit.errors import (
    AcquisitionError,
    CaseError,
    ConfigError,
    CustodyError,
    EvidenceKitError,
    HashError,
    IdentityError,
    IntegrityError,
    InterruptedError_,
    PartialReadError,
    ReportError,
    SourceError,
    UsageError,
)
from evidencekit.identity import Identity, IdentityInfo, IdentityStore, Signer
from evidencekit.report.ltv import ValidationInputs
from evidencekit.workflows.acquire_disk import (
    AcquireDiskRequest,
    AcquireOptions,
    AcquireResult,
    ImageFormat,
    acquire_disk,
)
from evidencekit.workflows.casework import CaseInitRequest, CaseLanguage, create_case, init_case
from evidencekit.workflows.collect import CollectRequest, CollectResult, collect_item
from evidencekit.workflows.custody import list_events, record, record_event, verify_custody
from evidencekit.workflows.hashing import (
    AuditRequest,
    CheckRequest,
    HashRequest,
    audit_files,
    check_sums,
    hash_files,
)
from evidencekit.workflows.keys import (
    AddTokenRequest,
    ChangePassphraseRequest,
    CreateIdentityRequest,
    ExportedCertificate,
    ImportIdentityRequest,
    Passphrase,
    RsaPadding,
    ShowIdentitiesRequest,
    ShownIdentity,
    add_token,
    change_passphrase,
    create_identity,
    export_certificate,
    import_identity,
    show_identities,
)
from evidencekit.workflows.plan import Plan, PlanResult, check_plan, load_plan, run_plan
from evidencekit.workflows.progress import Progress, Tick
from evidencekit.workflows.reader_trust import ReaderAnchors, ReaderTrust
from evidencekit.workflows.recording import (
    AttachRequest,
    CustodyRequest,
    EndRequest,
    ExamineRequest,
    NoteRequest,
    Presence,
    ReceiveRequest,
    Recipient,
    RegisterRequest,
    ResealRequest,
    SealApplyRequest,
    SealOpenRequest,
    SessionCloseRequest,
    SessionOpenRequest,
    TransferRequest,
    record_custody,
)
from evidencekit.workflows.registration import DeviceDetails
from evidencekit.workflows.report import (
    ReportResult,
    ReportVerification,
    build_report,
    verify_report,
)
from evidencekit.workflows.report.amend import AmendResult
from evidencekit.workflows.report.extract import ExtractResult
from evidencekit.workflows.report.request import (
    BuildReportRequest,
    CosignLevel,
    CosignRequest,
    CosignRole,
    ExtendRequest,
    ExtractRequest,
    PadesLevel,
    ReportForm,
    ReportLanguage,
    VerifyReportRequest,
    check_report,
    cosign,
    extend,
    extract,
    issue_report,
)
from evidencekit.workflows.seal import SealFilesResult, SealRequest, seal_files
from evidencekit.workflows.verify import VerifyRequest, VerifyResult, verify_evidence

API_VERSION = "2.2.0"
"""The version of this API (semantic versioning), independent of the package's `__version__`."""


def open_case(path: Path) -> Case:
    """Open the existing case in the folder `path` (its `case.toml`).

    Args:
        path: the case folder (the one `init_case` created).

    Raises:
        CaseError: `path` is not a case folder or its `case.toml` is malformed.
    """
    return Case.open(Path(path))


__all__ = [
    "API_VERSION",
    "AcquireDiskRequest",
    "AcquireOptions",
    "AcquireResult",
    "AcquisitionError",
    "AddTokenRequest",
    "AmendResult",
    "AppendResult",
    "AttachRequest",
    "AuditRequest",
    "BuildReportRequest",
    "Case",
    "CaseError",
    "CaseInfo",
    "CaseInitRequest",
    "CaseLanguage",
    "ChangePassphraseRequest",
    "CheckRequest",
    "CollectOptions",
    "CollectRequest",
    "CollectResult",
    "ConfigError",
    "CosignLevel",
    "CosignRequest",
    "CosignRole",
    "CreateIdentityRequest",
    "CustodyError",
    "CustodyRequest",
    "DeviceDetails",
    "EndRequest",
    "EvidenceKitError",
    "ExamineRequest",
    "ExportedCertificate",
    "ExtendRequest",
    "ExtractRequest",
    "ExtractResult",
    "HashError",
    "HashRequest",
    "Identity",
    "IdentityError",
    "IdentityInfo",
    "IdentityStore",
    "ImageFormat",
    "ImportIdentityRequest",
    "IntegrityError",
    "InterruptedError_",
    "LedgerStatus",
    "NoteRequest",
    "PadesLevel",
    "PartialReadError",
    "Passphrase",
    "Plan",
    "PlanResult",
    "Presence",
    "Progress",
    "ReaderAnchors",
    "ReaderTrust",
    "ReceiveRequest",
    "Recipient",
    "RegisterRequest",
    "ReportError",
    "ReportForm",
    "ReportLanguage",
    "ReportResult",
    "ReportVerification",
    "ResealRequest",
    "RsaPadding",
    "SealApplyRequest",
    "SealFilesResult",
    "SealOpenRequest",
    "SealRequest",
    "SessionCloseRequest",
    "SessionOpenRequest",
    "ShowIdentitiesRequest",
    "ShownIdentity",
    "Signer",
    "SourceError",
    "Tick",
    "TransferRequest",
    "UsageError",
    "ValidationInputs",
    "VerifyReportRequest",
    "VerifyRequest",
    "VerifyResult",
    "__version__",
    "acquire_disk",
    "add_token",
    "audit_files",
    "build_report",
    "change_passphrase",
    "check_plan",
    "check_report",
    "check_sums",
    "collect_item",
    "cosign",
    "create_case",
    "create_identity",
    "export_certificate",
    "extend",
    "extract",
    "hash_files",
    "import_identity",
    "init_case",
    "issue_report",
    "list_events",
    "load_plan",
    "open_case",
    "record",
    "record_custody",
    "record_event",
    "run_plan",
    "seal_files",
    "show_identities",
    "verify_custody",
    "verify_evidence",
    "verify_report",
]
