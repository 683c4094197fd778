"""Long-term PAdES: validation data in the DSS (B-LT), archive document timestamps (B-LTA), and
the level a signature reached, with the time its timestamps prove.

Levels (ETSI EN 319 142-1): B-B a PAdES signature (`ETSI.CAdES.detached`); B-T plus a time
stamp proving it existed (its own signature timestamp, or a document timestamp after it); B-LT
plus the validation data a verifier needs offline in the document security store (DSS): every
certificate of the signer's path and of the signature timestamp's TSA path, and revocation data
(a CRL or OCSP response) for each certificate that is not self-signed; B-LTA plus a document
timestamp over that DSS. A self-signed certificate (an examiner's own, a test TSA) is its own
trust anchor: nobody issues revocation data for it, so there is none to embed, and the notes say
so rather than pretend.

Collecting the data is not a trust decision: the paths are built with every self-signed
certificate seen (in the signatures, the timestamp tokens, or given) as a root, only to know
what to embed. Who is trusted is decided by `check_signature` (pinned examiners; the case's
anchors).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from evidencekit.errors import ReportError

LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
PADES_SUBFILTER = "/ETSI.CAdES.detached"


@dataclass(frozen=True, slots=True)
class ValidationInputs:
    """What, besides the signatures themselves, goes into the DSS: issuing CA and root
    certificates (of the signer or the TSA), revocation data given as files (DER CRLs, DER
    OCSP responses), and whether to fetch revocation data from the URLs the certificates name."""

    certificates: tuple[x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()
    fetch: bool = False


def _a(cert: x509.Certificate) -> ax509.Certificate:
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _self_signed(cert: ax509.Certificate) -> bool:
    return bool(cert.self_signed != "no")


def _signed_data_certs(sd: cms.SignedData) -> list[ax509.Certificate]:
    out: list[ax509.Certificate] = []
    for choice in sd["certificates"] or ():
        if choice.name == "certificate":
            out.append(choice.chosen)
    return out


def certificates_of(sig: EmbeddedPdfSignature) -> list[ax509.Certificate]:
    """The certificates a signature carries, its signature timestamp tokens' included."""
    certs = _signed_data_certs(sig.signed_data)
    for tst in extract_tst_data_iter(sig.signer_info, signed=False):
        certs += _signed_data_certs(tst)
    return certs


def _context(seen: Iterable[ax509.Certificate], inputs: ValidationInputs) -> ValidationContext:
    by_fp: dict[bytes, ax509.Certificate] = {}
    for cert in [*seen, *(_a(c) for c in inputs.certificates)]:
        by_fp.setdefault(cert.sha256, cert)
    roots = [c for c in by_fp.values() if _self_signed(c)]
    return ValidationContext(
        trust_roots=roots,
        other_certs=[c for c in by_fp.values() if not _self_signed(c)],
        crls=list(inputs.crls),
        ocsps=list(inputs.ocsps),
        allow_fetching=inputs.fetch,
        # collect what is there; a missing CRL is reported by `long_term` at verification
        revocation_mode="soft-fail",
    )


def add_validation_data(
    data: bytes, inputs: ValidationInputs, stamper: TimeStamper | None = None
) -> bytes:
    """One incremental update with the validation data of every signature and document
    timestamp in the PDF (the DSS), and, given a TSA, an archive document timestamp over it
    (in the same revision, as pyhanko's own archive-timestamp renewal does).

    Raises:
        ReportError: a certificate path cannot be built (name the missing CA with `--cert`),
            or the TSA failed.
    """
    try:
        return asyncio.run(_add_validation_data(data, inputs, stamper))
    except ReportError:
        raise
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, ReportError) else None
        if cause is not None:
            raise cause from exc
        raise ReportError(
            f"cannot add the validation data (DSS): {type(exc).__name__}: {exc}",
            hint="give the issuing CA certificates of the signer and the TSA with --cert",
        ) from exc


