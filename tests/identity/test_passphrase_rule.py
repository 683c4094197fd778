"""The minimum passphrase strength for new keys (issue 13): 12 characters counted after NFC,
two character classes, six different characters; refused with exit 2 naming the rule."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from evidencekit.cli.main import cli
from evidencekit.errors import UsageError
from evidencekit.identity import PASSPHRASE_RULE, IdentityStore, check_new_passphrase
from evidencekit.workflows.demo import DEMO_PASSPHRASE, write_secret
from tests.conftest import PASSPHRASE

STRONG = [
    PASSPHRASE,  # the suite's fixture: letters and spaces, 19 characters
    unicodedata.normalize("NFD", PASSPHRASE),  # the same, as a macOS keyboard may compose it
    DEMO_PASSPHRASE.decode(),
    "mật khẩu của người khác",
    "correct horse battery staple",
    "Tr0ngD0ngS0ng",  # letters and digits
]
WEAK = {
    "short 1": "it has 7 characters",
    "passwordpassword": "it has only letters",
    "123456789012": "it has only digits",
    "aaaaaaaaaaa1": "it has 2 different characters",
    # 11 characters in NFC, 15 code points in NFD: counted after normalisation, it is too short
    unicodedata.normalize("NFD", "mật khẩu 12"): "it has 11 characters",
    "ngắn": "it has 4 characters; it has only letters",
}


@pytest.mark.parametrize("text", STRONG)
def test_strong_passphrases_pass(text: str) -> None:
    check_new_passphrase(text.encode("utf-8"))


@pytest.mark.parametrize("text", list(WEAK))
def test_weak_passphrases_are_refused_saying_why_and_the_rule(text: str) -> None:
    with pytest.raises(UsageError) as err:
        check_new_passphrase(text.encode("utf-8"))
    assert WEAK[text] in err.value.message and PASSPHRASE_RULE in err.value.message


def test_empty_and_non_utf8_are_refused() -> None:
    with pytest.raises(UsageError, match="empty"):
        check_new_passphrase(b"")
    with pytest.raises(UsageError, match="not UTF-8"):
        check_new_passphrase("mật khẩu thử nghiệm".encode("cp1258", errors="replace") + b"\xff")


def test_keys_init_with_a_weak_passphrase_is_exit_2_and_creates_nothing(
    runner: CliRunner, ek_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", "matkhau")
    res = runner.invoke(cli, ["keys", "init", "--name", "Nguyễn Bá Tùng"])
    assert res.exit_code == 2, res.output
    assert "at least 12 characters" in res.output and "NFC" in res.output
    assert not (ek_home / "identities").exists()


def test_keys_init_accepts_a_vietnamese_passphrase_from_a_file(
    runner: CliRunner, ek_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    pf = tmp_path / "pass.txt"
    pf.write_text(unicodedata.normalize("NFD", PASSPHRASE) + "\n", "utf-8")
    res = runner.invoke(
        cli, ["--passphrase-file", str(pf), "keys", "init", "--name", "Nguyễn Bá Tùng"]
    )
    assert res.exit_code == 0, res.output


def test_p12_import_re_encryption_needs_a_strong_passphrase(
    runner: CliRunner, ek_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = IdentityStore(tmp_path / "ca").create("Lê Văn Cường", PASSPHRASE.encode())
    p12 = tmp_path / "cuong.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"cuong", src.private_key, src.certificate, None, BestAvailableEncryption(b"p12pw")
        )
    )
    env = {"EVIDENCEKIT_P12_PASSPHRASE": "p12pw", "EVIDENCEKIT_PASSPHRASE": "123456789012"}
    weak = runner.invoke(cli, ["keys", "import", str(p12)], env=env)
    assert weak.exit_code == 2 and "only digits" in weak.output
    assert not (ek_home / "identities").exists()
    env["EVIDENCEKIT_PASSPHRASE"] = PASSPHRASE
    assert runner.invoke(cli, ["keys", "import", str(p12)], env=env).exit_code == 0


def test_demo_passphrase_file_is_0600_from_creation(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: only the mode given at creation protects it
    try:
        path = tmp_path / "passphrase.txt"
        write_secret(path, DEMO_PASSPHRASE + b"\n")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_bytes() == DEMO_PASSPHRASE + b"\n"
    from evidencekit.errors import CaseError

    with pytest.raises(CaseError, match="exists"):
        write_secret(path, b"again")
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(CaseError):
        write_secret(link, b"secret")
    assert not (tmp_path / "elsewhere.txt").exists()
