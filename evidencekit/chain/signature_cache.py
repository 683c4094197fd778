"""Signature checks with the public key parsed once per certificate.

`Certificate.public_key()` parses and validates the curve point on every call, which costs as
much as the ECDSA verification itself; a ledger of 100,000 events has a handful of signers, so
the keys are kept by certificate fingerprint (the same certificate object must come back).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_KEYS: dict[str, tuple[x509.Certificate, ec.EllipticCurvePublicKey | None]] = {}


def verify(fp: str, cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """True when `signature` (ECDSA P-256/SHA-256, DER) over `data` was made by `cert`'s key;
    the same answer as `evidencekit.identity.verify_signature`, faster on repeated signers."""
    hit = _KEYS.get(fp)
    if hit is None or hit[0] is not cert:
        parsed = cert.public_key()
        hit = (cert, parsed if isinstance(parsed, ec.EllipticCurvePublicKey) else None)
        _KEYS[fp] = hit
    key = hit[1]
    if key is None:
        return False
    try:
        key.verify(signature, data, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True
