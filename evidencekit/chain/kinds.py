"""The custody event kinds and the sets the byte format and the custody rules both use.

Which kinds exist, which may open an item's history or end it, which record an item's content,
which may be recorded without an item: `chain.encoding` checks a stored event against these and
`chain.rules` decides what may follow what with them, so they sit below both.
"""

from __future__ import annotations

KINDS = (
    "case_opened",
    "registered",
    "acquired",
    "collected",
    "sealed",
    "converted",
    "verified",
    "transferred",
    "received",
    "accessed",
    "analysed",
    "exported",
    "note",
    "released",
    "returned",
    "destroyed",
    "report_issued",
    "checkpoint_timestamped",
    "examiner_added",
    "examiner_revoked",
    "attempt_discarded",
    "trust_anchor_added",
    "trust_anchor_removed",
    "certificate_chain_added",
    "revocation_data_added",
)
FIRST_KINDS = frozenset({"registered", "acquired", "collected", "sealed"})
TERMINAL_KINDS = frozenset({"released", "returned", "destroyed"})
ACQUISITION_KINDS = frozenset({"acquired", "collected", "sealed"})
"""What records the item's content: at most once per item (after a `registered`, or first)."""
SUPERSEDABLE_STATUSES = frozenset({"incomplete"})
"""An acquisition event whose `details.status` is one of these may be superseded (resume, redo)."""
CUSTODIAN_KINDS = TERMINAL_KINDS | {"transferred"}
"""Kinds only the current custodian records, unless an override reason is given."""
CASE_LEVEL_KINDS = frozenset(
    {
        "case_opened",
        "note",
        "report_issued",
        "exported",
        "checkpoint_timestamped",
        "examiner_added",
        "examiner_revoked",
        "attempt_discarded",
        "trust_anchor_added",
        "trust_anchor_removed",
        "certificate_chain_added",
        "revocation_data_added",
    }
)
"""Kinds that may be recorded without an item (about the whole case)."""
CASE_ONLY_KINDS = frozenset(
    {
        "case_opened",
        "examiner_added",
        "examiner_revoked",
        "checkpoint_timestamped",
        "attempt_discarded",
        "trust_anchor_added",
        "trust_anchor_removed",
        "certificate_chain_added",
        "revocation_data_added",
    }
)
"""Kinds about the case's trust, never about an item (`evidencekit.workflows.trust`)."""
