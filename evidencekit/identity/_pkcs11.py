"""The PKCS#11 adapter (python-pkcs11's only home): a key on a token behind the `Signer`
interface.

The private key never leaves the token: evidencekit hashes the data (SHA-256 or SHA-384) and
asks the token to sign the digest with the most widely implemented mechanisms, so that the
tokens national CAs hand out (which often lack the combined hash-and-sign ones) work:

| algorithm             | mechanism          | input                              |
|-----------------------|--------------------|------------------------------------|
| `ecdsa-p256-sha256`   | CKM_ECDSA          | SHA-256 digest; r‖s becomes DER    |
| `ecdsa-p384-sha384`   | CKM_ECDSA          | SHA-384 digest; r‖s becomes DER    |
| `rsa-pkcs1v15-sha256` | CKM_RSA_PKCS       | DER DigestInfo(SHA-256, digest)    |
| `rsa-pss-sha256`      | CKM_RSA_PKCS_PSS   | SHA-256 digest; MGF1-SHA-256, salt 32 |

A token allows one login per application: the logged-in session is kept for the process
(`_SESSIONS`, by module and token serial) with an HMAC of the PIN that opened it, so a second
identity on the same token reuses it and a different PIN is refused as the token would refuse it
(without spending one of the token's wrong-PIN attempts). `close_sessions` logs out.

Module paths are the user's (docs/signing.md): none is guessed here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from typing import Any

import pkcs11
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from evidencekit.errors import IdentityError
from evidencekit.identity import algorithms
from evidencekit.identity.signer import TokenRef

log = logging.getLogger(__name__)

_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
"""DER DigestInfo prefix for SHA-256 (RFC 8017, 9.2 note 1): CKM_RSA_PKCS signs what it is given."""


@dataclass
class _Open:
    session: Any
    pin_tag: bytes
    lock: threading.Lock


_SECRET = secrets.token_bytes(32)
_SESSIONS: dict[tuple[str, str], _Open] = {}
_SESSIONS_LOCK = threading.Lock()


def _tag(pin: bytes) -> bytes:
    return hmac.new(_SECRET, pin, hashlib.sha256).digest()


def close_sessions() -> None:
    """Log out of every token this process opened (the next unlock asks the token again)."""
    with _SESSIONS_LOCK:
        for opened in _SESSIONS.values():
            try:
                opened.session.close()
            except p11e.PKCS11Error as exc:  # a token pulled out: nothing left to close
                log.debug("closing a PKCS#11 session: %r", exc)
        _SESSIONS.clear()


def _lib(module: str) -> Any:
    """The loaded module (python-pkcs11 keeps one per path).

    Raises:
        IdentityError: not a regular file, or not a PKCS#11 module.
    """
    try:
        mode = os.stat(module).st_mode
    except OSError as exc:
        raise IdentityError(
            f"cannot use PKCS#11 module {module!r}: {exc.strerror}",
            hint="give the path of the token vendor's PKCS#11 library (docs/signing.md)",
        ) from exc
    if not stat.S_ISREG(mode):
        raise IdentityError(f"PKCS#11 module {module!r} is not a regular file")
    try:
        return pkcs11.lib(module)
    except p11e.PKCS11Error as exc:
        raise IdentityError(
            f"cannot load PKCS#11 module {module!r}: {exc}",
            hint="give the path of the token vendor's PKCS#11 library (a .so file)",
        ) from exc


def _token(ref: TokenRef) -> Any:
    lib = _lib(ref.module)
    try:
        if ref.token_label is not None:
            return lib.get_token(token_label=ref.token_label)
        for slot in lib.get_slots(token_present=True):
            if slot.slot_id == ref.slot:
                return slot.get_token()
    except p11e.NoSuchToken:
        pass
    except p11e.MultipleTokensReturned as exc:
        raise IdentityError(
            f"several tokens labelled {ref.token_label!r} are present in {ref.module!r}",
            hint="plug in only the examiner's token, or register the identity by --slot",
        ) from exc
    except p11e.PKCS11Error as exc:
        raise IdentityError(
            f"PKCS#11 module {ref.module!r} failed listing tokens: {exc!r}"
        ) from exc
    what = f"labelled {ref.token_label!r}" if ref.token_label is not None else f"in slot {ref.slot}"
    raise IdentityError(
        f"no token {what} is present in PKCS#11 module {ref.module!r}",
        hint="plug in the token (list them with: pkcs11-tool --module MODULE -L)",
    )


def _session(ref: TokenRef, pin: bytes) -> _Open:
    """The logged-in session on `ref`'s token, opened with `pin` once per process.

    Raises:
        IdentityError: no such token, wrong or locked PIN.
    """
    token = _token(ref)
    where = f"token {token.label!r}"
    key = (os.path.abspath(ref.module), str(token.serial))
    tag = _tag(pin)
    with _SESSIONS_LOCK:
        opened = _SESSIONS.get(key)
        if opened is not None:
            if not hmac.compare_digest(opened.pin_tag, tag):
                raise IdentityError(
                    f"wrong PIN for {where} (this process logged in with another one)",
                    hint="check EVIDENCEKIT_PASSPHRASE or --passphrase-file",
                )
            return opened
        try:
            session = token.open(user_pin=pin.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise IdentityError(f"the PIN for {where} is not UTF-8 text") from exc
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange) as exc:
            raise IdentityError(
                f"wrong PIN for {where}",
                hint="check EVIDENCEKIT_PASSPHRASE or --passphrase-file (a token locks itself "
                "after a few wrong PINs)",
            ) from exc
        except p11e.PinLocked as exc:
            raise IdentityError(
                f"the PIN of {where} is locked", hint="ask the token's issuer to unblock it"
            ) from exc
        except (p11e.TokenNotPresent, p11e.DeviceRemoved) as exc:
            raise IdentityError(f"{where} was removed", hint="plug it in again") from exc
        except p11e.PKCS11Error as exc:
            raise IdentityError(f"cannot log in to {where}: {exc!r}") from exc
        opened = _SESSIONS[key] = _Open(session, tag, threading.Lock())
        return opened


def _find(session: Any, object_class: Any, ref: TokenRef) -> Any:
    template: dict[Any, Any] = {Attribute.CLASS: object_class}
    if ref.key_label is not None:
        template[Attribute.LABEL] = ref.key_label
    if ref.key_id is not None:
        template[Attribute.ID] = bytes.fromhex(ref.key_id)
    return list(session.get_objects(template))


class TokenSigner:
    """A private key on a PKCS#11 token; `sign` hashes here and signs on the token."""

    def __init__(self, ref: TokenRef, opened: _Open, key: Any, algorithm: str) -> None:
        self.ref = ref
        self._opened = opened
        self._key = key
        self._algorithm = algorithm

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @property
    def key_family(self) -> str:
        """ "rsa", "ec" or another CKK_ name: what kind of key the token holds."""
        kind = self._key.key_type
        return {pkcs11.KeyType.RSA: "rsa", pkcs11.KeyType.EC: "ec"}.get(kind, str(kind))

    def with_algorithm(self, algorithm: str) -> TokenSigner:
        """The same key signing with `algorithm`."""
        return TokenSigner(self.ref, self._opened, self._key, algorithm)

    def sign(self, data: bytes) -> bytes:
        alg = self._algorithm
        if self.key_family != ("rsa" if alg.startswith("rsa-") else "ec"):
            raise IdentityError(
                f"the {self.key_family.upper()} key {self.ref.describe()} cannot sign {alg}"
            )
        digest = hashlib.new("sha384" if alg == algorithms.ECDSA_P384_SHA384 else "sha256", data)
        try:
            with self._opened.lock:
                if alg in (algorithms.ECDSA_P256_SHA256, algorithms.ECDSA_P384_SHA384):
                    raw = self._key.sign(digest.digest(), mechanism=Mechanism.ECDSA)
                    half = len(raw) // 2
                    r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
                    return encode_dss_signature(r, s)
                if alg == algorithms.RSA_PKCS1V15_SHA256:
                    sig = self._key.sign(
                        _SHA256_DIGEST_INFO + digest.digest(), mechanism=Mechanism.RSA_PKCS
                    )
                else:
                    sig = self._key.sign(
                        digest.digest(),
                        mechanism=Mechanism.RSA_PKCS_PSS,
                        mechanism_param=(
                            Mechanism.SHA256,
                            pkcs11.MGF.SHA256,
                            algorithms.PSS_SALT_LENGTH,
                        ),
                    )
                return bytes(sig)
        except p11e.PKCS11Error as exc:
            raise IdentityError(
                f"the token could not sign with {self.ref.describe()}: {exc!r}",
                hint="is the token still plugged in? does it support "
                f"{alg} (CKM_ECDSA, CKM_RSA_PKCS or CKM_RSA_PKCS_PSS)?",
            ) from exc


