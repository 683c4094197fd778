"""Fixtures of the custody tests: a real PostgreSQL server (tests/pgserver.py) for the lab
ledger, and cases whose ledger is in it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.peers import REQUIRE_PEERS
from tests.pgserver import PGServer, start_server, stop_server, unavailable


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PGServer]:
    """One PostgreSQL server for the session (skips with the reason where it cannot start;
    fails in CI, EVIDENCEKIT_REQUIRE_PEERS=1)."""
    why = unavailable()
    if why is not None:
        if REQUIRE_PEERS:
            pytest.fail(why)
        pytest.skip(why)
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture
def pg_url(pg_server: PGServer) -> str:
    """The ledger database's URL as the application role (SELECT and INSERT only)."""
    return pg_server.url()


def init_pg_case(runner: CliRunner, path: Path, url: str, *extra: str) -> Path:
    """`case init --ledger URL` with a case number no other test uses (ledgers in one database
    are told apart by their origin: case number and creation time)."""
    result = runner.invoke(
        cli,
        [
            "case",
            "init",
            str(path),
            "--case-number",
            f"VKS-PG-{uuid.uuid4().hex[:12]}",
            "--title",
            "Vụ án trộm cắp tài sản",
            "--agency",
            "Công an tỉnh",
            "--timezone",
            "Asia/Ho_Chi_Minh",
            "--ledger",
            url,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def pg_case(tmp_path: Path, identity: Identity, runner: CliRunner, pg_url: str) -> Path:
    """A case created with `case init --ledger postgresql://…` by the `identity` examiner."""
    return init_pg_case(runner, tmp_path / "case", pg_url)
