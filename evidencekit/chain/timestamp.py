"""RFC 3161 timestamps over checkpoints: ask a timestamp authority, and check its token offline.

A checkpoint's time is written by the signer's own clock; a token from a timestamp authority
(TSA) proves that the signed checkpoint — and so every event under it — existed no later than
the token's time, whoever controls the clocks of the workstations. The token is kept in the
ledger itself (a `checkpoint_timestamped` event), so it is append-only like everything else and
travels with every export.

The client and the check are small and use asn1crypto (a pyhanko dependency) and cryptography
only: the chain layer must not import pyhanko (that is the report layer's). `openssl ts -verify`
accepts the tokens (tests/chain/test_timestamps.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from evidencekit.errors import CustodyError, IntegrityError
from evidencekit.identity import fingerprint

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_REPLY = 1 << 20
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a checked token says."""

    time: dt.datetime
    tsa: x509.Certificate
    tsa_fingerprint: str
    serial: int
    policy: str

    @property
    def tsa_name(self) -> str:
        return self.tsa.subject.rfc4514_string()


def request_token(url: str, data: bytes, *, timeout: float = 30.0) -> bytes:
    """A DER TimeStampToken over SHA-256(`data`) from the TSA at `url`, checked against `data`.

    Raises:
        CustodyError: the TSA is unreachable or refuses.
        IntegrityError: its answer does not fit the request (imprint, nonce) or does not verify.
    """
    nonce = secrets.randbits(63)
    req = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    )
    http = urllib.request.Request(
        url, data=req.dump(), headers={"Content-Type": QUERY_TYPE}, method="POST"
    )
    try:
        with urllib.request.urlopen(http, timeout=timeout) as resp:
            ctype = resp.headers.get("Content-Type", "")
            body = resp.read(MAX_REPLY + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CustodyError(
            f"timestamp authority {url!r} did not answer: {exc}",
            hint="check the --tsa URL and the network",
        ) from exc
    if ctype.split(";")[0].strip() != REPLY_TYPE or len(body) > MAX_REPLY:
        raise CustodyError(f"timestamp authority {url!r} answered with {ctype!r}, not a reply")
    try:
        reply = tsp.TimeStampResp.load(body)
        status = reply["status"]["status"].native
        token = reply["time_stamp_token"]
    except ValueError as exc:
        raise IntegrityError(f"malformed timestamp reply from {url!r}: {exc}") from exc
    if status not in ("granted", "granted_with_mods") or not token:
        text = reply["status"]["status_string"].native
        raise CustodyError(f"timestamp authority {url!r} refused: {status} {text or ''}".strip())
    der: bytes = token.dump()  # asn1crypto is untyped
    tst = _tst_info(cms.ContentInfo.load(der))
    if tst["nonce"].native != nonce:
        raise IntegrityError(f"timestamp authority {url!r} answered another request (nonce)")
    verify_token(der, data)
    return der


def verify_token(
    token: bytes, data: bytes, trusted_tsa: Sequence[x509.Certificate] = ()
) -> TokenInfo:
    """Check that `token` (DER TimeStampToken) is a TSA's valid signature over `data`.

    The signer certificate comes from the token; when `trusted_tsa` is given it must be one of
    them (pinned TSA certificates), else the caller reports the TSA as unpinned.

    Raises:
        IntegrityError: malformed, over other data, not signed by its certificate, or signed by a
            certificate that is not a timestamping one or not among `trusted_tsa`.
    """
    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        tst = _tst_info(info)
        imprint = tst["message_imprint"]
        algo = imprint["hash_algorithm"]["algorithm"].native
        if algo not in _HASHES:
            raise IntegrityError(f"timestamp token uses {algo!r}, not SHA-2")
        if imprint["hashed_message"].native != hashlib.new(algo, data).digest():
            raise IntegrityError("the timestamp token is over other data than this checkpoint")
        (signer_info,) = signed["signer_infos"]
        cert = _signer_cert(signed, signer_info)
        _check_signed_attrs(signed, signer_info)
        _check_signature(cert, signer_info)
        when = tst["gen_time"].native
        serial = int(tst["serial_number"].native)
        policy = str(tst["policy"].native)
    except IntegrityError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"malformed timestamp token: {exc}") from exc
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is None or x509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in eku:
        raise IntegrityError(
            f"the timestamp token is signed by {cert.subject.rfc4514_string()!r}, "
            "which is not a timestamping certificate"
        )
    fp = fingerprint(cert)
    if trusted_tsa and fp not in {fingerprint(c) for c in trusted_tsa}:
        raise IntegrityError(
            f"the timestamp token is signed by {cert.subject.rfc4514_string()!r} ({fp[:16]}), "
            "not by a trusted timestamp authority",
            hint="pass the TSA's certificate with --tsa-cert",
        )
    return TokenInfo(when.astimezone(dt.UTC), cert, fp, serial, policy)


