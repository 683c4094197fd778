"""Case creation and examiner pinning, with their custody events."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from evidencekit.case import Case
from evidencekit.identity import Identity
from evidencekit.workflows.custody import start_ledger


def init_case(
    path: Path,
    identity: Identity,
    *,
    number: str,
    title: str,
    agency: str = "",
    examiner: str | None = None,
    language: str = "vi",
    timezone: str | None = None,
) -> Case:
    """Create a case folder pinned to `identity` (its creator).

    Raises:
        CaseError: the folder is not empty or cannot be created.
        UsageError: invalid language, time zone, or empty fields.
    """
    case = Case.create(
        path,
        number=number,
        title=title,
        creator_cert=identity.certificate,
        agency=agency,
        examiner=examiner or identity.name,
        language=language,
        timezone=timezone,
    )
    start_ledger(
        case,
        identity,
        description=case.info.title,
        details={
            "case_number": case.info.number,
            "agency": case.info.agency,
            "examiner": case.info.examiner,
        },
    )
    return case


def add_examiner(case: Case, cert: x509.Certificate) -> None:
    """Pin another examiner's certificate in the case."""
    case.add_examiner(cert)
