"""`custody migrate`: SQLite → PostgreSQL → SQLite keeps every event, the tree root at every
migrated size and the checkpoint bytes, and records one signed `ledger_migrated` per move."""

from __future__ import annotations

import json
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain import merkle
from evidencekit.chain.pg_store import PostgreSQLStore
from evidencekit.chain.sqlite_store import SQLiteStore
from evidencekit.chain.store import LedgerStore
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.custody import list_events, record_event
from evidencekit.workflows.origin import ledger_origin
from tests.chain.helpers import populate, raw_db, second_examiner
from tests.conftest import EXAMINER


@pytest.fixture
def case_dir(tmp_path: Path, identity: Identity, runner: CliRunner) -> Path:
    """The SQLite case these tests migrate, with a case number no other test uses: ledgers in
    one PostgreSQL database are told apart by their origin (case number and creation time), and
    two tests creating "VKS-2024-06" in the same second would share one (seen once in a run)."""
    path = tmp_path / "case"
    number = f"VKS-MIG-{uuid.uuid4().hex[:12]}"
    args = ["case", "init", str(path), "--case-number", number, "--title", "Vụ án thử"]
    result = runner.invoke(cli, [*args, "--agency", "Công an tỉnh"])
    assert result.exit_code == 0, result.output
    return path


def _snapshot(store: LedgerStore) -> dict[str, Any]:
    size = store.size()
    return {
        "size": size,
        "events": [(r.seq, r.data, r.signature, r.leaf_hash) for r in store.rows()],
        "checkpoints": [
            (c.id, c.tree_size, c.root, c.signer, c.created, c.note) for c in store.checkpoints()
        ],
        "nodes": sorted(store.all_nodes()),
        "roots": [merkle.root(store.node, n) for n in range(1, size + 1)],
    }


def _migrate(invoke: Any, case_dir: Path, to: str) -> dict[str, Any]:
    res = invoke(
        "--json", "--case", str(case_dir), "--identity", EXAMINER, "custody", "migrate", "--to", to
    )
    assert res.exit_code == 0, res.output
    doc: dict[str, Any] = json.loads(res.stdout)
    return doc


def _verify(invoke: Any, case_dir: Path) -> int:
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0 or res.exit_code == 3
    return int(res.exit_code)


def test_sqlite_to_postgresql_to_sqlite(
    case_dir: Path, identity: Identity, ek_home: Path, invoke: Any, pg_url: str
) -> None:
    case = Case.open(case_dir)
    b = second_examiner(ek_home, case)
    populate(case, identity, b)
    origin = ledger_origin(case)
    first = SQLiteStore(case.ledger_path, writable=False)
    before = _snapshot(first)
    first.close()
    n = before["size"]

    doc = _migrate(invoke, case_dir, pg_url)
    assert doc["from"] == "custody.sqlite" and doc["to"] == pg_url
    assert doc["tree_size"] == n and doc["root"] == before["roots"][-1].hex()
    assert doc["checkpoints"] == len(before["checkpoints"]) and doc["event"] == n
    assert doc["checkpoint"] == before["checkpoints"][-1][5]
    assert tomllib.loads((case_dir / "case.toml").read_text("utf-8"))["ledger"]["url"] == pg_url
    assert not case.ledger_path.exists()
    assert (case_dir / doc["set_aside"]).is_file()
    assert _verify(invoke, case_dir) == 0

    pg = PostgreSQLStore(pg_url, origin, writable=False)
    mid = _snapshot(pg)
    pg.close()
    # the same ledger at the migrated size, byte for byte; then one ledger_migrated event
    assert mid["size"] == n + 1
    assert mid["events"][:n] == before["events"]
    assert mid["checkpoints"][: len(before["checkpoints"])] == before["checkpoints"]
    assert mid["roots"][:n] == before["roots"]
    assert {x for x in mid["nodes"] if (x[1] + 1) << x[0] <= n} == set(before["nodes"])
    migrated = list_events(Case.open(case_dir))[n]
    assert migrated["kind"] == "ledger_migrated" and migrated["item"] is None
    assert migrated["details"]["root"] == before["roots"][-1].hex()
    assert migrated["details"]["tree_size"] == n
    assert migrated["actor"]["fingerprint"] == identity.fingerprint

    # appends go to PostgreSQL now
    record_event(Case.open(case_dir), identity, "note", "HDD01", note="sau khi chuyển")
    doc = _migrate(invoke, case_dir, "sqlite")
    assert doc["from"] == pg_url and doc["to"] == "custody.sqlite" and doc["set_aside"] is None
    assert "ledger" not in tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert _verify(invoke, case_dir) == 0
    back = SQLiteStore(case.ledger_path, writable=False)
    after = _snapshot(back)
    back.close()
    pg = PostgreSQLStore(pg_url, origin, writable=False)
    pg_now = _snapshot(pg)
    pg.close()
    m = pg_now["size"]
    assert after["events"][:m] == pg_now["events"]
    assert after["checkpoints"][: len(pg_now["checkpoints"])] == pg_now["checkpoints"]
    assert after["roots"][:m] == pg_now["roots"]
    assert after["events"][:n] == before["events"]
    assert after["checkpoints"][: len(before["checkpoints"])] == before["checkpoints"]
    assert after["roots"][:n] == before["roots"]
    kinds = [e["kind"] for e in list_events(Case.open(case_dir))]
    assert kinds.count("ledger_migrated") == 2 and kinds[-1] == "ledger_migrated"


