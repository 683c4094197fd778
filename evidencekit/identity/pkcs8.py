"""Encrypted PKCS#8 private keys (RFC 5958 `EncryptedPrivateKeyInfo`), PBES2 only, read and
written here instead of by OpenSSL, so that the parameters a key file asks for are checked
before any work is done.

A key file says how it was encrypted: PBES2 (RFC 8018) names its key-derivation function with its
parameters and its cipher with its IV. New keys use scrypt (RFC 7914 §7 gives its ASN.1) with
`DEFAULT_SCRYPT` and AES-256-CBC; keys written before this module existed (PBKDF2-HMAC-SHA256,
2,048 iterations, AES-256-CBC: what `cryptography`'s `BestAvailableEncryption` writes) still load,
because the parameters are read from each file. A later change of the defaults therefore keeps
every older file loading.

OpenSSL reads these files too, but refuses scrypt above 32 MiB of memory (its built-in cap), so
for the default parameters the independent check is `openssl kdf` + `openssl enc` (see
docs/keys.md); `cryptography`'s loader goes through OpenSSL and cannot be used to read them.

A hostile or damaged file must not make the tool burn minutes of CPU or GiBs of memory: every
parameter is bounded (`MAX_*`) and anything outside is refused with the value named.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from evidencekit.errors import IdentityError

# -- object identifiers (RFC 8018, RFC 7914, NIST CSOR) --------------------------------------
OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_PRF_OIDS = {
    "1.2.840.113549.2.7": "sha1",  # hmacWithSHA1, PBKDF2's default when the PRF is absent
    "1.2.840.113549.2.9": "sha256",
    "1.2.840.113549.2.10": "sha384",
    "1.2.840.113549.2.11": "sha512",
}
_PRF_BY_NAME = {name: oid for oid, name in _PRF_OIDS.items()}
_CIPHER_OIDS = {  # OID -> key length in bytes (AES in CBC mode, IV of 16 bytes)
    "2.16.840.1.101.3.4.1.2": 16,
    "2.16.840.1.101.3.4.1.22": 24,
    "2.16.840.1.101.3.4.1.42": 32,
}
_AES256_CBC = "2.16.840.1.101.3.4.1.42"

# -- what a key file may ask for -------------------------------------------------------------
# The defaults cost about 0.4 s and 128 MiB on the reference machine (docs/benchmarks.md). The
# bounds allow a few times that (room to raise the defaults later) and nothing near minutes or
# GiBs: scrypt's memory is 128·r·(N+2+p) bytes and its work is proportional to N·r·p.
MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
MAX_SCRYPT_WORK = 2**22  # N·r·p: 4 × the default's 2**20, about 1.6 s here
MAX_PBKDF2_ITERATIONS = 5_000_000  # PBKDF2-HMAC-SHA256: about 1.2 s here
MAX_KEY_FILE_BYTES = 64 * 1024
SALT_BYTES = 16
_SALT_RANGE = (8, 64)

PEM_LABEL = "ENCRYPTED PRIVATE KEY"


@dataclass(frozen=True, slots=True)
class Scrypt:
    """scrypt parameters (RFC 7914): N (a power of two), r, p."""

    n: int
    r: int
    p: int

    def check(self) -> None:
        """Raises IdentityError when a file asks for more than evidencekit will spend."""
        if self.n < 2 or self.n & (self.n - 1) or self.r < 1 or self.p < 1:
            raise IdentityError(
                f"key file asks for invalid scrypt parameters N={self.n}, r={self.r}, p={self.p} "
                "(N must be a power of two ≥ 2, r and p ≥ 1): the file is damaged"
            )
        memory = self.memory
        work = self.n * self.r * self.p
        if memory > MAX_SCRYPT_MEMORY or work > MAX_SCRYPT_WORK:
            raise IdentityError(
                f"key file asks for scrypt N={self.n}, r={self.r}, p={self.p} "
                f"({memory // 2**20} MiB, work N·r·p={work}); evidencekit accepts at most "
                f"{MAX_SCRYPT_MEMORY // 2**20} MiB and N·r·p ≤ {MAX_SCRYPT_WORK}: "
                "the file is damaged or hostile",
                hint="restore key.pem from your backup of the identity folder",
            )

    @property
    def memory(self) -> int:
        """Bytes scrypt allocates: V (128·r·(N+2)) and B (128·r·p), as OpenSSL counts them."""
        return 128 * self.r * (self.n + 2 + self.p)

    def derive(self, passphrase: bytes, salt: bytes, length: int) -> bytes:
        self.check()
        try:
            return hashlib.scrypt(
                passphrase,
                salt=salt,
                n=self.n,
                r=self.r,
                p=self.p,
                maxmem=self.memory + 2**20,  # hashlib's default cap is 32 MiB
                dklen=length,
            )
        except (ValueError, MemoryError) as exc:
            raise IdentityError(f"scrypt {self.describe()} failed: {exc}") from exc

    def describe(self) -> str:
        return f"scrypt N={self.n} r={self.r} p={self.p}"


@dataclass(frozen=True, slots=True)
class Pbkdf2:
    """PBKDF2 parameters (RFC 8018 §5.2): HMAC hash and iteration count."""

    iterations: int
    prf: str = "sha256"

    def check(self) -> None:
        """Raises IdentityError when a file asks for more than evidencekit will spend."""
        if not 1 <= self.iterations <= MAX_PBKDF2_ITERATIONS:
            raise IdentityError(
                f"key file asks for {self.iterations} PBKDF2 iterations; evidencekit accepts "
                f"1 to {MAX_PBKDF2_ITERATIONS}: the file is damaged or hostile",
                hint="restore key.pem from your backup of the identity folder",
            )

    def derive(self, passphrase: bytes, salt: bytes, length: int) -> bytes:
        self.check()
        return hashlib.pbkdf2_hmac(self.prf, passphrase, salt, self.iterations, length)

    def describe(self) -> str:
        return f"PBKDF2-HMAC-{self.prf.upper()} {self.iterations} iterations"


Kdf = Scrypt | Pbkdf2

DEFAULT_SCRYPT = Scrypt(n=2**17, r=8, p=1)
"""What new keys use: RFC 7914's and OWASP's interactive parameters, 128 MiB, ~0.4 s here."""


@dataclass(frozen=True, slots=True)
class EncryptedKey:
    """A parsed `EncryptedPrivateKeyInfo` with PBES2."""

    kdf: Kdf
    salt: bytes
    key_length: int
    iv: bytes
    ciphertext: bytes


# -- encrypting and decrypting ---------------------------------------------------------------
def encrypt(private_key_info: bytes, passphrase: bytes, kdf: Kdf = DEFAULT_SCRYPT) -> bytes:
    """PEM `ENCRYPTED PRIVATE KEY` holding the DER `PrivateKeyInfo`, PBES2 with `kdf` and
    AES-256-CBC under a fresh random salt and IV."""
    kdf.check()
    salt, iv = os.urandom(SALT_BYTES), os.urandom(16)
    key = kdf.derive(passphrase, salt, 32)
    padder = padding.PKCS7(128).padder()
    plain = padder.update(private_key_info) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(plain) + enc.finalize()
    der = _seq(
        _seq(
            _oid(OID_PBES2),
            _seq(_kdf_algorithm(kdf, salt), _seq(_oid(_AES256_CBC), _octets(iv))),
        ),
        _octets(ciphertext),
    )
    body = base64.encodebytes(der).decode("ascii")  # 76-column lines; RFC 7468 allows 64..76
    return f"-----BEGIN {PEM_LABEL}-----\n{body}-----END {PEM_LABEL}-----\n".encode("ascii")


def decrypt(encrypted: EncryptedKey, passphrase: bytes) -> bytes | None:
    """The DER `PrivateKeyInfo`, or None when the passphrase is wrong (bad padding)."""
    key = encrypted.kdf.derive(passphrase, encrypted.salt, encrypted.key_length)
    dec = Cipher(algorithms.AES(key), modes.CBC(encrypted.iv)).decryptor()
    plain = dec.update(encrypted.ciphertext) + dec.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        return None


def parse_pem(data: bytes) -> EncryptedKey:
    """Read an `ENCRYPTED PRIVATE KEY` PEM and check every parameter it asks for.

    Raises:
        IdentityError: not such a PEM, malformed DER, an unsupported algorithm, or a parameter
            out of bounds (the message names it).
    """
    if len(data) > MAX_KEY_FILE_BYTES:
        raise IdentityError(f"key file is {len(data)} bytes; a key file is a few hundred")
    # plain find() rather than a regular expression: linear on whatever a hostile file holds
    begin = data.find(b"-----BEGIN ")
    label_end = data.find(b"-----", begin + 11) if begin >= 0 else -1
    found = data[begin + 11 : label_end].decode("ascii", "replace") if label_end >= 0 else ""
    if found != PEM_LABEL:
        raise IdentityError(
            f"key file holds {found or 'no PEM block'!r}, not an {PEM_LABEL!r} (PKCS#8 with PBES2)",
            hint="restore key.pem from your backup of the identity folder",
        )
    body_start = label_end + 5
    body_end = data.find(f"-----END {PEM_LABEL}-----".encode("ascii"), body_start)
    if body_end < 0:
        raise IdentityError(f"key file: its {PEM_LABEL!r} block has no END line")
    try:
        der = base64.b64decode(b"".join(data[body_start:body_end].split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IdentityError("key file: its PEM body is not base64") from exc
    return parse_der(der)


def parse_der(der: bytes) -> EncryptedKey:
    """See `parse_pem`."""
    epki, rest = _take(der, 0x30)
    _expect_end(rest)
    alg, rest = _take(epki, 0x30)
    ciphertext, tail = _take(rest, 0x04)
    _expect_end(tail)
    scheme_oid, params = _take_oid(alg)
    if scheme_oid != OID_PBES2:
        raise IdentityError(
            f"key file is encrypted with {scheme_oid}, not PBES2; evidencekit reads PBES2 "
            "(scrypt or PBKDF2 with AES-CBC) only"
        )
    pbes2, rest = _take(params, 0x30)
    _expect_end(rest)
    kdf_alg, rest = _take(pbes2, 0x30)
    enc_alg, rest = _take(rest, 0x30)
    _expect_end(rest)
    cipher_oid, rest = _take_oid(enc_alg)
    if cipher_oid not in _CIPHER_OIDS:
        raise IdentityError(f"key file uses cipher {cipher_oid}; evidencekit reads AES-CBC only")
    key_length = _CIPHER_OIDS[cipher_oid]
    iv, rest = _take(rest, 0x04)
    _expect_end(rest)
    if len(iv) != 16:
        raise IdentityError(f"key file: AES-CBC IV of {len(iv)} bytes (must be 16)")
    if not ciphertext or len(ciphertext) % 16:
        raise IdentityError(f"key file: {len(ciphertext)} encrypted bytes (not whole AES blocks)")
    kdf, salt, stated_length = _parse_kdf(kdf_alg)
    if stated_length is not None and stated_length != key_length:
        raise IdentityError(
            f"key file: KDF key length {stated_length} does not fit its cipher ({key_length})"
        )
    return EncryptedKey(kdf=kdf, salt=salt, key_length=key_length, iv=iv, ciphertext=ciphertext)


def _parse_kdf(alg: bytes) -> tuple[Kdf, bytes, int | None]:
    kdf_oid, rest = _take_oid(alg)
    params, rest = _take(rest, 0x30)
    _expect_end(rest)
    salt, rest = _take(params, 0x04)
    if not _SALT_RANGE[0] <= len(salt) <= _SALT_RANGE[1]:
        raise IdentityError(
            f"key file: salt of {len(salt)} bytes (evidencekit accepts {_SALT_RANGE[0]} to "
            f"{_SALT_RANGE[1]})"
        )
    kdf: Kdf
    length: int | None = None
    if kdf_oid == OID_SCRYPT:
        n, rest = _take_int(rest)
        r, rest = _take_int(rest)
        p, rest = _take_int(rest)
        if rest:
            length, rest = _take_int(rest)
        _expect_end(rest)
        kdf = Scrypt(n=n, r=r, p=p)
    elif kdf_oid == OID_PBKDF2:
        iterations, rest = _take_int(rest)
        if rest and rest[0] == 0x02:
            length, rest = _take_int(rest)
        prf = "sha1"  # RFC 8018: absent PRF means hmacWithSHA1
        if rest:
            prf_alg, rest = _take(rest, 0x30)
            prf_oid, prf_params = _take_oid(prf_alg)
            if prf_oid not in _PRF_OIDS:
                raise IdentityError(f"key file: PBKDF2 with unsupported PRF {prf_oid}")
            if prf_params not in (b"", b"\x05\x00"):
                raise IdentityError("key file: PBKDF2 PRF with unexpected parameters")
            prf = _PRF_OIDS[prf_oid]
        _expect_end(rest)
        kdf = Pbkdf2(iterations=iterations, prf=prf)
    else:
        raise IdentityError(
            f"key file uses key derivation {kdf_oid}; evidencekit reads scrypt and PBKDF2"
        )
    kdf.check()
    return kdf, salt, length


# -- a small strict DER reader and writer: just what EncryptedPrivateKeyInfo needs ------------
def _take(data: bytes, tag: int) -> tuple[bytes, bytes]:
    """The content of the element with `tag` at the start of `data`, and what follows it."""
    if len(data) < 2 or data[0] != tag:
        got = f"0x{data[0]:02x}" if data else "the end"
        raise IdentityError(f"key file is not valid DER: expected tag 0x{tag:02x}, found {got}")
    length, start = data[1], 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 3 or len(data) < 2 + count:
            raise IdentityError("key file is not valid DER: bad length")
        length = int.from_bytes(data[2 : 2 + count], "big")
        start = 2 + count
    if start + length > len(data):
        raise IdentityError("key file is not valid DER: an element runs past the end")
    return data[start : start + length], data[start + length :]


def _expect_end(rest: bytes) -> None:
    if rest:
        raise IdentityError(f"key file is not valid DER: {len(rest)} unexpected trailing bytes")


def _take_int(data: bytes) -> tuple[int, bytes]:
    content, rest = _take(data, 0x02)
    if not content or len(content) > 8 or content[0] & 0x80:
        raise IdentityError("key file: an integer parameter is negative, empty or too large")
    return int.from_bytes(content, "big"), rest


def _take_oid(data: bytes) -> tuple[str, bytes]:
    content, rest = _take(data, 0x06)
    if not content or content[-1] & 0x80:
        raise IdentityError("key file is not valid DER: a malformed object identifier")
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]]), rest


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _octets(value: bytes) -> bytes:
    return _tlv(0x04, value)


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _kdf_algorithm(kdf: Kdf, salt: bytes) -> bytes:
    if isinstance(kdf, Scrypt):
        return _seq(_oid(OID_SCRYPT), _seq(_octets(salt), _int(kdf.n), _int(kdf.r), _int(kdf.p)))
    prf = _seq(_oid(_PRF_BY_NAME[kdf.prf]), b"\x05\x00")
    return _seq(_oid(OID_PBKDF2), _seq(_octets(salt), _int(kdf.iterations), prf))
