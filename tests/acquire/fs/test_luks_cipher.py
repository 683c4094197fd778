"""The batched sector decryption of `acquire/fs/luks_cipher.py`, byte for byte against two oracles:

- `cryptography`'s own XTS and CBC modes (OpenSSL), one cipher object per sector, as the LUKS
  reader did before (random keys and data, every mode, key size and sector size, sector numbers
  that wrap the 32-bit "plain" counter, several batches and a partial last one);
- QEMU, which writes LUKS1 volumes (AES-128/192/256 XTS, CBC-ESSIV, CBC-plain64, XTS-plain) and
  decrypts them again with `qemu-img convert --image-opts driver=luks`: our decryption of the
  volume must equal QEMU's, at any offset and length.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from evidencekit.acquire.fs import luks, luks_cipher
from evidencekit.acquire.fs.luks_cipher import SectorCipher
from evidencekit.errors import SourceError
from tests.peers import need_peer

PASSWORD = "Mật khẩu Việt 2024"
MiB = 1 << 20


def per_sector(mode: str, key: bytes, size: int, first: int, data: bytes, tweak: int = 0) -> bytes:
    """The reference: one `cryptography` cipher per sector, IVs counted in 512-byte units."""
    bits = 32 if mode.endswith("plain") else 64
    out = bytearray()
    for i in range(0, len(data) - size + 1, size):
        number = ((first + i // size) * (size // 512) + tweak) % (1 << bits)
        iv = number.to_bytes(16, "little")
        if mode.startswith("xts"):
            dec = Cipher(algorithms.AES(key), modes.XTS(iv)).decryptor()
        else:
            if mode == "cbc-essiv:sha256":
                salt = hashlib.sha256(key).digest()
                iv = Cipher(algorithms.AES(salt), modes.ECB()).encryptor().update(iv)
            dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        out += dec.update(data[i : i + size]) + dec.finalize()
    return bytes(out)


CASES = [
    (mode, key_size, size)
    for mode, key_sizes in (
        ("xts-plain64", (32, 64)),  # AES-128 and AES-256 XTS
        ("xts-plain", (64,)),
        ("cbc-essiv:sha256", (16, 32)),
        ("cbc-plain64", (16, 32)),
        ("cbc-plain", (32,)),
    )
    for key_size in key_sizes
    for size in (512, 1024, 4096)
]


@pytest.mark.parametrize(("mode", "key_size", "size"), CASES)
def test_batched_decryption_equals_one_cipher_per_sector(
    mode: str, key_size: int, size: int
) -> None:
    rng = random.Random(f"{mode}/{key_size}/{size}")
    key = rng.randbytes(key_size)
    batch = max(luks_cipher.BATCH_SECTORS, luks_cipher.BATCH_BYTES // size)
    count = 2 * batch + 37  # two whole batches and a partial one
    data = rng.randbytes(count * size + 100)  # and a partial sector, which is dropped
    for first, tweak in ((0, 0), (12345, 0), ((1 << 32) // (size // 512) - 50, 0), (7, 1 << 40)):
        ours = SectorCipher(mode, key, size, tweak).decrypt(first, data)
        assert len(ours) == count * size
        assert ours == per_sector(mode, key, size, first, data, tweak), (first, tweak)
    assert SectorCipher(mode, key, size).decrypt(3, data[: size - 1]) == b""
    # small calls (one sector at a time through OpenSSL) agree with the reference and with a
    # large call's sectors
    whole = SectorCipher(mode, key, size).decrypt(40, data)
    for n in (1, 2, luks_cipher.SMALL_CALL - 1, luks_cipher.SMALL_CALL):
        for at in (0, 17):
            part = data[at * size : (at + n) * size + 5]
            small = SectorCipher(mode, key, size).decrypt(40 + at, part)
            assert small == per_sector(mode, key, size, 40 + at, part)
            assert small == whole[at * size : (at + n) * size], (n, at)


def test_plain64_counter_past_two_to_the_64_wraps_like_dm_crypt() -> None:
    key = bytes(range(64))
    data = os.urandom(4 * 512)
    ours = SectorCipher("xts-plain64", key, 512, tweak=(1 << 64) + 5).decrypt((1 << 64) - 2, data)
    assert ours == per_sector("xts-plain64", key, 512, (1 << 64) - 2, data, (1 << 64) + 5)


@pytest.mark.parametrize("key", [bytes(64), bytes(range(48))])
def test_keys_openssl_refuses_for_xts_still_decrypt_in_small_calls(key: bytes) -> None:
    """Equal XTS key halves (OpenSSL refuses them) and AES-192-XTS (OpenSSL has none, QEMU
    writes it): a small call decrypts like the same sectors of a large call."""
    data = os.urandom(64 * 512)
    cipher = SectorCipher("xts-plain64", key, 512)
    whole = cipher.decrypt(7, data)
    assert cipher.decrypt(7, data[:512]) == whole[:512]
    assert cipher.decrypt(9, data[1024:3072]) == whole[1024:3072]


def test_a_changed_ciphertext_byte_changes_only_its_own_blocks() -> None:
    """The comparison above can fail: one flipped byte must change exactly the 16-byte block
    it is in (XTS) or that block and the same byte of the next one (CBC), never other sectors."""
    key = bytes(range(32))
    data = os.urandom(64 * 512)
    at = 5 * 512 + 100
    bad = bytearray(data)
    bad[at] ^= 0x01
    for mode, changed in (("xts-plain64", {at // 16}), ("cbc-plain64", {at // 16, at // 16 + 1})):
        good, worse = (SectorCipher(mode, key, 512).decrypt(9, d) for d in (data, bytes(bad)))
        blocks = {i // 16 for i in range(len(good)) if good[i] != worse[i]}
        assert blocks == changed, mode
    wrong = SectorCipher("xts-plain64", key, 512).decrypt(10, data)  # a sector number off
    assert wrong != SectorCipher("xts-plain64", key, 512).decrypt(9, data)


@pytest.mark.parametrize(
    ("mode", "key", "size", "reason"),
    [
        ("xts-plain64", bytes(16), 512, "an XTS key of 16 bytes"),
        ("cbc-plain64", bytes(64), 512, "a CBC key of 64 bytes"),
        ("xts-plain64", bytes(64), 100, "sector size 100"),
        ("ecb", bytes(32), 512, "unsupported mode 'ecb'"),
    ],
)
def test_impossible_keys_and_sector_sizes_are_refused(
    mode: str, key: bytes, size: int, reason: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)):
        SectorCipher(mode, key, size)


def qemu_luks(plain: Path, out: Path, options: str = "", password: str = PASSWORD) -> Path:
    """A LUKS1 volume QEMU writes around `plain`. QEMU calibrates PBKDF2 on the CPU clock and,
    on a busy machine, sometimes gives up ("Unable to get accurate CPU usage"): try again."""
    need_peer("qemu-img")
    opts = ",".join(o for o in ("key-secret=s0,iter-time=10", options) if o)
    for _attempt in range(30):
        done = subprocess.run(
            [
                *("qemu-img", "convert", "--object", f"secret,id=s0,data={password}"),
                *("-O", "luks", "-o", opts, str(plain), str(out)),
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode == 0:
            return out
        assert "accurate CPU usage" in done.stderr, done.stderr
    raise AssertionError(done.stderr)


def qemu_decrypt(volume: Path, out: Path) -> bytes:
    """What QEMU itself reads from the LUKS volume: its decrypted payload."""
    subprocess.run(
        [
            *("qemu-img", "convert", "--object", f"secret,id=s0,data={PASSWORD}"),
            *("--image-opts", f"driver=luks,key-secret=s0,file.filename={volume}"),
            *("-O", "raw", str(out)),
        ],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


@pytest.mark.peer
@pytest.mark.parametrize(
    ("options", "cipher"),
    [
        ("cipher-alg=aes-256,cipher-mode=xts", "xts-plain64 512"),
        ("cipher-alg=aes-128,cipher-mode=xts", "xts-plain64 256"),
        ("cipher-alg=aes-192,cipher-mode=xts", "xts-plain64 384"),
        ("cipher-alg=aes-256,cipher-mode=xts,ivgen-alg=plain", "xts-plain 512"),
        (
            "cipher-alg=aes-256,cipher-mode=cbc,ivgen-alg=essiv,ivgen-hash-alg=sha256",
            "cbc-essiv:sha256 256",
        ),
        ("cipher-alg=aes-128,cipher-mode=cbc,ivgen-alg=plain64", "cbc-plain64 128"),
    ],
)
def test_qemu_written_volumes_decrypt_as_qemu_decrypts_them(
    tmp_path: Path, options: str, cipher: str
) -> None:
    rng = random.Random(options)
    plain = tmp_path / "plain.raw"
    plain.write_bytes(rng.randbytes(3 * (1 << 20) + 7 * 512))
    volume = qemu_luks(plain, tmp_path / "v.luks", options)
    need_peer("cryptsetup")
    dump = subprocess.run(
        ["cryptsetup", "luksDump", str(volume)], capture_output=True, text=True, check=True
    ).stdout
    # cryptsetup names the cipher QEMU chose: each case tests the mode and key size it means
    found = re.search(r"Cipher mode:\s*(\S+)", dump), re.search(r"MK bits:\s*(\d+)", dump)
    assert [m.group(1) for m in found if m] == cipher.split()
    theirs = qemu_decrypt(volume, tmp_path / "qemu.raw")
    assert theirs == plain.read_bytes()
    data = volume.read_bytes()
    media = luks.unlock(lambda o, n: data[o : o + n], len(data), PASSWORD, "'v.luks'")
    assert media.size == len(theirs)
    assert media.read_at(0, media.size) == theirs
    for offset, size in ((1, 511), (511, 2), (300_000, 1 << 20), (len(theirs) - 700, 10_000)):
        assert media.read_at(offset, size) == theirs[offset : offset + size], (offset, size)


def test_an_unusable_key_size_is_a_clear_source_error() -> None:
    with pytest.raises(SourceError, match=r"'x' uses aes-cbc-essiv:sha256 with a CBC key of 64"):
        luks._sectors("aes-cbc-essiv:sha256", bytes(64), 512, 0, "'x'")


def test_one_cipher_read_from_several_threads_gives_each_its_own_bytes() -> None:
    """The cipher reuses its output array between calls: threads reading through the same
    volume (Sleuth Kit, a verification pass) must never see each other's sectors."""
    from concurrent.futures import ThreadPoolExecutor

    key = bytes(range(64))
    cipher = SectorCipher("xts-plain64", key, 512)
    inputs = [random.Random(i).randbytes(1 << 20) for i in range(4)]
    expected = [per_sector("xts-plain64", key, 512, 100 * i, d) for i, d in enumerate(inputs)]

    def work(i: int) -> bool:
        return all(cipher.decrypt(100 * i, inputs[i]) == expected[i] for _ in range(10))

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(work, range(4)))


