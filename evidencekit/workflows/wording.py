"""The default descriptions the workflows give the custody events they record, in the case's
language (`case.toml` `language`, chosen by `case init --lang`): the signed event carries them
as written, so a Vietnamese case's ledger reads in Vietnamese. The words are the report's
(`report.i18n`, keys `desc_*`), which also recognises them as the tool's own
(`report.sentences`: not quoted as a description the examiner typed)."""

from __future__ import annotations

from evidencekit.case import Case


def case_language(case: Case) -> str:
    """The case's language, among those the report speaks (English otherwise)."""
    from evidencekit.report.i18n import LANGUAGES

    lang = case.info.language
    return lang if lang in LANGUAGES else "en"


def described(case: Case, key: str, **values: object) -> str:
    """The default description `key` (`desc_KEY`) with `values`, in the case's language."""
    from evidencekit.report.i18n import label

    return label(case_language(case), f"desc_{key}", **values)


def status_words(case: Case, status: str) -> str:
    """A seal status ("complete" …) in the case's language, as the report words it."""
    from evidencekit.report.i18n import status_label

    return status_label(case_language(case), status)


def role_words(case: Case, role: str) -> str:
    """A report co-signer's role ("receiver" …) in the case's language, as the report words it."""
    from evidencekit.report.i18n import LABELS, label

    key = f"cosign_{role}"
    return label(case_language(case), key) if key in LABELS else role


__all__ = ["case_language", "described", "role_words", "status_words"]
