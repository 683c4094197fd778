"""The PostgreSQL ledger: a case created on it, its URL in case.toml without credentials, the
database refusing edits to the application role, readers' snapshot, a swapped database."""

from __future__ import annotations

import dataclasses
import json
import tomllib
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors as pgerrors

from evidencekit.case import Case
from evidencekit.chain.pg_store import PostgreSQLStore, check_url
from evidencekit.errors import CustodyError, UsageError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.custody import list_events, record_event
from evidencekit.workflows.origin import ledger_origin
from tests.conftest import PASSPHRASE
from tests.pgserver import APP, OWNER, PGServer


def _verify(invoke: Any, case_dir: Path) -> tuple[int, dict[str, Any]]:
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    return res.exit_code, json.loads(res.stdout)


def test_case_on_postgresql_records_and_verifies(
    pg_case: Path, invoke: Any, identity: Identity, pg_server: PGServer
) -> None:
    doc = tomllib.loads((pg_case / "case.toml").read_text("utf-8"))
    assert doc["ledger"]["url"] == pg_server.url()
    assert not (pg_case / "custody.sqlite").exists()
    # no password anywhere in the folder: libpq found it in PGPASSFILE
    password = pg_server.passwords[APP]
    assert all(password not in p.read_text("utf-8") for p in pg_case.rglob("*") if p.is_file())
    res = invoke("--case", str(pg_case), "custody", "register", "HDD01", "--description", "Ổ cứng")
    assert res.exit_code == 0, res.output
    res = invoke("--case", str(pg_case), "custody", "note", "HDD01", "Trương Đình Bủng đã niêm")
    assert res.exit_code == 0, res.output
    code, doc = _verify(invoke, pg_case)
    assert code == 0, doc["problems"]
    assert doc["events"] == 3 and doc["checkpoints"] == 3
    case = Case.open(pg_case)
    events = list_events(case)
    assert [e["kind"] for e in events] == ["case_opened", "registered", "note"]
    assert events[2]["note"] == "Trương Đình Bủng đã niêm"
    # the rows are in the database, under the case's origin
    with pg_server.connect(APP) as conn:
        n = conn.execute(
            "SELECT count(*) FROM evidencekit.events WHERE ledger = %s", (ledger_origin(case),)
        ).fetchone()
    assert n == (3,)
    proof = invoke("--case", str(pg_case), "custody", "prove", "HDD01")
    assert proof.exit_code == 0, proof.output


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ek_app:secret@/evidencekit?host=/tmp",
        "postgresql://ek_app@/evidencekit?host=/tmp&password=secret",
    ],
)
def test_url_with_password_is_refused(
    url: str, tmp_path: Path, identity: Identity, invoke: Any
) -> None:
    res = invoke(
        "case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t", "--ledger", url
    )
    assert res.exit_code == 2
    assert "password" in res.stderr and "PGPASSFILE" in res.stderr
    assert not (tmp_path / "c").exists()
    with pytest.raises(UsageError):
        check_url(url)


def test_unreachable_server_is_operational(tmp_path: Path, identity: Identity, invoke: Any) -> None:
    url = f"postgresql://ek_app@/evidencekit?host={tmp_path}&port=1"
    res = invoke("case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t",
                 "--ledger", url)  # fmt: skip
    assert res.exit_code == 1
    assert "cannot create the custody ledger" in res.stderr
    assert "PostgreSQL server is running" in res.stderr


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE evidencekit.events SET kind = 'note' WHERE ledger = %s",
        "DELETE FROM evidencekit.events WHERE ledger = %s",
        "UPDATE evidencekit.checkpoints SET note = 'x' WHERE ledger = %s",
        "DELETE FROM evidencekit.nodes WHERE ledger = %s",
        "DELETE FROM evidencekit.ledgers WHERE name = %s",
    ],
)
def test_application_role_cannot_change_rows(
    sql: str, pg_case: Path, pg_server: PGServer, invoke: Any
) -> None:
    origin = ledger_origin(Case.open(pg_case))
    with (
        pg_server.connect(APP) as conn,
        pytest.raises(pgerrors.InsufficientPrivilege, match="permission denied"),
    ):
        conn.execute(sql, (origin,))
    with pg_server.connect(APP) as conn, pytest.raises(pgerrors.InsufficientPrivilege):
        conn.execute("TRUNCATE evidencekit.events")
    code, doc = _verify(invoke, pg_case)
    assert code == 0, doc["problems"]


