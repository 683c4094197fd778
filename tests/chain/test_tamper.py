"""Tamper evidence: edit the ledger's tables directly; `custody verify` exits 3 naming the event.

Every edit is made on both backends: the SQLite file (`custody.sqlite`, its append-only triggers
dropped, as anyone with the file can) and the PostgreSQL ledger (by the database's owner with the
triggers dropped; the application role cannot make them at all: test_pg_ledger.py). The
PostgreSQL cases skip without a server on a laptop and fail in CI (tests/pgserver.py).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.chain.merkle import leaf_hash
from evidencekit.chain.parties import Party
from evidencekit.errors import CustodyError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.custody import list_events, verify_custody
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import SECOND, populate, raw_db, second_examiner
from tests.conftest import PASSPHRASE, TEST_KDF
from tests.pgserver import OWNER, PGServer

N = 9  # case_opened + 8 events
PG_TABLES = ("ledgers", "events", "nodes", "checkpoints")


class Edit:
    """Statements on one ledger's tables, written once for both backends: `{events}`,
    `{nodes}`, `{checkpoints}` name the table, `{scope}` starts a WHERE clause with the
    ledger's own rows (PostgreSQL holds many ledgers in one table), `{ledger}` puts the
    ledger's name first in an inserted row, and `?` marks each argument."""

    def __init__(self, execute: Any, pg: bool, origin: str) -> None:
        self._execute = execute
        self.pg = pg
        self.origin = origin

    def execute(self, template: str, *args: object) -> Any:
        schema = "evidencekit." if self.pg else ""
        marks = {
            "events": f"{schema}events",
            "nodes": f"{schema}nodes",
            "checkpoints": f"{schema}checkpoints",
            "scope": "ledger = %(ledger)s AND " if self.pg else "",
            "ledger": "%(ledger)s, " if self.pg else "",
        }
        sql = template.format(**marks)
        if not self.pg:
            return self._execute(sql, args)
        head, *rest = sql.split("?")
        sql = head + "".join(f"%(a{i})s{part}" for i, part in enumerate(rest))
        named = {f"a{i}": value for i, value in enumerate(args)}
        return self._execute(sql, {"ledger": self.origin, **named})


class Backend:
    """Where the case's ledger is, and how an attacker edits it."""

    def __init__(self, name: str, tmp_path: Path, identity: Identity, ek_home: Path) -> None:
        self.name = name
        self.tmp_path = tmp_path
        self.identity = identity
        self.ek_home = ek_home
        self.server: PGServer | None = None

    def make_case(self, path: Path, request: pytest.FixtureRequest, db: str | None = None) -> Path:
        """A case with the events of `populate`: the second examiner pinned in its first
        event (`case init --pin`), then registered, acquired, handed over, examined."""
        if self.name == "sqlite":
            case_dir: Path = request.getfixturevalue("case_dir")
            case = Case.open(case_dir)
            populate(case, self.identity, second_examiner(self.ek_home, case))
            return case_dir
        self.server = request.getfixturevalue("pg_server")
        url = self.server.url() if db is None else self.server.create_database(db)
        other = IdentityStore(self.ek_home).create(
            SECOND, PASSPHRASE.encode(), org="Viện KSND", kdf=TEST_KDF
        )
        case = init_case(
            path,
            self.identity,
            number=f"VKS-PG-{uuid.uuid4().hex[:12]}",
            title="Vụ án trộm cắp tài sản",
            timezone="Asia/Ho_Chi_Minh",
            pins=[other.certificate],
            ledger=url,
        )
        populate(case, self.identity, other)
        return path

    @contextmanager
    def edit(self, case_dir: Path) -> Iterator[Edit]:
        """What an attacker with the file, or with the database owner's password, does: drop
        the append-only triggers and edit (on PostgreSQL in one transaction that puts the
        triggers back, so other tests never see them missing)."""
        origin = ledger_origin(Case.open(case_dir))
        if self.server is None:
            with raw_db(case_dir) as db:
                yield Edit(db.execute, False, origin)
            return
        with self.server.connect(OWNER) as conn:
            for t in PG_TABLES:
                conn.execute(f"DROP TRIGGER {t}_append_only ON evidencekit.{t}")
            yield Edit(conn.execute, True, origin)
            for t in PG_TABLES:
                conn.execute(
                    f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON "
                    f"evidencekit.{t} FOR EACH STATEMENT EXECUTE FUNCTION "
                    "evidencekit.refuse_change()"
                )
            conn.commit()

    @contextmanager
    def insert(self, case_dir: Path) -> Iterator[Edit]:
        """A connection with the append-only triggers in place: an insert needs none dropped."""
        origin = ledger_origin(Case.open(case_dir))
        if self.server is None:
            conn = sqlite3.connect(case_dir / "custody.sqlite", isolation_level=None)
            try:
                yield Edit(conn.execute, False, origin)
            finally:
                conn.close()
            return
        with self.server.connect() as pg:
            yield Edit(pg.execute, True, origin)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, identity: Identity, ek_home: Path
) -> Backend:
    return Backend(request.param, tmp_path, identity, ek_home)


