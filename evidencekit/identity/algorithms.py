"""The signature algorithms evidencekit writes and accepts, and which key each needs.

Every signature evidencekit writes (seals, custody events, checkpoints, witness files) names one
of these identifiers; a verifier accepts a signature only when the algorithm it names is one of
them *and* fits the certificate's key (`fits`). That second check is what stops an algorithm
confusion: a P-256 certificate never verifies a signature labelled RSA, an RSA certificate never
one labelled ECDSA, a P-384 key never one labelled P-256 (docs/signing.md).

| identifier            | key                        | scheme                                    |
|-----------------------|----------------------------|-------------------------------------------|
| `ecdsa-p256-sha256`   | EC P-256                   | ECDSA, SHA-256, DER signature             |
| `ecdsa-p384-sha384`   | EC P-384                   | ECDSA, SHA-384, DER signature             |
| `rsa-pkcs1v15-sha256` | RSA 2048, 3072 or 4096 bit | RSASSA-PKCS1-v1_5, SHA-256                |
| `rsa-pss-sha256`      | RSA 2048, 3072 or 4096 bit | RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 |

The key whitelist (`check_key`) is the same for a key made here, read from a PKCS#12 file or
living on a PKCS#11 token.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)

from evidencekit.errors import IdentityError

ECDSA_P256_SHA256: Final = "ecdsa-p256-sha256"
ECDSA_P384_SHA384: Final = "ecdsa-p384-sha384"
RSA_PKCS1V15_SHA256: Final = "rsa-pkcs1v15-sha256"
RSA_PSS_SHA256: Final = "rsa-pss-sha256"

ALGORITHMS: Final = (ECDSA_P256_SHA256, ECDSA_P384_SHA384, RSA_PKCS1V15_SHA256, RSA_PSS_SHA256)
DEFAULT: Final = ECDSA_P256_SHA256
"""What every signature written before other algorithms existed is (and what a format that
does not name its algorithm means)."""
RSA_ALGORITHMS: Final = (RSA_PKCS1V15_SHA256, RSA_PSS_SHA256)
RSA_KEY_SIZES: Final = (2048, 3072, 4096)
EC_CURVES: Final = {"secp256r1": ECDSA_P256_SHA256, "secp384r1": ECDSA_P384_SHA384}
PSS_SALT_LENGTH: Final = 32
"""The PSS salt is as long as the SHA-256 digest (RFC 8017's recommendation, what tokens and
`openssl dgst -sigopt rsa_pss_saltlen:32` use); verification insists on exactly that."""

PublicKey = CertificatePublicKeyTypes

_ECDSA = {
    ECDSA_P256_SHA256: ec.ECDSA(hashes.SHA256()),
    ECDSA_P384_SHA384: ec.ECDSA(hashes.SHA384()),
}


def describe_key(key: PublicKey | PrivateKeyTypes) -> str:
    """ "RSA 2048-bit", "EC P-256", "Ed25519"…: the key as a person names it."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return f"RSA {key.key_size}-bit"
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return {"secp256r1": "EC P-256", "secp384r1": "EC P-384"}.get(
            key.curve.name, f"EC {key.curve.name}"
        )
    return type(key).__name__.removeprefix("_").removesuffix("PublicKey").removesuffix("PrivateKey")