def test_owner_is_stopped_by_the_triggers(pg_case: Path, pg_server: PGServer) -> None:
    origin = ledger_origin(Case.open(pg_case))
    for sql in (
        "UPDATE evidencekit.events SET kind = 'note' WHERE ledger = %s",
        "DELETE FROM evidencekit.checkpoints WHERE ledger = %s",
    ):
        with (
            pg_server.connect(OWNER) as conn,
            pytest.raises(pgerrors.InsufficientPrivilege, match="append-only"),
        ):
            conn.execute(sql, (origin,))
    with (
        pg_server.connect(OWNER) as conn,
        pytest.raises(pgerrors.InsufficientPrivilege, match="append-only"),
    ):
        conn.execute("TRUNCATE evidencekit.nodes CASCADE")


def test_readers_see_one_snapshot(pg_case: Path, identity: Identity) -> None:
    case = Case.open(pg_case)
    origin = ledger_origin(case)
    url = case.info.ledger
    assert url is not None
    reader = PostgreSQLStore(url, origin, writable=False)
    try:
        before = reader.size()
        record_event(case, identity, "registered", "USB02", description="USB")
        assert reader.size() == before
        assert len(list(reader.rows())) == before
        assert [c.tree_size for c in reader.checkpoints()][-1] == before
    finally:
        reader.close()
    again = PostgreSQLStore(url, origin, writable=False)
    try:
        assert again.size() == before + 1
    finally:
        again.close()


def test_sequence_numbers_come_from_the_tree_under_the_lock(pg_case: Path, pg_url: str) -> None:
    """A row appended around the lock is caught by the primary key, never renumbered."""
    case = Case.open(pg_case)
    store = PostgreSQLStore(pg_url, ledger_origin(case))
    try:
        size = store.size()
        row = next(iter(store.rows(0, 1)))
        with pytest.raises(CustodyError, match="already taken"), store.write() as tx:
            assert tx.size() == size
            tx.add_event(dataclasses.replace(row, seq=size - 1))
        assert store.size() == size
    finally:
        store.close()


def test_swapped_database_fails_verify(
    pg_case: Path,
    pg_server: PGServer,
    invoke: Any,
    identity: Identity,
    ek_home: Path,
    tmp_path: Path,
    runner: Any,
) -> None:
    """case.toml is editable by whoever edits the folder: pointing it at another database that
    holds another history under the same name is caught by the case identity and by the
    checkpoint the examiner's home remembers."""
    case = Case.open(pg_case)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    assert _verify(invoke, pg_case)[0] == 0
    other = pg_server.create_database(f"swap_{uuid.uuid4().hex[:8]}")
    # the forger builds another ledger of the same name (same case.toml) with their own key
    forger = IdentityStore(ek_home).create("Kẻ giả mạo", PASSPHRASE.encode())
    forged_dir = tmp_path / "forged"
    forged_dir.mkdir()
    (forged_dir / "case.toml").write_text(
        (pg_case / "case.toml").read_text("utf-8").replace(pg_server.url(), other), "utf-8"
    )
    forged = Case.open(forged_dir)
    from evidencekit.chain.ledger import Draft, Ledger

    with Ledger.create(
        other, ledger_origin(forged), trusted={forger.fingerprint: forger.certificate}
    ) as ledger:
        ledger.append(forger, [Draft(kind="case_opened", item_id=None)])
        ledger.append(forger, [Draft(kind="registered", item_id="HDD01", description="khác")])
    # the case folder now names the other database
    text = (pg_case / "case.toml").read_text("utf-8")
    (pg_case / "case.toml").write_text(text.replace(pg_server.url(), other), "utf-8")
    code, doc = _verify(invoke, pg_case)
    assert code == 3
    kinds = {p["kind"] for p in doc["problems"]}
    assert "unknown-signer" in kinds or "rolled-back" in kinds, doc["problems"]
    # a reader whose home never saw the case still finds the case's creator did not sign it
    import shutil

    shutil.rmtree(ek_home / "checkpoints")
    code, doc = _verify(invoke, pg_case)
    assert code == 3
    assert any(p["kind"] == "unknown-signer" and p["seq"] == 0 for p in doc["problems"])


