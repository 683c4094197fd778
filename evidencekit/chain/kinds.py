"""The custody event kinds and the sets the byte format and the custody rules both use.

Which kinds exist, which may open an item's history or end it, which record an item's content,
which may be recorded without an item: `chain.encoding` checks a stored event against these and
`chain.rules` decides what may follow what with them, so they sit below both.
"""

from __future__ import annotations

from typing import Literal, get_args

EventKind = Literal[
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
    "session_opened",
    "session_closed",
    "seal_applied",
    "seal_opened",
    "resealed",
    "document_attached",
    "ledger_migrated",
    "report_cosigned",
    "report_extended",
    "trust_anchor_added",
    "trust_anchor_removed",
    "certificate_chain_added",
    "revocation_data_added",
]
"""A kind this version writes (KINDS is made from it). A stored event's kind is read as `str`
and checked against KINDS: a ledger from elsewhere may hold anything."""
KINDS: tuple[str, ...] = get_args(EventKind)
"""Every kind, in the order of `EventKind` (one list: the Literal is the source)."""
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
        "session_opened",
        "session_closed",
        "ledger_migrated",
        "report_cosigned",
        "report_extended",
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
        "ledger_migrated",
        "trust_anchor_added",
        "trust_anchor_removed",
        "certificate_chain_added",
        "revocation_data_added",
    }
)
"""Kinds about the case's trust, never about an item (`evidencekit.workflows.trust`)."""

SESSION_KINDS = frozenset({"session_opened", "session_closed"})
"""A seizure session (issue 16: the Biên bản's place, start and end, legal basis, participants):
case-level only; the events of the session name it in `details.session`."""
PHYSICAL_SEAL_KINDS = frozenset({"seal_applied", "seal_opened", "resealed"})
"""The physical seal of an item (niêm phong, mở niêm phong, niêm phong lại), told apart from the
cryptographic seal (`sealed`). `chain.rules` replays every event of these kinds of an item."""
SEAL_BOUND_KINDS = frozenset({"transferred", "released", "returned"})
"""Kinds refused while the item's physical seal is open (re-seal it first)."""
EXAMINATION_KINDS = frozenset({"accessed", "analysed"})
"""Kinds that name the working copy they used (Art. 107 BLTTHS: examination is done on copies)."""
