"""Tamper evidence: edit custody.sqlite directly; `custody verify` exits 3 naming the event."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.chain.merkle import leaf_hash
from evidencekit.chain.parties import Party
from evidencekit.errors import CustodyError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.custody import list_events
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import populate, raw_db, second_examiner
from tests.conftest import PASSPHRASE

N = 9  # case_opened + 8 events


@pytest.fixture
def ledger_case(case_dir: Path, identity: Identity, ek_home: Path) -> Path:
    case = Case.open(case_dir)
    b = second_examiner(ek_home, case)
    populate(case, identity, b)
    return case_dir


def _verify(invoke: Any, case_dir: Path) -> tuple[int, dict[str, Any]]:
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    return res.exit_code, json.loads(res.stdout)


def _text(invoke: Any, case_dir: Path) -> str:
    res = invoke("--case", str(case_dir), "custody", "verify")
    return str(res.stdout)


def test_untouched_ledger_verifies(ledger_case: Path, invoke: Any) -> None:
    code, doc = _verify(invoke, ledger_case)
    assert code == 0, doc["problems"]
    assert doc["ok"] and doc["events"] == N and doc["checkpoints"] == N
    assert "Custody ledger OK: 9 events" in _text(invoke, ledger_case)


def test_updated_field(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        (data,) = db.execute("SELECT data FROM events WHERE seq = 1").fetchone()
        forged = bytes(data).replace(b"NB-0001", b"NB-0002")
        assert forged != data
        db.execute("UPDATE events SET data = ? WHERE seq = 1", (forged,))
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 1
    kinds = {p["kind"] for p in doc["problems"] if p["seq"] == 1}
    assert "bad-signature" in kinds
    assert "first bad event: 1" in _text(invoke, ledger_case)


def test_updated_field_with_recomputed_leaf_and_nodes(ledger_case: Path, invoke: Any) -> None:
    # A careful attacker also fixes the leaf hash column: the signature and checkpoints still
    # catch it.
    with raw_db(ledger_case) as db:
        (data,) = db.execute("SELECT data FROM events WHERE seq = 6").fetchone()
        forged = bytes(data).replace("nguyên vẹn".encode(), "hư hỏng".encode())
        db.execute(
            "UPDATE events SET data = ?, leaf_hash = ? WHERE seq = 6", (forged, leaf_hash(forged))
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3 and doc["first_bad_event"] == 6


def test_deleted_row(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute("DELETE FROM events WHERE seq = 4")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 4
    assert any(p["kind"] == "missing" and p["seq"] == 4 for p in doc["problems"])
    assert "event 4 is missing" in _text(invoke, ledger_case)


def test_swapped_rows(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        rows = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT seq, item, kind, time, signer, data, signature, leaf_hash FROM events "
                "WHERE seq IN (2, 3)"
            )
        }
        for seq, other in ((2, 3), (3, 2)):
            db.execute(
                "UPDATE events SET item=?, kind=?, time=?, signer=?, data=?, signature=?, "
                "leaf_hash=? WHERE seq = ?",
                (*rows[other], seq),
            )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 2
    assert any(p["kind"] == "moved" and p["seq"] == 2 for p in doc["problems"])


def test_forged_insert_with_another_key(
    ledger_case: Path, invoke: Any, identity: Identity, ek_home: Path
) -> None:
    # The forger claims to be the pinned examiner but signs with their own key.
    forger = IdentityStore(ek_home).create("Kẻ giả mạo", PASSPHRASE.encode())
    case = Case.open(ledger_case)
    last = list_events(case, "USB02")[-1]
    body = {
        **{k: v for k, v in last.items() if k not in ("signature", "leaf_hash", "item_id")},
        "seq": N,
        "kind": "released",
        "prev": last["leaf_hash"],
        "digests": [],
        "reason": "giả",
    }
    from evidencekit.hash.canonical import canonical_json

    data = canonical_json(body)
    with raw_db(ledger_case) as db:
        db.execute(
            "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                N,
                "USB02",
                "released",
                body["time"],
                identity.fingerprint,
                data,
                forger.sign(data),
                leaf_hash(data),
            ),
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == N
    kinds = {p["kind"] for p in doc["problems"] if p["seq"] == N}
    assert {"bad-signature", "uncovered"} <= kinds


def test_duplicated_row(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute(
            "INSERT INTO events SELECT ?, item, kind, time, signer, data, signature, leaf_hash "
            "FROM events WHERE seq = 2",
            (N,),
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == N
    assert any(p["kind"] == "moved" and p["seq"] == N for p in doc["problems"])


def test_truncated_after_last_checkpoint(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute("DELETE FROM events WHERE seq >= 7")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 7
    assert any(p["kind"] == "truncated" for p in doc["problems"])
    assert "event 7 onwards is missing" in _text(invoke, ledger_case)


def test_truncated_with_its_checkpoints_caught_by_old_checkpoint(
    ledger_case: Path, invoke: Any, tmp_path: Path, ek_home: Path
) -> None:
    old = invoke("--case", str(ledger_case), "custody", "checkpoint")
    assert old.exit_code == 0
    cp = tmp_path / "report-checkpoint.txt"
    cp.write_text(old.stdout, "utf-8")
    ok = invoke("--case", str(ledger_case), "custody", "consistency", str(cp))
    assert ok.exit_code == 0, ok.output
    with raw_db(ledger_case) as db:
        db.execute("DELETE FROM events WHERE seq >= 7")
        db.execute("DELETE FROM checkpoints WHERE tree_size > 7")
        for level in range(5):
            db.execute("DELETE FROM nodes WHERE level = ? AND (idx + 1) << ? > 7", (level, level))
    # the examiner who saw the longer ledger: their home's checkpoint names the rollback
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert [p["kind"] for p in doc["problems"]] == ["rolled-back"], doc["problems"]
    assert "2 event(s) were removed" in doc["problems"][0]["message"]
    # a reader who never saw it finds the ledger internally consistent again ...
    shutil.rmtree(ek_home / "checkpoints")
    code, doc = _verify(invoke, ledger_case)
    assert code == 0, doc["problems"]
    # ... but not with the checkpoint printed in the earlier report
    res = invoke("--case", str(ledger_case), "custody", "consistency", str(cp))
    assert res.exit_code == 3
    assert "removed" in res.stderr


def test_rebuilt_with_another_key(
    ledger_case: Path, invoke: Any, ek_home: Path, tmp_path: Path
) -> None:
    case = Case.open(ledger_case)
    old_cp = tmp_path / "cp.txt"
    old_cp.write_text(invoke("--case", str(ledger_case), "custody", "checkpoint").stdout)
    events = list_events(case)
    forger = IdentityStore(ek_home).create("Kẻ giả mạo", PASSPHRASE.encode())
    fresh = tmp_path / "rebuilt.sqlite"
    with Ledger.create(
        fresh, ledger_origin(case), trusted={forger.fingerprint: forger.certificate}
    ) as ledger:
        for ev in events:
            ledger.append(
                forger,
                [
                    Draft(
                        kind=ev["kind"],
                        item_id=ev["item"],
                        description=ev["description"],
                        note=ev["note"],
                        purpose=ev["purpose"],
                        digests=ev["digests"],
                        details=ev["details"],  # the working copy an analysis names
                        counterpart=None
                        if ev["counterpart"] is None
                        else Party(ev["counterpart"]["name"], ev["counterpart"]["fingerprint"]),
                        override="rebuilt" if ev["kind"] in ("received",) else None,
                    )
                ],
            )
    shutil.copyfile(fresh, ledger_case / "custody.sqlite")
    for suffix in ("-wal", "-shm"):
        (ledger_case / f"custody.sqlite{suffix}").unlink(missing_ok=True)
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 0
    assert any(p["kind"] == "unknown-signer" and p["seq"] == 0 for p in doc["problems"])
    assert any(p["kind"] == "bad-checkpoint" for p in doc["problems"])
    # Even trusting the forger (e.g. pinned by an insider), the old checkpoint exposes it.
    forger_cert = tmp_path / "forger.pem"
    forger_cert.write_text(forger.cert_pem())
    res = invoke(
        "--case",
        str(ledger_case),
        "custody",
        "consistency",
        str(old_cp),
        "--trust",
        str(forger_cert),
    )
    assert res.exit_code == 3, res.output


def test_tampered_merkle_node(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute("UPDATE nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 1")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "node-mismatch" for p in doc["problems"])


def test_tampered_checkpoint(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        (note,) = db.execute("SELECT note FROM checkpoints WHERE id = 5").fetchone()
        lines = note.split("\n")
        lines[1] = "4"
        db.execute("UPDATE checkpoints SET note = ? WHERE id = 5", ("\n".join(lines),))
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "bad-checkpoint" for p in doc["problems"])


def test_garbage_file(case_dir: Path, invoke: Any) -> None:
    (case_dir / "custody.sqlite").write_bytes(b"not a database" * 100)
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3


def test_parallel_verification_finds_the_same(ledger_case: Path) -> None:
    from evidencekit.workflows.custody import verify_custody

    case = Case.open(ledger_case)
    assert verify_custody(case, workers=2).ok
    with raw_db(ledger_case) as db:
        db.execute("DELETE FROM events WHERE seq = 3")
        db.execute("UPDATE checkpoints SET note = 'x' WHERE id = 2")
    one = verify_custody(case, workers=1)
    two = verify_custody(case, workers=2)
    assert not two.ok and two.problems == one.problems
    assert two.first_bad_event == 3


def test_deleted_checkpoints(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute("DELETE FROM checkpoints WHERE id > 3")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 3
    assert any(p["kind"] == "uncovered" for p in doc["problems"])


def test_dropped_table(ledger_case: Path, invoke: Any) -> None:
    with raw_db(ledger_case) as db:
        db.execute("DROP TABLE nodes")
    res = invoke("--case", str(ledger_case), "custody", "verify")
    assert res.exit_code == 3
    assert "damaged" in res.stderr or "altered" in res.stderr


def test_rule_the_ledger_enforces_is_enforced_by_verify_too(
    ledger_case: Path, invoke: Any, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pinned examiner's own software writing around the rules (here: an item-level
    case_opened, which append refuses) is still caught on replay: verify and append share one
    rule check."""
    from evidencekit.chain import ledger as ledger_module

    case = Case.open(ledger_case)
    item = next(ev["item"] for ev in list_events(case) if ev["item"])
    with (
        pytest.raises(CustodyError, match="about the case, not an item"),
        Ledger.open(
            ledger_case / "custody.sqlite", ledger_origin(case), trusted=case.trusted()
        ) as ledger,
    ):
        ledger.append(identity, [Draft(kind="case_opened", item_id=item)])
    monkeypatch.setattr(ledger_module, "check_event", lambda *a, **k: None)
    with Ledger.open(
        ledger_case / "custody.sqlite", ledger_origin(case), trusted=case.trusted()
    ) as ledger:
        ledger.append(identity, [Draft(kind="case_opened", item_id=item)])
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(
        p["kind"] == "rule-violation" and p["seq"] == N and "not an item" in p["message"]
        for p in doc["problems"]
    ), doc["problems"]
