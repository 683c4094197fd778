"""`keys passwd` moves a key written before (PBKDF2, 2,048 iterations) to scrypt under a new
passphrase, atomically, keeping the certificate; `keys show` says how each key is protected.

Oracles: `openssl asn1parse` for the KDF in the file, the certificate (unchanged) for signatures
made with the re-encrypted key, and the committed identity made by the pre-change code."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import IdentityStore, forget_unlocked_keys, verify_signature
from tests.conftest import PASSPHRASE, need_peer

OLD_IDENTITY = Path(__file__).parent.parent / "data" / "identity-pre-scrypt"
OLD_NAME = "Trần Thị Khoá Cũ"
NEW_PASSPHRASE = "một mật khẩu mới hơn"


@pytest.fixture
def old_identity(ek_home: Path) -> Path:
    folder = ek_home / "identities" / OLD_IDENTITY.name
    shutil.copytree(OLD_IDENTITY, folder)
    (folder / "key.pem").chmod(0o600)
    forget_unlocked_keys()
    return folder


def kdf_objects(key: Path) -> list[str]:
    out = subprocess.run(
        ["openssl", "asn1parse", "-in", str(key)], capture_output=True, text=True, check=True
    ).stdout
    return [line.rsplit(":", 1)[1] for line in out.splitlines() if "OBJECT" in line]


def test_keys_show_tells_old_keys_from_new(
    runner: CliRunner, old_identity: Path, identity: object
) -> None:
    res = runner.invoke(cli, ["--json", "keys", "show", "--all"])
    assert res.exit_code == 0, res.output
    shown = {i["name"]: i["key_protection"] for i in json.loads(res.stdout)["identities"]}
    assert shown[OLD_NAME] == "PBKDF2-HMAC-SHA256 2048 iterations"
    assert shown["Nguyễn Bá Tùng"] == "scrypt N=4096 r=8 p=1"  # the fixture's test KDF
    text = runner.invoke(cli, ["keys", "show", "--all"]).output
    assert "keys passwd" in text  # both are weaker than the default: both get the advice


def test_passwd_moves_an_old_key_to_scrypt_keeping_the_certificate(
    runner: CliRunner, old_identity: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_peer("openssl")
    assert kdf_objects(old_identity / "key.pem") == ["PBES2", "PBKDF2", "hmacWithSHA256",
                                                     "aes-256-cbc"]  # fmt: skip
    monkeypatch.setenv("EVIDENCEKIT_NEW_PASSPHRASE", NEW_PASSPHRASE)
    res = runner.invoke(cli, ["keys", "passwd"])
    assert res.exit_code == 0, res.output
    assert "scrypt N=131072 r=8 p=1" in res.output and "unchanged" in res.output
    key = old_identity / "key.pem"
    assert kdf_objects(key) == ["PBES2", "scrypt", "aes-256-cbc"]
    assert key.stat().st_mode & 0o777 == 0o600
    assert not (old_identity / "key.pem.new").exists()
    assert (old_identity / "cert.pem").read_bytes() == (OLD_IDENTITY / "cert.pem").read_bytes()
    forget_unlocked_keys()
    store = IdentityStore()
    info = store.find(OLD_NAME)
    with pytest.raises(Exception, match="wrong passphrase"):
        store.unlock(info, PASSPHRASE.encode())
    ident = store.unlock(info, NEW_PASSPHRASE.encode())
    assert verify_signature(info.certificate, b"data", ident.sign(b"data"))
    assert "weaker" not in runner.invoke(cli, ["keys", "show"]).output


def test_passwd_refuses_a_weak_new_passphrase_and_a_wrong_current_one(
    runner: CliRunner, old_identity: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (old_identity / "key.pem").read_bytes()
    monkeypatch.setenv("EVIDENCEKIT_NEW_PASSPHRASE", "ngắn quá")
    weak = runner.invoke(cli, ["keys", "passwd"])
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    monkeypatch.setenv("EVIDENCEKIT_NEW_PASSPHRASE", NEW_PASSPHRASE)
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", "không phải mật khẩu này")
    wrong = runner.invoke(cli, ["keys", "passwd"])
    assert wrong.exit_code == 1 and "wrong passphrase" in wrong.output
    monkeypatch.delenv("EVIDENCEKIT_NEW_PASSPHRASE")
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    none = runner.invoke(cli, ["keys", "passwd"])
    assert none.exit_code == 1 and "EVIDENCEKIT_NEW_PASSPHRASE" in none.output
    assert (old_identity / "key.pem").read_bytes() == before


def test_passwd_from_a_file_replaces_a_leftover_temporary(
    runner: CliRunner, old_identity: Path, tmp_path: Path
) -> None:
    (old_identity / "key.pem.new").write_bytes(b"left by an interrupted attempt")
    pf = tmp_path / "new.txt"
    pf.write_text(NEW_PASSPHRASE + "\n", "utf-8")
    res = runner.invoke(cli, ["keys", "passwd", "--new-passphrase-file", str(pf)])
    assert res.exit_code == 0, res.output
    assert not (old_identity / "key.pem.new").exists()
    forget_unlocked_keys()
    store = IdentityStore()
    assert store.unlock(store.find(OLD_NAME), NEW_PASSPHRASE.encode())
