"""BitLocker: which step failed is said (issue #19, item 8), and BitLocker To Go's outer FAT is
never listed as if it were the volume.

No Linux tool makes BitLocker: the volumes are Windows-made, from cryptsetup's test suite, in
../shared/testdata/bitlocker (README: passwords, recovery passwords, decrypted SHA-256). Oracles:
pybde decrypts each to the documented SHA-256, and Sleuth Kit's `fsstat` on that decrypted
volume says what file system it holds (or that it cannot read it).
"""

from __future__ import annotations

import hashlib
import json
import lzma
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import REQUIRE_PEERS, TESTDATA, need_peer

BITLOCKER = TESTDATA / "bitlocker"
PASSWORD = "anaconda"
VOLUMES = {  # file: (recovery password, decrypted sha256) from the testdata README
    "bitlk-togo-aes-xts-128.img": (
        "243067-548680-059818-148852-287771-550088-628265-631653",
        "5954795eb41764b59a10d86c26fd3b43fb6d89f433c8edc1e8fd48067d198591",
    ),
    "bitlk-aes-xts-128.img": (
        "235818-357951-253979-013365-241120-245575-342914-591910",
        "674e3a976927fd62f3fc26df2c695cac75b8d364e3b45393717efa971f16db0f",
    ),
}


def _volume(tmp_path: Path, name: str) -> Path:
    packed = BITLOCKER / f"{name}.xz"
    if not packed.is_file():
        msg = f"BitLocker test volumes not found at {BITLOCKER}"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)
    out = tmp_path / name
    out.write_bytes(lzma.decompress(packed.read_bytes()))
    return out


def _decrypted(img: Path, tmp_path: Path) -> Path:
    """The volume decrypted by pybde, checked against the README's SHA-256."""
    import pybde

    volume = pybde.volume()
    volume.set_password(PASSWORD)
    volume.open(str(img))
    try:
        data = volume.read_buffer_at_offset(volume.get_size(), 0)
    finally:
        volume.close()
    assert hashlib.sha256(data).hexdigest() == VOLUMES[img.name][1]
    out = tmp_path / "decrypted.img"
    out.write_bytes(data)
    return out


def _ls(img: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str, str]:
    args = ["--json", "ls"]
    for var, value in env.items():
        monkeypatch.setenv(var, value)
        args += ["--password-env" if var == "PW" else "--recovery-key-env", var]
    result = CliRunner().invoke(cli, [*args, str(img)])
    return result.exit_code, result.stdout, result.stderr


def test_bitlocker_to_go_lists_the_inner_volume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_peer("fsstat")
    img = _volume(tmp_path, "bitlk-togo-aes-xts-128.img")
    outer = subprocess.run(["fsstat", str(img)], capture_output=True, text=True).stdout
    inner = subprocess.run(
        ["fsstat", str(_decrypted(img, tmp_path))], capture_output=True, text=True
    ).stdout
    assert "File System Type: FAT32" in outer and "File System Type: FAT16" in inner

    code, out, err = _ls(img, monkeypatch)  # no key: said, not the outer FAT listed
    assert code == 1 and "encrypted (BitLocker) and no key was given" in err, out + err
    for env in ({"PW": PASSWORD}, {"RK": VOLUMES[img.name][0]}):
        code, out, err = _ls(img, monkeypatch, **env)
        assert code == 0, out + err
        assert json.loads(out)["filesystem"] == "FAT16 (Sleuth Kit), BitLocker unlocked"
    code, out, err = _ls(img, monkeypatch, PW="sai mật khẩu")
    assert code == 1 and "the password or recovery key is wrong" in err, out + err
    assert "pybde" not in err


def test_an_unlocked_volume_whose_file_system_is_unreadable_is_not_a_wrong_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_peer("fsstat")
    img = _volume(tmp_path, "bitlk-aes-xts-128.img")
    # the decrypted volume is the documented one, and Sleuth Kit cannot read its NTFS either
    # (cryptsetup's test images keep the encryption metadata, not a whole file system)
    res = subprocess.run(["fsstat", str(_decrypted(img, tmp_path))], capture_output=True, text=True)
    assert res.returncode != 0
    code, out, err = _ls(img, monkeypatch, PW=PASSWORD)
    assert code == 1, out + err
    assert "was unlocked with the key given, but the file system inside it could not be read" in err
    assert "wrong" not in err.split("hint:")[0]
    code, out, err = _ls(img, monkeypatch, PW="wrong password")
    assert code == 1 and "the password or recovery key is wrong" in err, out + err
