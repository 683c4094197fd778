"""Red team (issue 13 threat model), the other half of test_insider_names.py: `case
add-examiner` refuses a look-alike of a pinned examiner's name, but a pinned insider can append
the `examiner_added` event past that command (the library's `record_event`, or any writer of
their own). Replaying the trust list must refuse the look-alike just the same: not pinned, and
`custody verify` exits 3 naming the event."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore, cert_pem, fingerprint, subject_name
from evidencekit.workflows.custody import record_event
from evidencekit.workflows.trust import ADDED, case_trust
from tests.conftest import EXAMINER, PASSPHRASE, TEST_KDF
from tests.workflows.test_insider_names import LOOKALIKES


def _pin_past_the_tool(case_dir: Path, identity: Identity, name: str, home: Path) -> str:
    other = IdentityStore(home).create(name, PASSPHRASE.encode(), kdf=TEST_KDF)
    cert = other.certificate
    record_event(
        Case.open(case_dir),
        identity,
        ADDED,
        None,
        description=f"examiner {subject_name(cert)} added",
        details={"name": name, "fingerprint": fingerprint(cert), "certificate": cert_pem(cert)},
    )
    return fingerprint(cert)


@pytest.mark.parametrize("how", ["zero-width space", "no-break space", "fullwidth letters"])
def test_a_lookalike_pinned_past_the_tool_is_not_trusted(
    case_dir: Path, identity: Identity, tmp_path: Path, how: str
) -> None:
    fp = _pin_past_the_tool(case_dir, identity, LOOKALIKES[how], tmp_path / "colleague")
    trust = case_trust(Case.open(case_dir))
    assert fp not in trust.certificates
    assert any("shown as the same person" in p and fp[:16] in p for p in trust.problems)

    result = CliRunner().invoke(cli, ["--case", str(case_dir), "custody", "verify"])
    assert result.exit_code == 3, result.output
    assert fp[:16] in result.output


def test_a_different_name_pinned_by_event_is_trusted(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    fp = _pin_past_the_tool(case_dir, identity, EXAMINER + " - PC02", tmp_path / "colleague")
    trust = case_trust(Case.open(case_dir))
    assert fp in trust.certificates
    assert not trust.problems