async def _add_validation_data(
    data: bytes, inputs: ValidationInputs, stamper: TimeStamper | None
) -> bytes:
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sigs = list(reader.embedded_signatures)
    seen = [c for s in sigs for c in certificates_of(s)]
    if stamper is not None:
        # the TSA's certificates, so the path of the archive timestamp can be built too
        dummy = await stamper.async_dummy_response("sha256")
        seen += _signed_data_certs(dummy["content"])
    vc = _context(seen, inputs)
    out = io.BytesIO(data)
    writer = IncrementalPdfFileWriter(out, strict=False)
    for sig in sigs:
        paths = await collect_validation_info(sig, vc)
        # No VRI entry: optional in PAdES, and rewriting one an earlier update made is a
        # change pyhanko's difference analysis (rightly) refuses.
        DocumentSecurityStore.supply_dss_in_writer(
            writer,
            None,
            paths=paths,
            validation_context=vc,
        )
    result = io.BytesIO()
    if stamper is None:
        writer.write(result)  # type: ignore[no-untyped-call]
    else:
        await signers.PdfTimeStamper(stamper).async_timestamp_pdf(
            writer, "sha256", vc, output=result
        )
    return result.getvalue()


@dataclass(frozen=True, slots=True)
class LongTerm:
    """The PAdES level one signature reached and the time its timestamps prove."""

    level: str  # one of LEVELS, or "none" (not a PAdES signature)
    proven_time: dt.datetime | None
    proven_by: str | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Stamp:
    """A document timestamp as `check_signature` validated it."""

    revision: int  # the revision it signs (0-based, pyhanko's `signed_revision`)
    time: dt.datetime
    tsa: str
    ok: bool


def _name(cert: ax509.Certificate) -> str:
    return str(cert.subject.human_friendly)


def _chain(leaf: ax509.Certificate, pool: Sequence[ax509.Certificate]) -> list[ax509.Certificate]:
    """The leaf and its issuers found in `pool` (by name and key), up to a self-signed one."""
    chain = [leaf]
    while not _self_signed(chain[-1]) and len(chain) < 10:
        cur = chain[-1]
        issuer = next(
            (
                c
                for c in pool
                if c.subject == cur.issuer
                and c.sha256 not in {x.sha256 for x in chain}
                and (cur.authority_key_identifier is None or c.key_identifier is None
                     or c.key_identifier == cur.authority_key_identifier)
            ),
            None,
        )  # fmt: skip
        if issuer is None:
            break
        chain.append(issuer)
    return chain


def _dss(handler: Any) -> tuple[list[ax509.Certificate], list[Any], list[Any]] | None:
    """(certificates, CRLs, OCSP responses) of the DSS as `handler` sees it; None: no DSS."""
    try:
        store = DocumentSecurityStore.read_dss(handler)
    except Exception:
        return None
    certs = list(store.load_certs())
    crls = [crl.CertificateList.load(r.get_object().data) for r in store.crls]
    ocsps = [ocsp.OCSPResponse.load(r.get_object().data) for r in store.ocsps]
    return certs, crls, ocsps


def dss_revocation(reader: PdfFileReader) -> tuple[list[bytes], list[bytes]]:
    """The CRLs and OCSP responses (DER) of the document's latest DSS: revocation data a
    verifier may use offline (each is signed by its CA; the path validation checks it)."""
    found = _dss(reader)
    if found is None:
        return [], []
    _certs, crls, ocsps = found
    return [c.dump() for c in crls], [o.dump() for o in ocsps]


