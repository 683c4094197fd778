"""A plain `verify` inside a case is recorded — a `verified` custody event per item, as
`verify --record` appends — when a pinned identity unlocks without a prompt
(EVIDENCEKIT_PASSPHRASE or --passphrase-file); otherwise it says in one line that it was not
recorded, why and how, and asks nothing. `--no-record` never records; `--record` insists.

Oracles: the case's real ledger, read back with `custody log --json` and checked whole by
`custody verify`; real keys and real seals made with the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import IdentityStore
from tests.conftest import PASSPHRASE, TEST_KDF


def _run(case_dir: Path, *args: str, **env: str | None) -> Any:
    return CliRunner().invoke(cli, ["--case", str(case_dir), *args], env=env)


def _kinds(case_dir: Path, item: str) -> list[str]:
    log = json.loads(_run(case_dir, "--json", "custody", "log", item).stdout)
    return [e["kind"] for e in log["events"]]


def _verified_events(case_dir: Path, item: str) -> list[dict[str, Any]]:
    log = json.loads(_run(case_dir, "--json", "custody", "log", item).stdout)
    return [e for e in log["events"] if e["kind"] == "verified"]


@pytest.fixture
def sealed(case_dir: Path, tmp_path: Path) -> Path:
    src = tmp_path / "bằng chứng.bin"
    src.write_bytes(bytes(range(256)) * 256)
    assert _run(case_dir, "seal", str(src), "--item", "S1").exit_code == 0
    assert _run(case_dir, "seal", str(src), "--item", "S2").exit_code == 0
    return case_dir / "evidence" / "S1" / src.name


def _ledger_holds(case_dir: Path) -> None:
    result = _run(case_dir, "custody", "verify")
    assert result.exit_code == 0, result.output


def test_plain_verify_is_recorded_with_the_passphrase_in_the_environment(
    case_dir: Path, sealed: Path, identity: Any
) -> None:
    result = _run(case_dir, "verify", "S1")
    assert result.exit_code == 0, result.output
    (event,) = _verified_events(case_dir, "S1")
    assert event["actor"]["fingerprint"] == identity.fingerprint
    assert event["details"]["ok"] is True
    assert f"Recorded in the custody ledger: 1 `verified` event(s), #{event['seq']}" in (
        result.stdout
    )
    assert _verified_events(case_dir, "S2") == []  # only what was verified
    # --json says so, with the event's number
    doc = json.loads(_run(case_dir, "--json", "verify", "S1", "S2").stdout)
    assert doc["recorded"] is True and doc["not_recorded"] is None
    seqs = {i["item"]: i["recorded_event"] for i in doc["items"]}
    assert seqs == {e["item"]: e["seq"] for e in _verified_events(case_dir, "S1")[1:]} | {
        "S2": _verified_events(case_dir, "S2")[0]["seq"]
    }
    _ledger_holds(case_dir)


def test_a_failed_verification_is_recorded_as_failed(case_dir: Path, sealed: Path) -> None:
    sealed.chmod(0o644)
    data = bytearray(sealed.read_bytes())
    data[1234] ^= 0x40
    sealed.write_bytes(bytes(data))
    result = _run(case_dir, "verify", "S1")
    assert result.exit_code == 3
    (event,) = _verified_events(case_dir, "S1")
    assert event["details"]["ok"] is False and event["details"]["problems"]
    assert event["description"].startswith("verification FAILED")
    _ledger_holds(case_dir)


def test_passphrase_file_records_too(case_dir: Path, sealed: Path, tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    result = _run(
        case_dir, "--passphrase-file", str(secret), "verify", "S1", EVIDENCEKIT_PASSPHRASE=None
    )
    assert result.exit_code == 0, result.output
    assert len(_verified_events(case_dir, "S1")) == 1


def test_without_a_passphrase_source_it_is_not_recorded_and_nothing_is_asked(
    case_dir: Path, sealed: Path
) -> None:
    # input given on stdin would be read by a prompt: none may happen
    result = CliRunner().invoke(
        cli,
        ["--case", str(case_dir), "verify", "S1"],
        env={"EVIDENCEKIT_PASSPHRASE": None},
        input=PASSPHRASE + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Passphrase" not in result.output
    lines = [line for line in result.stdout.splitlines() if "recorded" in line.lower()]
    assert lines == [
        "Not recorded in the custody ledger: the key of 'Nguyễn Bá Tùng' needs its passphrase "
        "and verify does not ask for it (set EVIDENCEKIT_PASSPHRASE or --passphrase-file); "
        "to record it: evidencekit verify --record S1"
    ]
    assert _verified_events(case_dir, "S1") == []
    doc = json.loads(_run(case_dir, "--json", "verify", "S1", EVIDENCEKIT_PASSPHRASE=None).stdout)
    assert doc["recorded"] is False
    assert doc["not_recorded"] == {"reason": "needs-passphrase", "message": "Nguyễn Bá Tùng"}
    assert doc["items"][0]["recorded_event"] is None


def test_a_wrong_passphrase_is_reported_not_fatal(case_dir: Path, sealed: Path) -> None:
    result = _run(case_dir, "verify", "S1", EVIDENCEKIT_PASSPHRASE="không phải mật khẩu")
    assert result.exit_code == 0, result.output
    assert (
        "Not recorded in the custody ledger: wrong passphrase for identity 'Nguyễn Bá Tùng'"
        in result.stdout
    )
    assert _verified_events(case_dir, "S1") == []
    doc = json.loads(_run(case_dir, "--json", "verify", "S1", EVIDENCEKIT_PASSPHRASE="sai").stdout)
    assert doc["not_recorded"]["reason"] == "unlock-failed"
    # --record insists: the same wrong passphrase is an error (exit 1), nothing recorded
    result = _run(case_dir, "verify", "--record", "S1", EVIDENCEKIT_PASSPHRASE="sai")
    assert result.exit_code == 1
    assert "wrong passphrase" in result.stderr
    assert _verified_events(case_dir, "S1") == []


def test_no_record_never_records(case_dir: Path, sealed: Path) -> None:
    result = _run(case_dir, "verify", "--no-record", "S1")
    assert result.exit_code == 0
    assert "custody ledger" not in result.stdout
    doc = json.loads(_run(case_dir, "--json", "verify", "--no-record", "S1").stdout)
    assert doc["recorded"] is False
    assert doc["not_recorded"] == {"reason": "not-asked", "message": None}
    assert _verified_events(case_dir, "S1") == []


def test_record_without_a_source_needs_a_terminal(case_dir: Path, sealed: Path) -> None:
    result = _run(case_dir, "verify", "--record", "S1", EVIDENCEKIT_PASSPHRASE=None)
    assert result.exit_code == 1
    assert "no passphrase for identity 'Nguyễn Bá Tùng' and no terminal" in result.stderr
    assert _verified_events(case_dir, "S1") == []


def test_an_identity_the_case_does_not_pin_does_not_record(
    case_dir: Path, sealed: Path, ek_home: Path
) -> None:
    IdentityStore(ek_home).create("Trương Đình Bủng", PASSPHRASE.encode(), kdf=TEST_KDF)
    # two identities, none chosen: it does not guess
    result = _run(case_dir, "verify", "S1")
    assert result.exit_code == 0
    assert (
        "Not recorded in the custody ledger: several identities could sign; choose one with "
        "--identity (evidencekit keys show --all lists them); to record it: "
        "evidencekit verify --record S1"
    ) in result.stdout
    # the colleague chosen: not pinned by this case
    result = _run(case_dir, "--identity", "Trương Đình Bủng", "verify", "S1")
    assert result.exit_code == 0
    assert "'Trương Đình Bủng' is not an examiner this case pins" in result.stdout
    doc = json.loads(
        _run(case_dir, "--json", "--identity", "Trương Đình Bủng", "verify", "S1").stdout
    )
    assert doc["not_recorded"]["reason"] == "not-pinned"
    assert _verified_events(case_dir, "S1") == []
    # the pinned one chosen: recorded
    result = _run(case_dir, "--identity", "Nguyễn Bá Tùng", "verify", "S1")
    assert result.exit_code == 0 and "Recorded in the custody ledger" in result.stdout
    assert len(_verified_events(case_dir, "S1")) == 1


def test_a_revoked_examiner_does_not_record(case_dir: Path, sealed: Path, ek_home: Path) -> None:
    colleague = IdentityStore(ek_home).create("Trương Đình Bủng", PASSPHRASE.encode(), kdf=TEST_KDF)
    pem = ek_home / "bung.pem"
    pem.write_text(colleague.cert_pem(), "ascii")
    as_first = {"EVIDENCEKIT_IDENTITY": "Nguyễn Bá Tùng"}
    assert _run(case_dir, "case", "add-examiner", str(pem), **as_first).exit_code == 0
    result = _run(
        case_dir, "case", "revoke-examiner", "Trương Đình Bủng", "--reason", "chuyển công tác",
        **as_first,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(
        _run(case_dir, "--json", "--identity", "Trương Đình Bủng", "verify", "S1").stdout
    )
    assert doc["not_recorded"]["reason"] == "revoked" and doc["recorded"] is False
    assert _verified_events(case_dir, "S1") == []


def test_verify_all_records_each_item(case_dir: Path, sealed: Path) -> None:
    result = _run(case_dir, "verify", "--all")
    assert result.exit_code == 0, result.output
    assert "Recorded in the custody ledger: 2 `verified` event(s)" in result.stdout
    assert len(_verified_events(case_dir, "S1")) == 1
    assert len(_verified_events(case_dir, "S2")) == 1
    _ledger_holds(case_dir)


def test_outside_the_case_nothing_is_said_about_recording(
    case_dir: Path, sealed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seal = case_dir / "evidence" / "S1" / "S1.seal.json"
    pem = tmp_path / "me.pem"
    assert _run(case_dir, "keys", "export-cert", "--out", str(pem)).exit_code == 0
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["verify", str(seal), "--trust", str(pem)])
    assert result.exit_code == 0, result.output
    assert "custody ledger" not in result.stdout
    assert _verified_events(case_dir, "S1") == []


def test_the_not_recorded_line_in_vietnamese(case_dir: Path, sealed: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EVIDENCEKIT_PASSPHRASE"}
    env["EVIDENCEKIT_LANG"] = "vi"
    proc = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), "verify", "S1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Chưa ghi vào sổ hành trình" in proc.stdout
    assert "evidencekit verify --record S1" in proc.stdout
    env["EVIDENCEKIT_PASSPHRASE"] = PASSPHRASE
    proc = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), "verify", "S1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Đã ghi vào sổ hành trình" in proc.stdout


def test_a_ledger_that_does_not_verify_is_not_appended_to(case_dir: Path, sealed: Path) -> None:
    from tests.chain.helpers import raw_db

    with raw_db(case_dir) as db:
        (seq, data) = db.execute("SELECT seq, data FROM events WHERE item = 'S2'").fetchone()
        db.execute("UPDATE events SET data = ? WHERE seq = ?", (data.replace(b"S2", b"S3"), seq))
    before = _run(case_dir, "custody", "verify")
    assert before.exit_code == 3
    result = _run(case_dir, "verify", "S1")
    assert result.exit_code == 0, result.output  # S1's own seal and events still hold
    assert "Not recorded in the custody ledger: " in result.stdout
    doc = json.loads(_run(case_dir, "--json", "verify", "S1").stdout)
    assert doc["recorded"] is False and doc["not_recorded"]["reason"] == "refused"
    # nothing was appended: the ledger has the same number of rows
    with raw_db(case_dir) as db:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] == seq + 1
