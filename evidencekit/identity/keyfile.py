"""Private keys in files: our own `key.pem` (PKCS#8 PEM, encrypted with the examiner's
passphrase, readable only by its owner) and the PKCS#12 bundles a CA issues.

`key.pem` is an `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2) that names its key-derivation function
and parameters; new keys use scrypt (`pkcs8.DEFAULT_SCRYPT`, ~0.4 s and 128 MiB to unlock), keys
written before (PBKDF2-HMAC-SHA256, 2,048 iterations) keep loading, and a file that asks for more
than `pkcs8`'s bounds is refused before any work. docs/keys.md has the format and the bounds.

A passphrase is text, and the same Vietnamese text reaches us composed (NFC: "ậ" one code
point) or decomposed (NFD, as macOS keyboards and some files give it). New keys are encrypted
under the NFC form; unlocking tries the bytes as given, then their NFC and NFD forms, so a key
opens with the passphrase however it was typed, then and now (a wrong one costs one derivation
per distinct form).

Only the keys of the signature whitelist are accepted (`algorithms.check_key`: RSA 2048, 3072
or 4096 bits, ECDSA P-256 or P-384).
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import unicodedata
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from evidencekit.errors import IdentityError
from evidencekit.identity import algorithms, pkcs8
from evidencekit.identity.pkcs8 import DEFAULT_SCRYPT, Kdf
from evidencekit.identity.signer import SoftwareKey


def write_key(path: Path, key: SoftwareKey, passphrase: bytes, kdf: Kdf = DEFAULT_SCRYPT) -> bytes:
    """Write `key` encrypted with `passphrase` (PBES2 with `kdf`, AES-256-CBC), mode 0600,
    durable when this returns; returns the bytes written.

    Raises:
        FileExistsError: `path` exists (a key is never overwritten).
    """
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_pem = pkcs8.encrypt(plain, _nfc(passphrase), kdf)
    # O_EXCL with the mode at creation: the key is never, even briefly, readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
        fh.flush()
        os.fsync(fh.fileno())
    return key_pem


def replace_key(path: Path, key: SoftwareKey, passphrase: bytes) -> bytes:
    """Re-encrypt the key in `path` under `passphrase` with the default KDF, atomically: the
    new file is written beside it (mode 0600 at creation, fsynced) and renamed over it, so a
    crash leaves the old key or the new one, never neither. Returns the bytes written.

    Raises:
        IdentityError: the folder cannot be written.
    """
    temp = path.with_name(path.name + ".new")
    try:
        # a leftover from an interrupted earlier attempt: never the only copy (the rename is
        # what makes a new key current), so it can go
        temp.unlink(missing_ok=True)
        data = write_key(temp, key, passphrase)
        os.replace(temp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise IdentityError(f"cannot replace the key {str(path)!r}: {exc.strerror}") from exc
    return data


def describe_key_file(path: Path) -> str:
    """How the key in `path` is protected ("scrypt N=131072 r=8 p=1"), read without the
    passphrase.

    Raises:
        IdentityError: the file cannot be read or parsed (the message says why).
    """
    return pkcs8.parse_pem(read_key_file(path)).kdf.describe()


def is_default_protection(path: Path) -> bool:
    """Whether the key in `path` is protected at least as today's default (scrypt, as costly)."""
    kdf = pkcs8.parse_pem(read_key_file(path)).kdf
    return isinstance(kdf, pkcs8.Scrypt) and kdf.n * kdf.r >= DEFAULT_SCRYPT.n * DEFAULT_SCRYPT.r


