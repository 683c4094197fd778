"""LUKS1 and LUKS2 volumes in images, unlocked by our own reader (`acquire/fs/luks.py`).

Oracles, none of them ours:
- QEMU (`qemu-img convert -O luks`) writes LUKS1 volumes itself, header, key slot and every
  payload sector: what we decrypt must be the exact bytes it was given;
- cryptsetup writes LUKS1 and LUKS2 headers and key slots (PBKDF2, Argon2id): the volume key we
  derive must pass the header's own digest, and cryptsetup's `luksDump --dump-master-key` gives
  the key the payload is encrypted with here (dm-crypt's scheme: XTS, IV = the 512-byte sector
  number; for 512-byte sectors the same scheme QEMU and libluksde use);
- libluksde (pyluksde) reads the same decrypted bytes from a LUKS1 volume with an ASCII password.
Passwords are Vietnamese where the tool allows it: libluksde cannot use them, cryptsetup can."""

from __future__ import annotations

import hashlib
import re
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from evidencekit.acquire.fs import luks
from evidencekit.acquire.fs.model import Credentials
from evidencekit.acquire.fs.open import open_image
from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.errors import SourceError
from tests.acquire.fs.test_lvm import FILES, LAYOUT, _ext4, _lv_text, fat_and, make_pv
from tests.conftest import need_peer

MiB = 1 << 20
PASSWORD = "Mật khẩu Việt 2024"
SECRET = {"bí mật.txt": "Nội dung mật — Trương Đình Bủng\n".encode()}


def _read(path: Path) -> luks.ReadAt:
    data = path.read_bytes()
    return lambda offset, size: data[offset : offset + size]


def qemu_luks(plain: Path, out: Path, password: str = PASSWORD) -> Path:
    # retries QEMU's PBKDF2 calibration, which fails now and then on a busy machine
    from tests.acquire.fs.test_luks_cipher import qemu_luks as written_by_qemu

    return written_by_qemu(plain, out, password=password)


