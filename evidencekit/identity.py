"""Examiner identities: an ECDSA P-256 key encrypted at rest and an X.509 certificate.

An identity signs seals, custody events, checkpoints and PDF reports. Identities live under
`EVIDENCEKIT_HOME` (default: the platform's user config folder), one folder each:

    identities/<fingerprint[:16]>/identity.json   name, email, org, fingerprint (public)
                                  cert.pem        the certificate (public)
                                  key.pem         PKCS#8, encrypted with the passphrase, mode 0600

The library never prompts: callers pass the passphrase (bytes) they obtained.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from evidencekit.errors import IdentityError, UsageError
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


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex (64 characters)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def cert_pem(cert: x509.Certificate) -> str:
    """The certificate as PEM text."""
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def load_cert_pem(data: bytes | str, *, what: str = "certificate") -> x509.Certificate:
    """Parse one PEM certificate.

    Raises:
        IdentityError: the data is not a PEM certificate.
    """
    raw = data.encode("ascii") if isinstance(data, str) else data
    try:
        return x509.load_pem_x509_certificate(raw)
    except ValueError as exc:
        raise IdentityError(f"{what} is not a PEM X.509 certificate: {exc}") from exc


def load_cert_file(path: Path) -> x509.Certificate:
    """Read a PEM (or DER) certificate file.

    Raises:
        IdentityError: the file is missing or holds no certificate.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read certificate {str(path)!r}: {exc.strerror}") from exc
    if b"-----BEGIN" in data:
        return load_cert_pem(data, what=repr(str(path)))
    try:
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise IdentityError(f"{str(path)!r} is not an X.509 certificate (PEM or DER)") from exc


def subject_name(cert: x509.Certificate) -> str:
    """The certificate's common name (the examiner's name), or its whole subject."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        value = names[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return cert.subject.rfc4514_string()


def verify_signature(cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """True when `signature` (ECDSA-SHA256, DER) over `data` was made by `cert`'s key."""
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """The public part of a stored identity."""

    name: str
    fingerprint: str
    email: str | None
    org: str | None
    path: Path

    @property
    def certificate(self) -> x509.Certificate:
        return load_cert_pem((self.path / "cert.pem").read_bytes())

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "email": self.email,
            "org": self.org,
            "path": str(self.path),
        }


@dataclass(frozen=True, slots=True)
class Identity:
    """An unlocked identity that can sign."""

    info: IdentityInfo
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint

    @property
    def key_name(self) -> str:
        """Signed-note key name: no spaces, stable, names the certificate."""
        return f"evidencekit/{self.info.fingerprint}"

    def cert_pem(self) -> str:
        return cert_pem(self.certificate)

    def sign(self, data: bytes) -> bytes:
        """ECDSA P-256 with SHA-256 over `data`; DER-encoded signature."""
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def _nfc(text: str | None) -> str | None:
    return unicodedata.normalize("NFC", text) if text is not None else None


