"""An identity as the rest of evidencekit sees it: `IdentityInfo`, the public part anyone can
read from the store, and `Identity`, the unlocked one that signs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from evidencekit.identity.certs import cert_pem, load_cert_pem


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
