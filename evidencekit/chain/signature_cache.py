"""Signature checks with the public key parsed once per certificate.

`Certificate.public_key()` parses and validates the curve point on every call, which costs as
much as the ECDSA verification itself; a ledger of 100,000 events has a handful of signers, so
the keys are kept by certificate fingerprint (the same certificate object must come back).
"""

from __future__ import annotations

from cryptography import x509

from evidencekit.identity import algorithms

_KEYS: dict[str, tuple[x509.Certificate, algorithms.PublicKey, tuple[str, ...]]] = {}


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
    _cert, key, allowed = _entry(fp, cert)
    if algorithm not in allowed:
        return False
    return algorithms.verify_fitting(key, algorithm, data, signature)


def public_key(fp: str, cert: x509.Certificate) -> algorithms.PublicKey:
    """`cert`'s public key, parsed once per fingerprint (and certificate object)."""
    return _entry(fp, cert)[1]


def allowed(fp: str, cert: x509.Certificate) -> tuple[str, ...]:
    """The algorithms `cert`'s key may sign with (`algorithms.algorithms_for`), once per
    fingerprint (and certificate object)."""
    return _entry(fp, cert)[2]


def _entry(
    fp: str, cert: x509.Certificate
) -> tuple[x509.Certificate, algorithms.PublicKey, tuple[str, ...]]:
    hit = _KEYS.get(fp)
    if hit is None or hit[0] is not cert:
        key = cert.public_key()
        hit = (cert, key, algorithms.algorithms_for(key))
        _KEYS[fp] = hit
    return hit
