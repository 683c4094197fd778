"""The examiner-identity use cases (`keys init|import|add-token|show|passwd|export-cert`) as
typed requests, so a lab's script and the command line do the same thing in the same order.

Secrets are never fields of a request that is printed: a passphrase or PIN is asked for through
a `Passphrase` callback (called with what it unlocks: the examiner's name, the PKCS#12 file, the
token) at the moment the command line would prompt for it, so a file that is refused is refused
before anyone types anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evidencekit.errors import IdentityError, UsageError
from evidencekit.identity import (
    Identity,
    IdentityInfo,
    IdentityStore,
    TokenRef,
    load_cert_bundle,
    load_cert_file,
)

RsaPadding = Literal["pkcs1v15", "pss"]
"""How an RSA key signs (both with SHA-256); an ECDSA key ignores it."""

Passphrase = Callable[[str], bytes]
"""Asked for a passphrase (or a token's PIN) with the name of what it unlocks."""


def signature_algorithm(rsa_padding: RsaPadding | None) -> str | None:
    """The identity's signature algorithm name for `rsa_padding` (None: the key's default)."""
    return None if rsa_padding is None else f"rsa-{rsa_padding}-sha256"


@dataclass(frozen=True, slots=True)
class CreateIdentityRequest:
    """A new ECDSA P-256 key and a self-signed certificate for examiner `name` (`keys init`)."""

    name: str
    email: str | None = None
    org: str | None = None


def create_identity(
    store: IdentityStore, request: CreateIdentityRequest, passphrase: Passphrase
) -> Identity:
    """Create the identity; its key is encrypted with `passphrase(request.name)`.

    Raises:
        UsageError: the passphrase does not follow the rule (`identity.PASSPHRASE_RULE`).
        IdentityError: the identity cannot be stored.
    """
    return store.create(
        request.name, passphrase(request.name), email=request.email, org=request.org
    )


@dataclass(frozen=True, slots=True)
class ImportIdentityRequest:
    """Adopt a CA-issued identity from the PKCS#12 file `p12` (`keys import`).

    Attributes:
        p12_password: the file's password (None: the file has none).
        rsa_padding: for an RSA key, how it signs (default PKCS#1 v1.5).
    """

    p12: Path
    p12_password: bytes | None = field(default=None, repr=False)
    rsa_padding: RsaPadding | None = None


def import_identity(
    store: IdentityStore, request: ImportIdentityRequest, passphrase: Passphrase
) -> Identity:
    """Check the file (size, iteration counts, key type, validity) and the algorithm, then
    re-encrypt its key with `passphrase(str(request.p12))`.

    Raises:
        IdentityError: the file is refused, its password is wrong, or the padding does not
            fit its key.
        UsageError: the passphrase breaks the rule.
    """
    from evidencekit.identity.algorithms import choose
    from evidencekit.identity.keyfile import read_p12_bundle

    # checked (size, iteration counts, key type, validity) before a passphrase is asked
    key, cert, chain = read_p12_bundle(request.p12, request.p12_password)
    algorithm = signature_algorithm(request.rsa_padding)
    if algorithm is not None:
        choose(key, algorithm, repr(str(request.p12)))  # before the passphrase is asked
    return store.import_key(
        key, cert, passphrase(str(request.p12)), algorithm=algorithm, chain=chain
    )


@dataclass(frozen=True, slots=True)
class AddTokenRequest:
    """Register a key that stays on a PKCS#11 token (`keys add-token`).

    Attributes:
        module: the token vendor's PKCS#11 library.
        token_label: which token (exactly one of it and `slot`).
        key_label: the key's label on the token (`key_id`, its CKA_ID in hex, instead or too).
        cert: the key's certificate file, when the token does not hold it.
        chain: a PEM file of the CA certificates above the key's.
        name: the examiner's name (default: the certificate's common name).
    """

    module: Path
    token_label: str | None = None
    slot: int | None = None
    key_label: str | None = None
    key_id: str | None = None
    cert: Path | None = None
    chain: Path | None = None
    name: str | None = None
    rsa_padding: RsaPadding | None = None

    def token_ref(self) -> TokenRef:
        """Where the key is, checked.

        Raises:
            UsageError: not exactly one of token and slot, no key named, a key id not in hex.
        """
        if (self.token_label is None) == (self.slot is None):
            raise UsageError("give exactly one of --token LABEL and --slot N")
        if self.key_label is None and self.key_id is None:
            raise UsageError("give --key LABEL or --key-id HEX: which key on the token signs")
        key_id = self.key_id
        if key_id is not None:
            try:
                key_id = bytes.fromhex(key_id.replace(":", "")).hex()
            except ValueError as exc:
                raise UsageError(f"--key-id {key_id!r} is not hexadecimal") from exc
        return TokenRef(
            module=str(self.module.absolute()),
            token_label=self.token_label,
            slot=self.slot,
            key_label=self.key_label,
            key_id=key_id,
        )


def add_token(store: IdentityStore, request: AddTokenRequest, pin: Passphrase) -> Identity:
    """Check the request, read the certificate files, ask `pin` (with the token's label or
    "slot N"), have the token sign a test challenge checked against the certificate, and store
    where the key is (never the PIN).

    Raises:
        UsageError: the request is incomplete or contradictory.
        IdentityError: the module, token, key or certificate cannot be used.
    """
    ref = request.token_ref()
    cert = load_cert_file(request.cert) if request.cert is not None else None
    chain = load_cert_bundle(request.chain) if request.chain is not None else ()
    secret = pin(request.token_label or f"slot {request.slot}")
    return store.add_token(
        ref,
        secret,
        cert=cert,
        name=request.name,
        algorithm=signature_algorithm(request.rsa_padding),
        chain=chain,
    )


@dataclass(frozen=True, slots=True)
class ShowIdentitiesRequest:
    """The identity `selector` picks (a name or fingerprint prefix; None: the only one), or
    with `all` every identity of the store (`keys show`)."""

    selector: str | None = None
    all: bool = False


@dataclass(frozen=True, slots=True)
class ShownIdentity:
    """An identity and how its key is protected.

    Attributes:
        key_file: how the key file is encrypted ("scrypt N=… r=… p=…"), None for a token's
            key or an unreadable file.
        weaker: the key file is protected less than today's default (`keys passwd` fixes it).
        unreadable: why the key file cannot be read (None when it can, or for a token).
    """

    info: IdentityInfo
    key_file: str | None
    weaker: bool = False
    unreadable: str | None = None


def show_identities(
    store: IdentityStore, request: ShowIdentitiesRequest
) -> tuple[ShownIdentity, ...]:
    """The identities asked for, each with its key's protection.

    Raises:
        IdentityError: no identity, none matches, or several match the selector.
    """
    infos = store.list() if request.all else [store.find(request.selector)]
    return tuple(shown_identity(info) for info in infos)


def shown_identity(info: IdentityInfo) -> ShownIdentity:
    """`info` with how its key is protected (read from its key file now)."""
    from evidencekit.identity.keyfile import describe_key_file, is_default_protection

    if info.token is not None:
        return ShownIdentity(info, None)
    key_path = info.path / "key.pem"
    try:
        described = describe_key_file(key_path)
        weaker = not is_default_protection(key_path)
    except IdentityError as exc:
        return ShownIdentity(info, None, unreadable=exc.message)
    return ShownIdentity(info, described, weaker)


@dataclass(frozen=True, slots=True)
class ChangePassphraseRequest:
    """Re-encrypt the key of the identity `selector` picks under a new passphrase with
    today's KDF (`keys passwd`)."""

    selector: str | None = None


def change_passphrase(
    store: IdentityStore,
    request: ChangePassphraseRequest,
    passphrase: Passphrase,
    new_passphrase: Passphrase,
) -> Identity:
    """Ask `passphrase(name)` for the current passphrase, then `new_passphrase(name)` for the
    new one (the `keys init` rule; the same one again is allowed when it follows it).

    Raises:
        IdentityError: the identity keeps its key on a token, or the passphrase is wrong.
        UsageError: the new passphrase breaks the rule.
    """
    info = store.find(request.selector)
    if info.token is not None:
        raise IdentityError(
            f"identity {info.name!r} keeps its key on a token: change the token's PIN "
            "with the token's own tool"
        )
    current = passphrase(info.name)
    return store.change_passphrase(info, current, new_passphrase(info.name))


@dataclass(frozen=True, slots=True)
class ExportedCertificate:
    """An identity's certificate as PEM text, for the people who verify its work."""

    info: IdentityInfo
    pem: str


def export_certificate(store: IdentityStore, selector: str | None = None) -> ExportedCertificate:
    """The certificate of the identity `selector` picks (`keys export-cert`).

    Raises:
        IdentityError: no identity, none matches, or several match.
    """
    info = store.find(selector)
    return ExportedCertificate(info, (info.path / "cert.pem").read_text("ascii"))
