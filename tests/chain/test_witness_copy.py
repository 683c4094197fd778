"""`custody witness`: a checkpoint a prosecutor keeps outside the lab, checked against the ledger
(issue 13). The ledger is attacked as an insider would: SQLite edits with the triggers dropped,
the ledger started again with the creator's own key, the kept file edited or forged with a key
of one's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.checkpoint import verify_checkpoint
from evidencekit.chain.witnesscopy import MAX_BYTES, make_witness
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import record_opened
from evidencekit.workflows.custody import latest_checkpoint, record_event
from tests.chain.test_witness import _truncate
from tests.conftest import PASSPHRASE, TEST_KDF, need_peer


def _events(case: Case, identity: Identity, n: int, item: str = "HDD01") -> None:
    record_event(case, identity, "registered", item, description="Ổ cứng")
    for i in range(n - 1):
        record_event(case, identity, "note", item, note=f"ghi chú {i}")


def _export(invoke: Any, case_dir: Path, out: Path) -> Any:
    res = invoke("--case", str(case_dir), "custody", "witness", "--out", str(out))
    assert res.exit_code == 0, res.output
    return res


def _check(invoke: Any, case_dir: Path, kept: Path, *extra: str) -> Any:
    return invoke("--case", str(case_dir), "custody", "witness", "check", str(kept), *extra)


def test_export_then_check_after_more_events(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    case = Case.open(case_dir)
    _events(case, identity, 3)
    kept = tmp_path / "kiểm sát viên" / "VKS-2024-06.witness.json"
    kept.parent.mkdir()
    res = _export(invoke, case_dir, kept)
    assert "Witness copy of 4 events" in res.stderr + res.stdout
    doc = json.loads(kept.read_text("utf-8"))
    assert doc["schema"] == "evidencekit/witness/1"
    assert doc["signed_tree_head"]["tree_size"] == 4
    assert doc["exporter"]["fingerprint"] == identity.fingerprint
    assert doc["case"]["identity"].startswith("sha256:")
    assert doc["rfc3161"] is None
    # the same ledger: consistent, with an empty proof
    assert _check(invoke, case_dir, kept).exit_code == 0
    _events(case, identity, 5, "USB02")
    res = _check(invoke, case_dir, kept)
    assert res.exit_code == 0, res.output
    assert "the ledger (9 events) extends the kept checkpoint of 4 events" in res.stdout
    out = invoke("--case", str(case_dir), "--json", "custody", "witness", "check", str(kept))
    got = json.loads(out.stdout)
    assert got["kept"]["tree_size"] == 4 and got["current"]["tree_size"] == 9
    assert got["proof"]["path"]  # a real consistency proof from 4 to 9


@pytest.mark.parametrize("removed", [1, 3])
def test_a_truncated_ledger_fails_naming_the_kept_tree(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path, removed: int
) -> None:
    case = Case.open(case_dir)
    _events(case, identity, 5)
    kept = tmp_path / "kept.json"
    _export(invoke, case_dir, kept)
    root = json.loads(kept.read_text())["signed_tree_head"]["sha256_root_hash"]
    _truncate(case_dir, 6 - removed)
    res = _check(invoke, case_dir, kept)
    assert res.exit_code == 3, res.output
    assert f"the kept checkpoint of 6 events (root {root}" in res.stderr
    assert f"{removed} event(s) were removed" in res.stderr


def test_a_rewritten_ledger_fails(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    """Truncated to 2 events, then grown past the kept size with other events."""
    case = Case.open(case_dir)
    _events(case, identity, 4)
    kept = tmp_path / "kept.json"
    _export(invoke, case_dir, kept)
    _truncate(case_dir, 2)
    shutil.rmtree(Path(str(tmp_path / "ekhome")) / "checkpoints", ignore_errors=True)
    for i in range(5):
        record_event(case, identity, "note", "HDD01", note=f"bản khác {i}")
    res = _check(invoke, case_dir, kept)
    assert res.exit_code == 3, res.output
    assert "the kept checkpoint of 5 events" in res.stderr and "(rewritten)" in res.stderr


def test_a_ledger_started_again_with_the_same_key_is_another_ledger(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path, ek_home: Path
) -> None:
    case = Case.open(case_dir)
    _events(case, identity, 3)
    kept = tmp_path / "kept.json"
    _export(invoke, case_dir, kept)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{case.ledger_path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(ek_home / "checkpoints", ignore_errors=True)
    record_opened(case, identity)
    _events(case, identity, 6)  # longer than the kept one, same origin, same examiner
    res = _check(invoke, case_dir, kept)
    assert res.exit_code == 3, res.output
    assert "the kept checkpoint of 4 events" in res.stderr
    assert "this is another ledger" in res.stderr


def _edited(kept: Path, out: Path, edit: Any) -> Path:
    doc = json.loads(kept.read_text("utf-8"))
    edit(doc)
    out.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    return out


def test_a_tampered_or_forged_witness_file_is_refused(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    case = Case.open(case_dir)
    _events(case, identity, 3)
    kept = tmp_path / "kept.json"
    _export(invoke, case_dir, kept)

    def smaller(doc: dict[str, Any]) -> None:
        doc["signed_tree_head"]["tree_size"] = 2

    def other_case(doc: dict[str, Any]) -> None:
        doc["case"]["identity"] = "sha256:" + "00" * 32

    def later_export(doc: dict[str, Any]) -> None:
        doc["exported"] = "2030-01-01T00:00:00Z"

    for n, edit in enumerate((smaller, other_case, later_export)):
        res = _check(invoke, case_dir, _edited(kept, tmp_path / f"e{n}.json", edit))
        assert res.exit_code == 3, res.output
        assert "does not match its content" in res.stderr

    # a copy forged by someone with a key of their own (not pinned): refused
    other = IdentityStore(tmp_path / "attacker").create(
        "Lê Văn Giả", PASSPHRASE.encode(), kdf=TEST_KDF
    )
    note = latest_checkpoint(case)
    assert note is not None
    vc = verify_checkpoint(note, case.trusted())
    doc = json.loads(kept.read_text("utf-8"))
    forged = make_witness(
        case_number=doc["case"]["number"],
        case_identity=doc["case"]["identity"],
        checkpoint=vc,
        created=doc["signed_tree_head"]["timestamp"],
        exported=doc["exported"],
        identity=other,
    )
    (tmp_path / "forged.json").write_bytes(forged)
    res = _check(invoke, case_dir, tmp_path / "forged.json")
    assert res.exit_code == 3 and "whom the case does not pin" in res.stderr

    # duplicate keys (two readers would see two sizes), oversized, not JSON, a link
    text = kept.read_text("utf-8")
    dup = text.replace('"schema":', '"schema": "x", "schema":', 1)
    (tmp_path / "dup.json").write_text(dup, "utf-8")
    res = _check(invoke, case_dir, tmp_path / "dup.json")
    assert res.exit_code == 3 and "duplicate key 'schema'" in res.stderr
    (tmp_path / "big.json").write_bytes(b" " * (MAX_BYTES + 1))
    res = _check(invoke, case_dir, tmp_path / "big.json")
    assert res.exit_code == 3 and "refused" in res.stderr
    (tmp_path / "no.json").write_text("[]", "utf-8")
    assert _check(invoke, case_dir, tmp_path / "no.json").exit_code == 3
    (tmp_path / "link.json").symlink_to(kept)
    assert _check(invoke, case_dir, tmp_path / "link.json").exit_code == 3


def test_a_witness_of_another_case_is_refused(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    other_dir = tmp_path / "case2"
    res = invoke(
        "case", "init", str(other_dir), "--case-number", "VKS-2024-07", "--title", "Vụ khác"
    )
    assert res.exit_code == 0, res.output
    kept = tmp_path / "other.json"
    _export(invoke, other_dir, kept)
    res = _check(invoke, case_dir, kept)
    assert res.exit_code == 3
    assert "this is another ledger" in res.stderr


def test_only_a_trusted_examiner_exports(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    other = IdentityStore(tmp_path / "ekhome").create(
        "Lê Văn Giả", PASSPHRASE.encode(), kdf=TEST_KDF
    )
    res = invoke(
        "--case", str(case_dir), "--identity", other.name, "custody", "witness",
        "--out", str(tmp_path / "w.json"),
    )  # fmt: skip
    assert res.exit_code == 1 and "may not sign for case" in res.stderr
    assert not (tmp_path / "w.json").exists()


@pytest.mark.peer
def test_the_newest_timestamp_travels_with_the_copy(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    need_peer("openssl")
    from tests.report.tsa import local_tsa

    case = Case.open(case_dir)
    _events(case, identity, 2)
    with local_tsa(tmp_path / "tsa") as url:
        res = invoke("--case", str(case_dir), "custody", "timestamp", "--tsa", url)
        assert res.exit_code == 0, res.output
    kept = tmp_path / "kept.json"
    _export(invoke, case_dir, kept)
    doc = json.loads(kept.read_text("utf-8"))
    assert doc["rfc3161"]["tree_size"] == 3 and doc["rfc3161"]["token"]
    res = _check(invoke, case_dir, kept, "--tsa-cert", str(tmp_path / "tsa" / "tsa.crt"))
    assert res.exit_code == 0, res.output
    assert "events 0–2 existed by" in res.stdout
    # signed by a pinned examiner, but the token is over another text than its checkpoint
    vc = verify_checkpoint(doc["signed_tree_head"]["checkpoint"], case.trusted())
    bogus = make_witness(
        case_number=doc["case"]["number"],
        case_identity=doc["case"]["identity"],
        checkpoint=vc,
        created=doc["signed_tree_head"]["timestamp"],
        exported=doc["exported"],
        identity=identity,
        rfc3161={**doc["rfc3161"], "checkpoint": doc["signed_tree_head"]["checkpoint"]},
    )
    (tmp_path / "bogus.json").write_bytes(bogus)
    res = _check(invoke, case_dir, tmp_path / "bogus.json")
    assert res.exit_code == 3, res.output
    assert "over other data than this checkpoint" in res.stderr


def test_export_to_stdout_is_the_file(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    for args in (("custody", "witness"), ("--json", "custody", "witness")):
        res = invoke("--case", str(case_dir), *args)
        assert res.exit_code == 0, res.output
        kept = tmp_path / "stdout.json"
        kept.write_text(res.stdout, "utf-8")
        assert json.loads(res.stdout)["schema"] == "evidencekit/witness/1"
        assert _check(invoke, case_dir, kept).exit_code == 0
