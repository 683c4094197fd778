"""The CLI contract: help, exit codes, Vietnamese round-trips, identities, lazy imports."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from evidencekit import __version__
from evidencekit.cli.main import cli
from tests.conftest import EXAMINER, PASSPHRASE


def _all_commands(group: click.Group, ctx: click.Context, prefix: list[str]) -> list[list[str]]:
    found = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        found.append([*prefix, name])
        if isinstance(cmd, click.Group):
            found += _all_commands(cmd, ctx, [*prefix, name])
    return found


def test_every_command_has_help(runner: CliRunner) -> None:
    with click.Context(cli) as ctx:
        commands = _all_commands(cli, ctx, [])
    assert ["case", "init"] in commands and ["keys", "init"] in commands
    for path in [[], *commands]:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        cmd_help = result.output.split("\n", 3)[-1].strip()
        assert cmd_help, f"{' '.join(path)} has no help text"


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_version_and_help_do_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from evidencekit.cli.main import cli\n"
        "for args in (['--version'], ['--help']):\n"
        "    try:\n"
        "        cli(args, prog_name='evidencekit')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('dfvfs', 'pytsk3', 'pyewf', 'reportlab', 'pyhanko') "
        "if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY=\n" in out, out


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout


def test_usage_error_is_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["--no-such-option"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2
    assert runner.invoke(cli, ["case", "init"]).exit_code == 2


def test_missing_case_is_exit_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EVIDENCEKIT_CASE", raising=False)
    result = runner.invoke(cli, ["case", "show"])
    assert result.exit_code == 1
    assert "not a case" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(cli, ["--case", str(tmp_path / "nope"), "case", "show"])
    assert result.exit_code == 1
    assert "hint:" in result.output


def test_keys_init_vietnamese_and_show(runner: CliRunner, ek_home: Path) -> None:
    result = runner.invoke(
        cli, ["--json", "keys", "init", "--name", EXAMINER, "--org", "Bộ Công an"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "evidencekit/identity/1"
    assert doc["evidencekit_version"] == __version__
    assert doc["identity"]["name"] == EXAMINER
    fp = doc["identity"]["fingerprint"]
    key = Path(doc["identity"]["path"]) / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"ENCRYPTED" in key.read_bytes()
    shown = runner.invoke(cli, ["keys", "show"])
    assert shown.exit_code == 0 and EXAMINER in shown.output and fp in shown.output
    cert = runner.invoke(cli, ["keys", "export-cert"])
    assert cert.output.startswith("-----BEGIN CERTIFICATE-----")


def test_certificate_is_for_signing(identity: object) -> None:
    from cryptography import x509

    cert = identity.certificate  # type: ignore[attr-defined]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert cert.subject.rfc4514_string().startswith("O=Công an tỉnh,CN=Nguyễn Bá Tùng") or (
        "Nguyễn Bá Tùng" in cert.subject.rfc4514_string()
    )


def test_wrong_passphrase_is_exit_1(
    runner: CliRunner, identity: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", "wrong")
    result = runner.invoke(
        cli, ["case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t"]
    )
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "c").exists()


def test_passphrase_file(
    runner: CliRunner, identity: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n", "utf-8")
    result = runner.invoke(
        cli,
        [
            "--passphrase-file",
            str(pf),
            "case",
            "init",
            str(tmp_path / "c"),
            "--case-number",
            "1",
            "--title",
            "t",
        ],
    )
    assert result.exit_code == 0, result.output


def test_no_passphrase_no_tty_is_clear(
    runner: CliRunner, identity: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    result = runner.invoke(
        cli, ["case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t"]
    )
    assert result.exit_code == 1
    assert "EVIDENCEKIT_PASSPHRASE" in result.output


def test_missing_identity_is_exit_1(runner: CliRunner, ek_home: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t"]
    )
    assert result.exit_code == 1
    assert "keys init" in result.output


def test_several_identities_need_a_choice(runner: CliRunner, ek_home: Path, tmp_path: Path) -> None:
    for name in ("Nguyễn Bá Tùng", "Trương Đình Bủng"):
        assert runner.invoke(cli, ["keys", "init", "--name", name]).exit_code == 0
    result = runner.invoke(cli, ["keys", "show"])
    assert result.exit_code == 2 and "--identity" in result.output  # a usage error (issue 16)
    result = runner.invoke(cli, ["--identity", "Trương Đình Bủng", "keys", "show"])
    assert result.exit_code == 0 and "Trương Đình Bủng" in result.output


def test_case_init_vietnamese_round_trip(
    runner: CliRunner, case_dir: Path, identity: object
) -> None:
    doc = tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert doc["case"]["number"] == "VKS-2024-06"
    assert doc["case"]["title"] == "Vụ án trộm cắp tài sản"
    assert doc["case"]["examiner"] == EXAMINER
    assert doc["case"]["timezone"] == "Asia/Ho_Chi_Minh"
    assert doc["case"]["created"].endswith("Z")
    assert doc["examiners"][0]["fingerprint"] == identity.fingerprint  # type: ignore[attr-defined]
    assert (case_dir / "evidence").is_dir() and (case_dir / "reports").is_dir()
    shown = runner.invoke(cli, ["--case", str(case_dir), "--json", "case", "show"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["case"]["title"] == "Vụ án trộm cắp tài sản"


def test_case_init_normalises_to_nfc(runner: CliRunner, identity: object, tmp_path: Path) -> None:
    import unicodedata

    nfd_title = unicodedata.normalize("NFD", "Biên bản thu giữ")
    assert nfd_title != "Biên bản thu giữ"
    result = runner.invoke(
        cli, ["case", "init", str(tmp_path / "c"), "--case-number", "X", "--title", nfd_title]
    )
    assert result.exit_code == 0, result.output
    doc = tomllib.loads((tmp_path / "c" / "case.toml").read_text("utf-8"))
    assert doc["case"]["title"] == "Biên bản thu giữ"


def test_case_init_refuses_non_empty(runner: CliRunner, identity: object, tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "something").write_text("x")
    result = runner.invoke(cli, ["case", "init", str(target), "--case-number", "1", "--title", "t"])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert sorted(p.name for p in target.iterdir()) == ["something"]


def test_case_init_bad_timezone_is_usage(
    runner: CliRunner, identity: object, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli,
        [
            "case",
            "init",
            str(tmp_path / "c"),
            "--case-number",
            "1",
            "--title",
            "t",
            "--timezone",
            "Mars/Olympus",
        ],
    )
    assert result.exit_code == 2
    assert not (tmp_path / "c").exists()


def test_case_from_env_and_cwd(
    runner: CliRunner, case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_CASE", str(case_dir))
    assert runner.invoke(cli, ["case", "show"]).exit_code == 0
    monkeypatch.delenv("EVIDENCEKIT_CASE")
    monkeypatch.chdir(case_dir)
    assert runner.invoke(cli, ["case", "show"]).exit_code == 0


def test_add_examiner_pins_colleague(
    runner: CliRunner, case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencekit.identity import IdentityStore

    other_home = tmp_path / "other"
    colleague = IdentityStore(other_home).create(
        "Trương Đình Bủng", "mật khẩu của người khác".encode()
    )
    pem = tmp_path / "bung.pem"
    pem.write_text(colleague.cert_pem())
    result = runner.invoke(cli, ["--case", str(case_dir), "case", "add-examiner", str(pem)])
    assert result.exit_code == 0, result.output
    doc = tomllib.loads((case_dir / "case.toml").read_text("utf-8"))
    assert [e["name"] for e in doc["examiners"]] == [EXAMINER, "Trương Đình Bủng"]
    again = runner.invoke(cli, ["--case", str(case_dir), "case", "add-examiner", str(pem)])
    assert again.exit_code == 1 and "already pinned" in again.output


def test_keys_import_p12(runner: CliRunner, ek_home: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from evidencekit.identity import IdentityStore

    src = IdentityStore(tmp_path / "ca").create("Lê Văn Cường", "mật khẩu của người khác".encode())
    blob = pkcs12.serialize_key_and_certificates(
        b"cuong", src.private_key, src.certificate, None, BestAvailableEncryption(b"p12pw")
    )
    p12 = tmp_path / "cuong.p12"
    p12.write_bytes(blob)
    env = {"EVIDENCEKIT_P12_PASSPHRASE": "wrong"}
    bad = runner.invoke(cli, ["keys", "import", str(p12)], env=env)
    assert bad.exit_code == 1 and "PKCS#12" in bad.output
    env = {"EVIDENCEKIT_P12_PASSPHRASE": "p12pw"}
    ok = runner.invoke(cli, ["keys", "import", str(p12)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Lê Văn Cường" in runner.invoke(cli, ["keys", "show"]).output


def test_json_error_document(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--json", "--case", str(tmp_path), "case", "show"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["schema"] == "evidencekit/error/1" and doc["exit_code"] == 1