def open_signer(ref: TokenRef, pin: bytes, algorithm: str) -> TokenSigner:
    """Log in to the token and find the private key `ref` names.

    Raises:
        IdentityError: module, token or key not found, several keys match, wrong PIN.
    """
    opened = _session(ref, pin)
    try:
        with opened.lock:
            found = _find(opened.session, ObjectClass.PRIVATE_KEY, ref)
    except p11e.PKCS11Error as exc:
        raise IdentityError(f"cannot list the keys of the token: {exc!r}") from exc
    if not found:
        raise IdentityError(
            f"no private {ref.describe()}",
            hint="list the token's keys with: pkcs11-tool --module MODULE --login -O",
        )
    if len(found) > 1:
        raise IdentityError(
            f"{len(found)} private keys match {ref.describe()}",
            hint="name the key by --key-id as well",
        )
    return TokenSigner(ref, opened, found[0], algorithm)


def read_certificate(ref: TokenRef, pin: bytes) -> x509.Certificate:
    """The certificate stored on the token beside the key (same label or id).

    Raises:
        IdentityError: none, or several.
    """
    opened = _session(ref, pin)
    try:
        with opened.lock:
            found = [
                bytes(c[Attribute.VALUE])
                for c in _find(opened.session, ObjectClass.CERTIFICATE, ref)
            ]
    except p11e.PKCS11Error as exc:
        raise IdentityError(f"cannot read the certificates of the token: {exc!r}") from exc
    if len(set(found)) != 1:
        raise IdentityError(
            f"{'no' if not found else len(set(found))} certificate(s) on the token match "
            f"{ref.describe()}",
            hint="give the certificate with --cert FILE",
        )
    try:
        return x509.load_der_x509_certificate(found[0])
    except ValueError as exc:
        raise IdentityError(f"the certificate on the token is not X.509: {exc}") from exc
