"""Issue 14, item 11: `verify A B` reports every item, and exits with the worst of their codes
(3 over 4 over 1): one target with no seal no longer stops the command before the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event
from evidencekit.workflows.trust import identity_of


def _sealed(case_dir: Path, identity: Identity, item: str, status: str = "complete") -> None:
    folder = case_dir / "evidence" / item
    folder.mkdir(parents=True)
    (folder / f"{item}.raw").write_bytes(item.encode() * 1000)
    art, result = artifact_from_file(folder, f"{item}.raw", ("md5", "sha256"))
    sealed = seal_item(
        folder,
        item,
        identity,
        kind="raw",
        artifacts=[art],
        status=status,
        combined=result,
        case_identity=identity_of(Case.open(case_dir)),  # seal/2 names its case
    )
    # recorded as the workflows record a seal: `verify` checks the seal is the ledger's
    details = {"seal_sha256": sealed.seal_sha256, "status": status}
    record_event(Case.open(case_dir), identity, "sealed", item, details=details)


@pytest.fixture
def items(case_dir: Path, identity: Identity) -> Path:
    _sealed(case_dir, identity, "GOOD")
    _sealed(case_dir, identity, "PART", status="complete-with-errors")
    _sealed(case_dir, identity, "BROKEN")
    raw = case_dir / "evidence" / "BROKEN" / "BROKEN.raw"
    raw.write_bytes(b"X" + raw.read_bytes()[1:])
    (case_dir / "evidence" / "UNSEALED").mkdir()
    return case_dir


@pytest.mark.parametrize(
    ("targets", "code"),
    [
        (["GOOD"], 0),
        (["GOOD", "UNSEALED"], 1),
        (["UNSEALED", "GOOD"], 1),
        (["GOOD", "PART"], 4),
        (["UNSEALED", "PART"], 4),
        (["PART", "BROKEN", "UNSEALED", "GOOD"], 3),
        (["UNSEALED", "BROKEN"], 3),
    ],
)
def test_every_item_is_reported_and_the_worst_code_wins(
    items: Path, invoke: Any, targets: list[str], code: int
) -> None:
    res = invoke("--case", str(items), "verify", *targets)
    assert res.exit_code == code, res.output
    for target in targets:
        assert f"{target}: " in res.stdout, res.stdout
    if "UNSEALED" in targets:
        assert "UNSEALED: NOT SEALED" in res.stdout
    if "GOOD" in targets:
        assert "GOOD: OK" in res.stdout
    doc = json.loads(invoke("--json", "--case", str(items), "verify", *targets).stdout)
    assert [i["item"] for i in doc["items"]] == targets
    assert doc["exit_code"] == code
