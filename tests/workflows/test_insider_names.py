"""Red team (issue 13 threat model): a colleague asks to be pinned with a certificate whose name
*looks* like the case examiner's ("Nguyễn Bá Tùng") but differs in bytes — an invisible
character, a no-break space, a doubled space, a compatibility form. Logs, reports and the Biên
bản show examiners by name, so the look-alike would sign "as" the examiner to every reader who
does not compare fingerprints. `case add-examiner` must refuse each (exit 2, UsageError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencekit.case import Case
from evidencekit.errors import UsageError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import add_examiner
from tests.conftest import EXAMINER, PASSPHRASE, TEST_KDF

LOOKALIKES = {
    "zero-width space": EXAMINER + "\u200b",
    "zero-width joiner inside": EXAMINER.replace("Bá", "B\u200dá"),
    "word joiner": EXAMINER.replace(" ", " \u2060"),
    "no-break space": EXAMINER.replace(" ", "\u00a0"),
    "doubled space": EXAMINER.replace(" ", "  "),
    "fullwidth letters": EXAMINER.replace("N", "\uff2e"),
    "soft hyphen": EXAMINER.replace("Tùng", "Tù\u00adng"),
}


@pytest.mark.parametrize("how", sorted(LOOKALIKES))
def test_a_lookalike_of_a_pinned_name_is_refused(
    case_dir: Path, identity: Identity, tmp_path: Path, how: str
) -> None:
    name = LOOKALIKES[how]
    assert name != EXAMINER
    other = IdentityStore(tmp_path / "colleague-home").create(
        name, PASSPHRASE.encode(), kdf=TEST_KDF
    )
    with pytest.raises(UsageError, match="already pinned under that name"):
        add_examiner(Case.open(case_dir), identity, other.certificate)


def test_a_different_name_is_still_pinned(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    other = IdentityStore(tmp_path / "colleague-home").create(
        EXAMINER + " - PC02", PASSPHRASE.encode(), kdf=TEST_KDF
    )
    added = add_examiner(Case.open(case_dir), identity, other.certificate)
    assert added.name == EXAMINER + " - PC02"
