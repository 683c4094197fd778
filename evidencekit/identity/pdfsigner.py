"""A pyhanko `Signer` backed by an `Identity`: how the report layer signs a PDF without ever
holding a private key (the key may be on a token).

pyhanko builds the CMS signed attributes and hands their bytes to `async_sign_raw`, which asks
the identity to sign them with its own algorithm; the CMS signature algorithm is set to match
(`sha256_ecdsa`, `sha384_ecdsa`, `sha256_rsa`, or RSASSA-PSS with SHA-256, MGF1-SHA-256 and a
32-byte salt), and the report's message digest must be the algorithm's (`digest_algorithm`).
"""

from __future__ import annotations

from asn1crypto import algos
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign import signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

from evidencekit.errors import IdentityError
from evidencekit.identity import algorithms
from evidencekit.identity.signer import Identity

_MECHANISMS = {
    algorithms.ECDSA_P256_SHA256: "sha256_ecdsa",
    algorithms.ECDSA_P384_SHA384: "sha384_ecdsa",
    algorithms.RSA_PKCS1V15_SHA256: "sha256_rsa",
}


def digest_algorithm(identity: Identity) -> str:
    """The PDF signature's message digest for `identity` ("sha256" or "sha384")."""
    return algorithms.hash_for(identity.algorithm).name


def _mechanism(algorithm: str) -> algos.SignedDigestAlgorithm:
    if algorithm == algorithms.RSA_PSS_SHA256:
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "mask_gen_algorithm": algos.MaskGenAlgorithm(
                    {
                        "algorithm": "mgf1",
                        "parameters": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    }
                ),
                "salt_length": algorithms.PSS_SALT_LENGTH,
                "trailer_field": "trailer_field_bc",
            }
        )
        return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    return algos.SignedDigestAlgorithm({"algorithm": _MECHANISMS[algorithm]})


class IdentityPdfSigner(signers.Signer):
    """pyhanko's view of an `Identity`: its certificate, its algorithm, its `sign`."""

    def __init__(self, identity: Identity) -> None:
        cert, *chain = (
            ax509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in (identity.certificate, *identity.chain)
        )
        super().__init__(
            signing_cert=cert,
            # the CA certificates go into the CMS too: a reader who trusts the root builds
            # the path from what the PDF carries
            cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),  # type: ignore[no-untyped-call]
            signature_mechanism=_mechanism(identity.algorithm),
        )
        self.identity = identity

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        want = algorithms.hash_for(self.identity.algorithm).name
        if digest_algorithm != want:
            raise IdentityError(
                f"identity {self.identity.name!r} signs {self.identity.algorithm}: the PDF "
                f"signature must use {want}, not {digest_algorithm}"
            )
        if dry_run:
            # the size pyhanko reserves: the longest signature this key can make
            key = self.identity.certificate.public_key()
            size = getattr(key, "key_size", 256)
            if self.identity.algorithm.startswith("rsa-"):
                return bytes((size + 7) // 8)
            return bytes(2 * ((size + 7) // 8) + 9)
        return self.identity.sign(data)


def pdf_signer(identity: Identity) -> signers.Signer:
    """The pyhanko signer for `identity` (software key or token alike)."""
    return IdentityPdfSigner(identity)
