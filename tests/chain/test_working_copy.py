"""Issue 16 (Art. 107 BLTTHS: examination is done on copies): `access`/`analyse` of an original
acquired image name the working copy used, recorded with its SHA-256; without one the command
is refused (exit 2) unless `--on-original REASON` is given, which `custody verify` notes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.workflows.custody import record_event, verify_custody


def _acquired(invoke: Any, case_dir: Path, tmp_path: Path) -> Path:
    disk = tmp_path / "đĩa gốc.raw"
    disk.write_bytes(bytes(range(256)) * 4096)  # 1 MiB
    res = invoke(
        "--case", str(case_dir), "acquire", "disk", str(disk), "--item", "HDD01", "--format", "raw"
    )
    assert res.exit_code == 0, res.output
    return disk


def _examine(invoke: Any, case_dir: Path, cmd: str, *args: str) -> Any:
    return invoke(
        "--json", "--case", str(case_dir), "custody", cmd, "HDD01", "--purpose", "tìm tệp", *args
    )


def test_original_without_working_copy_is_refused(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _acquired(invoke, case_dir, tmp_path)
    for cmd in ("access", "analyse"):
        res = _examine(invoke, case_dir, cmd)
        assert res.exit_code == 2, res.output
        assert "original acquired image" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    kinds = [e["kind"] for e in json.loads(invoke("--json", "--case", str(case_dir), "custody",
                                                   "log").stdout)["events"]]  # fmt: skip
    assert "analysed" not in kinds and "accessed" not in kinds


def test_working_copy_file_is_hashed(case_dir: Path, invoke: Any, tmp_path: Path) -> None:
    disk = _acquired(invoke, case_dir, tmp_path)
    copy = tmp_path / "bản sao làm việc.raw"
    copy.write_bytes(disk.read_bytes())
    res = _examine(invoke, case_dir, "analyse", "--working-copy", str(copy))
    assert res.exit_code == 0, res.output
    wc = json.loads(res.stdout)["event"]["details"]["working_copy"]
    assert wc == {
        "item": None,
        "path": str(copy.resolve()),
        "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
    }
    status = verify_custody(Case.open(case_dir))
    assert status.ok and status.notes == ()


def test_working_copy_item_carries_its_acquisition_digest(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    disk = _acquired(invoke, case_dir, tmp_path)
    copy = tmp_path / "copy.raw"
    copy.write_bytes(disk.read_bytes())
    res = invoke("--case", str(case_dir), "seal", str(copy), "--item", "WC1")
    assert res.exit_code == 0, res.output
    res = _examine(invoke, case_dir, "access", "--working-copy", "WC1")
    assert res.exit_code == 0, res.output
    wc = json.loads(res.stdout)["event"]["details"]["working_copy"]
    assert wc == {
        "item": "WC1",
        "path": None,
        "sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
    }
    # the item itself is no working copy of itself; nor is a name that is neither
    for ref in ("HDD01", str(tmp_path / "không có.raw")):
        res = _examine(invoke, case_dir, "analyse", "--working-copy", ref)
        assert res.exit_code == 2, res.output


def test_on_original_is_recorded_and_noted(case_dir: Path, invoke: Any, tmp_path: Path) -> None:
    _acquired(invoke, case_dir, tmp_path)
    res = _examine(invoke, case_dir, "analyse", "--on-original", "không đủ chỗ để sao chép")
    assert res.exit_code == 0, res.output
    ev = json.loads(res.stdout)["event"]
    assert ev["details"] == {"on_original": "không đủ chỗ để sao chép"}
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0, res.output
    assert (
        f"note: event {ev['seq']}: analysed the original of 'HDD01', not a working copy: "
        "không đủ chỗ để sao chép"
    ) in res.stdout
    doc = json.loads(invoke("--json", "--case", str(case_dir), "custody", "verify").stdout)
    assert doc["ok"] is True and len(doc["notes"]) == 1
    # both at once is a usage error
    res = _examine(invoke, case_dir, "analyse", "--on-original", "x", "--working-copy", "WC1")
    assert res.exit_code == 2


def test_registered_item_needs_no_working_copy(case_dir: Path, invoke: Any) -> None:
    """A seized device not (yet) imaged is no acquired image: looking at it is recorded as is."""
    res = invoke("--case", str(case_dir), "custody", "register", "HDD01", "--description", "Ổ")
    assert res.exit_code == 0
    res = _examine(invoke, case_dir, "access")
    assert res.exit_code == 0, res.output


def test_older_examination_without_working_copy_is_a_note_not_a_failure(
    case_dir: Path, identity: Any, monkeypatch: Any
) -> None:
    """An examination recorded before the rule (no working copy, no reason) still verifies:
    `custody verify` notes it instead of failing a ledger that was valid when written."""
    from evidencekit.chain.rules import ItemState

    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="ổ")
    record_event(case, identity, "acquired", "HDD01", digests={"sha256": "ab" * 32})
    with monkeypatch.context() as m:  # the ledger as it was before the rule
        m.setattr(ItemState, "_check_working_copy", lambda *a: None)
        record_event(case, identity, "analysed", "HDD01", purpose="cũ")
    status = verify_custody(case)
    assert status.ok, status.problems
    assert status.notes == (
        "event 3: analysed 'HDD01' without naming a working copy (recorded before the "
        "working-copy rule)",
    )