def read_key_file(path: Path) -> bytes:
    """The bytes of a key file, refusing anything but a small regular file (a FIFO or a device
    planted as key.pem must not hang or flood the tool).

    Raises:
        IdentityError: unreadable, not a regular file, or too large to be a key.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise IdentityError(f"cannot read the private key {str(path)!r}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise IdentityError(f"the private key {str(path)!r} is not a regular file")
        data = fh.read(pkcs8.MAX_KEY_FILE_BYTES + 1)
    if len(data) > pkcs8.MAX_KEY_FILE_BYTES:
        raise IdentityError(
            f"the private key {str(path)!r} is larger than {pkcs8.MAX_KEY_FILE_BYTES} bytes; "
            "a key file is a few hundred"
        )
    return data


def decrypt_key(data: bytes, passphrase: bytes, name: str) -> SoftwareKey:
    """Decrypt the key file bytes `data` of the identity called `name`.

    Raises:
        IdentityError: wrong passphrase, a damaged or hostile file (the message names the
            parameter), or a key outside the whitelist.
    """
    try:
        encrypted = pkcs8.parse_pem(data)
    except IdentityError as exc:
        raise IdentityError(f"identity {name!r}: {exc.message}", hint=exc.hint) from exc
    key = None
    for candidate in _forms(passphrase):
        plain = pkcs8.decrypt(encrypted, candidate)
        if plain is None:
            continue
        try:
            key = serialization.load_der_private_key(plain, password=None)
            break
        except (ValueError, TypeError):
            continue
    if key is None:
        raise IdentityError(
            f"wrong passphrase for identity {name!r} (or its key file is damaged)",
            hint="check EVIDENCEKIT_PASSPHRASE or --passphrase-file",
        )
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise IdentityError(f"identity {name!r} does not hold an RSA or ECDSA key")
    algorithms.check_key(key, f"identity {name!r}")
    return key


def _nfc(passphrase: bytes) -> bytes:
    """The NFC form of a UTF-8 passphrase (what new keys are encrypted under); other bytes as
    they are."""
    try:
        return unicodedata.normalize("NFC", passphrase.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        return passphrase


def _forms(passphrase: bytes) -> list[bytes]:
    """The passphrase as given (a key is most often opened the way it was made), then its NFC
    and NFD forms when they differ."""
    forms = [passphrase]
    try:
        text = passphrase.decode("utf-8")
    except UnicodeDecodeError:
        return forms
    for form in ("NFC", "NFD"):
        encoded = unicodedata.normalize(form, text).encode("utf-8")
        if encoded not in forms:
            forms.append(encoded)
    return forms


def read_key(path: Path, passphrase: bytes, name: str) -> SoftwareKey:
    """Decrypt the key in `path`, which belongs to the identity called `name`.

    Raises:
        IdentityError: unreadable file, wrong passphrase, out-of-bounds KDF parameters, or not
            a key outside the whitelist.
    """
    return decrypt_key(read_key_file(path), passphrase, name)


MAX_P12_BYTES = 1 << 20
"""A PKCS#12 file holds a key, a certificate and perhaps a short CA chain: a few kilobytes. A
larger one is refused unread."""
MAX_P12_ITERATIONS = 1_000_000
"""Above what any CA or browser writes (OpenSSL 2,048; OWASP's PBKDF2 advice 600,000): each key
derivation of a PKCS#12 file runs before anything in it can be checked, so a file asking for
billions of iterations would hang the import. Refused before any derivation."""


def read_p12(
    path: Path, password: bytes | None, *, now: dt.datetime | None = None
) -> tuple[SoftwareKey, x509.Certificate]:
    """The key and certificate of a PKCS#12 (.p12/.pfx) file (`read_p12_bundle` without the
    CA certificates).

    Raises:
        IdentityError: as `read_p12_bundle`.
    """
    key, cert, _chain = read_p12_bundle(path, password, now=now)
    return key, cert


MAX_CHAIN = 8
"""CA certificates kept with an identity: a national root, an intermediate or two; more is not a
chain a CA issues."""


def read_p12_bundle(
    path: Path, password: bytes | None, *, now: dt.datetime | None = None
) -> tuple[SoftwareKey, x509.Certificate, tuple[x509.Certificate, ...]]:
    """The key, certificate and CA certificates (the chain the CA put in the file, at most
    `MAX_CHAIN`, the leaf left out) of a PKCS#12 (.p12/.pfx) file.

    Bounded before any key derivation: the file's size (`MAX_P12_BYTES`), its structure and
    every iteration count in it (`MAX_P12_ITERATIONS`, the MAC's and each encryption's). Then
    the key must be on the whitelist (`algorithms.check_key`: RSA 2048/3072/4096, EC
    P-256/P-384), match the certificate, and the certificate be valid `now`.

    Raises:
        IdentityError: the file cannot be read, is out of bounds, or holds no whitelisted key
            with its currently valid certificate.
    """
    from evidencekit.fsutil import UnsafeFileError, read_regular

    try:
        data = read_regular(path, limit=MAX_P12_BYTES)
    except UnsafeFileError as exc:
        raise IdentityError(
            f"refusing PKCS#12 file {str(path)!r}: {exc.message} (at most {MAX_P12_BYTES} "
            "bytes, a regular file)",
            hint="a PKCS#12 file holds one key and its certificate: ask the CA for that file",
        ) from exc
    except OSError as exc:
        raise IdentityError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    _p12_bounds(path, data)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError as exc:
        raise IdentityError(
            f"cannot open PKCS#12 file {str(path)!r}: wrong password or not PKCS#12",
            hint="give its password with --p12-passphrase-file",
        ) from exc
    if key is None or cert is None:
        raise IdentityError(f"{str(path)!r} holds no private key and certificate")
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        algorithms.check_key(key, repr(str(path)))  # names the key it holds
        raise IdentityError(f"{str(path)!r} holds no RSA or ECDSA key")
    algorithms.check_key(key, repr(str(path)))
    algorithms.check_key(cert.public_key(), f"the certificate in {str(path)!r}")
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        raise IdentityError(f"the key and the certificate in {str(path)!r} do not match")
    when = now or dt.datetime.now(dt.UTC)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not start <= when <= end:
        state = "expired on" if when > end else "is valid only from"
        day = (end if when > end else start).strftime("%Y-%m-%d %H:%M UTC")
        raise IdentityError(
            f"the certificate in {str(path)!r} {state} {day}: it cannot sign evidence now",
            hint="ask the CA for a current certificate",
        )
    chain = tuple(c for c in extra if c != cert)
    if len(chain) > MAX_CHAIN:
        raise IdentityError(
            f"{str(path)!r} holds {len(chain)} CA certificates besides the examiner's (at most "
            f"{MAX_CHAIN} are kept)"
        )
    return key, cert, chain


def _p12_bounds(path: Path, data: bytes) -> None:
    """Refuse a PKCS#12 file whose structure is not PKCS#12 or whose key derivations ask for
    more than `MAX_P12_ITERATIONS`, reading only its DER structure (no password, no KDF).

    Raises:
        IdentityError: malformed, or an iteration count out of bounds.
    """
    from asn1crypto import pkcs12 as a_pkcs12

    counts: list[tuple[str, int]] = []
    try:
        pfx = a_pkcs12.Pfx.load(data, strict=True)
        mac = pfx["mac_data"]
        if mac.native is not None:
            counts.append(("its integrity MAC", int(mac["iterations"].native)))
        for ci in pfx.authenticated_safe:
            kind = ci["content_type"].native
            if kind == "encrypted_data":
                alg = ci["content"]["encrypted_content_info"]["content_encryption_algorithm"]
                counts.append(("its encrypted certificates", int(alg.kdf_iterations)))
            elif kind == "data":
                for bag in a_pkcs12.SafeContents.load(ci["content"].native):
                    if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                        alg = bag["bag_value"]["encryption_algorithm"]
                        counts.append(("its encrypted key", int(alg.kdf_iterations)))
    except (ValueError, KeyError, TypeError) as exc:
        raise IdentityError(f"{str(path)!r} is not a PKCS#12 file: {exc}") from exc
    for what, n in counts:
        if n > MAX_P12_ITERATIONS:
            raise IdentityError(
                f"refusing PKCS#12 file {str(path)!r}: {what} asks for {n:,} key-derivation "
                f"iterations (at most {MAX_P12_ITERATIONS:,} are accepted)",
                hint="export it again with the default settings (openssl pkcs12 -export)",
            )
