"""Examiner certificates: reading, naming and fingerprinting them, checking a signature against
one, and making the self-signed signing certificate a new identity starts with."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from evidencekit.errors import IdentityError
from evidencekit.identity import algorithms
from evidencekit.timeutil import utcnow


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


def load_cert_bundle(path: Path, *, limit: int = 8) -> tuple[x509.Certificate, ...]:
    """The PEM certificates in `path` (a CA chain), at most `limit`.

    Raises:
        IdentityError: unreadable, no certificate, or more than `limit`.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read certificates {str(path)!r}: {exc.strerror}") from exc
    try:
        certs = tuple(x509.load_pem_x509_certificates(data))
    except ValueError as exc:
        raise IdentityError(f"{str(path)!r} holds no PEM certificates: {exc}") from exc
    if len(certs) > limit:
        raise IdentityError(f"{str(path)!r} holds {len(certs)} certificates (at most {limit})")
    return certs


def subject_name(cert: x509.Certificate) -> str:
    """The certificate's common name (the examiner's name), or its whole subject."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        value = names[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return cert.subject.rfc4514_string()


def display_name_key(name: str) -> str:
    """What a reader sees of a name: compatibility forms folded (NFKC: a fullwidth "Ｎ" is
    "N"), invisible format characters dropped (zero-width space and joiners, word joiner,
    soft hyphen), every run of spaces of any kind one space, case folded. Two names with one
    key look the same on a page, so two pinned examiners may not share one."""
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(c for c in folded if unicodedata.category(c) not in ("Cf", "Cc"))
    return " ".join(visible.split()).casefold()


def verify_signature(
    cert: x509.Certificate, data: bytes, signature: bytes, algorithm: str = algorithms.DEFAULT
) -> bool:
    """True when `signature`, an `algorithm` signature over `data`, was made by `cert`'s key.

    False, without trying, when `algorithm` is unknown or does not fit the certificate's key
    (an RSA certificate never verifies a signature labelled ECDSA, nor the reverse)."""
    return algorithms.verify(cert.public_key(), algorithm, data, signature)


def self_signed(
    key: ec.EllipticCurvePrivateKey, name: str, email: str | None, org: str | None
) -> x509.Certificate:
    """A ten-year signing certificate for `key`, issued by its own subject (no CA involved)."""
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
