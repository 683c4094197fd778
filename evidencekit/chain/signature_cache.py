"""Signature checks with the public key parsed once per certificate.

`Certificate.public_key()` parses and validates the curve point on every call, which costs as
much as the ECDSA verification itself; a ledger of 100,000 events has a handful of signers, so
the keys are kept by certificate fingerprint (the same certificate object must come back).
"""

from __future__ import annotations

from cryptography import x509

from evidencekit.identity import algorithms

_KEYS: dict[str, tuple[x509.Certificate, algorithms.PublicKey]] = {}


def verify(
    fp: str,
    cert: x509.Certificate,
    data: bytes,
    signature: bytes,
    algorithm: str = algorithms.DEFAULT,
) -> bool:
    """True when `signature`, an `algorithm` signature over `data`, was made by `cert`'s key
    (False for an algorithm that does not fit the key); the same answer as
    `evidencekit.identity.verify_signature`, faster on repeated signers."""
    return algorithms.verify(public_key(fp, cert), algorithm, data, signature)


def public_key(fp: str, cert: x509.Certificate) -> algorithms.PublicKey:
    """`cert`'s public key, parsed once per fingerprint (and certificate object)."""
    hit = _KEYS.get(fp)
    if hit is None or hit[0] is not cert:
        hit = (cert, cert.public_key())
        _KEYS[fp] = hit
    return hit[1]