def _has_revocation(cert: ax509.Certificate, crls: list[Any], ocsps: list[Any]) -> bool:
    for c in crls:
        if c.issuer == cert.issuer:
            return True
    for resp in ocsps:
        try:
            for single in resp.basic_ocsp_response["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == cert.serial_number:
                    return True
        except Exception:
            continue
    return False


def long_term(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    signature_ts: tuple[dt.datetime, str] | None,
    stamps: Sequence[Stamp],
) -> LongTerm:
    """The level `sig` reached: `signature_ts` its own valid signature timestamp (time, TSA),
    `stamps` the document's document timestamps.

    Never raises: what cannot be read lowers the level and is said in the notes.
    """
    if sig.sig_object.get("/SubFilter") != PADES_SUBFILTER:
        return LongTerm("none", None, None, ("not a PAdES signature (ETSI.CAdES.detached)",))
    later = [s for s in stamps if s.ok and s.revision > sig.signed_revision]
    if signature_ts is not None:
        proven: tuple[dt.datetime, str] | None = (
            signature_ts[0],
            f"its signature timestamp by {signature_ts[1]}",
        )
    elif later:
        first = min(later, key=lambda s: s.revision)
        proven = (first.time, f"the document timestamp by {first.tsa}")
    else:
        proven = None
    if proven is None:
        return LongTerm("B-B", None, None)
    notes: list[str] = []
    pool = certificates_of(sig)
    signer = sig.signer_cert
    needed = _chain(signer, pool)
    for tst in extract_tst_data_iter(sig.signer_info, signed=False):
        ts_certs = _signed_data_certs(tst)
        try:
            sid = tst["signer_infos"][0]["sid"].chosen
            tsa = next(
                c
                for c in ts_certs
                if c.issuer == sid["issuer"] and c.serial_number == sid["serial_number"].native
            )
        except Exception:
            continue
        needed += _chain(tsa, ts_certs + pool)
    lt_rev = _first_complete_dss(reader, sig, needed, notes)
    if lt_rev is None:
        return LongTerm("B-T", proven[0], proven[1], tuple(notes))
    archived = [s for s in later if s.revision >= lt_rev]
    level = "B-LTA" if archived else "B-LT"
    return LongTerm(level, proven[0], proven[1], tuple(notes))


def _first_complete_dss(
    reader: PdfFileReader,
    sig: EmbeddedPdfSignature,
    needed: Sequence[ax509.Certificate],
    notes: list[str],
) -> int | None:
    """The first revision after `sig` whose DSS holds every certificate in `needed` and
    revocation data for each that is not self-signed; the notes say what is missing or why
    nothing is needed."""
    unique = {c.sha256: c for c in needed}
    missing: list[str] = []
    for rev in range(sig.signed_revision + 1, reader.xrefs.total_revisions):
        try:
            found = _dss(reader.get_historical_resolver(rev))
        except Exception:
            found = None
        if found is None:
            continue
        certs, crls, ocsps = found
        have = {c.sha256 for c in certs}
        missing = [f"certificate {_name(c)}" for c in unique.values() if c.sha256 not in have]
        missing += [
            f"revocation data (CRL or OCSP) for {_name(c)}"
            for c in unique.values()
            if not _self_signed(c) and not _has_revocation(c, crls, ocsps)
        ]
        if not missing:
            anchors = [_name(c) for c in unique.values() if _self_signed(c)]
            if anchors and len(anchors) == len(unique):
                notes.append(
                    "no revocation data: every certificate involved is self-signed ("
                    + "; ".join(anchors)
                    + "), its own trust anchor; nobody issues revocation data for it"
                )
            return rev
    if missing:
        notes.append("validation data in the DSS lacks " + "; ".join(missing))
    else:
        notes.append("no validation data (DSS) after it")
    return None


def revocation_file(data: bytes, what: str, kind: str) -> bytes:
    """A CRL (`kind` "crl") or OCSP response ("ocsp") given as a file, PEM or DER, as DER.

    Raises:
        ReportError: the file holds no such structure.
    """
    from asn1crypto import pem

    if pem.detect(data):
        _type, _headers, data = pem.unarmor(data)
    try:
        if kind == "crl":
            crl.CertificateList.load(data).native  # noqa: B018  (parses it all)
        else:
            ocsp.OCSPResponse.load(data).native  # noqa: B018
    except Exception as exc:
        name = "a CRL" if kind == "crl" else "an OCSP response"
        raise ReportError(
            f"{what} is not {name} (DER or PEM): {exc}",
            hint="give the file the CA published (--crl) or the responder answered (--ocsp)",
        ) from exc
    return data
