"""Attachments, PAdES signing and signature checking with pyhanko (the only module importing it).

The rendered PDF gets one incremental update holding the embedded files (seals, custody exports,
checkpoint) and the signature, so the signature covers the attachments too. Verification insists
on what pyhanko alone does not: the last signature must cover the *whole* file (no byte appended,
no incremental update after it) and its signer must be pinned (or given with --trust).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from asn1crypto import cms, keys, tsp
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed, generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from evidencekit.errors import ReportError
from evidencekit.identity import Identity, fingerprint, subject_name
from evidencekit.report.model import Attachment

log = logging.getLogger(__name__)
# pyhanko logs every failed path validation (e.g. a TSA certificate nobody asked us to trust) as
# a warning with a traceback; our result object says what matters, so keep stderr clean.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

FIELD_NAME = "EvidencekitSignature"
TSA_CONTENT_TYPE = "application/timestamp-reply"


class UrllibTimeStamper(TimeStamper):
    """RFC 3161 over HTTP with the standard library (pyhanko's clients need requests/aiohttp)."""

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        def task() -> bytes:
            request = urllib.request.Request(
                self.url,
                data=req.dump(),
                headers={"Content-Type": "application/timestamp-query"},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                    ctype = resp.headers.get("Content-Type", "")
                    body: bytes = resp.read()
            except (OSError, urllib.error.URLError) as exc:
                raise ReportError(
                    f"timestamp authority {self.url!r} did not answer: {exc}",
                    hint="check the --tsa URL and the network",
                ) from exc
            if ctype.split(";")[0].strip() != TSA_CONTENT_TYPE:
                raise ReportError(
                    f"timestamp authority {self.url!r} answered with {ctype!r}, "
                    f"not {TSA_CONTENT_TYPE}"
                )
            return body

        body = await asyncio.to_thread(task)
        try:
            return tsp.TimeStampResp.load(body)
        except ValueError as exc:
            raise ReportError(f"malformed timestamp reply from {self.url!r}") from exc


def _signer(identity: Identity) -> signers.SimpleSigner:
    cert = ax509.Certificate.load(identity.certificate.public_bytes(serialization.Encoding.DER))
    key = keys.PrivateKeyInfo.load(
        identity.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key,
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )


def finish_pdf(
    pdf: bytes,
    attachments: Iterable[Attachment],
    identity: Identity | None,
    *,
    tsa_url: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """Embed the attachments and, given an identity, sign (PAdES B-B, or B-T with a TSA).

    Raises:
        ReportError: pyhanko or the timestamp authority failed.
    """
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # The embedded-files name tree must be sorted by name (PDF 32000-1, 7.9.6).
        for att in sorted(attachments, key=lambda a: a.name):
            data = embed.EmbeddedFileObject.from_file_data(
                writer,
                data=att.data,
                mime_type=att.mime,
                params=embed.EmbeddedFileParams(creation_date=now, modification_date=now),
            )
            spec = embed.FileSpec(
                file_spec_string=att.name,
                file_name=att.name,
                embedded_data=data,
                description=att.description,
                af_relationship=None,
            )
            embed.embed_file(writer, spec)
        out = io.BytesIO()
        if identity is None:
            writer.write(out)
            return out.getvalue()
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            name=identity.name,
        )
        stamper = UrllibTimeStamper(tsa_url) if tsa_url else None
        pdf_signer = signers.PdfSigner(meta, signer=_signer(identity), timestamper=stamper)
        pdf_signer.sign_pdf(writer, output=out)
        return out.getvalue()
    except ReportError:
        raise
    except Exception as exc:  # pyhanko raises a zoo of errors; say which step failed
        cause = exc.__cause__ if isinstance(exc.__cause__, ReportError) else None
        if cause is not None:
            raise cause from exc
        raise ReportError(f"cannot sign the report: {type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What `check_signature` found; `problems` empty means it holds."""

    signed: bool
    signer_name: str | None = None
    signer_fingerprint: str | None = None
    signer_certificate: x509.Certificate | None = None
    signing_time: dt.datetime | None = None
    timestamp_time: dt.datetime | None = None
    timestamp_token: bytes | None = None
    signature_value: bytes | None = None
    covers_whole_file: bool = False
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.signed and not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "signed": self.signed,
            "signer": self.signer_name,
            "signer_fingerprint": self.signer_fingerprint,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "timestamp_time": self.timestamp_time.isoformat() if self.timestamp_time else None,
            "covers_whole_file": self.covers_whole_file,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }


def _open(data: bytes) -> PdfFileReader:
    try:
        return PdfFileReader(io.BytesIO(data), strict=False)
    except Exception as exc:  # any parse failure of a hostile file
        raise ReportError(f"not a readable PDF: {type(exc).__name__}: {exc}") from exc


def _timestamp_token(signer_info: cms.SignerInfo) -> cms.ContentInfo | None:
    attrs = signer_info["unsigned_attrs"]
    if not attrs or attrs.native is None:
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            token: cms.ContentInfo = attr["values"][0]
            return token
    return None


_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _raw_signed_end(data: bytes) -> int | None:
    """Where the furthest-reaching /ByteRange ends, found without parsing the PDF (so a file
    a PDF parser rejects still gets a precise finding)."""
    ends = [int(m.group(3)) + int(m.group(4)) for m in _BYTE_RANGE.finditer(data)]
    return max(ends) if ends else None


def _coverage_problem(extra: int) -> str:
    return (
        f"the signature does not cover the whole file: {extra} byte(s) after the signed "
        "range (appended data or an incremental update after signing)"
    )


def check_signature(data: bytes, trusted: Mapping[str, x509.Certificate]) -> SignatureCheck:
    """Check the PDF's signatures: intact, valid, the last one covering the whole file, signer
    pinned in `trusted` (fingerprint -> certificate).

    Never raises for a bad signature: problems are listed in the result.

    Raises:
        ReportError: the data is not a readable PDF.
    """
    raw_end = _raw_signed_end(data)
    try:
        reader = _open(data)
    except ReportError as exc:
        problems_raw = [str(exc)]
        if raw_end is not None and raw_end != len(data):
            problems_raw.insert(0, _coverage_problem(len(data) - raw_end))
        return SignatureCheck(signed=raw_end is not None, problems=tuple(problems_raw))
    try:
        sigs = list(reader.embedded_signatures)
    except Exception as exc:
        return SignatureCheck(signed=False, problems=(f"signature fields are malformed: {exc}",))
    if not sigs:
        return SignatureCheck(signed=False, problems=("the PDF carries no signature",))
    problems: list[str] = []
    notes: list[str] = []
    last = sigs[-1]
    # pyhanko accepts trailing bytes and later revisions; a court report must not have any.
    try:
        br = [int(x) for x in last.sig_object["/ByteRange"]]
    except (KeyError, TypeError, ValueError):
        br = []
    covered_end = br[2] + br[3] if len(br) == 4 else -1
    whole = len(br) == 4 and br[0] == 0 and covered_end == len(data)
    if not whole:
        problems.append(
            _coverage_problem(len(data) - covered_end if covered_end >= 0 else len(data))
        )
    try:
        revisions = reader.xrefs.total_revisions
        if last.signed_revision != revisions - 1:
            problems.append(
                f"{revisions - 1 - last.signed_revision} revision(s) were added after the signature"
            )
    except Exception as exc:  # a broken xref structure is itself a finding
        problems.append(f"cannot read the PDF's revision history: {exc}")
    signer_cert: x509.Certificate | None = None
    signer_name = signer_fp = None
    signing_time = ts_time = None
    ts_token_der: bytes | None = None
    sig_value: bytes | None = None
    for n, sig in enumerate(sigs, 1):
        what = f"signature {n} of {len(sigs)}"
        cert_der = sig.signer_cert.dump()
        cert = x509.load_der_x509_certificate(cert_der)
        fp = fingerprint(cert)
        vc = ValidationContext(trust_roots=[sig.signer_cert], allow_fetching=False)
        try:
            status = validate_pdf_signature(sig, signer_validation_context=vc)
        except Exception as exc:
            problems.append(f"{what}: cannot be validated: {type(exc).__name__}: {exc}")
            continue
        if not status.intact:
            problems.append(f"{what}: the signed bytes were changed (digest mismatch)")
        elif not status.valid:
            problems.append(f"{what}: the cryptographic signature is invalid")
        if fp not in trusted:
            problems.append(
                f"{what}: unknown signer {subject_name(cert)!r} (sha256:{fp}); it is not "
                "pinned in the case nor given with --trust"
            )
        ts = status.timestamp_validity
        if ts is not None and not ts.intact:
            problems.append(f"{what}: its RFC 3161 timestamp token does not match the signature")
        if sig is last:
            signer_cert, signer_fp, signer_name = cert, fp, subject_name(cert)
            signing_time = status.signer_reported_dt
            if ts is not None:
                ts_time = ts.timestamp
                notes.append(
                    f"timestamp {ts.timestamp.isoformat()} by "
                    f"{ts.signing_cert.subject.human_friendly if ts.signing_cert else '?'}"
                    " (the TSA's certificate is not checked against a trust list)"
                )
            token = _timestamp_token(sig.signer_info)
            ts_token_der = token.dump() if token is not None else None
            sig_value = bytes(sig.signer_info["signature"].native)
    return SignatureCheck(
        signed=True,
        signer_name=signer_name,
        signer_fingerprint=signer_fp,
        signer_certificate=signer_cert,
        signing_time=signing_time,
        timestamp_time=ts_time,
        timestamp_token=ts_token_der,
        signature_value=sig_value,
        covers_whole_file=whole,
        problems=tuple(problems),
        notes=tuple(notes),
    )


def read_attachments(data: bytes) -> dict[str, bytes]:
    """The embedded files of the PDF, by name.

    Raises:
        ReportError: the PDF cannot be read or its attachments are malformed.
    """
    reader = _open(data)
    out: dict[str, bytes] = {}
    try:
        root = reader.root
        if "/Names" not in root or "/EmbeddedFiles" not in root["/Names"]:
            return out
        tree = root["/Names"]["/EmbeddedFiles"]
        if "/Names" not in tree:
            return out
        arr = tree["/Names"]
        for i in range(0, len(arr) - 1, 2):
            name = str(arr[i])
            spec = arr[i + 1].get_object() if hasattr(arr[i + 1], "get_object") else arr[i + 1]
            stream = spec["/EF"]["/F"]
            if not isinstance(stream, generic.StreamObject):
                raise ReportError(f"attachment {name!r} is not a stream")
            out[name] = stream.data
    except ReportError:
        raise
    except Exception as exc:
        raise ReportError(f"cannot read the PDF's attachments: {exc}") from exc
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
