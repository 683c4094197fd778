"""The names a report's attachments go by: what `embedded` writes them under and what `verify` and
the ledger checks look them up and name them by."""

from __future__ import annotations

REPORT_SCHEMA = "evidencekit/report/1"
REPORT_JSON = "report.json"
CHECKPOINT_TXT = "checkpoint.txt"
SEAL_SUFFIX = ".seal.json"
MANIFEST_SUFFIX = ".manifest.json"  # read from the case, never embedded
