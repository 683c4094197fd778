"""An identity as the rest of evidencekit sees it: `IdentityInfo`, the public part anyone can
read from the store, and `Identity`, the unlocked one that signs through a `Signer`.

A `Signer` is where the private key lives: in memory (`SoftwareSigner`: our encrypted key file
or a CA's PKCS#12, decrypted when unlocked) or on a PKCS#11 token (`identity._pkcs11`, the key
never leaves the token). Everything that signs (seals, custody events, checkpoints, witness
files, PDF reports through `pdfsigner`) calls `Identity.sign` and writes `Identity.algorithm`
beside the signature; nothing outside `identity/` touches a private key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evidencekit.errors import IdentityError
from evidencekit.identity import algorithms
from evidencekit.identity.certs import cert_pem, load_cert_pem


class Signer(Protocol):
    """Makes signatures with one private key, wherever it is."""

    @property
    def algorithm(self) -> str:
        """The identifier (`algorithms.ALGORITHMS`) of every signature this signer makes."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature over `data` (hashed by the signer per `algorithm`).

        Raises:
            IdentityError: the key cannot be used (a token removed, a session lost).
        """
        ...


SoftwareKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True, slots=True)
class SoftwareSigner:
    """A private key in this process's memory (decrypted from `key.pem`)."""

    key: SoftwareKey
    algorithm: str

    def __post_init__(self) -> None:
        if self.algorithm not in algorithms.algorithms_for(self.key):
            raise IdentityError(
                f"an {algorithms.describe_key(self.key)} key cannot sign {self.algorithm}"
            )

    def sign(self, data: bytes) -> bytes:
        return algorithms.sign_fitting(self.key, self.algorithm, data)


@dataclass(frozen=True, slots=True)
class TokenRef:
    """Where a token identity's key is: the PKCS#11 module, the token (label or slot) and the
    key (label or id, hex). Public facts: no PIN, no key material."""

    module: str
    token_label: str | None = None
    slot: int | None = None
    key_label: str | None = None
    key_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "module": self.module,
            "token_label": self.token_label,
            "slot": self.slot,
            "key_label": self.key_label,
            "key_id": self.key_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenRef:
        slot = data.get("slot")
        return cls(
            module=str(data["module"]),
            token_label=data.get("token_label"),
            slot=None if slot is None else int(slot),
            key_label=data.get("key_label"),
            key_id=data.get("key_id"),
        )

    def describe(self) -> str:
        token = f"token {self.token_label!r}" if self.token_label else f"slot {self.slot}"
        key = f"key {self.key_label!r}" if self.key_label else f"key id {self.key_id}"
        return f"{key} on {token} ({self.module})"


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """The public part of a stored identity."""

    name: str
    fingerprint: str
    email: str | None
    org: str | None
    path: Path
    algorithm: str = algorithms.DEFAULT
    token: TokenRef | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return load_cert_pem((self.path / "cert.pem").read_bytes())

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The CA certificates above `certificate` kept with the identity (`chain.pem`: from
        the CA's PKCS#12 file or `keys add-token --chain`), as given; empty when none. Path
        material for a reader who trusts the CA (seals and reports carry them), never trust."""
        path = self.path / "chain.pem"
        if not path.is_file():
            return ()
        try:
            return tuple(x509.load_pem_x509_certificates(path.read_bytes()))
        except ValueError as exc:
            raise IdentityError(f"identity {self.name!r}: {str(path)!r} is not PEM: {exc}") from exc

    @property
    def kind(self) -> str:
        """ "token" (PKCS#11) or "software" (an encrypted key file)."""
        return "software" if self.token is None else "token"

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "fingerprint": self.fingerprint,
            "email": self.email,
            "org": self.org,
            "path": str(self.path),
            "kind": self.kind,
            "algorithm": self.algorithm,
            "token": None if self.token is None else self.token.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Identity:
    """An unlocked identity that can sign."""

    info: IdentityInfo
    certificate: x509.Certificate
    signer: Signer

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint

    @property
    def algorithm(self) -> str:
        """The identifier written beside every signature this identity makes."""
        return self.signer.algorithm

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The CA certificates above `certificate` (`IdentityInfo.chain`)."""
        return self.info.chain

    @property
    def key_name(self) -> str:
        """Signed-note key name: no spaces, stable, names the certificate."""
        return f"evidencekit/{self.info.fingerprint}"

    @property
    def private_key(self) -> SoftwareKey:
        """The in-memory key of a software identity (changing its passphrase re-encrypts it).

        Raises:
            IdentityError: the key is on a token and never leaves it.
        """
        if isinstance(self.signer, SoftwareSigner):
            return self.signer.key
        raise IdentityError(f"identity {self.name!r} keeps its key on a token: it cannot be read")

    def cert_pem(self) -> str:
        return cert_pem(self.certificate)

    def sign(self, data: bytes) -> bytes:
        """A signature over `data` with `algorithm` (DER for ECDSA, the raw block for RSA)."""
        return self.signer.sign(data)
