"""The report's labels are one table with one lookup: the Biên bản's, the custody sentences' and
the report's own entries are merged into `i18n.LABELS` without one replacing another, and words
both documents print (the physical seal's state, who was present) are defined once."""

from __future__ import annotations

import pytest

from evidencekit.report import i18n
from evidencekit.report.labels_custody import CUSTODY_LABELS
from evidencekit.report.labels_record import RECORD_LABELS


def test_a_key_defined_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "LABELS", dict(i18n.LABELS))
    with pytest.raises(ValueError, match="report labels defined twice: bb_title, present"):
        i18n._merge({"present": {"vi": "x", "en": "x"}, "bb_title": {"vi": "y", "en": "y"}})


def test_every_entry_of_the_parts_is_in_the_table_unchanged() -> None:
    for part in (RECORD_LABELS, CUSTODY_LABELS):
        for key, entry in part.items():
            assert i18n.LABELS[key] is entry


def test_no_part_repeats_an_entry_of_another() -> None:
    """A text both documents print is one entry of the shared table, not one copy per part."""
    own = {k: v for k, v in i18n.LABELS.items() if k not in RECORD_LABELS | CUSTODY_LABELS}
    parts = {"report": own, "record": RECORD_LABELS, "custody": CUSTODY_LABELS}
    where: dict[tuple[str, str], tuple[str, str]] = {}
    repeats = []
    for part, table in parts.items():
        for key, entry in table.items():
            words = (entry["vi"], entry["en"])
            if words in where and where[words][0] != part:
                repeats.append((where[words][1], key))
            where.setdefault(words, (part, key))
    assert repeats == []


@pytest.mark.parametrize(
    ("lang", "state", "note", "want"),
    [
        ("vi", "intact", None, "còn nguyên vẹn"),
        ("vi", "damaged", "rách góc", "không còn nguyên vẹn (rách góc)"),
        ("en", "intact", "dán lại", "intact (dán lại)"),
        ("en", None, None, "damaged"),
        ("en", "anything else", "", "damaged"),
    ],
)
def test_seal_state_label(lang: str, state: object, note: str | None, want: str) -> None:
    assert i18n.seal_state_label(lang, state, note) == want


def test_present_reads_the_same_in_both_documents() -> None:
    assert i18n.label("vi", "present", names="Lê Thị Hoa (người chứng kiến)") == (
        "Có mặt: Lê Thị Hoa (người chứng kiến)."
    )
    assert i18n.label("en", "present", names="Lê Thị Hoa (witness)") == (
        "Present: Lê Thị Hoa (witness)."
    )
