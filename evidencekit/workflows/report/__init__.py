"""Build and verify the signed PDF report of a case.

Build: read each item's seal (and a logical collection's manifest) as JSON documents, take the
custody events, the latest signed checkpoint and the exports from the ledger, render, embed the
machine-readable record (seals, custody JSON Lines, CASE/UCO JSON-LD, checkpoint, report.json),
sign (PAdES B-B; B-T with a TSA), write atomically, and record a `report_issued` custody event
carrying the PDF's sha256.

Verify: the signature holds and covers the whole file, the signer is pinned (or trusted with
--trust); with the case, the attached seals are byte-identical to the case's, and the current
ledger provably extends the checkpoint embedded in the report.

Modules: `build` (model, render, sign, write, record), `verify` (signature, attachments, case),
`embedded` (the files a report embeds, and their names), `ledger` (what both need from the
custody ledger).
"""

from __future__ import annotations

from evidencekit.workflows.report.build import (
    ReportResult,
    build_model,
    build_report,
    default_report_path,
)
from evidencekit.workflows.report.ledger import LedgerSnapshot
from evidencekit.workflows.report.names import (
    CHECKPOINT_TXT,
    MANIFEST_SUFFIX,
    REPORT_JSON,
    REPORT_SCHEMA,
    SEAL_SUFFIX,
)
from evidencekit.workflows.report.verify import ReportVerification, verify_report

__all__ = [
    "CHECKPOINT_TXT",
    "MANIFEST_SUFFIX",
    "REPORT_JSON",
    "REPORT_SCHEMA",
    "SEAL_SUFFIX",
    "LedgerSnapshot",
    "ReportResult",
    "ReportVerification",
    "build_model",
    "build_report",
    "default_report_path",
    "verify_report",
]
