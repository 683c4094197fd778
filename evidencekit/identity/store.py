"""Where identities live and how one is chosen, unlocked, created or imported.

Identities live under `EVIDENCEKIT_HOME` (default: the platform's user config folder), one folder
each:

    identities/<fingerprint[:16]>/identity.json   name, email, org, fingerprint, algorithm,
                                                  and for a token identity where its key is
                                                  (module, token, key label or id) (public)
                                  cert.pem        the certificate (public)
                                  key.pem         PKCS#8, encrypted with the passphrase, mode 0600
                                                  (software identities only: a token's key
                                                  never leaves it)

A key is unlocked once per process: the KDF costs ~0.4 s by design, so a command that signs many
times, or one process that runs many commands (the demo, a lab's script, the test suite), keeps
the unlocked key in memory (`_UnlockCache`), never on disk. A cached key is handed out only for
the same key file bytes and the same passphrase; anything else derives again. A token identity
is unlocked with its PIN (from the same sources as a passphrase); `_pkcs11` keeps its session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from evidencekit.errors import AmbiguousIdentityError, IdentityError, UsageError
from evidencekit.identity import algorithms
from evidencekit.identity.certs import (
    cert_pem,
    fingerprint,
    self_signed,
    subject_name,
    verify_signature,
)
from evidencekit.identity.keyfile import (
    decrypt_key,
    read_key_file,
    read_p12_bundle,
    replace_key,
    write_key,
)
from evidencekit.identity.passphrase import check_new_passphrase
from evidencekit.identity.pkcs8 import DEFAULT_SCRYPT, Kdf
from evidencekit.identity.signer import (
    Identity,
    IdentityInfo,
    Signer,
    SoftwareKey,
    SoftwareSigner,
    TokenRef,
)
from evidencekit.timeutil import isoformat, utcnow

log = logging.getLogger(__name__)

PassphraseSource = Callable[[str], bytes]
"""Called with the identity's name; returns its passphrase (the CLI prompts or reads a file)."""


