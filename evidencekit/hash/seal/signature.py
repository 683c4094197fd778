"""Verifying who sealed: the seal file is its canonical encoding, carries the examiner's
certificate (seal/1) or certificate chain, leaf first (seal/2), the leaf valid when the seal was
made and matching the stated fingerprint, a signature by that certificate over the document, and
the signer is one the case pins or `--trust` names (today trust is by the pinned leaf; the
chain's other certificates are read, and are there for CA-issued and token keys).

Every fingerprint is recomputed here from a certificate: the seal's own, and the trusted one
listed under it (which must be the same certificate).

Nothing here reads an artifact (that is :mod:`.artifacts`), and nothing raises for a finding:
each becomes a :class:`Problem`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from cryptography import x509

from evidencekit.errors import EvidenceKitError
from evidencekit.hash.canonical import canonical_json
from evidencekit.hash.seal.document import SIGNATURE_ALGORITHMS, Seal
from evidencekit.identity import fingerprint, load_cert_pem, subject_name
from evidencekit.identity import verify_signature as _verify_signature
from evidencekit.identity.algorithms import describe_key, fits
from evidencekit.problems import Problem
from evidencekit.timeutil import isoformat, parse_iso


def signed_bytes(doc: Mapping[str, Any]) -> bytes:
    """What a seal's signature covers: the canonical JSON of the document without its
    `signature` member (signed by :func:`evidencekit.hash.seal.write.seal_item`, checked here)."""
    return canonical_json({k: v for k, v in doc.items() if k != "signature"})


def check_signature(
    seal: Seal, data: bytes, trusted: Mapping[str, x509.Certificate]
) -> tuple[list[Problem], str | None, str | None]:
    """Check the seal's form, certificate, signature and signer.

    Args:
        seal: the parsed seal.
        data: the seal file's bytes exactly as read (they must be the canonical encoding, so a
            re-ordered or duplicated copy cannot show other values to another reader).
        trusted: fingerprint -> certificate of the accepted signers.

    Returns:
        The problems found, the signer's name and the certificate's fingerprint (both None
        when the seal carries no readable certificate).
    """
    name = seal.path.name
    doc = seal.document
    problems: list[Problem] = []
    if canonical_json(doc) != data:
        problems.append(
            Problem.of_file(
                "malformed-seal",
                name,
                "the file is not in canonical JSON form: it was rewritten or edited after sealing",
            )
        )
    examiner = doc.get("examiner")
    pems = seal.certificate_pems
    if not isinstance(examiner, dict) or not pems:
        problems.append(
            Problem.of_file("bad-signature", name, "no examiner certificate in the seal")
        )
        return problems, None, None
    try:
        # seal/2 carries the chain, leaf first: the leaf signs, the fingerprint is the leaf's
        cert = load_cert_pem(pems[0], what="the seal's examiner certificate")
        for i, pem in enumerate(pems[1:], 1):
            load_cert_pem(pem, what=f"certificate {i} of the seal's examiner chain")
    except EvidenceKitError as exc:
        problems.append(Problem.of_file("bad-signature", name, exc.message))
        return problems, None, None
    fp = fingerprint(cert)
    signer = subject_name(cert)
    problems += _check_validity(cert, doc.get("sealed"), name, signer)
    if examiner.get("fingerprint") != fp:
        problems.append(
            Problem.of_file(
                "bad-signature",
                name,
                "the examiner fingerprint does not belong to the embedded certificate",
                expected=fp,
                found=str(examiner.get("fingerprint")),
            )
        )
    sig = doc.get("signature")
    if sig is None:
        problems.append(Problem.of_file("missing-signature", name, "the seal carries no signature"))
    else:
        try:
            if not isinstance(sig, dict) or sig.get("algorithm") not in SIGNATURE_ALGORITHMS:
                what = sig.get("algorithm") if isinstance(sig, dict) else None
                raise ValueError(f"unknown signature algorithm {what!r}")
            algorithm = str(sig["algorithm"])
            raw = base64.b64decode(str(sig["value"]), validate=True)
        except (ValueError, KeyError) as exc:
            problems.append(Problem.of_file("bad-signature", name, f"unreadable signature: {exc}"))
        else:
            if not fits(cert.public_key(), algorithm):
                # checked before any verification: a signature labelled with another family
                # than the certificate's key is refused, never tried another way
                problems.append(
                    Problem.of_file(
                        "bad-signature",
                        name,
                        f"the seal says it is signed with {algorithm}, which the "
                        f"{describe_key(cert.public_key())} key of {signer} ({fp[:16]}) cannot "
                        "make",
                    )
                )
            elif not _verify_signature(cert, signed_bytes(doc), raw, algorithm):
                problems.append(
                    Problem.of_file(
                        "bad-signature",
                        name,
                        f"the signature of {signer} ({fp[:16]}) does not match the seal's "
                        "content: the seal was changed after signing",
                    )
                )
    anchor = trusted.get(fp)
    if anchor is not None and fingerprint(anchor) != fp:
        # a trust list whose key is not its certificate's own fingerprint (a name and
        # fingerprint kept beside another certificate) trusts nobody under that key
        problems.append(
            Problem.of_file(
                "unknown-signer",
                name,
                f"signed by {signer} ({fp[:16]}), but the trusted certificate listed under that "
                "fingerprint is another one",
                expected=fp,
                found=fingerprint(anchor),
            )
        )
    elif anchor is None:
        problems.append(
            Problem.of_file(
                "unknown-signer",
                name,
                f"signed by {signer} ({fp[:16]}), who is not pinned in the case nor given "
                "with --trust",
                found=fp,
            )
        )
    return problems, signer, fp


def _check_validity(
    cert: x509.Certificate, sealed: object, name: str, signer: str
) -> list[Problem]:
    """The certificate must have been valid when the seal says it was made (an expired or
    not-yet-valid certificate signs nothing, even if its key still works)."""
    try:
        when = parse_iso(str(sealed))
    except ValueError:
        return [Problem.of_file("malformed-seal", name, f"bad 'sealed' time {sealed!r}")]
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if start <= when <= end:
        return []
    return [
        Problem.of_file(
            "bad-signature",
            name,
            f"the certificate of {signer} was not valid when the seal was made "
            f"({isoformat(when)}; valid {isoformat(start)} to {isoformat(end)})",
        )
    ]
