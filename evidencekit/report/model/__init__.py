"""The report model: everything a report shows, as plain values, built from the case's documents.

The model is built from the typed values the writers and readers share: the parsed seal
(`hash.seal.document.Seal`, seal/1 or seal/2) and the ledger's events (`chain.events.Event`).
Only what their formats leave open is read as JSON values: a seal's `facts`, an event's
`details` and the logical manifest, which are shown as they are. Typed text (names, titles,
notes) is NFC-normalised here; file names are kept exactly as stored (the manifest's text,
escapes and all; a seal's non-UTF-8 artifact name with `\\xNN` for its bytes that are not
UTF-8).

Modules: `values` (the frozen value types), `readers` (display helpers, `nfc`), `rows` (an item's
artifacts, unreadable extents and files), `items` (one item's section from its seal and
manifest), `custody` (custody entries from ledger events); the Biên bản's model in `record`
(its frame), `record_items` (one item's part) and `record_values`.
"""

from __future__ import annotations

from evidencekit.report.model.custody import custody_from_events
from evidencekit.report.model.items import item_from_seal
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
    Photo,
    ReportModel,
    SectionKind,
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
    "Photo",
    "ReportModel",
    "SectionKind",
    "Verification",
    "custody_from_events",
    "digest_pairs",
    "item_from_seal",
    "new_report_id",
    "nfc",
]