@pytest.mark.peer
def test_volume_facts_name_the_volume_and_survive_a_hostile_uuid(tmp_path: Path) -> None:
    """The facts the seal carries come from the header (cryptsetup reads the same UUID); a
    UUID field that is not ASCII (LUKS1 has no header checksum) is shown, never a crash."""
    plain = tmp_path / "plain.raw"
    plain.write_bytes(bytes(MiB))
    volume = qemu_luks(plain, tmp_path / "v.luks", "cipher-alg=aes-128,cipher-mode=xts")
    need_peer("cryptsetup")
    uuid = subprocess.run(
        ["cryptsetup", "luksUUID", str(volume)], capture_output=True, text=True, check=True
    ).stdout.strip()
    data = bytearray(volume.read_bytes())
    media = luks.unlock(lambda o, n: bytes(data[o : o + n]), len(data), PASSWORD, "'v.luks'")
    assert media.facts == {
        "version": "LUKS1",
        "uuid": uuid,
        "cipher": "aes-xts-plain64",
        "key_bits": "256",
        "sector_size": "512",
        "payload_offset": str(int.from_bytes(data[104:108], "big") * 512),
        "key_slot": "0",
    }
    data[168:172] = b"\xff\xfe\x00\x01"
    hostile = luks.unlock(lambda o, n: bytes(data[o : o + n]), len(data), PASSWORD, "'v.luks'")
    assert hostile.facts["uuid"] == "\ufffd\ufffd"
    assert hostile.read_at(0, MiB) == bytes(MiB)
