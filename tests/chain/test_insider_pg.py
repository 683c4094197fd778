"""Red team (issue 13 threat model, against issue 18's PostgreSQL ledger and `custody migrate`):
a pinned colleague with access to the lab's database pre-seeds the target of a migration, or
points a case at another case's ledger in the same database. Oracles: the exit codes of
`custody migrate` and `custody verify`, and the source ledger's own rows."""

from __future__ import annotations

import datetime as dt
import json
import os
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain.checkpoint import Checkpoint, sign_checkpoint
from evidencekit.chain.migrate import copy_ledger
from evidencekit.chain.pg_store import PostgreSQLStore
from evidencekit.chain.sqlite_store import SQLiteStore
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.timeutil import isoformat
from evidencekit.workflows.origin import ledger_origin
from tests.chain.conftest import init_pg_case
from tests.chain.helpers import populate, second_examiner
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


def _migrate(invoke: Any, case_dir: Path, to: str) -> Any:
    return invoke(
        "--json", "--case", str(case_dir), "--identity", EXAMINER, "custody", "migrate", "--to", to
    )


def test_a_target_seeded_with_a_forged_future_checkpoint(
    case_dir: Path, identity: Identity, ek_home: Path, invoke: Any, pg_url: str
) -> None:
    """The database holds the true first events, and a checkpoint the colleague signed for a
    size the ledger has not reached, with a root of their choosing: after the migration that
    checkpoint would stand in the case's ledger as the newest statement of its history."""
    case = Case.open(case_dir)
    colleague = second_examiner(ek_home, case)
    populate(case, identity, colleague)
    origin = ledger_origin(case)
    src = SQLiteStore(case.ledger_path, writable=False)
    size = src.size()
    dst = PostgreSQLStore(pg_url, origin, create=True)
    copy_ledger(src, dst, size - 1, ("src", "dst"))
    forged_root = os.urandom(32)
    note = sign_checkpoint(Checkpoint(origin, size + 50, forged_root), colleague)
    with dst.write() as tx:
        tx.add_checkpoint(
            size + 50, forged_root, colleague.fingerprint, isoformat(dt.datetime.now(dt.UTC)), note
        )
    dst.close()
    src.close()
    res = _migrate(invoke, case_dir, pg_url)
    assert res.exit_code == 3, res.output
    assert "is not a copy of" in res.stderr, res.stderr
    assert "ledger" not in tomllib.loads((case_dir / "case.toml").read_text("utf-8"))


def test_a_case_pointed_at_another_cases_ledger(
    tmp_path: Path, identity: Identity, runner: Any, invoke: Any, pg_url: str
) -> None:
    """Two cases in one database, told apart by their origin (case number and creation time,
    from case.toml). Case A's case.toml is edited to carry case B's number and creation time,
    so A's folder opens B's ledger: that must not verify as A's record."""
    a = init_pg_case(runner, tmp_path / "A", pg_url)
    b = init_pg_case(runner, tmp_path / "B", pg_url)
    disk = tmp_path / "disk.raw"
    disk.write_bytes(bytes(range(256)) * 64)
    for case, item in ((a, "HDD01"), (b, "HDD09")):
        res = invoke("--case", str(case), "acquire", "disk", str(disk), "--item", item,
                     "--format", "raw")  # fmt: skip
        assert res.exit_code == 0, res.output
    assert invoke("--case", str(a), "verify", "HDD01").exit_code == 0
    info_b = tomllib.loads((b / "case.toml").read_text("utf-8"))
    text = (a / "case.toml").read_text("utf-8")
    info_a = tomllib.loads(text)
    for key in ("number", "created"):
        old, new = info_a["case"][key], info_b["case"][key]
        assert isinstance(old, str) and text.count(old) >= 1, (key, old)
        text = text.replace(f'"{old}"', f'"{new}"')
    (a / "case.toml").write_text(text, "utf-8")
    assert ledger_origin(Case.open(a)) == ledger_origin(Case.open(b))
    # the folder now says, consistently, that it is case B (its ledger verifies as B's) ...
    assert invoke("--case", str(a), "custody", "verify").exit_code == 0
    # ... and A's evidence in it does not verify against that record
    res = invoke("--json", "--case", str(a), "verify", "HDD01")
    assert res.exit_code == 3, res.output
    (item,) = json.loads(res.stdout)["items"]
    assert {"wrong-case", "ledger-mismatch"} & {p["kind"] for p in item["problems"]}, item


def test_a_target_seeded_with_a_forged_checkpoint_numbered_before_the_first(
    case_dir: Path, identity: Identity, ek_home: Path, invoke: Any, pg_url: str
) -> None:
    """The same forged checkpoint (a size the ledger has not reached, the colleague's root),
    inserted with the row id 0 the migration never writes: it is not among the checkpoints
    the migration compares, so it was carried into the case's ledger (where `custody verify`
    named it). Now the migration refuses it: the target holds nothing but the source's."""
    import psycopg

    case = Case.open(case_dir)
    colleague = second_examiner(ek_home, case)
    populate(case, identity, colleague)
    origin = ledger_origin(case)
    src = SQLiteStore(case.ledger_path, writable=False)
    size = src.size()
    dst = PostgreSQLStore(pg_url, origin, create=True)
    copy_ledger(src, dst, size - 1, ("src", "dst"))
    dst.close()
    src.close()
    forged_root = os.urandom(32)
    note = sign_checkpoint(Checkpoint(origin, size + 50, forged_root), colleague)
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "INSERT INTO evidencekit.checkpoints (ledger, id, tree_size, root, signer, created, "
            "note) VALUES (%s, 0, %s, %s, %s, %s, %s)",
            (origin, size + 50, forged_root, colleague.fingerprint,
             isoformat(dt.datetime.now(dt.UTC)), note),
        )  # fmt: skip
    res = _migrate(invoke, case_dir, pg_url)
    assert res.exit_code == 3, res.output
    assert "is not a copy of" in res.stderr and "checkpoint" in res.stderr, res.stderr
    assert "ledger" not in tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0