def test_migrate_refuses_a_ledger_that_does_not_verify(
    case_dir: Path, identity: Identity, invoke: Any, pg_url: str
) -> None:
    record_event(Case.open(case_dir), identity, "registered", "HDD01", description="Ổ cứng")
    with raw_db(case_dir) as db:
        (data,) = db.execute("SELECT data FROM events WHERE seq = 1").fetchone()
        db.execute(
            "UPDATE events SET data = ? WHERE seq = 1", (bytes(data).replace(b"HDD", b"SSD"),)
        )
    res = invoke("--case", str(case_dir), "custody", "migrate", "--to", pg_url)
    assert res.exit_code == 3
    assert "does not verify" in res.stderr
    assert "ledger" not in tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert (case_dir / "custody.sqlite").is_file()


def test_migrate_refuses_a_target_holding_another_history(
    pg_case: Path, identity: Identity, invoke: Any, pg_url: str, tmp_path: Path
) -> None:
    """A SQLite file already at custody.sqlite that is not this ledger is never merged into."""
    case = Case.open(pg_case)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    from evidencekit.chain.ledger import Draft, Ledger

    with Ledger.create(case.ledger_path, ledger_origin(case), trusted={}) as forged:
        forged.append(identity, [Draft(kind="case_opened", item_id=None)])
    res = invoke("--case", str(pg_case), "custody", "migrate", "--to", "sqlite")
    assert res.exit_code == 3
    assert "is not a copy of" in res.stderr and "event 0" in res.stderr
    assert tomllib.loads((pg_case / "case.toml").read_text("utf-8"))["ledger"]["url"] == pg_url


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ("mysql://x/y", "cannot migrate the ledger to"),
        ("postgresql://u:pw@/db", "password"),
    ],
)
def test_migrate_usage_errors(case_dir: Path, invoke: Any, to: str, message: str) -> None:
    res = invoke("--case", str(case_dir), "custody", "migrate", "--to", to)
    assert res.exit_code == 2
    assert message in res.stderr


def test_migrate_to_where_it_is(pg_case: Path, invoke: Any, pg_url: str) -> None:
    res = invoke("--case", str(pg_case), "custody", "migrate", "--to", pg_url)
    assert res.exit_code == 2
    assert "already at" in res.stderr


def test_interrupted_migration_goes_on_and_back_and_forth(
    case_dir: Path, identity: Identity, invoke: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A migration stopped after its copy committed (before case.toml was switched) is run
    again: the target's rows are proved to be the ledger's first ones and only the rest is
    copied. The same makes SQLite → PostgreSQL → SQLite → PostgreSQL work: the database still
    holds the ledger up to the first move."""
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")

    def boom(self: Case, url: str | None) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(Case, "set_ledger", boom)
        with pytest.raises(KeyboardInterrupt):
            from evidencekit.workflows.migrate import migrate_ledger

            migrate_ledger(Case.open(case_dir), identity, pg_url)
    assert "ledger" not in tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert case.ledger_path.is_file()
    doc = _migrate(invoke, case_dir, pg_url)
    assert doc["already"] == 2 and doc["tree_size"] == 2
    assert _verify(invoke, case_dir) == 0
    assert _migrate(invoke, case_dir, "sqlite")["already"] == 0
    record_event(Case.open(case_dir), identity, "note", "HDD01", note="trên SQLite")
    doc = _migrate(invoke, case_dir, pg_url)
    # the database still held events 0-2 (the second ledger_migrated went to SQLite): those
    # are proved, 3 and 4 copied, and the third ledger_migrated becomes event 5
    assert doc["already"] == 3 and doc["tree_size"] == 5 and doc["event"] == 5
    assert _verify(invoke, case_dir) == 0
    kinds = [e["kind"] for e in list_events(Case.open(case_dir))]
    assert kinds == ["case_opened", "registered", "ledger_migrated", "ledger_migrated", "note",
                     "ledger_migrated"]  # fmt: skip
