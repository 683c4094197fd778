"""The files a report embeds, under the names `verify` finds them by again.

In this order: each item's seal (byte for byte as the case holds it), the ledger's latest signed
checkpoint, the custody exports (JSON Lines; CASE/UCO JSON-LD), and `report.json`, which names
the case, examiner, items, seal digests and checkpoint the report was built from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from evidencekit.report.model import Attachment
from evidencekit.workflows.report.ledger import LedgerSnapshot
from evidencekit.workflows.report.names import (
    CHECKPOINT_TXT,
    REPORT_JSON,
    SEAL_SUFFIX,
)


def seal_attachment(item: str, raw: bytes) -> Attachment:
    """The item's seal, byte for byte as the case holds it."""
    return Attachment(f"{item}{SEAL_SUFFIX}", raw, f"seal {item}", "application/json")


def ledger_attachments(ledger: LedgerSnapshot) -> list[Attachment]:
    """The latest checkpoint and the custody exports, those the ledger has."""
    attachments: list[Attachment] = []
    if ledger.checkpoint_text:
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
    return attachments


def report_json_attachment(meta: Mapping[str, object]) -> Attachment:
    """`report.json`: the report's metadata, as stable (sorted, indented) UTF-8 JSON."""
    return Attachment(
        REPORT_JSON,
        json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8"),
        "report metadata",
    )
