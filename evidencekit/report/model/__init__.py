"""The report model: everything a report shows, as plain values, built from the case's documents.

The model is built *defensively* from the seal and manifest JSON documents (read as dicts) and the
ledger's events (as dicts), so a report renders whatever sections have data and never fails on a
field it does not know. Typed text (names, titles, notes) is NFC-normalised here; file names are
kept exactly as stored (the manifest's text, escapes and all).

Modules: `values` (the frozen value types), `readers` (defensive field readers, `nfc`), `rows`
(an item's artifacts, unreadable extents and files), `items` (one item's section from its seal
and manifest), `custody` (custody entries from ledger events).
"""

from __future__ import annotations

from evidencekit.report.model.custody import custody_from_events
from evidencekit.report.model.items import item_from_documents
from evidencekit.report.model.readers import digest_pairs, nfc
from evidencekit.report.model.values import (
    Artifact,
    Attachment,
    Checkpoint,
    CustodyEntry,
    Extent,
    FileRow,
    ItemSection,
    Pairs,
    ReportModel,
    Verification,
    new_report_id,
)

__all__ = [
    "Artifact",
    "Attachment",
    "Checkpoint",
    "CustodyEntry",
    "Extent",
    "FileRow",
    "ItemSection",
    "Pairs",
    "ReportModel",
    "Verification",
    "custody_from_events",
    "digest_pairs",
    "item_from_documents",
    "new_report_id",
    "nfc",
]
