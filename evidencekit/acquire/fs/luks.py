"""LUKS1 and LUKS2 volumes inside images, unlocked with a passphrase and read decrypted.

libluksde (under dfvfs) reads LUKS1 only and derives no key from a non-ASCII passphrase, so a
Vietnamese passphrase or any volume made by cryptsetup 2.1 or later (LUKS2, the default) stayed
locked. The format is documented (the LUKS1 on-disk format specification 1.2.3 and the LUKS2
on-disk format 1.1.x, both from the cryptsetup project), so we unlock it here:

    header     LUKS1: a 592-byte big-endian header with 8 key slots; LUKS2: a 4 KiB binary
               header (its checksum covers the JSON area after it) and JSON metadata with key
               slots, segments and digests
    key slot   the passphrase (UTF-8 bytes, as cryptsetup takes it) through the slot's KDF
               (PBKDF2, Argon2i or Argon2id) decrypts the slot's key material, whose AF-split
               stripes merge into a candidate volume key
    digest     PBKDF2 of the candidate must equal the header's digest: only then is it the key
    payload    sectors of the data segment, AES in XTS or CBC-ESSIV mode, IV = sector number,
               decrypted many sectors per call (`luks_cipher.py`)

Only reading: the volume is never written and the key stays in this process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evidencekit.errors import SourceError

if TYPE_CHECKING:  # luks_cipher imports numpy (~0.1 s): only when a volume is unlocked
    from evidencekit.acquire.fs.luks_cipher import SectorCipher

MAGIC = b"LUKS\xba\xbe"
SECTOR = 512
_SLOT_ACTIVE = 0x00AC71F3
_LUKS2_HEADER = 4096
_MAX_JSON = 4 << 20
# Bounds on what a header may ask of us, so a hostile or corrupt one gets a clear error, not
# hours of CPU or all the memory: cryptsetup itself stays far below them (PBKDF2 calibrated to
# ~2 s, Argon2 memory at most 4 GiB, 4000 AF stripes).
_MAX_ITERATIONS = 50_000_000
_MAX_ARGON2_KIB = 4 << 20
_MAX_ARGON2_TIME = 1000
_MAX_STRIPES = 1 << 16
_KEY_SIZES = (16, 24, 32, 48, 64)
_SECTOR_SIZES = (512, 1024, 2048, 4096)

ReadAt = Callable[[int, int], bytes]
# fills the view from a byte offset of the volume; returns the count, short only at its end
ReadInto = Callable[[memoryview, int], int]
_KEEP_BUFFER = 4 << 20  # the largest read buffer a volume keeps between reads


def version(read_at: ReadAt) -> int | None:
    """1 or 2 for a LUKS header at the start, else None."""
    head = read_at(0, 8)
    if len(head) == 8 and head[:6] == MAGIC:
        return int.from_bytes(head[6:8], "big")
    return None


@dataclass(frozen=True, slots=True)
class _Slot:
    kdf: Callable[[bytes], bytes]  # passphrase -> key that decrypts the key material
    area: int  # byte offset of the key material
    stripes: int
    af_hash: str
    cipher: str  # e.g. "aes-xts-plain64"
    number: int = 0  # the key slot's number, as cryptsetup luksDump shows it


@dataclass(frozen=True, slots=True)
class _Layout:
    version: int
    key_size: int  # the volume key's bytes
    slots: tuple[_Slot, ...]
    check: Callable[[bytes], bool]  # is this the volume key?
    cipher: str
    offset: int  # payload start, bytes
    size: int | None  # payload bytes (None: to the end)
    sector_size: int
    iv_tweak: int = 0  # added to the IV's sector number (512-byte units)


def unlock(read_at: ReadAt, size: int, passphrase: str | bytes, label: str) -> LuksMedia:
    """The decrypted payload of the LUKS volume `read_at` reads (`size` bytes long);
    `passphrase` is text (taken as UTF-8, as cryptsetup does) or a key file's bytes.

    Raises:
        SourceError: not LUKS, a damaged header, an unsupported cipher or KDF, or no key slot
            opens with this passphrase (the message says which).
    """
    layout = _layout(read_at, label)
    secret = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    for slot in layout.slots:
        material_size = slot.stripes * layout.key_size
        material = read_at(slot.area, -(-material_size // SECTOR) * SECTOR)
        if len(material) < material_size:
            continue
        try:
            derived = slot.kdf(secret)
        except (ValueError, MemoryError) as exc:
            raise SourceError(f"cannot derive the key of {label}: {exc}") from exc
        plain = _sectors(slot.cipher, derived, SECTOR, 0, label).decrypt(0, material)
        key = _af_merge(plain[:material_size], layout.key_size, slot.stripes, slot.af_hash)
        if layout.check(key):
            end = size if layout.size is None else min(size, layout.offset + layout.size)
            if end <= layout.offset:
                raise SourceError(f"the LUKS payload of {label} lies past the end of the volume")
            sectors = _sectors(layout.cipher, key, layout.sector_size, layout.iv_tweak, label)
            facts = {
                "version": f"LUKS{layout.version}",
                # the header's UUID field (ASCII by the spec; a hostile one is shown, not fatal)
                "uuid": bytes(read_at(168, 40)).split(b"\0", 1)[0].decode("ascii", "replace"),
                "cipher": layout.cipher,
                "key_bits": str(8 * layout.key_size),
                "sector_size": str(layout.sector_size),
                "payload_offset": str(layout.offset),
                "key_slot": str(slot.number),
            }
            return LuksMedia(read_at, layout.offset, end - layout.offset, sectors, facts)
    raise SourceError(
        f"cannot unlock {label} (LUKS{layout.version}): no key slot opens with this password",
        hint="check the value of the --password-env variable",
    )


class LuksMedia:
    """The decrypted payload as a media stream (`read_at`, `size`)."""

    def __init__(
        self,
        read_at: ReadAt,
        offset: int,
        size: int,
        sectors: SectorCipher,
        facts: dict[str, str] | None = None,
    ) -> None:
        self._read = read_at
        self._offset = offset
        self._sectors = sectors
        self.size = size - size % sectors.size
        self.sector_size = sectors.size
        # what identifies the volume (version, UUID, cipher, key size, sector size, payload
        # offset, the key slot that opened): never the key or the password
        self.facts = dict(facts or {})
        self._readinto: ReadInto | None = None
        self._lock = threading.Lock()  # guards the reused read buffer
        self._buffer = bytearray()

    def read_into_from(self, readinto: ReadInto) -> None:
        """Read the encrypted sectors with `readinto` into one reused buffer from now on.

        A fresh buffer per read costs page faults and a copy (two allocations of 1 MiB per
        read through `MediaSource.read_at`, more CPU than the decryption on this machine).
        """
        self._readinto = readinto

    def read_at(self, offset: int, size: int) -> bytes:
        end = min(offset + size, self.size)
        if end <= offset:
            return b""
        unit = self._sectors.size
        first, last = offset // unit, -(-end // unit)
        at, want = self._offset + first * unit, (last - first) * unit
        if self._readinto is None:
            plain = self._sectors.decrypt(first, self._read(at, want))  # drops a partial sector
        else:
            with self._lock:
                buf = self._buffer if len(self._buffer) >= want else bytearray(want)
                if want <= _KEEP_BUFFER:
                    self._buffer = buf
                with memoryview(buf) as view:
                    got = self._readinto(view[:want], at)
                    plain = self._sectors.decrypt(first, view[:got])
        start = offset - first * unit
        if start == 0 and len(plain) == end - offset:  # aligned: no second copy
            return plain
        return plain[start : end - first * unit]


def _sectors(spec: str, key: bytes, size: int, tweak: int, label: str) -> SectorCipher:
    """The decryption of a LUKS cipher spec ("aes-xts-plain64" …), or why we cannot."""
    from evidencekit.acquire.fs import luks_cipher

    cipher, _, mode = spec.partition("-")
    if cipher != "aes" or mode not in luks_cipher.MODES:
        raise SourceError(
            f"{label} uses the LUKS cipher {spec!r}; evidencekit reads aes-xts-plain64, "
            "aes-xts-plain, aes-cbc-essiv:sha256 and aes-cbc-plain64",
            hint="open it read-only with cryptsetup on a Linux machine and collect from "
            "/dev/mapper/NAME",
        )
    try:
        return luks_cipher.SectorCipher(mode, key, size, tweak)
    except ValueError as exc:
        raise SourceError(f"{label} uses {spec} with {exc}, which evidencekit cannot read") from exc


def _af_merge(material: bytes, key_size: int, stripes: int, hash_name: str) -> bytes:
    """LUKS's anti-forensic merge: XOR the stripes, diffusing with `hash_name` between them."""
    digest = hashlib.new(hash_name).digest_size
    d = bytes(key_size)
    for i in range(stripes - 1):
        stripe = material[i * key_size : (i + 1) * key_size]
        d = bytes(a ^ b for a, b in zip(d, stripe, strict=True))
        out = b""
        for block in range(-(-key_size // digest)):
            piece = d[block * digest : (block + 1) * digest]
            out += hashlib.new(hash_name, block.to_bytes(4, "big") + piece).digest()[: len(piece)]
        d = out
    last = material[(stripes - 1) * key_size : stripes * key_size]
    return bytes(a ^ b for a, b in zip(d, last, strict=True))


def _within(what: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ValueError(f"{what} {value} is outside {low}..{high}")
    return value


def _pbkdf2(hash_name: str, salt: bytes, iterations: int, length: int) -> Callable[[bytes], bytes]:
    name = hash_name.lower()
    if name not in ("sha1", "sha256", "sha512", "ripemd160"):
        raise ValueError(f"unsupported LUKS hash {hash_name!r}")
    _within("PBKDF2 iteration count", iterations, 1, _MAX_ITERATIONS)

    def derive(secret: bytes) -> bytes:
        return hashlib.pbkdf2_hmac(name, secret, salt, iterations, length)

    return derive


def _layout(read_at: ReadAt, label: str) -> _Layout:
    found = version(read_at)
    try:
        if found == 1:
            return _luks1(read_at)
        if found == 2:
            return _luks2(read_at, label)
    except (ValueError, KeyError, TypeError, RecursionError, struct.error) as exc:
        raise SourceError(f"the LUKS header of {label} is damaged or unsupported: {exc}") from exc
    raise SourceError(f"{label} holds no LUKS1 or LUKS2 header")


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii")


def _luks1(read_at: ReadAt) -> _Layout:
    head = read_at(0, 592)
    if len(head) < 592:
        raise ValueError("the header is cut short")
    cipher, mode, hash_name = (_text(head[o : o + 32]) for o in (8, 40, 72))
    payload, key_size = struct.unpack_from(">II", head, 104)
    if key_size not in _KEY_SIZES:
        raise ValueError(f"key size {key_size}")
    mk_digest, mk_salt = head[112:132], head[132:164]
    (mk_iter,) = struct.unpack_from(">I", head, 164)
    slots = []
    for i in range(8):
        active, iterations = struct.unpack_from(">II", head, 208 + 48 * i)
        salt = head[216 + 48 * i : 248 + 48 * i]
        area, stripes = struct.unpack_from(">II", head, 248 + 48 * i)
        if active == _SLOT_ACTIVE:
            _within("AF stripe count", stripes, 1, _MAX_STRIPES)
            kdf = _pbkdf2(hash_name, salt, iterations, key_size)
            spec = f"{cipher}-{mode}"
            slots.append(_Slot(kdf, area * SECTOR, stripes, hash_name, spec, i))
    digest = _pbkdf2(hash_name, mk_salt, mk_iter, 20)
    return _Layout(
        1,
        key_size,
        tuple(slots),
        lambda key: digest(key) == mk_digest,
        f"{cipher}-{mode}",
        payload * SECTOR,
        None,
        SECTOR,
    )


def _luks2(read_at: ReadAt, label: str) -> _Layout:
    head = read_at(0, _LUKS2_HEADER)
    (hdr_size,) = struct.unpack_from(">Q", head, 8)
    if not _LUKS2_HEADER < hdr_size <= _MAX_JSON:
        raise ValueError(f"header size {hdr_size}")
    area = read_at(_LUKS2_HEADER, hdr_size - _LUKS2_HEADER)
    csum_alg = _text(head[72:104])
    stored = head[448 : 448 + 64]
    blank = head[:448] + bytes(64) + head[512:]
    hasher = hashlib.new(csum_alg, blank + area)
    if hasher.digest() != stored[: hasher.digest_size]:
        raise SourceError(f"the LUKS2 header of {label} fails its checksum")
    meta = json.loads(area.split(b"\0", 1)[0])
    segment = meta["segments"]["0"]
    if segment["type"] != "crypt":
        raise ValueError(f"segment type {segment['type']!r}")
    size = (
        None if segment["size"] == "dynamic" else _within("size", int(segment["size"]), 1, 1 << 62)
    )
    sector_size = int(segment.get("sector_size", SECTOR))
    if sector_size not in _SECTOR_SIZES:
        raise ValueError(f"sector size {sector_size}")
    digest = next(iter(meta["digests"].values()))
    if digest["type"] != "pbkdf2":
        raise ValueError(f"digest type {digest['type']!r}")
    expect = base64.b64decode(digest["digest"])
    check = _pbkdf2(
        digest["hash"], base64.b64decode(digest["salt"]), int(digest["iterations"]), len(expect)
    )
    slots = []
    key_size = 0
    for slot_id, slot in sorted(meta["keyslots"].items(), key=lambda kv: int(kv[0])):
        if slot["type"] != "luks2" or slot_id not in digest["keyslots"]:
            continue
        key_size = int(slot["key_size"])
        kdf_doc, af, slot_area = slot["kdf"], slot["af"], slot["area"]
        if af["type"] != "luks1" or key_size not in _KEY_SIZES:
            raise ValueError(f"AF type {af['type']!r}, key size {key_size}")
        _within("AF stripe count", int(af["stripes"]), 1, _MAX_STRIPES)
        _within("key slot offset", int(slot_area["offset"]), 0, 1 << 62)
        slots.append(
            _Slot(
                _luks2_kdf(kdf_doc, int(slot_area["key_size"])),
                int(slot_area["offset"]),
                int(af["stripes"]),
                af["hash"],
                slot_area["encryption"],
                int(slot_id),
            )
        )
    return _Layout(
        2,
        key_size,
        tuple(slots),
        lambda key: check(key) == expect,
        segment["encryption"],
        _within("segment offset", int(segment["offset"]), 0, 1 << 62),
        size,
        sector_size,
        int(segment.get("iv_tweak", "0")),
    )


def _luks2_kdf(doc: dict[str, object], length: int) -> Callable[[bytes], bytes]:
    salt = base64.b64decode(str(doc["salt"]))
    kind = doc["type"]
    if kind == "pbkdf2":
        return _pbkdf2(str(doc["hash"]), salt, int(str(doc["iterations"])), length)
    if kind in ("argon2i", "argon2id"):
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2i, Argon2id

        cls = Argon2id if kind == "argon2id" else Argon2i
        time, memory, lanes = (int(str(doc[k])) for k in ("time", "memory", "cpus"))
        _within("Argon2 time cost", time, 1, _MAX_ARGON2_TIME)
        _within("Argon2 memory (KiB)", memory, 8, _MAX_ARGON2_KIB)
        _within("Argon2 threads", lanes, 1, 64)

        def derive(secret: bytes) -> bytes:
            kdf = cls(salt=salt, length=length, iterations=time, lanes=lanes, memory_cost=memory)
            return kdf.derive(secret)

        return derive
    raise ValueError(f"KDF {kind!r}")
