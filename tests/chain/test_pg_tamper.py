"""Tamper evidence on the PostgreSQL ledger: the edits of tests/chain/test_tamper.py, made by the
database's owner with the append-only triggers dropped (the application role cannot make them at
all: test_pg_ledger.py); `custody verify` exits 3 naming the event."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from evidencekit.case import Case
from evidencekit.chain.merkle import leaf_hash
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.custody import list_events, verify_custody
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import SECOND, populate
from tests.conftest import PASSPHRASE, TEST_KDF
from tests.pgserver import OWNER, PGServer

N = 9  # case_opened + 8 events
TABLES = ("ledgers", "events", "nodes", "checkpoints")


def make_pg_ledger_case(path: Path, url: str, identity: Identity, ek_home: Path) -> Path:
    """The events of tests/chain/test_tamper.py's `ledger_case` in a PostgreSQL ledger: the
    second examiner pinned in the first event (`case init --pin`), then `populate`."""
    other = IdentityStore(ek_home).create(
        SECOND, PASSPHRASE.encode(), org="Viện KSND", kdf=TEST_KDF
    )
    case = init_case(
        path,
        identity,
        number=f"VKS-PG-{uuid.uuid4().hex[:12]}",
        title="Vụ án trộm cắp tài sản",
        timezone="Asia/Ho_Chi_Minh",
        pins=[other.certificate],
        ledger=url,
    )
    populate(case, identity, other)
    return path


@pytest.fixture
def ledger_case(tmp_path: Path, identity: Identity, ek_home: Path, pg_url: str) -> Path:
    return make_pg_ledger_case(tmp_path / "case", pg_url, identity, ek_home)


class RawEdit:
    """The owner's connection inside one transaction, with the triggers dropped: every
    statement is scoped to one ledger (`%(l)s`)."""

    def __init__(self, conn: psycopg.Connection[Any], origin: str) -> None:
        self.conn = conn
        self.origin = origin

    def execute(self, sql: str, args: dict[str, Any] | None = None) -> Any:
        return self.conn.execute(sql, {"l": self.origin, **(args or {})})


@contextmanager
def raw_pg(server: PGServer, case_dir: Path, db: str = "evidencekit") -> Iterator[RawEdit]:
    """What an attacker with the owner's password does: drop the append-only triggers, edit,
    put the triggers back (all in one transaction, so other tests never see them missing)."""
    origin = ledger_origin(Case.open(case_dir))
    with server.connect(OWNER, db) as conn:
        for t in TABLES:
            conn.execute(f"DROP TRIGGER {t}_append_only ON evidencekit.{t}")
        yield RawEdit(conn, origin)
        for t in TABLES:
            conn.execute(
                f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON "
                f"evidencekit.{t} FOR EACH STATEMENT EXECUTE FUNCTION evidencekit.refuse_change()"
            )
        conn.commit()


def _verify(invoke: Any, case_dir: Path) -> tuple[int, dict[str, Any]]:
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    return res.exit_code, json.loads(res.stdout)


def _text(invoke: Any, case_dir: Path) -> str:
    return str(invoke("--case", str(case_dir), "custody", "verify").stdout)


def test_untouched_ledger_verifies(ledger_case: Path, invoke: Any) -> None:
    code, doc = _verify(invoke, ledger_case)
    assert code == 0, doc["problems"]
    assert doc["ok"] and doc["events"] == N and doc["checkpoints"] == N
    assert "Custody ledger OK: 9 events" in _text(invoke, ledger_case)


def test_updated_field(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        (data,) = db.execute(
            "SELECT data FROM evidencekit.events WHERE ledger = %(l)s AND seq = 1"
        ).fetchone()
        forged = bytes(data).replace(b"NB-0001", b"NB-0002")
        assert forged != data
        db.execute(
            "UPDATE evidencekit.events SET data = %(d)s WHERE ledger = %(l)s AND seq = 1",
            {"d": forged},
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 1
    assert "bad-signature" in {p["kind"] for p in doc["problems"] if p["seq"] == 1}
    assert "first bad event: 1" in _text(invoke, ledger_case)


def test_updated_field_with_recomputed_leaf(
    ledger_case: Path, invoke: Any, pg_server: PGServer
) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        (data,) = db.execute(
            "SELECT data FROM evidencekit.events WHERE ledger = %(l)s AND seq = 6"
        ).fetchone()
        forged = bytes(data).replace("nguyên vẹn".encode(), "hư hỏng".encode())
        db.execute(
            "UPDATE evidencekit.events SET data = %(d)s, leaf_hash = %(h)s "
            "WHERE ledger = %(l)s AND seq = 6",
            {"d": forged, "h": leaf_hash(forged)},
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3 and doc["first_bad_event"] == 6


def test_deleted_row(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        db.execute("DELETE FROM evidencekit.events WHERE ledger = %(l)s AND seq = 4")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 4
    assert any(p["kind"] == "missing" and p["seq"] == 4 for p in doc["problems"])
    assert "event 4 is missing" in _text(invoke, ledger_case)


def test_swapped_rows(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    cols = "item, kind, time, signer, data, signature, leaf_hash"
    with raw_pg(pg_server, ledger_case) as db:
        rows = {
            r[0]: r[1:]
            for r in db.execute(
                f"SELECT seq, {cols} FROM evidencekit.events WHERE ledger = %(l)s AND seq IN (2, 3)"
            ).fetchall()
        }
        for seq, other in ((2, 3), (3, 2)):
            db.execute(
                "UPDATE evidencekit.events SET item=%(a)s, kind=%(b)s, time=%(c)s, signer=%(d)s, "
                "data=%(e)s, signature=%(f)s, leaf_hash=%(g)s WHERE ledger = %(l)s AND seq = %(s)s",
                {**dict(zip("abcdefg", rows[other], strict=True)), "s": seq},
            )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 2
    assert any(p["kind"] == "moved" and p["seq"] == 2 for p in doc["problems"])


def test_forged_insert_with_another_key(
    ledger_case: Path, invoke: Any, identity: Identity, ek_home: Path, pg_server: PGServer
) -> None:
    # an insert needs no dropped trigger: the application role could make it, and the
    # signature and checkpoints catch it
    forger = IdentityStore(ek_home).create("Kẻ giả mạo", PASSPHRASE.encode(), kdf=TEST_KDF)
    last = list_events(Case.open(ledger_case), "USB02")[-1]
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
    with pg_server.connect() as conn:
        conn.execute(
            "INSERT INTO evidencekit.events VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                ledger_origin(Case.open(ledger_case)),
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
    assert {"bad-signature", "uncovered"} <= {p["kind"] for p in doc["problems"] if p["seq"] == N}


def test_duplicated_row(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        db.execute(
            "INSERT INTO evidencekit.events SELECT ledger, %(n)s, item, kind, time, signer, "
            "data, signature, leaf_hash FROM evidencekit.events WHERE ledger = %(l)s AND seq = 2",
            {"n": N},
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == N
    assert any(p["kind"] == "moved" and p["seq"] == N for p in doc["problems"])


def test_truncated_after_last_checkpoint(
    ledger_case: Path, invoke: Any, pg_server: PGServer
) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        db.execute("DELETE FROM evidencekit.events WHERE ledger = %(l)s AND seq >= 7")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 7
    assert any(p["kind"] == "truncated" for p in doc["problems"])
    assert "event 7 onwards is missing" in _text(invoke, ledger_case)


def test_truncated_with_its_checkpoints_caught_by_old_checkpoint(
    ledger_case: Path, invoke: Any, tmp_path: Path, ek_home: Path, pg_server: PGServer
) -> None:
    old = invoke("--case", str(ledger_case), "custody", "checkpoint")
    assert old.exit_code == 0
    cp = tmp_path / "report-checkpoint.txt"
    cp.write_text(old.stdout, "utf-8")
    with raw_pg(pg_server, ledger_case) as db:
        db.execute("DELETE FROM evidencekit.events WHERE ledger = %(l)s AND seq >= 7")
        db.execute("DELETE FROM evidencekit.checkpoints WHERE ledger = %(l)s AND tree_size > 7")
        db.execute(
            "DELETE FROM evidencekit.nodes WHERE ledger = %(l)s AND ((idx + 1) << level) > 7"
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert [p["kind"] for p in doc["problems"]] == ["rolled-back"], doc["problems"]
    assert "2 event(s) were removed" in doc["problems"][0]["message"]
    shutil.rmtree(ek_home / "checkpoints")
    code, doc = _verify(invoke, ledger_case)
    assert code == 0, doc["problems"]
    res = invoke("--case", str(ledger_case), "custody", "consistency", str(cp))
    assert res.exit_code == 3
    assert "removed" in res.stderr


def test_tampered_merkle_node(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        db.execute(
            "UPDATE evidencekit.nodes SET hash = decode(repeat('00', 32), 'hex') "
            "WHERE ledger = %(l)s AND level = 1 AND idx = 1"
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "node-mismatch" for p in doc["problems"])


def test_tampered_checkpoint(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        (note,) = db.execute(
            "SELECT note FROM evidencekit.checkpoints WHERE ledger = %(l)s AND id = 5"
        ).fetchone()
        lines = note.split("\n")
        lines[1] = "4"
        db.execute(
            "UPDATE evidencekit.checkpoints SET note = %(n)s WHERE ledger = %(l)s AND id = 5",
            {"n": "\n".join(lines)},
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "bad-checkpoint" for p in doc["problems"])


def test_deleted_checkpoints(ledger_case: Path, invoke: Any, pg_server: PGServer) -> None:
    with raw_pg(pg_server, ledger_case) as db:
        db.execute("DELETE FROM evidencekit.checkpoints WHERE ledger = %(l)s AND id > 3")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 3
    assert any(p["kind"] == "uncovered" for p in doc["problems"])


def test_parallel_verification_finds_the_same(ledger_case: Path, pg_server: PGServer) -> None:
    case = Case.open(ledger_case)
    assert verify_custody(case, workers=2).ok
    with raw_pg(pg_server, ledger_case) as db:
        db.execute("DELETE FROM evidencekit.events WHERE ledger = %(l)s AND seq = 3")
        db.execute("UPDATE evidencekit.checkpoints SET note = 'x' WHERE ledger = %(l)s AND id = 2")
    one = verify_custody(case, workers=1)
    two = verify_custody(case, workers=2)
    assert not two.ok and two.problems == one.problems
    assert two.first_bad_event == 3


def test_dropped_table(
    tmp_path: Path, identity: Identity, ek_home: Path, pg_server: PGServer, invoke: Any
) -> None:
    db = f"drop_{uuid.uuid4().hex[:8]}"
    case_dir = make_pg_ledger_case(tmp_path / "c", pg_server.create_database(db), identity, ek_home)
    with pg_server.connect(OWNER, db) as conn:
        conn.execute("DROP TABLE evidencekit.nodes")
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3
    assert "no evidencekit ledger tables" in res.stderr
