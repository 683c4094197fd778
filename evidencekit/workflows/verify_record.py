"""Whether a plain `verify` inside a case can record its result (a `verified` custody event per
item, as `verify --record` does) without asking anyone anything.

`verify --record` insists: it asks for the passphrase on a terminal and fails when it cannot
record. A plain `verify` in a case records only when the examiner who would sign is certain
and usable unattended: exactly one identity chosen (`--identity`, `EVIDENCEKIT_IDENTITY` or the
only one there is), an examiner the case's ledger pins and has not revoked (or, in a case that
trusts a CA, one it may chain to), and a passphrase or PIN from a source that needs no prompt
(`--passphrase-file`, `EVIDENCEKIT_PASSPHRASE`; keys are always encrypted at rest). Otherwise
it verifies, and says it did not record, and why (`RecordPlan.reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

from evidencekit.case import Case
from evidencekit.errors import AmbiguousIdentityError, IdentityError
from evidencekit.identity import IdentityInfo, IdentityStore
from evidencekit.workflows.trust import case_trust

NO_IDENTITY = "no-identity"
SEVERAL_IDENTITIES = "several-identities"
UNKNOWN_IDENTITY = "unknown-identity"
NOT_PINNED = "not-pinned"
REVOKED = "revoked"
NEEDS_PASSPHRASE = "needs-passphrase"
NOT_ASKED = "not-asked"
"""`--no-record`."""
UNLOCK_FAILED = "unlock-failed"
REFUSED = "refused"
"""The last two are found while recording (`VerifyResult.not_recorded`)."""

REASONS = (
    NO_IDENTITY,
    SEVERAL_IDENTITIES,
    UNKNOWN_IDENTITY,
    NOT_PINNED,
    REVOKED,
    NEEDS_PASSPHRASE,
    NOT_ASKED,
    UNLOCK_FAILED,
    REFUSED,
)


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """Who would sign the `verified` events, or why nobody will.

    Attributes:
        examiner: the identity that records (None: the verification is not recorded).
        reason: one of `REASONS` when `examiner` is None.
        detail: the value involved (an identity's name, the library's message), for the text.
    """

    examiner: IdentityInfo | None
    reason: str | None = None
    detail: str | None = None

    def to_dict(self) -> dict[str, object] | None:
        if self.reason is None:
            return None
        return {"reason": self.reason, "message": self.detail}


def plan_recording(
    case: Case, store: IdentityStore, selector: str | None, *, secret_given: bool
) -> RecordPlan:
    """Whether a plain `verify` in `case` records, and as whom (see the module's docstring).

    `secret_given`: a passphrase or PIN comes from a source that needs no prompt.
    """
    try:
        info = store.find(selector)
    except AmbiguousIdentityError as exc:
        return RecordPlan(None, SEVERAL_IDENTITIES, exc.message)
    except IdentityError as exc:
        reason = NO_IDENTITY if not store.list() else UNKNOWN_IDENTITY
        return RecordPlan(None, reason, exc.message)
    trust = case_trust(case)
    if trust.revoked_at(info.fingerprint) is not None:
        return RecordPlan(None, REVOKED, info.name)
    if info.fingerprint not in trust.pinned_signers and not trust.anchors:
        return RecordPlan(None, NOT_PINNED, info.name)
    if not secret_given:
        return RecordPlan(None, NEEDS_PASSPHRASE, info.name)
    return RecordPlan(info)