@pytest.fixture
def ledger_case(backend: Backend, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    return backend.make_case(tmp_path / "case", request)


@pytest.fixture
def sqlite_case(case_dir: Path, identity: Identity, ek_home: Path) -> Path:
    """The same events in a SQLite ledger, for the edits only a file allows."""
    case = Case.open(case_dir)
    populate(case, identity, second_examiner(ek_home, case))
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


def test_updated_field(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        (data,) = db.execute("SELECT data FROM {events} WHERE {scope}seq = 1").fetchone()
        forged = bytes(data).replace(b"NB-0001", b"NB-0002")
        assert forged != data
        db.execute("UPDATE {events} SET data = ? WHERE {scope}seq = 1", forged)
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 1
    kinds = {p["kind"] for p in doc["problems"] if p["seq"] == 1}
    assert "bad-signature" in kinds
    assert "first bad event: 1" in _text(invoke, ledger_case)


def test_updated_field_with_recomputed_leaf_and_nodes(
    ledger_case: Path, invoke: Any, backend: Backend
) -> None:
    # A careful attacker also fixes the leaf hash column: the signature and checkpoints still
    # catch it.
    with backend.edit(ledger_case) as db:
        (data,) = db.execute("SELECT data FROM {events} WHERE {scope}seq = 6").fetchone()
        forged = bytes(data).replace("nguyên vẹn".encode(), "hư hỏng".encode())
        db.execute(
            "UPDATE {events} SET data = ?, leaf_hash = ? WHERE {scope}seq = 6",
            forged,
            leaf_hash(forged),
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3 and doc["first_bad_event"] == 6


def test_deleted_row(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        db.execute("DELETE FROM {events} WHERE {scope}seq = 4")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 4
    assert any(p["kind"] == "missing" and p["seq"] == 4 for p in doc["problems"])
    assert "event 4 is missing" in _text(invoke, ledger_case)


def test_swapped_rows(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        rows = {
            r[0]: r[1:]
            for r in db.execute(
                "SELECT seq, item, kind, time, signer, data, signature, leaf_hash FROM {events} "
                "WHERE {scope}seq IN (2, 3)"
            ).fetchall()
        }
        for seq, other in ((2, 3), (3, 2)):
            db.execute(
                "UPDATE {events} SET item=?, kind=?, time=?, signer=?, data=?, signature=?, "
                "leaf_hash=? WHERE {scope}seq = ?",
                *rows[other],
                seq,
            )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 2
    assert any(p["kind"] == "moved" and p["seq"] == 2 for p in doc["problems"])


def test_forged_insert_with_another_key(
    ledger_case: Path, invoke: Any, identity: Identity, ek_home: Path, backend: Backend
) -> None:
    # The forger claims to be the pinned examiner but signs with their own key. An insert
    # needs no dropped trigger: the signature and checkpoints catch it.
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
    with backend.insert(ledger_case) as db:
        db.execute(
            "INSERT INTO {events} VALUES ({ledger}?, ?, ?, ?, ?, ?, ?, ?)",
            N,
            "USB02",
            "released",
            body["time"],
            identity.fingerprint,
            data,
            forger.sign(data),
            leaf_hash(data),
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == N
    kinds = {p["kind"] for p in doc["problems"] if p["seq"] == N}
    assert {"bad-signature", "uncovered"} <= kinds


def test_duplicated_row(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        db.execute(
            "INSERT INTO {events} SELECT {ledger}?, item, kind, time, signer, data, signature, "
            "leaf_hash FROM {events} WHERE {scope}seq = 2",
            N,
        )
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == N
    assert any(p["kind"] == "moved" and p["seq"] == N for p in doc["problems"])


def test_truncated_after_last_checkpoint(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        db.execute("DELETE FROM {events} WHERE {scope}seq >= 7")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 7
    assert any(p["kind"] == "truncated" for p in doc["problems"])
    assert "event 7 onwards is missing" in _text(invoke, ledger_case)


def test_truncated_with_its_checkpoints_caught_by_old_checkpoint(
    ledger_case: Path, invoke: Any, tmp_path: Path, ek_home: Path, backend: Backend
) -> None:
    old = invoke("--case", str(ledger_case), "custody", "checkpoint")
    assert old.exit_code == 0
    cp = tmp_path / "report-checkpoint.txt"
    cp.write_text(old.stdout, "utf-8")
    ok = invoke("--case", str(ledger_case), "custody", "consistency", str(cp))
    assert ok.exit_code == 0, ok.output
    with backend.edit(ledger_case) as db:
        db.execute("DELETE FROM {events} WHERE {scope}seq >= 7")
        db.execute("DELETE FROM {checkpoints} WHERE {scope}tree_size > 7")
        # every subtree hash that covers a removed leaf
        db.execute("DELETE FROM {nodes} WHERE {scope}((idx + 1) << level) > 7")
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
    sqlite_case: Path, invoke: Any, ek_home: Path, tmp_path: Path
) -> None:
    # a SQLite file replaced by one the forger built (a PostgreSQL ledger is not a file to swap)
    ledger_case = sqlite_case
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


def test_tampered_merkle_node(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        db.execute("UPDATE {nodes} SET hash = ? WHERE {scope}level = 1 AND idx = 1", bytes(32))
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "node-mismatch" for p in doc["problems"])


def test_tampered_checkpoint(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        (note,) = db.execute("SELECT note FROM {checkpoints} WHERE {scope}id = 5").fetchone()
        lines = note.split("\n")
        lines[1] = "4"
        db.execute("UPDATE {checkpoints} SET note = ? WHERE {scope}id = 5", "\n".join(lines))
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(p["kind"] == "bad-checkpoint" for p in doc["problems"])


def test_garbage_file(case_dir: Path, invoke: Any) -> None:
    (case_dir / "custody.sqlite").write_bytes(b"not a database" * 100)
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3


def test_parallel_verification_finds_the_same(ledger_case: Path, backend: Backend) -> None:
    case = Case.open(ledger_case)
    assert verify_custody(case, workers=2).ok
    with backend.edit(ledger_case) as db:
        db.execute("DELETE FROM {events} WHERE {scope}seq = 3")
        db.execute("UPDATE {checkpoints} SET note = 'x' WHERE {scope}id = 2")
    one = verify_custody(case, workers=1)
    two = verify_custody(case, workers=2)
    assert not two.ok and two.problems == one.problems
    assert two.first_bad_event == 3


def test_deleted_checkpoints(ledger_case: Path, invoke: Any, backend: Backend) -> None:
    with backend.edit(ledger_case) as db:
        db.execute("DELETE FROM {checkpoints} WHERE {scope}id > 3")
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert doc["first_bad_event"] == 3
    assert any(p["kind"] == "uncovered" for p in doc["problems"])


def test_dropped_table(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest, invoke: Any
) -> None:
    # on PostgreSQL in a database of its own: the table holds every ledger of the lab
    db = f"drop_{uuid.uuid4().hex[:8]}"
    case_dir = backend.make_case(tmp_path / "c", request, db)
    if backend.server is None:
        with raw_db(case_dir) as conn:
            conn.execute("DROP TABLE nodes")
        said = ("damaged", "altered")
    else:
        with backend.server.connect(OWNER, db) as conn:
            conn.execute("DROP TABLE evidencekit.nodes")
        said = ("no evidencekit ledger tables",)
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3
    assert any(s in res.stderr for s in said), res.stderr


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
        Ledger.open(case.ledger_location, ledger_origin(case), trusted=case.trusted()) as ledger,
    ):
        ledger.append(identity, [Draft(kind="case_opened", item_id=item)])
    monkeypatch.setattr(ledger_module, "check_event", lambda *a, **k: None)
    with Ledger.open(case.ledger_location, ledger_origin(case), trusted=case.trusted()) as ledger:
        ledger.append(identity, [Draft(kind="case_opened", item_id=item)])
    code, doc = _verify(invoke, ledger_case)
    assert code == 3
    assert any(
        p["kind"] == "rule-violation" and p["seq"] == N and "not an item" in p["message"]
        for p in doc["problems"]
    ), doc["problems"]