def _tst_info(info: cms.ContentInfo) -> tsp.TSTInfo:
    if info["content_type"].native != "signed_data":
        raise IntegrityError("the timestamp token is not CMS signed data")
    encap = info["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise IntegrityError("the timestamp token does not hold a TSTInfo")
    return encap["content"].parsed


def _signer_cert(signed: cms.SignedData, signer_info: cms.SignerInfo) -> x509.Certificate:
    sid = signer_info["sid"]
    for choice in signed["certificates"] or ():
        cert = choice.chosen
        if not isinstance(cert, asn1_x509.Certificate):
            continue
        if sid.name == "issuer_and_serial_number":
            ok = (
                cert.issuer == sid.chosen["issuer"]
                and cert.serial_number == sid.chosen["serial_number"].native
            )
        else:
            ok = cert.key_identifier == sid.chosen.native
        if ok:
            return x509.load_der_x509_certificate(cert.dump())
    raise IntegrityError("the timestamp token does not carry its signer's certificate")


def _check_signed_attrs(signed: cms.SignedData, signer_info: cms.SignerInfo) -> None:
    attrs = signer_info["signed_attrs"]
    if not attrs:
        raise IntegrityError("the timestamp token's signature has no signed attributes")
    values = {a["type"].native: a["values"] for a in attrs}
    if values.get("content_type") is None or values["content_type"][0].native != "tst_info":
        raise IntegrityError("the timestamp token's signed content type is not TSTInfo")
    algo = signer_info["digest_algorithm"]["algorithm"].native
    if algo not in _HASHES:
        raise IntegrityError(f"the timestamp token's digest algorithm is {algo!r}")
    content = signed["encap_content_info"]["content"].contents
    digest = values.get("message_digest")
    if digest is None or digest[0].native != hashlib.new(algo, content).digest():
        raise IntegrityError("the timestamp token's TSTInfo does not match its signed digest")


def _check_signature(cert: x509.Certificate, signer_info: cms.SignerInfo) -> None:
    data = signer_info["signed_attrs"].untag().dump()
    sig = signer_info["signature"].native
    digest = _HASHES[signer_info["digest_algorithm"]["algorithm"].native]()
    sig_algo: algos.SignedDigestAlgorithm = signer_info["signature_algorithm"]
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, data, ec.ECDSA(digest))
        elif isinstance(key, rsa.RSAPublicKey):
            if sig_algo.signature_algo == "rsassa_pss":
                params = sig_algo["parameters"]
                pss = padding.PSS(
                    padding.MGF1(
                        _HASHES[params["mask_gen_algorithm"]["parameters"]["algorithm"].native]()
                    ),
                    params["salt_length"].native,
                )
                key.verify(sig, data, pss, digest)
            else:
                key.verify(sig, data, padding.PKCS1v15(), digest)
        else:
            raise IntegrityError(f"unsupported timestamp key type {type(key).__name__}")
    except InvalidSignature as exc:
        raise IntegrityError("the timestamp token's signature does not verify") from exc