def cryptsetup_luks(
    tmp_path: Path,
    payload: bytes,
    *,
    kind: str = "luks2",
    password: str = PASSWORD,
    sector: int = 512,
    pbkdf: str | None = None,
) -> Path:
    """A LUKS volume whose header and key slot cryptsetup writes; the payload is encrypted here
    with the volume key cryptsetup dumps (no device-mapper on this machine)."""
    need_peer("cryptsetup")
    img = tmp_path / f"{kind}-{sector}.img"
    with open(img, "wb") as fh:
        fh.truncate(len(payload) + 17 * MiB)
    fmt = ["cryptsetup", "luksFormat", "--type", kind, "--batch-mode", "--iter-time", "10"]
    if kind == "luks2":
        fmt += ["--sector-size", str(sector), "--pbkdf-memory", "32768"]
    if pbkdf:
        fmt += ["--pbkdf", pbkdf]
    subprocess.run([*fmt, str(img), "--key-file=-"], input=password.encode(), check=True)
    dump = subprocess.run(
        ["cryptsetup", "luksDump", "--dump-master-key", "--batch-mode", str(img), "--key-file=-"],
        input=password.encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    bits = int(re.search(r"MK bits:\s*(\d+)", dump).group(1))  # type: ignore[union-attr]
    key = bytes.fromhex("".join(re.findall(r"\b[0-9a-f]{2}\b", dump.split("MK dump:")[1])))
    key = key[: bits // 8]
    offset = int(re.search(r"Payload offset:\s*(\d+)", dump).group(1)) * 512  # type: ignore[union-attr]
    out = bytearray()
    for i in range(0, len(payload), sector):
        tweak = (i // 512).to_bytes(16, "little")  # dm-crypt: IVs count 512-byte sectors
        enc = Cipher(algorithms.AES(key), modes.XTS(tweak)).encryptor()
        out += enc.update(payload[i : i + sector]) + enc.finalize()
    with open(img, "r+b") as fh:
        fh.seek(offset)
        fh.write(out)
    return img


def test_qemu_luks1_decrypts_to_exactly_what_qemu_was_given(tmp_path: Path) -> None:
    plain = tmp_path / "plain.raw"
    plain.write_bytes(bytes(range(256)) * (12 * 1024) + b"tail")
    volume = qemu_luks(plain, tmp_path / "v.luks")
    media = luks.unlock(_read(volume), volume.stat().st_size, PASSWORD, "'v.luks'")
    data = plain.read_bytes()
    assert media.read_at(0, media.size)[: len(data)] == data
    for offset, size in ((0, 1), (511, 2), (12345, 70000), (len(data) - 3, 3)):
        assert media.read_at(offset, size) == data[offset : offset + size]
    assert media.read_at(media.size, 10) == b""
    with pytest.raises(SourceError, match=r"\(LUKS1\): no key slot opens with this password"):
        luks.unlock(_read(volume), volume.stat().st_size, "Mat khau Viet 2024", "'v.luks'")


def test_libluksde_reads_the_same_bytes_with_an_ascii_password(tmp_path: Path) -> None:
    import pyluksde

    plain = tmp_path / "plain.raw"
    plain.write_bytes(hashlib.sha256(b"x").digest() * (64 * 1024))
    volume = qemu_luks(plain, tmp_path / "v.luks", password="mat-khau-2024")
    ours = luks.unlock(_read(volume), volume.stat().st_size, "mat-khau-2024", "'v.luks'")
    theirs = pyluksde.volume()
    theirs.set_password("mat-khau-2024")
    theirs.open(str(volume))
    try:
        assert theirs.unlock() or not theirs.is_locked()
        for offset in (0, 4096, 1 << 20):
            assert ours.read_at(offset, 8192) == theirs.read_buffer_at_offset(8192, offset)
    finally:
        theirs.close()


@pytest.mark.peer
@pytest.mark.parametrize(
    ("kind", "sector", "pbkdf"),
    [("luks1", 512, None), ("luks2", 512, None), ("luks2", 4096, None), ("luks2", 512, "pbkdf2")],
)
def test_cryptsetup_volume_with_vietnamese_password_is_collected(
    tmp_path: Path, kind: str, sector: int, pbkdf: str | None
) -> None:
    payload = _ext4(tmp_path, "inner", SECRET, 8)
    img = cryptsetup_luks(tmp_path, payload, kind=kind, sector=sector, pbkdf=pbkdf)
    name = kind.upper()
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError, match=re.escape(f"is encrypted ({name}) and no key was given")):
        collect([img], out, "ITEM", CollectOptions())
    wrong = Credentials(password="Mật khẩu Việt 2025")
    with pytest.raises(SourceError, match=re.escape(f"({name}): no key slot opens")):
        collect([img], out, "ITEM", CollectOptions(credentials=wrong))
    assert not any(out.iterdir())
    creds = Credentials(password=PASSWORD)
    with open_image(img, credentials=creds) as disk:
        assert [(p.filesystem, p.encryption) for p in disk.partitions] == [
            ("ext4", f"{name} unlocked")
        ]
    collection, outputs = collect([img], out, "ITEM", CollectOptions(credentials=creds))
    assert not collection.errors
    rec = next(f for f in collection.files if f.entry.path == "bí mật.txt".encode())
    assert rec.digests["sha256"] == hashlib.sha256(SECRET["bí mật.txt"]).hexdigest()
    assert f"{name} unlocked" in collection.sources[0].filesystems[0]
    for artifact in (outputs.manifest, outputs.dfxml):  # the password never reaches them
        assert PASSWORD.encode() not in artifact.read_bytes()


@pytest.mark.peer
def test_damaged_luks2_header_is_named(tmp_path: Path) -> None:
    img = cryptsetup_luks(tmp_path, bytes(MiB))
    raw = bytearray(img.read_bytes())
    raw[4096 + 10] ^= 0x01  # the JSON area, covered by the header's checksum
    img.write_bytes(bytes(raw))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(
        SourceError, match=re.escape("LUKS2 header of 'luks2-512.img' fails its checksum")
    ):
        collect([img], out, "ITEM", CollectOptions(credentials=Credentials(password=PASSWORD)))


@pytest.mark.peer
def test_lvm_inside_luks_like_an_ubuntu_encrypted_install(tmp_path: Path) -> None:
    """LUKS (written by QEMU) holding an LVM physical volume (made by LVM's tools) holding
    ext4: the logical volumes are listed once the LUKS volume is unlocked, and collected."""
    pv = tmp_path / "pv.img"
    _vg, places = make_pv(pv, {"root": _lv_text("root", LAYOUT["root"])})
    data = _ext4(tmp_path, "root", FILES["root"], 8)
    with open(pv, "r+b") as fh:
        for i, at in enumerate(places["root"]):
            fh.seek(at)
            fh.write(data[i * MiB : (i + 1) * MiB])
    volume = qemu_luks(pv, tmp_path / "fde.img")
    creds = Credentials(password=PASSWORD)
    with open_image(volume, credentials=creds) as disk:
        rows = [(p.number, p.filesystem, p.encryption) for p in disk.partitions]
    assert rows[0][1:] == (f"LVM physical volume ({_vg})", "LUKS1 unlocked")
    assert rows[1] == (1, "ext4", None)
    out = tmp_path / "out"
    out.mkdir()
    collection, _ = collect([volume], out, "ITEM", CollectOptions(credentials=creds))
    rec = next(f for f in collection.files if f.entry.path == "tệp gốc.txt".encode())
    assert rec.digests["sha256"] == hashlib.sha256(FILES["root"]["tệp gốc.txt"]).hexdigest()
    assert rec.member == "fde.img/p1/tệp gốc.txt".encode()


@pytest.mark.peer
def test_luks_partition_beside_a_plain_one(tmp_path: Path) -> None:
    """A LUKS1 partition (written by QEMU around ext4) after a FAT one: locked in the listing
    without a password, unlocked and collected with it; the FAT partition is read either way."""
    inner = tmp_path / "inner.ext4"
    inner.write_bytes(_ext4(tmp_path, "inner", SECRET, 8))
    disk = fat_and(tmp_path, qemu_luks(inner, tmp_path / "p2.luks").read_bytes(), "83")
    with open_image(disk) as img:
        assert [p.encryption for p in img.numbered()] == [None, "LUKS1"]
    creds = Credentials(password=PASSWORD)
    with open_image(disk, credentials=creds) as img:
        assert [(p.filesystem, p.encryption) for p in img.numbered()][1] == (
            "ext4",
            "LUKS1 unlocked",
        )
    out = tmp_path / "out"
    out.mkdir()
    # every partition, no password: the FAT one is collected, the locked one recorded as not
    everything, outputs = collect([disk], out, "ALL", CollectOptions())
    assert everything.sources[0].skipped == (
        "partition 2 of 'disk.img' is encrypted (LUKS1) and no key was given",
    )
    assert "no key was given" in outputs.manifest.read_text(encoding="utf-8")
    out = tmp_path / "out2"
    out.mkdir()
    collection, _ = collect([disk], out, "ITEM", CollectOptions(partition=2, credentials=creds))
    rec = next(f for f in collection.files if f.entry.path == "bí mật.txt".encode())
    assert rec.member == "disk.img/p2/bí mật.txt".encode()
    assert rec.digests["sha256"] == hashlib.sha256(SECRET["bí mật.txt"]).hexdigest()


def _luks1_header(iterations: int, stripes: int = 4000, key_size: int = 32) -> bytes:
    """A LUKS1 header whose one active key slot asks for `iterations` and `stripes`."""
    head = bytearray(4096)
    head[0:8] = luks.MAGIC + b"\x00\x01"
    head[8:11], head[40:51], head[72:78] = b"aes", b"xts-plain64", b"sha256"
    struct.pack_into(">II", head, 104, 8, key_size)
    struct.pack_into(">I", head, 164, 1000)
    struct.pack_into(">II", head, 208, 0x00AC71F3, iterations)
    struct.pack_into(">II", head, 248, 8, stripes)
    return bytes(head)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (_luks1_header(0xFFFFFFFF), "PBKDF2 iteration count 4294967295 is outside"),
        (_luks1_header(1000, stripes=0xFFFFFFFF), "AF stripe count 4294967295 is outside"),
        (_luks1_header(1000, key_size=7), "key size 7"),
        (luks.MAGIC + b"\x00\x02" + (10 << 20).to_bytes(8, "big") + bytes(4080), "header size"),
    ],
)
def test_hostile_luks_headers_get_a_clear_error_at_once(header: bytes, reason: str) -> None:
    """A header asking for hours of PBKDF2, gigabytes of stripes or an impossible key is refused
    before any work, with what was wrong."""
    with pytest.raises(SourceError, match="damaged or unsupported: " + re.escape(reason)):
        luks.unlock(lambda o, n: header[o : o + n], 1 << 30, PASSWORD, "'x'")