def home_dir() -> Path:
    """`EVIDENCEKIT_HOME`, else the platform's user config folder for evidencekit."""
    env = os.environ.get("EVIDENCEKIT_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("evidencekit"))


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text is not None else None


class _UnlockCache:
    """Unlocked keys of this process, by key file path and the digest of its bytes.

    The passphrase is not kept: only an HMAC of it under a key drawn when the process starts, so
    that a cached key is returned only to the passphrase that unlocked it (a wrong passphrase
    still fails, as it would after a restart) and nothing in the cache helps to guess it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secret = secrets.token_bytes(32)
        self._keys: dict[tuple[str, bytes], tuple[bytes, SoftwareKey]] = {}

    def _tag(self, passphrase: bytes) -> bytes:
        return hmac.new(self._secret, passphrase, hashlib.sha256).digest()

    @staticmethod
    def _slot(path: Path, data: bytes) -> tuple[str, bytes]:
        return (os.path.abspath(path), hashlib.sha256(data).digest())

    def get(self, path: Path, data: bytes, passphrase: bytes) -> SoftwareKey | None:
        with self._lock:
            found = self._keys.get(self._slot(path, data))
        if found is None or not hmac.compare_digest(found[0], self._tag(passphrase)):
            return None
        return found[1]

    def put(self, path: Path, data: bytes, passphrase: bytes, key: SoftwareKey) -> None:
        with self._lock:
            self._keys[self._slot(path, data)] = (self._tag(passphrase), key)

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


_UNLOCKED = _UnlockCache()


def forget_unlocked_keys() -> None:
    """Drop every key this process has unlocked and log out of every token it opened: the next
    unlock derives the key (asks the token) again."""
    _UNLOCKED.clear()
    if "evidencekit.identity._pkcs11" in sys.modules:
        sys.modules["evidencekit.identity._pkcs11"].close_sessions()


class IdentityStore:
    """The identities under one home folder."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home if home is not None else home_dir()
        self.root = self.home / "identities"

    def list(self) -> list[IdentityInfo]:
        """Every stored identity, sorted by name."""
        found: list[IdentityInfo] = []
        if not self.root.is_dir():
            return found
        for folder in sorted(self.root.iterdir()):
            meta = folder / "identity.json"
            if not meta.is_file():
                continue
            try:
                data = json.loads(meta.read_text("utf-8"))
                token = data.get("token")
                found.append(
                    IdentityInfo(
                        name=data["name"],
                        fingerprint=data["fingerprint"],
                        email=data.get("email"),
                        org=data.get("org"),
                        path=folder,
                        algorithm=str(data.get("algorithm") or algorithms.DEFAULT),
                        token=None if token is None else TokenRef.from_dict(token),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("skipping unreadable identity %s: %s", folder, exc)
        return sorted(found, key=lambda i: (i.name, i.fingerprint))

    def find(self, selector: str | None = None) -> IdentityInfo:
        """The identity named `selector`: a name, or a fingerprint or its prefix (as `keys show`
        prints it, `sha256:` and colons allowed).

        With no selector, `EVIDENCEKIT_IDENTITY` is used, else the only identity there is. An
        exact name wins over a fingerprint prefix: the name "Bảo" is never taken for the key
        whose fingerprint starts with "b…" of someone else (and an examiner named like a hex
        string still chooses themself by name).

        Raises:
            IdentityError: none matches.
            AmbiguousIdentityError: several do (exit 2; the message lists each by name and
                fingerprint prefix).
        """
        selector = selector or os.environ.get("EVIDENCEKIT_IDENTITY") or None
        all_ids = self.list()
        if not all_ids:
            raise IdentityError(
                f"no examiner identity in {str(self.home)!r}",
                hint="create one with: evidencekit keys init --name 'YOUR NAME'",
            )
        if selector is None:
            if len(all_ids) == 1:
                return all_ids[0]
            raise AmbiguousIdentityError(
                f"several identities exist: {_listed(all_ids)}; choose one with --identity "
                "NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY (evidencekit keys show --all "
                "lists them)"
            )
        matches = _matching(all_ids, selector)
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise IdentityError(
                f"no identity matches {selector!r}",
                hint="list them with: evidencekit keys show --all",
            )
        raise AmbiguousIdentityError(
            f"{selector!r} matches {len(matches)} identities: {_listed(matches)}; give more of "
            "the fingerprint (evidencekit keys show --all lists them)"
        )

    def unlock(self, info: IdentityInfo, passphrase: bytes) -> Identity:
        """Decrypt the private key of `info` (once per process: see the module's docstring), or,
        for a token identity, log in to the token with `passphrase` as its PIN.

        Either way the key must be the certificate's and allowed to sign `info.algorithm`.

        Raises:
            IdentityError: wrong passphrase or PIN, unreadable key, a key file asking for more
                KDF work than evidencekit accepts, token or key absent, key and certificate
                that do not match.
        """
        cert = info.certificate
        cert_key = cert.public_key()
        if not algorithms.fits(cert_key, info.algorithm):
            raise IdentityError(
                f"identity {info.name!r}: its certificate holds an "
                f"{algorithms.describe_key(cert_key)} key, which cannot sign {info.algorithm}"
            )
        signer: Signer
        if info.token is not None:
            from evidencekit.identity import _pkcs11

            signer = _pkcs11.open_signer(info.token, passphrase, info.algorithm)
            _check_possession(signer, cert, f"identity {info.name!r} ({info.token.describe()})")
        else:
            path = info.path / "key.pem"
            data = read_key_file(path)
            key = _UNLOCKED.get(path, data, passphrase)
            if key is None:
                key = decrypt_key(data, passphrase, info.name)
                _UNLOCKED.put(path, data, passphrase, key)
            if cert_key.public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
                raise IdentityError(f"identity {info.name!r}: certificate and key do not match")
            signer = SoftwareSigner(key, info.algorithm)
        return Identity(info=info, certificate=cert, signer=signer)

    def load(self, selector: str | None, passphrase: PassphraseSource) -> Identity:
        """Find an identity and unlock it with the passphrase from `passphrase`."""
        info = self.find(selector)
        return self.unlock(info, passphrase(info.name))

    def create(
        self,
        name: str,
        passphrase: bytes,
        *,
        email: str | None = None,
        org: str | None = None,
        kdf: Kdf = DEFAULT_SCRYPT,
    ) -> Identity:
        """Make a new P-256 key and a self-signed signing certificate.

        `kdf` is a test hook: the suite's identity fixture passes cheaper (still valid, still
        bounded) scrypt parameters so that hundreds of tests do not each spend ~0.4 s; the CLI,
        the demo and the workflows never pass it (docs/keys.md).

        Raises:
            UsageError: empty name, or a passphrase weaker than `passphrase.RULE`.
        """
        name = _nfc(name.strip()) or ""
        if not name:
            raise UsageError("the examiner name is empty", hint="give --name 'Nguyễn Bá Tùng'")
        check_new_passphrase(passphrase)
        key = ec.generate_private_key(ec.SECP256R1())
        cert = self_signed(key, name, email, _nfc(org))
        return self._store(name, email, _nfc(org), key, cert, passphrase, kdf)

    def change_passphrase(
        self, info: IdentityInfo, passphrase: bytes, new_passphrase: bytes
    ) -> Identity:
        """Re-encrypt the key of `info` under `new_passphrase` with today's default KDF (how a
        key written before moves to scrypt). The certificate and fingerprint do not change.

        Raises:
            UsageError: `new_passphrase` is weaker than `passphrase.RULE`.
            IdentityError: wrong `passphrase`, or the key cannot be replaced.
        """
        if info.token is not None:
            raise IdentityError(
                f"identity {info.name!r} keeps its key on a token: change the token's PIN with "
                "the token's own tool"
            )
        check_new_passphrase(new_passphrase)
        identity = self.unlock(info, passphrase)
        key_path = info.path / "key.pem"
        data = replace_key(key_path, identity.private_key, new_passphrase)
        _UNLOCKED.put(key_path, data, new_passphrase, identity.private_key)
        return identity

    def import_p12(
        self,
        path: Path,
        p12_password: bytes | None,
        passphrase: bytes,
        *,
        algorithm: str | None = None,
    ) -> Identity:
        """Adopt a CA-issued identity from a PKCS#12 file, re-encrypting its key.

        Raises:
            UsageError: a passphrase weaker than `passphrase.RULE`.
            IdentityError: the file cannot be read or holds no whitelisted key and certificate,
                or `algorithm` does not fit the key.
        """
        key, cert, chain = read_p12_bundle(path, p12_password)
        return self.import_key(key, cert, passphrase, algorithm=algorithm, chain=chain)

    def import_key(
        self,
        key: SoftwareKey,
        cert: x509.Certificate,
        passphrase: bytes,
        *,
        algorithm: str | None = None,
        chain: Sequence[x509.Certificate] = (),
    ) -> Identity:
        """Store a key and certificate read from a PKCS#12 file (`read_p12`, which checks them
        before anything is asked or derived), re-encrypting the key with `passphrase`.

        Raises:
            UsageError: a passphrase weaker than `passphrase.RULE`.
            IdentityError: an identity with that certificate exists already, or `algorithm`
                (default: the key's, `algorithms.default_for`) does not fit the key.
        """
        chosen = algorithms.choose(key, algorithm, "the key")
        check_new_passphrase(passphrase)
        name, email, org = _names(cert)
        return self._store(
            name, email, org, key, cert, passphrase, DEFAULT_SCRYPT, chosen, tuple(chain)
        )

    def add_token(
        self,
        ref: TokenRef,
        pin: bytes,
        *,
        cert: x509.Certificate | None = None,
        name: str | None = None,
        algorithm: str | None = None,
        chain: Sequence[x509.Certificate] = (),
    ) -> Identity:
        """Register a key on a PKCS#11 token: only where it is (`ref`), the algorithm and the
        certificate (read from the token beside the key, or `cert`) are stored. The token signs
        a challenge first, checked against the certificate, so a wrong key, certificate or PIN
        is found now rather than at the first seal.

        Raises:
            UsageError: an empty `name`.
            IdentityError: module, token or key not found, wrong PIN, a certificate not valid
                now or not the key's, a key outside the whitelist, an identity with that
                certificate already stored.
        """
        from evidencekit.identity import _pkcs11

        found = _pkcs11.open_signer(ref, pin, algorithms.DEFAULT)  # the key first
        if cert is None:
            cert = _pkcs11.read_certificate(ref, pin)
        public = cert.public_key()
        algorithms.check_key(public, f"the certificate of {subject_name(cert)!r}")
        chosen = algorithms.choose(public, algorithm, f"the certificate of {subject_name(cert)!r}")
        now = utcnow()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise IdentityError(
                f"the certificate of {subject_name(cert)!r} is not valid now (valid "
                f"{isoformat(cert.not_valid_before_utc)} to {isoformat(cert.not_valid_after_utc)})",
                hint="ask the CA for a current certificate",
            )
        signer = found.with_algorithm(chosen)
        _check_possession(signer, cert, ref.describe())
        cert_name, email, org = _names(cert)
        given = _nfc(name.strip()) if name is not None else None
        if name is not None and not given:
            raise UsageError("the examiner name is empty", hint="give --name 'Nguyễn Bá Tùng'")
        fp = fingerprint(cert)
        folder = self._folder(fp)
        (folder / "cert.pem").write_text(cert_pem(cert), "ascii")
        _write_chain(folder, cert, chain)
        info = self._write_meta(folder, given or cert_name, fp, email, org, chosen, ref)
        return Identity(info=info, certificate=cert, signer=signer)

    def _store(
        self,
        name: str,
        email: str | None,
        org: str | None,
        key: SoftwareKey,
        cert: x509.Certificate,
        passphrase: bytes,
        kdf: Kdf,
        algorithm: str = algorithms.DEFAULT,
        chain: tuple[x509.Certificate, ...] = (),
    ) -> Identity:
        fp = fingerprint(cert)
        folder = self._folder(fp)
        key_path = folder / "key.pem"
        _UNLOCKED.put(key_path, write_key(key_path, key, passphrase, kdf), passphrase, key)
        (folder / "cert.pem").write_text(cert_pem(cert), "ascii")
        _write_chain(folder, cert, chain)
        info = self._write_meta(folder, name, fp, email, org, algorithm, None)
        return Identity(info=info, certificate=cert, signer=SoftwareSigner(key, algorithm))

    def _folder(self, fp: str) -> Path:
        folder = self.root / fp[:16]
        if folder.exists():
            raise IdentityError(f"identity {fp[:16]} already exists in {str(self.root)!r}")
        folder.mkdir(parents=True, mode=0o700)
        return folder

    @staticmethod
    def _write_meta(
        folder: Path,
        name: str,
        fp: str,
        email: str | None,
        org: str | None,
        algorithm: str,
        token: TokenRef | None,
    ) -> IdentityInfo:
        meta: dict[str, object] = {
            "name": name,
            "fingerprint": fp,
            "email": email,
            "org": org,
            "created": isoformat(utcnow()),
        }
        # written only when they differ from what an identity made before tokens means, so an
        # older evidencekit still reads a software P-256 identity
        if algorithm != algorithms.DEFAULT:
            meta["algorithm"] = algorithm
        if token is not None:
            meta["token"] = token.to_dict()
        (folder / "identity.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
        return IdentityInfo(
            name=name,
            fingerprint=fp,
            email=email,
            org=org,
            path=folder,
            algorithm=algorithm,
            token=token,
        )


def _matching(identities: Sequence[IdentityInfo], selector: str) -> list[IdentityInfo]:
    """The identities `selector` names: those whose name is exactly it (after NFC), else those
    whose fingerprint starts with it (hex, any case, with or without `sha256:` and colons)."""
    wanted = unicodedata.normalize("NFC", selector.strip())
    named = [i for i in identities if i.name == wanted]
    if named:
        return named
    hex_part = wanted.lower()
    hex_part = hex_part.removeprefix("sha256:").replace(":", "")
    if not hex_part or any(c not in "0123456789abcdef" for c in hex_part):
        return []
    return [i for i in identities if i.fingerprint.startswith(hex_part)]


def _listed(identities: Sequence[IdentityInfo]) -> str:
    """`name (fingerprint prefix)` of each, as the ambiguity errors list them."""
    return ", ".join(f"{i.name} ({i.fingerprint[:16]})" for i in identities)


def _write_chain(folder: Path, cert: x509.Certificate, chain: Sequence[x509.Certificate]) -> None:
    """`chain.pem`: the CA certificates given with the identity, the leaf left out; none, no
    file."""
    others = [c for c in chain if c != cert]
    if others:
        (folder / "chain.pem").write_text("".join(cert_pem(c) for c in others), "ascii")


def _names(cert: x509.Certificate) -> tuple[str, str | None, str | None]:
    """(name, email, org) from a CA-issued certificate's subject."""
    emails = cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    email = str(emails[0].value) if emails else None
    org = str(orgs[0].value) if orgs else None
    return subject_name(cert), email, org


def _check_possession(signer: Signer, cert: x509.Certificate, what: str) -> None:
    """The signer's key is the certificate's: it signs a fresh challenge that the certificate
    verifies (the one check that works whether or not a token shows its public keys).

    Raises:
        IdentityError: it does not.
    """
    family = getattr(signer, "key_family", None)
    want = "rsa" if signer.algorithm.startswith("rsa-") else "ec"
    if family is not None and family != want:
        raise IdentityError(
            f"{what}: the key does not belong to the certificate of {subject_name(cert)!r} "
            f"(the token holds an {family.upper()} key, the certificate an "
            f"{algorithms.describe_key(cert.public_key())} key)",
            hint="register the key with the certificate the CA issued for it",
        )
    challenge = b"evidencekit key possession check\n" + secrets.token_bytes(32)
    if not verify_signature(cert, challenge, signer.sign(challenge), signer.algorithm):
        raise IdentityError(
            f"{what}: the key does not belong to the certificate of {subject_name(cert)!r}",
            hint="register the key with the certificate the CA issued for it",
        )