def test_database_without_this_ledger_fails(
    pg_case: Path, pg_server: PGServer, invoke: Any, tmp_path: Path
) -> None:
    other = pg_server.create_database(f"empty_{uuid.uuid4().hex[:8]}")
    text = (pg_case / "case.toml").read_text("utf-8")
    (pg_case / "case.toml").write_text(text.replace(pg_server.url(), other), "utf-8")
    res = invoke("--case", str(pg_case), "custody", "verify")
    assert res.exit_code == 3
    assert "holds no events" in res.stderr
    res = invoke("--case", str(pg_case), "custody", "register", "X", "--description", "x")
    assert res.exit_code == 3
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM evidencekit.events").fetchone() == (0,)


def test_a_ledger_is_created_once(pg_case: Path, pg_url: str) -> None:
    origin = ledger_origin(Case.open(pg_case))
    with pytest.raises(CustodyError, match="already holds a custody ledger named"):
        PostgreSQLStore(pg_url, origin, create=True)


def test_commands_go_on_after_a_server_restart(
    pg_case: Path, pg_server: PGServer, invoke: Any
) -> None:
    """A process keeps an idle connection for its next command: after the server restarted
    (a crash: stop -m immediate), that connection is replaced, not used."""
    res = invoke("--case", str(pg_case), "custody", "register", "A1", "--description", "a")
    assert res.exit_code == 0, res.output
    pg_server.stop("immediate")
    pg_server.start()
    res = invoke("--case", str(pg_case), "custody", "register", "A2", "--description", "b")
    assert res.exit_code == 0, res.output
    code, doc = _verify(invoke, pg_case)
    assert code == 0 and doc["events"] == 3, doc["problems"]


def test_appends_wait_for_the_ledgers_advisory_lock(
    pg_case: Path, pg_server: PGServer, invoke: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another workstation's append holds the ledger's lock: this one waits for it (up to
    lock_timeout), then gives up having recorded nothing."""
    from evidencekit.chain import pg_store

    monkeypatch.setattr(pg_store, "LOCK_TIMEOUT", "300ms")
    origin = ledger_origin(Case.open(pg_case))
    with pg_server.connect(APP) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (pg_store._lock_key(origin),))
        res = invoke("--case", str(pg_case), "custody", "register", "B1", "--description", "b")
        assert res.exit_code == 1
        assert "another workstation held the ledger" in res.stderr
        assert "nothing was recorded" in res.stderr
        holder.rollback()
    res = invoke("--case", str(pg_case), "custody", "register", "B1", "--description", "b")
    assert res.exit_code == 0, res.output
    assert [e["seq"] for e in list_events(Case.open(pg_case))] == [0, 1]


def test_connection_lost_at_commit_is_not_called_nothing_recorded(
    pg_case: Path, pg_url: str, pg_server: PGServer
) -> None:
    """The server may have committed before the answer was lost: the error says to look."""
    from tests.pgserver import SUPER

    case = Case.open(pg_case)
    store = PostgreSQLStore(pg_url, ledger_origin(case))
    size = store.size()
    row = next(iter(store.rows(size - 1, size)))
    with pytest.raises(CustodyError) as err, store.write() as tx:
        tx.add_event(dataclasses.replace(row, seq=size))
        with pg_server.connect(SUPER, "postgres", autocommit=True) as su:
            su.execute("SELECT pg_terminate_backend(%s)", (store.conn.info.backend_pid,))
    store.close()
    assert "while committing" in err.value.message
    assert err.value.hint is not None and "may or may not have been recorded" in err.value.hint
    again = PostgreSQLStore(pg_url, ledger_origin(case), writable=False)
    assert again.size() == size  # terminated before its COMMIT reached the server
    again.close()
