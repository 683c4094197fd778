"""Many disk sectors decrypted in one go: AES-XTS and AES-CBC as dm-crypt and LUKS use them.

One `cryptography` cipher object per 512-byte sector costs more than the AES itself (~45 MB/s),
so a batch of sectors is decrypted with a fixed number of calls whatever its length:

    XTS (IEEE 1619)  P = D_K1(C xor T) xor T, T_0 = E_K2(IV), T_{j+1} = T_j * alpha in GF(2^128):
                     one AES-ECB encryption of every sector's IV gives all T_0, numpy multiplies
                     them by alpha^j for all blocks at once, one AES-ECB decryption does the rest
    CBC              P_j = D_K(C_j) xor C_{j-1}, C_{-1} = IV (ESSIV: IV = E_{SHA-256(K)}(IV)):
                     one AES-ECB decryption of every block, then one xor with the blocks shifted

Calls of fewer than `SMALL_CALL` sectors (Sleuth Kit reading metadata) go one sector at a time
through OpenSSL's own XTS/CBC, which is cheaper there.

The IV of a sector is its number in 512-byte units plus the volume's tweak (dm-crypt counts in
512-byte units whatever the encryption sector size), as a little-endian 128-bit value ("plain64")
or its low 32 bits ("plain"). Tests compare every mode with per-sector `cryptography` XTS/CBC and
with QEMU's own decryption.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECTOR = 512
MODES = ("xts-plain64", "xts-plain", "cbc-essiv:sha256", "cbc-plain64", "cbc-plain")
# bytes and sectors per numpy pass: large enough that numpy's per-call overhead vanishes, small
# enough that the temporaries (a few times the batch) stay in the CPU caches
BATCH_BYTES = 256 << 10
BATCH_SECTORS = 256
# a call's output up to this size goes through one reused array: a fresh one costs page faults
# (~15 % of the decryption of 1 MiB reads here); larger outputs are allocated and let go
_KEEP_OUTPUT = 4 << 20
# below this many sectors a call decrypts one sector at a time with OpenSSL's own XTS/CBC: a
# batch's fixed numpy cost (~50 us, ~100 us with 4 KiB sectors) is more than a few cipher
# objects (~5 us each), and Sleuth Kit reads file-system metadata in small pieces
SMALL_CALL = 16
_U64 = np.dtype("<u8")
_MASK64 = (1 << 64) - 1


class SectorCipher:
    """Decrypts whole sectors of one LUKS/dm-crypt segment.

    Args:
        mode: one of `MODES` (the part of the LUKS cipher spec after "aes-").
        key: the volume key (XTS: both halves, 32, 48 or 64 bytes; CBC: 16, 24 or 32 bytes).
        size: the encryption sector size in bytes (512 … 4096).
        tweak: added to every IV's sector number (LUKS2 `iv_tweak`).

    Raises:
        ValueError: an unknown mode, or a key or sector size the mode cannot use.
    """

    def __init__(self, mode: str, key: bytes, size: int, tweak: int = 0) -> None:
        if mode not in MODES:
            raise ValueError(f"unsupported mode {mode!r}")
        if size % SECTOR or size <= 0:
            raise ValueError(f"sector size {size}")
        self.size = size
        self._xts = mode.startswith("xts")
        self._bits = 32 if mode.endswith("plain") else 64
        self._tweak = tweak
        self._per = size // SECTOR  # IV steps per sector
        if self._xts:
            if len(key) not in (32, 48, 64):
                raise ValueError(f"an XTS key of {len(key)} bytes")
            half = len(key) // 2
            self._key, self._iv_key = key[:half], key[half:]
        else:
            if len(key) not in (16, 24, 32):
                raise ValueError(f"a CBC key of {len(key)} bytes")
            self._key = key
            self._iv_key = hashlib.sha256(key).digest() if mode == "cbc-essiv:sha256" else b""
        self._blocks = size // 16
        self._lock = threading.Lock()  # guards the reused output array
        # OpenSSL's XTS has no AES-192 and refuses equal key halves: such volumes are always
        # decrypted in batches
        self._openssl_can = not self._xts or (len(key) != 48 and self._key != self._iv_key)
        self._out = np.empty(0, _U64)

    def decrypt(self, first: int, data: bytes | bytearray | memoryview) -> bytes:
        """The plaintext of the whole sectors in `data`, the first of which is sector `first`
        (in units of `size`); a trailing partial sector is dropped."""
        count = len(data) // self.size
        if count == 0:
            return b""
        view = memoryview(data)[: count * self.size]
        if count < SMALL_CALL and self._openssl_can:
            return self._one_by_one(first, view, count)
        # fresh cipher contexts per call: reads from several threads never share cipher state
        iv_ecb = (
            Cipher(algorithms.AES(self._iv_key), modes.ECB()).encryptor() if self._iv_key else None
        )
        ecb = Cipher(algorithms.AES(self._key), modes.ECB()).decryptor()
        with self._lock:
            return self._decrypt(first, view, count, ecb, iv_ecb)

    def _decrypt(
        self, first: int, view: memoryview, count: int, ecb: Any, iv_ecb: Any | None
    ) -> bytes:
        step = max(BATCH_SECTORS, BATCH_BYTES // self.size)
        words = count * self.size // 8
        if words * 8 > _KEEP_OUTPUT:
            out = np.empty((count, self._blocks, 2), _U64)
        else:
            if self._out.size < words:
                self._out = np.empty(words, _U64)
            out = self._out[:words].reshape(count, self._blocks, 2)
        # scratch for one batch, reused: allocating per batch costs more than the AES
        work = np.empty(min(step, count) * self.size // 8, _U64)
        dec = bytearray(work.nbytes + 15)  # update_into wants a block's slack
        for start in range(0, count, step):
            n = min(step, count - start)
            nbytes = n * self.size
            ivs = self._ivs(first + start, n)
            if iv_ecb is not None:
                ivs = np.frombuffer(iv_ecb.update(ivs.tobytes()), _U64).reshape(n, 2)
            c = np.frombuffer(view[start * self.size : start * self.size + nbytes], _U64)
            c = c.reshape(n, self._blocks, 2)
            d = np.frombuffer(dec, _U64, nbytes // 8).reshape(c.shape)
            plain = out[start : start + n]
            if self._xts:
                t = _xts_tweaks(ivs, self._blocks)
                x = work[: nbytes // 8].reshape(c.shape)
                np.bitwise_xor(c, t, out=x)
                ecb.update_into(x.data.cast("B"), dec)
                np.bitwise_xor(d, t, out=plain)
            else:
                ecb.update_into(view[start * self.size : start * self.size + nbytes], dec)
                np.bitwise_xor(d[:, 0], ivs, out=plain[:, 0])
                np.bitwise_xor(d[:, 1:], c[:, :-1], out=plain[:, 1:])
        return out.tobytes()

    def _one_by_one(self, first: int, view: memoryview, count: int) -> bytes:
        mask = (1 << self._bits) - 1
        out = bytearray()
        for i in range(count):
            iv = (((first + i) * self._per + self._tweak) & mask).to_bytes(16, "little")
            if self._xts:  # XTS encrypts the IV with the second key half itself
                dec = Cipher(algorithms.AES(self._key + self._iv_key), modes.XTS(iv)).decryptor()
            else:
                if self._iv_key:  # ESSIV
                    iv = Cipher(algorithms.AES(self._iv_key), modes.ECB()).encryptor().update(iv)
                dec = Cipher(algorithms.AES(self._key), modes.CBC(iv)).decryptor()
            out += dec.update(view[i * self.size : (i + 1) * self.size]) + dec.finalize()
        return bytes(out)

    def _ivs(self, first: int, n: int) -> np.ndarray:
        """The (n, 2) little-endian 64-bit halves of the IVs of sectors first … first+n-1."""
        ivs = np.zeros((n, 2), _U64)
        # uint64 arithmetic wraps mod 2^64, which is exactly plain64's counter
        base = (first * self._per + self._tweak) & _MASK64
        numbers = np.arange(n, dtype=_U64) * np.uint64(self._per) + np.uint64(base)
        if self._bits == 32:
            numbers &= np.uint64(0xFFFFFFFF)
        ivs[:, 0] = numbers
        return ivs


def _xts_tweaks(t0: np.ndarray, blocks: int) -> np.ndarray:
    """T_j = T_0 * alpha^j for j < `blocks`, for every row of `t0` ((n, 2): low, high 64 bits),
    as an (n, blocks, 2) array.

    The tweaks are built column by column in planes of low and high halves (a column, one j for
    every sector, is contiguous there, so numpy works on long runs): columns [k, 2k) are columns
    [0, k) times alpha^k, and past 32 each run of 32 columns is the previous one times alpha^32.
    Multiplying by alpha^s (s <= 32) shifts the 128-bit value left by s and folds the s bits
    shifted out back in with the field polynomial x^128 = x^7 + x^2 + x + 1 (0x87), a carry-less
    product that stays within the low 64 bits.
    """
    n = t0.shape[0]
    lo, hi = np.empty((blocks, n), _U64), np.empty((blocks, n), _U64)
    lo[0], hi[0] = t0[:, 0], t0[:, 1]
    scratch = np.empty((min(32, blocks), n), _U64)
    k = 1
    while k < blocks:
        width = min(k, 32, blocks - k)
        base, power = (0, k) if k < 32 else (k - 32, 32)
        _times_alpha_power(
            lo[base : base + width],
            hi[base : base + width],
            power,
            lo[k : k + width],
            hi[k : k + width],
            scratch[:width],
        )
        k += width
    t = np.empty((n, blocks, 2), _U64)
    t[..., 0] = lo.T
    t[..., 1] = hi.T
    return t


def _times_alpha_power(
    lo: np.ndarray, hi: np.ndarray, s: int, out_lo: np.ndarray, out_hi: np.ndarray, tmp: np.ndarray
) -> None:
    """(out_lo, out_hi) = (lo, hi) * alpha^s in GF(2^128) with the XTS polynomial, 1 <= s <= 32
    (`tmp` is scratch of the same shape; the outputs must not overlap the inputs)."""
    left, right = np.uint64(s), np.uint64(64 - s)
    over = np.right_shift(hi, right)  # the s bits shifted out of the top
    np.left_shift(hi, left, out=out_hi)
    np.right_shift(lo, right, out=tmp)
    np.bitwise_or(out_hi, tmp, out=out_hi)
    np.left_shift(lo, left, out=out_lo)
    np.bitwise_xor(out_lo, over, out=out_lo)
    for bit in (1, 2, 7):
        np.left_shift(over, np.uint64(bit), out=tmp)
        np.bitwise_xor(out_lo, tmp, out=out_lo)
