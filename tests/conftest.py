"""Shared fixtures: a CliRunner, an examiner identity with a fixed passphrase, a case, and the
peer/root guards (skip on a laptop, fail in CI with EVIDENCEKIT_REQUIRE_PEERS=1)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore

PASSPHRASE = "mật khẩu thử nghiệm"
EXAMINER = "Nguyễn Bá Tùng"
# ../shared/testdata beside the checkout (as CI lays it out), or EVIDENCEKIT_TESTDATA.
TESTDATA = Path(
    os.environ.get("EVIDENCEKIT_TESTDATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
)
IMAGES = TESTDATA / "images"

REQUIRE_PEERS = os.environ.get("EVIDENCEKIT_REQUIRE_PEERS") == "1"


def need_peer(*commands: str) -> None:
    """Skip (or, in CI, fail) unless every command is on PATH."""
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        msg = f"peer tool(s) not installed: {', '.join(missing)} (run `make peers` as root)"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)


def need_root() -> None:
    """Skip (or, in CI, fail) unless running as root."""
    if os.geteuid() != 0:
        msg = "needs root (loop devices, FUSE)"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)


def need_testdata() -> None:
    if not IMAGES.is_dir():
        msg = f"shared test data not found at {IMAGES}"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def ek_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty EVIDENCEKIT_HOME with the test passphrase in the environment."""
    home = tmp_path / "ekhome"
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(home))
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("EVIDENCEKIT_IDENTITY", raising=False)
    monkeypatch.delenv("EVIDENCEKIT_CASE", raising=False)
    return home


@pytest.fixture
def identity(ek_home: Path) -> Identity:
    """The examiner Nguyễn Bá Tùng, stored in `ek_home`."""
    return IdentityStore(ek_home).create(EXAMINER, PASSPHRASE.encode(), org="Công an tỉnh")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def case_dir(tmp_path: Path, identity: Identity, runner: CliRunner) -> Path:
    """A case created with `case init` by the `identity` examiner."""
    path = tmp_path / "case"
    result = runner.invoke(
        cli,
        [
            "case",
            "init",
            str(path),
            "--case-number",
            "VKS-2024-06",
            "--title",
            "Vụ án trộm cắp tài sản",
            "--agency",
            "Công an tỉnh",
            "--timezone",
            "Asia/Ho_Chi_Minh",
        ],
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def invoke(runner: CliRunner) -> Iterator[object]:
    """invoke(args...) -> Result, with stderr separate."""

    def _invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    yield _invoke