def _self_signed(
    key: ec.EllipticCurvePrivateKey, name: str, email: str | None, org: str | None
) -> x509.Certificate:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(attrs)
    now = utcnow()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation: the examiner stands behind it
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    return builder.sign(key, hashes.SHA256())


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
                found.append(
                    IdentityInfo(
                        name=data["name"],
                        fingerprint=data["fingerprint"],
                        email=data.get("email"),
                        org=data.get("org"),
                        path=folder,
                    )
                )
            except (OSError, ValueError, KeyError) as exc:
                log.warning("skipping unreadable identity %s: %s", folder, exc)
        return sorted(found, key=lambda i: (i.name, i.fingerprint))

    def find(self, selector: str | None = None) -> IdentityInfo:
        """The identity named `selector` (a name, or a fingerprint or its prefix).

        With no selector, `EVIDENCEKIT_IDENTITY` is used, else the only identity there is.

        Raises:
            IdentityError: none matches, or several do.
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
            names = ", ".join(f"{i.name} ({i.fingerprint[:12]})" for i in all_ids)
            raise IdentityError(
                f"several identities exist: {names}",
                hint="choose one with --identity NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY",
            )
        wanted = unicodedata.normalize("NFC", selector)
        matches = [
            i
            for i in all_ids
            if i.name == wanted or i.fingerprint.startswith(selector.lower().replace(":", ""))
        ]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise IdentityError(
                f"no identity matches {selector!r}",
                hint="list them with: evidencekit keys show --all",
            )
        raise IdentityError(f"{len(matches)} identities match {selector!r}; give the fingerprint")

    def unlock(self, info: IdentityInfo, passphrase: bytes) -> Identity:
        """Decrypt the private key of `info`.

        Raises:
            IdentityError: wrong passphrase or unreadable key.
        """
        key_path = info.path / "key.pem"
        try:
            data = key_path.read_bytes()
        except OSError as exc:
            raise IdentityError(
                f"cannot read the private key {str(key_path)!r}: {exc.strerror}"
            ) from exc
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except (ValueError, TypeError) as exc:
            raise IdentityError(
                f"wrong passphrase for identity {info.name!r} (or its key file is damaged)",
                hint="check EVIDENCEKIT_PASSPHRASE or --passphrase-file",
            ) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise IdentityError(f"identity {info.name!r} does not hold an ECDSA key")
        cert = info.certificate
        cert_key = cert.public_key()
        if (
            not isinstance(cert_key, ec.EllipticCurvePublicKey)
            or cert_key.public_numbers() != key.public_key().public_numbers()
        ):
            raise IdentityError(f"identity {info.name!r}: certificate and key do not match")
        return Identity(info=info, certificate=cert, private_key=key)

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
    ) -> Identity:
        """Make a new P-256 key and a self-signed signing certificate.

        Raises:
            UsageError: empty name or passphrase.
        """
        name = _nfc(name.strip()) or ""
        if not name:
            raise UsageError("the examiner name is empty", hint="give --name 'Nguyễn Bá Tùng'")
        if not passphrase:
            raise UsageError("the passphrase is empty", hint="a key must be encrypted at rest")
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _self_signed(key, name, email, _nfc(org))
        return self._store(name, email, _nfc(org), key, cert, passphrase)

    def import_p12(self, path: Path, p12_password: bytes | None, passphrase: bytes) -> Identity:
        """Adopt a CA-issued identity from a PKCS#12 file, re-encrypting its key.

        Raises:
            IdentityError: the file cannot be read or holds no ECDSA key and certificate.
        """
        try:
            key, cert, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), p12_password)
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
        name = subject_name(cert)
        emails = cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
        orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        email = str(emails[0].value) if emails else None
        org = str(orgs[0].value) if orgs else None
        return self._store(name, email, org, key, cert, passphrase)

    def _store(
        self,
        name: str,
        email: str | None,
        org: str | None,
        key: ec.EllipticCurvePrivateKey,
        cert: x509.Certificate,
        passphrase: bytes,
    ) -> Identity:
        fp = fingerprint(cert)
        folder = self.root / fp[:16]
        if folder.exists():
            raise IdentityError(f"identity {fp[:16]} already exists in {str(self.root)!r}")
        folder.mkdir(parents=True, mode=0o700)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        fd = os.open(folder / "key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
            fh.flush()
            os.fsync(fh.fileno())
        (folder / "cert.pem").write_text(cert_pem(cert), "ascii")
        meta = {
            "name": name,
            "fingerprint": fp,
            "email": email,
            "org": org,
            "created": isoformat(utcnow()),
        }
        (folder / "identity.json").write_text(
            json.dumps(meta, ensure_ascii=False, indent=2) + "\n", "utf-8"
        )
        info = IdentityInfo(name=name, fingerprint=fp, email=email, org=org, path=folder)
        return Identity(info=info, certificate=cert, private_key=key)
