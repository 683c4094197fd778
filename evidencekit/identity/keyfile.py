"""Private keys in files: our own `key.pem` (PKCS#8 PEM, encrypted with the examiner's
passphrase, readable only by its owner) and the PKCS#12 bundles a CA issues.

Only ECDSA keys are accepted: every signature evidencekit writes is ECDSA P-256 with SHA-256.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from evidencekit.errors import IdentityError


def write_key(path: Path, key: ec.EllipticCurvePrivateKey, passphrase: bytes) -> None:
    """Write `key` encrypted with `passphrase`, mode 0600, durable when this returns.

    Raises:
        FileExistsError: `path` exists (a key is never overwritten).
    """
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    # O_EXCL with the mode at creation: the key is never, even briefly, readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
        fh.flush()
        os.fsync(fh.fileno())


def read_key(path: Path, passphrase: bytes, name: str) -> ec.EllipticCurvePrivateKey:
    """Decrypt the key in `path`, which belongs to the identity called `name`.

    Raises:
        IdentityError: unreadable file, wrong passphrase, or not an ECDSA key.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read the private key {str(path)!r}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except (ValueError, TypeError) as exc:
        raise IdentityError(
            f"wrong passphrase for identity {name!r} (or its key file is damaged)",
            hint="check EVIDENCEKIT_PASSPHRASE or --passphrase-file",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityError(f"identity {name!r} does not hold an ECDSA key")
    return key


def read_p12(
    path: Path, password: bytes | None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The key and certificate of a PKCS#12 (.p12/.pfx) file; any CA chain in it is ignored.

    Raises:
        IdentityError: the file cannot be read or holds no ECDSA key and certificate.
    """
    try:
        key, cert, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), password)
    except OSError as exc:
        raise IdentityError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    except ValueError as exc:
        raise IdentityError(
            f"cannot open PKCS#12 file {str(path)!r}: wrong password or not PKCS#12",
            hint="give its password with --p12-passphrase-file",
        ) from exc
    if key is None or cert is None:
        raise IdentityError(f"{str(path)!r} holds no private key and certificate")
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise IdentityError(
            f"{str(path)!r} holds a {type(key).__name__}; evidencekit needs an ECDSA key",
            hint="ask the CA for an ECDSA P-256 signing certificate",
        )
    return key, cert
