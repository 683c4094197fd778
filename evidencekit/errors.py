"""The one error hierarchy of evidencekit.

Every error a user can cause or meet carries a one-line message naming the value involved and,
where there is one, a hint saying what to do. The CLI maps each class to an exit code in one place
(`evidencekit/cli/runtime.py`); the library never exits or prints.
"""

from __future__ import annotations


class EvidenceKitError(Exception):
    """Base of every error evidencekit raises on purpose.

    Args:
        message: what failed, with the offending value.
        hint: what the user can do about it (optional).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(EvidenceKitError):
    """The command was called with an invalid value (exit 2)."""

    exit_code = 2


class ConfigError(EvidenceKitError):
    """A configuration or case file is missing or malformed."""


class CaseError(EvidenceKitError):
    """The case workspace is missing, not a case, or cannot be created."""


class IdentityError(EvidenceKitError):
    """An examiner identity is missing, ambiguous, or its key cannot be unlocked."""


class AmbiguousIdentityError(IdentityError):
    """Several examiner identities fit where one must be chosen (exit 2: a usage error; the
    message lists them, the user chooses with `--identity`)."""

    exit_code = 2


class SourceError(EvidenceKitError):
    """An evidence source cannot be opened or read."""


class AcquisitionError(EvidenceKitError):
    """An acquisition could not finish (destination full, too many errors, interrupted)."""


class HashError(EvidenceKitError):
    """Hashing failed for a reason other than a mismatch (unknown algorithm, I/O error)."""


class StalledError(EvidenceKitError):
    """A hasher or writer took no data for the stall limit (a destination that stopped
    answering, a hung thread): the command gives up instead of waiting for ever (exit 1)."""


class IntegrityError(EvidenceKitError):
    """A digest, seal, signature, ledger or proof does not verify (exit 3)."""

    exit_code = 3


class CustodyError(EvidenceKitError):
    """A custody event is not allowed (wrong custodian, item released, unknown item)."""


class ReportError(EvidenceKitError):
    """A report cannot be built, signed or read."""


class InterruptedError_(EvidenceKitError):
    """The operation was interrupted by the user (Ctrl-C) and left marked incomplete."""


class InterruptedAfterRecording(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP arrived after a custody append committed: the command stops,
    but its event is recorded, and `message` says which (so nobody records it twice).

    A KeyboardInterrupt, so that every path that keeps an interrupted attempt (rather than
    removing it as a failure) keeps this one: its event is in the ledger."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PartialReadError(EvidenceKitError):
    """Finished and sealed, but some source data could not be read (exit 4).

    Raised by a workflow *after* its artifacts are sealed, so the CLI can report the result and
    exit 4. `result` holds the workflow's result object for the CLI to print.
    """

    exit_code = 4

    def __init__(self, message: str, result: object = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.result = result


def worst_exit_code(*codes: int) -> int:
    """The exit code of several outcomes (DESIGN.md, CLI contract): 2 (usage) over 3 (integrity)
    over 4 (complete, with unreadable data) over 1 (operational) over 0; a code outside these
    counts as 1. No code at all is 0."""
    rank = {
        0: 0,
        EvidenceKitError.exit_code: 1,
        PartialReadError.exit_code: 2,
        IntegrityError.exit_code: 3,
        UsageError.exit_code: 4,
    }
    return max(codes, key=lambda c: rank.get(c, 1), default=0)
