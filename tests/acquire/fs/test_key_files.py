"""Key files unlock encrypted volumes (issue #19, item 8): a BitLocker startup key (.BEK) and a
LUKS key file of arbitrary bytes, given with `--key-file`.

The BitLocker volume and its .BEK are Windows-made (../shared/testdata/bitlocker, from
cryptsetup's test suite; its README gives the decrypted SHA-256, the oracle). The LUKS2 header and
key slot are written by `cryptsetup luksFormat --key-file` (the payload is encrypted here with the
volume key cryptsetup dumps: no device-mapper on this machine); the file system inside is made by
mkfs.vfat and mcopy.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import random
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from evidencekit.acquire.fs import _dfvfs
from evidencekit.acquire.fs.model import Credentials
from evidencekit.cli.main import cli
from tests.conftest import REQUIRE_PEERS, TESTDATA, need_peer

BITLOCKER = TESTDATA / "bitlocker"
BEK = BITLOCKER / "4381F759-C4F8-4DE0-BB61-FC33A831BDA5.BEK"
STARTUP_DECRYPTED = "bbb68369d8f7badb2c2330349d9d0cf12e68f54eece25e718d2bb13feba23f7a"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_bitlocker_startup_key_unlocks(tmp_path: Path) -> None:
    packed = BITLOCKER / "bitlk-aes-xts-128-startup-key.img.xz"
    if not packed.is_file() or not BEK.is_file():
        if REQUIRE_PEERS:
            pytest.fail(f"BitLocker test volumes not found at {BITLOCKER}")
        pytest.skip(f"BitLocker test volumes not found at {BITLOCKER}")
    img = tmp_path / "startup.img"
    img.write_bytes(lzma.decompress(packed.read_bytes()))
    found = _dfvfs.unlock(img, 0, img.stat().st_size, Credentials(key_file=BEK), "'startup.img'")
    assert found is not None
    media, name = found
    digest = hashlib.sha256()
    for offset in range(0, media.size, 1 << 20):
        digest.update(media.read_at(offset, 1 << 20))
    assert name == "BitLocker" and digest.hexdigest() == STARTUP_DECRYPTED

    code, out, err = _run("ls", str(img))
    assert code == 1 and "no key was given" in err and "--key-file" in err, out + err
    code, out, err = _run("ls", "--key-file", str(BEK), str(img))
    assert "password or recovery key is wrong" not in err and "was unlocked" in err, out + err
    other = tmp_path / "other.BEK"
    other.write_bytes(bytes(len(BEK.read_bytes())))
    code, out, err = _run("ls", "--key-file", str(other), str(img))
    assert code == 1 and "password or recovery key is wrong" in err, out + err


def _luks_with_key_file(tmp_path: Path, payload: bytes, key: Path) -> Path:
    need_peer("cryptsetup")
    img = tmp_path / "usb.img"
    with open(img, "wb") as fh:
        fh.truncate(len(payload) + (17 << 20))
    subprocess.run(
        [
            *("cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode", "--iter-time", "10"),
            *("--pbkdf-memory", "32768", "--sector-size", "512"),
            *("--key-file", str(key), str(img)),
        ],
        check=True,
        capture_output=True,
    )
    dump = subprocess.run(
        [
            *("cryptsetup", "luksDump", "--dump-master-key", "--batch-mode"),
            *("--key-file", str(key), str(img)),
        ],
        capture_output=True,
        check=True,
    ).stdout.decode()
    bits = int(re.search(r"MK bits:\s*(\d+)", dump).group(1))  # type: ignore[union-attr]
    master = bytes.fromhex("".join(re.findall(r"\b[0-9a-f]{2}\b", dump.split("MK dump:")[1])))
    master = master[: bits // 8]
    offset = int(re.search(r"Payload offset:\s*(\d+)", dump).group(1)) * 512  # type: ignore[union-attr]
    out = bytearray()
    for i in range(0, len(payload), 512):
        tweak = (i // 512).to_bytes(16, "little")
        enc = Cipher(algorithms.AES(master), modes.XTS(tweak)).encryptor()
        out += enc.update(payload[i : i + 512]) + enc.finalize()
    with open(img, "r+b") as fh:
        fh.seek(offset)
        fh.write(out)
    return img


def test_luks_key_file_of_arbitrary_bytes(tmp_path: Path, case_dir: Path) -> None:
    need_peer("mkfs.vfat", "mcopy")
    fat = tmp_path / "inner.img"
    subprocess.run(["mkfs.vfat", "-C", str(fat), "2048"], check=True, capture_output=True)
    secret = "Biên bản thu giữ số 12\n".encode() * 100
    (tmp_path / "BIENBAN.TXT").write_bytes(secret)
    subprocess.run(
        ["mcopy", "-i", str(fat), str(tmp_path / "BIENBAN.TXT"), "::BIENBAN.TXT"], check=True
    )
    key = tmp_path / "key.bin"
    key.write_bytes(random.Random(8).randbytes(200) + b"\n\x00tail\n")  # newlines, NULs: all count
    img = _luks_with_key_file(tmp_path, fat.read_bytes(), key)

    code, out, err = _run("--json", "ls", "--key-file", str(key), str(img))
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["filesystem"] == "FAT12 (Sleuth Kit), LUKS2 unlocked"
    assert "BIENBAN.TXT" in [e["path"] for e in doc["entries"]]
    shorter = tmp_path / "key-without-last-byte.bin"
    shorter.write_bytes(key.read_bytes()[:-1])
    code, out, err = _run("ls", "--key-file", str(shorter), str(img))
    assert code == 1 and "no key slot opens" in err, out + err

    code, out, err = _run(
        "--case",
        str(case_dir),
        "acquire",
        "files",
        str(img),
        "--item",
        "K1",
        "--key-file",
        str(key),
    )
    assert code == 0, out + err
    manifest = json.loads((case_dir / "evidence" / "K1" / "K1.manifest.json").read_text())
    rec = next(f for f in manifest["files"] if f["path"] == "BIENBAN.TXT")
    assert rec["digests"]["sha256"] == f"sha256:{hashlib.sha256(secret).hexdigest()}"