def key_problem(key: PublicKey | PrivateKeyTypes) -> str | None:
    """Why evidencekit does not sign with `key` (None: it does)."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        if key.key_size in RSA_KEY_SIZES:
            return None
        return f"an {describe_key(key)} key (RSA keys must have 2048, 3072 or 4096 bits)"
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        if key.curve.name in EC_CURVES:
            return None
        return f"an {describe_key(key)} key (EC keys must be on P-256 or P-384)"
    return f"a {describe_key(key)} key (evidencekit signs with RSA or ECDSA keys)"


def check_key(key: PublicKey | PrivateKeyTypes, what: str) -> None:
    """Refuse a key outside the whitelist.

    Raises:
        IdentityError: `what` (e.g. "the certificate of 'X'") holds another kind of key.
    """
    problem = key_problem(key)
    if problem is not None:
        raise IdentityError(
            f"{what} holds {problem}",
            hint="evidencekit signs with RSA 2048/3072/4096, ECDSA P-256 or P-384 keys",
        )


def algorithms_for(key: PublicKey | PrivateKeyTypes) -> tuple[str, ...]:
    """The algorithms `key` may sign with (empty for a key outside the whitelist)."""
    if key_problem(key) is not None:
        return ()
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return RSA_ALGORITHMS
    assert isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey))
    return (EC_CURVES[key.curve.name],)


def default_for(key: PublicKey | PrivateKeyTypes) -> str:
    """The algorithm a new identity with `key` signs with: the curve's for EC, PKCS#1 v1.5 for
    RSA (what every PDF reader and national CA's tooling accepts; PSS on request).

    Raises:
        IdentityError: the key is outside the whitelist.
    """
    check_key(key, "the key")
    return algorithms_for(key)[0]


def choose(key: PublicKey | PrivateKeyTypes, wanted: str | None, what: str) -> str:
    """`wanted` when `key` may sign with it, else the key's default.

    Raises:
        IdentityError: `wanted` is unknown or does not fit the key.
    """
    if wanted is None:
        return default_for(key)
    if wanted not in ALGORITHMS:
        raise IdentityError(
            f"unknown signature algorithm {wanted!r}", hint=f"one of: {', '.join(ALGORITHMS)}"
        )
    if wanted not in algorithms_for(key):
        raise IdentityError(
            f"{what} holds an {describe_key(key)} key, which cannot sign {wanted}",
            hint=f"it signs with: {', '.join(algorithms_for(key)) or 'nothing'}",
        )
    return wanted


def fits(key: PublicKey, algorithm: str) -> bool:
    """Whether a signature labelled `algorithm` may have been made by `key` (the check that
    refuses an algorithm confusion before any verification)."""
    return algorithm in algorithms_for(key)


def hash_for(algorithm: str) -> hashes.HashAlgorithm:
    """The digest `algorithm` signs."""
    return hashes.SHA384() if algorithm == ECDSA_P384_SHA384 else hashes.SHA256()


def pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH)


def sign_with_key(key: PrivateKeyTypes, algorithm: str, data: bytes) -> bytes:
    """Sign `data` with a private key held in memory (a software identity).

    Raises:
        IdentityError: `algorithm` does not fit the key.
    """
    if not fits(_public(key), algorithm):
        raise IdentityError(f"an {describe_key(key)} key cannot sign {algorithm}")
    return sign_fitting(key, algorithm, data)


def sign_fitting(key: PrivateKeyTypes, algorithm: str, data: bytes) -> bytes:
    """`sign_with_key` for a signer that checked `fits` once, when it was made (deriving the
    public key on every signature made `bench_custody` appends ~5 % dearer in CPU)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, _ECDSA[algorithm])
    assert isinstance(key, rsa.RSAPrivateKey)
    pad = pss() if algorithm == RSA_PSS_SHA256 else padding.PKCS1v15()
    return key.sign(data, pad, hashes.SHA256())


def verify(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """True when `signature` is an `algorithm` signature over `data` by `key`; False for an
    algorithm that is unknown or does not fit the key (never tried with another one)."""
    if not fits(key, algorithm):
        return False
    return verify_fitting(key, algorithm, data, signature)


def verify_fitting(key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """`verify` for a caller that has already checked `fits(key, algorithm)` (a verifier of
    100,000 events by a handful of signers checks it once per signer)."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, _ECDSA[algorithm])
        elif isinstance(key, rsa.RSAPublicKey) and algorithm in RSA_ALGORITHMS:
            pad = pss() if algorithm == RSA_PSS_SHA256 else padding.PKCS1v15()
            key.verify(signature, data, pad, hashes.SHA256())
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, KeyError):
        return False
    return True


def _public(key: PrivateKeyTypes) -> PublicKey:
    public = key.public_key()
    assert not isinstance(public, (bytes, str))
    return public  # type: ignore[return-value]
