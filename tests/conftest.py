"""Shared fixtures: a CliRunner, an examiner identity with a fixed passphrase and a case.

The peer/root guards live in tests/peers.py and the test images in tests/images.py; the guards
are re-exported here for the test modules that import them from conftest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore
from evidencekit.identity.pkcs8 import Scrypt
from tests.peers import REQUIRE_PEERS, TESTDATA, need_peer, need_root

__all__ = ["REQUIRE_PEERS", "TESTDATA", "need_peer", "need_root"]

PASSPHRASE = "mật khẩu thử nghiệm"
EXAMINER = "Nguyễn Bá Tùng"
# The test hook of IdentityStore.create (docs/keys.md): the `identity` fixture, which some 200
# tests use, encrypts its key with scrypt at 4 MiB instead of the default 128 MiB (~0.4 s each,
# over a second on a busy machine). Every other identity the suite makes, and every one made by
# `keys init`, uses the production default; tests/identity/test_keys_at_rest.py checks those.
TEST_KDF = Scrypt(n=2**12, r=8, p=1)


@pytest.fixture(autouse=True, scope="session")
def english_interface() -> Iterator[None]:
    """The suite reads the CLI's English messages: the interface language would otherwise follow
    a case's language (Vietnamese by default) or the machine's LANG. Session-wide, so module
    fixtures that run the CLI see it too; the tests of the Vietnamese interface
    (tests/cli/test_i18n*.py) set or remove EVIDENCEKIT_LANG themselves."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCEKIT_LANG", "en")
        yield


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
    return IdentityStore(ek_home).create(
        EXAMINER, PASSPHRASE.encode(), org="Công an tỉnh", kdf=TEST_KDF
    )


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


@pytest.fixture(autouse=True)
def json_contract(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every `--json` document printed in-process during a test validates against its JSON
    Schema (tests/json_contract.py, docs/json.md); a broken one fails the test at teardown, so
    a test expecting a failure exit code cannot hide it. Yields the list of problems found."""
    import json
    import os

    from evidencekit.cli import runtime
    from tests.json_contract import problems

    found: list[str] = []
    original = runtime.json_text
    record = os.environ.get("EVIDENCEKIT_TEST_JSON_RECORD")  # a folder: keep every document

    def checked(doc: dict[str, object]) -> str:
        text = original(doc)
        parsed = json.loads(text)
        found.extend(problems(parsed))
        if record:
            name = str(parsed.get("schema", "none")).replace("/", "_")
            with open(os.path.join(record, f"{name}.jsonl"), "a", encoding="utf-8") as fh:
                fh.write(json.dumps(parsed, ensure_ascii=False) + "\n")
        return text

    monkeypatch.setattr(runtime, "json_text", checked)
    yield found
    if found:
        pytest.fail("JSON contract broken:\n" + "\n".join(found[:20]), pytrace=False)
