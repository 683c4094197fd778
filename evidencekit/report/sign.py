"""Attachments, PAdES signing and signature checking with pyhanko (the only module importing it).

The rendered PDF gets one incremental update holding the embedded files (seals, custody exports,
checkpoint) and the signature, a certification signature (DocMDP, form filling and signing
allowed), so the signature covers the attachments too. Verification insists on what pyhanko
alone does not: every signature valid and its signer pinned (or given with --trust); after the
first signature only further signatures, document timestamps and validation data (pdfdiff.py,
checked for every signature); and no byte after the last revision.
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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from evidencekit.errors import ReportError, UsageError
from evidencekit.identity import Identity, fingerprint, subject_name
from evidencekit.identity.pdfsigner import digest_algorithm, pdf_signer
from evidencekit.report.attachments import EmbeddedEntry, embedded_entries, name_problem, shown
from evidencekit.report.diffpolicy import REPORT_DIFF_POLICY
from evidencekit.report.ltv import (
    LEVELS,
    LongTerm,
    Stamp,
    ValidationInputs,
    add_validation_data,
    dss_revocation,
    long_term,
)
from evidencekit.report.model import Attachment
from evidencekit.report.pdfdiff import lost_signatures, revision_problems

log = logging.getLogger(__name__)
# pyhanko logs every failed path validation (e.g. a TSA certificate nobody asked us to trust) as
# a warning with a traceback; our result object says what matters, so keep stderr clean.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
    logging.getLogger(_name).propagate = False

FIELD_NAME = "EvidencekitSignature"
COSIGN_FIELD = re.compile(r"EvidencekitCosign(\d+)-(receiver|supervisor|witness)")
"""A co-signature's field: its number among the co-signatures and the co-signer's role."""
ROLES = ("receiver", "supervisor", "witness")
TSA_CONTENT_TYPE = "application/timestamp-reply"


class UrllibTimeStamper(TimeStamper):
    """RFC 3161 over HTTP with the standard library (pyhanko's clients need requests/aiohttp)."""

    def __init__(self, url: str, timeout: float = 15.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
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


def _signer(identity: Identity) -> signers.Signer:
    # the identity signs (its key may be on a token): never a private key read here
    return pdf_signer(identity)


def finish_pdf(
    pdf: bytes,
    attachments: Iterable[Attachment],
    identity: Identity | None,
    *,
    tsa_url: str | None = None,
    reason: str | None = None,
    location: str | None = None,
    now: dt.datetime | None = None,
    level: str | None = None,
    validation: ValidationInputs | None = None,
) -> bytes:
    """Embed the attachments and, given an identity, sign at `level` (default: B-T with a
    TSA, else B-B): B-LT adds the validation data (DSS), B-LTA an archive document timestamp
    after it, each in its own incremental update.

    Raises:
        UsageError: a level that needs a TSA without one.
        ReportError: pyhanko or the timestamp authority failed.
    """
    level = pades_level(level, tsa_url)
    attachments = sorted(attachments, key=lambda a: a.name)
    for att in attachments:
        why = name_problem(att.name)
        if why is not None:  # never sign a report whose own verification would refuse it
            raise ReportError(
                f"attachment name {shown(att.name)} {why}",
                hint="attachment names must be plain file names; rename the item",
            )
    if len({a.name for a in attachments}) != len(attachments):
        raise ReportError("two attachments have the same name")
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # The embedded-files name tree must be sorted by name (PDF 32000-1, 7.9.6).
        for att in attachments:
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
            writer.write(out)  # type: ignore[no-untyped-call]
            return out.getvalue()
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm=digest_algorithm(identity),
            reason=reason,
            location=location,
            name=identity.name,
            # A certification signature (DocMDP): PDF readers themselves flag any later change
            # beyond filling forms and signing (co-signatures, document timestamps and the
            # DSS stay possible); `check_signature` enforces the stricter rule of pdfdiff.py.
            certify=True,
            docmdp_permissions=MDPPerm.FILL_FORMS,
        )
        stamper = UrllibTimeStamper(tsa_url) if tsa_url else None
        pdf_signer = signers.PdfSigner(meta, signer=_signer(identity), timestamper=stamper)
        pdf_signer.sign_pdf(writer, output=out)
        return _long_term(out.getvalue(), level, stamper, validation)
    except ReportError:
        raise
    except Exception as exc:  # pyhanko raises a zoo of errors; say which step failed
        cause = exc.__cause__ if isinstance(exc.__cause__, ReportError) else None
        if cause is not None:
            raise cause from exc
        raise ReportError(f"cannot sign the report: {type(exc).__name__}: {exc}") from exc


def pades_level(level: str | None, tsa_url: str | None) -> str:
    """The level asked for (default: B-T with a TSA, else B-B), checked against the TSA given
    (B-T and above need one).

    Raises:
        UsageError: an unknown level, or one that does not fit the TSA given.
    """
    if level is None:
        return "B-T" if tsa_url else "B-B"
    if level not in LEVELS:
        raise UsageError(f"unknown PAdES level {level!r}", hint="use " + ", ".join(LEVELS))
    if level != "B-B" and not tsa_url:
        raise UsageError(
            f"PAdES {level} needs a timestamp authority", hint="give --tsa URL (or EVIDENCEKIT_TSA)"
        )
    if level == "B-B" and tsa_url:
        raise UsageError("PAdES B-B carries no timestamp", hint="drop --tsa, or choose B-T")
    return level


def _long_term(
    data: bytes, level: str, stamper: TimeStamper | None, validation: ValidationInputs | None
) -> bytes:
    """After a B-T signature: B-LT adds the DSS; B-LTA also an archive document timestamp."""
    if level == "B-LT":
        return add_validation_data(data, validation or ValidationInputs())
    if level == "B-LTA":
        return add_validation_data(data, validation or ValidationInputs(), stamper)
    return data


def extend_pdf(data: bytes, tsa_url: str, *, validation: ValidationInputs | None = None) -> bytes:
    """A fresh DSS (validation data of every signature and document timestamp, with the
    revocation data available now) and an archive document timestamp over it, as one
    incremental update (`report extend`).

    Raises:
        ReportError: the PDF is not signed, a path cannot be built, or the TSA failed.
    """
    reader = _open(data)
    try:
        signed = bool(list(reader.embedded_signatures))
    except Exception as exc:
        raise ReportError(f"the report's signature fields are malformed: {exc}") from exc
    if not signed:
        raise ReportError("the PDF carries no signature to extend")
    return add_validation_data(data, validation or ValidationInputs(), UrllibTimeStamper(tsa_url))


def cosign_pdf(
    data: bytes,
    identity: Identity,
    role: str,
    *,
    tsa_url: str | None = None,
    level: str | None = None,
    validation: ValidationInputs | None = None,
    location: str | None = None,
) -> tuple[bytes, str]:
    """Add a co-signature (receiver, supervisor, witness) in a new signature field, as an
    incremental update; returns the PDF and the field's name (`EvidencekitCosignN-ROLE`).

    Only a report whose first signature certifies it (DocMDP "form filling and signing") is
    co-signed: that certification is what makes any later change but signatures, timestamps
    and validation data visible to every reader.

    Raises:
        UsageError: an unknown role or level.
        ReportError: the PDF is not a certified report, or signing failed.
    """
    if role not in ROLES:
        raise UsageError(f"unknown co-signer role {role!r}", hint="use " + ", ".join(ROLES))
    level = pades_level(level, tsa_url)
    reader = _open(data)
    try:
        sigs = list(reader.embedded_signatures)
    except Exception as exc:
        raise ReportError(f"the report's signature fields are malformed: {exc}") from exc
    regular = [s for s in sigs if s.sig_object_type != "/DocTimeStamp"]
    if not regular or regular[0].docmdp_level != MDPPerm.FILL_FORMS:
        raise ReportError(
            "the report's first signature does not certify it for signing only (DocMDP level 2)",
            hint="co-sign a report made by `evidencekit report build`",
        )
    if any(s.signer_cert.sha256 == _a_cert(identity).sha256 for s in regular):
        raise ReportError(f"{identity.name!r} has already signed this report")
    field = f"EvidencekitCosign{len(regular)}-{role}"
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=digest_algorithm(identity),
        reason=role,
        location=location,
        name=identity.name,
    )
    stamper = UrllibTimeStamper(tsa_url) if tsa_url else None
    try:
        out = io.BytesIO()
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        signers.PdfSigner(meta, signer=_signer(identity), timestamper=stamper).sign_pdf(
            writer, output=out
        )
        return _long_term(out.getvalue(), level, stamper, validation), field
    except ReportError:
        raise
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, ReportError) else None
        if cause is not None:
            raise cause from exc
        raise ReportError(f"cannot co-sign the report: {type(exc).__name__}: {exc}") from exc


def _a_cert(identity: Identity) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(identity.certificate.public_bytes(Encoding.DER))


def role_of(field: str, first: bool) -> str:
    """The signer's role: the examiner's for the first signature, else the one the
    co-signature's field names ("co-signer" for a field `report cosign` did not make)."""
    if first:
        return "examiner"
    m = COSIGN_FIELD.fullmatch(field)
    return m.group(2) if m else "co-signer"


@dataclass(frozen=True, slots=True)
class SignerEntry:
    """One signature of the PDF, in signing order."""

    number: int
    kind: str  # "certification", "signature" or "document timestamp"
    field: str
    name: str
    fingerprint: str
    signing_time: dt.datetime | None
    revision: int  # 1-based: the revision this signature signs
    trusted: bool
    role: str = ""  # "examiner", "receiver", "supervisor", "witness", "co-signer"; "" for TSAs
    level: str | None = None  # PAdES level reached (signatures only)
    proven_time: dt.datetime | None = None  # when its timestamps prove it existed
    proven_by: str | None = None
    end: int = 0  # where its signed byte range ends: the file as it was after this signature
    ok: bool = True  # no problem was found with this signature itself

    def to_dict(self) -> dict[str, object]:
        return {
            "number": self.number,
            "kind": self.kind,
            "field": self.field,
            "name": self.name,
            "fingerprint": self.fingerprint,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "revision": self.revision,
            "trusted": self.trusted,
            "role": self.role or None,
            "level": self.level,
            "proven_time": self.proven_time.isoformat() if self.proven_time else None,
            "proven_by": self.proven_by,
            "end": self.end,
            "ok": self.ok,
        }


class SignerChains(Protocol):
    """A reader's CA trust (`report verify --trust ROOT.pem`): which signers' chains it
    decides about, and whether a signature holds against it at its proven time
    (`workflows.reader_trust.ReaderAnchors`)."""

    def covers(self, leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> bool: ...

    def with_data(self, crls: Sequence[bytes], ocsps: Sequence[bytes]) -> SignerChains: ...

    def problem(
        self,
        leaf: x509.Certificate,
        others: Sequence[x509.Certificate],
        *,
        claimed: dt.datetime | None,
        proven: dt.datetime | None,
        what: str,
    ) -> tuple[str, str] | None: ...


class TsaTrust(Protocol):
    """The timestamp authorities a report's timestamps must come from (the case's `tsa`
    anchors, or a reader's `--tsa-cert`)."""

    def tsa_problem(
        self, tsa: x509.Certificate, others: Sequence[x509.Certificate], when: dt.datetime
    ) -> str | None: ...


def _tsa_checked(tsas: TsaTrust | None) -> str:
    if tsas is None:
        return "the TSA's certificate is not checked against a trust list"
    return "its TSA is a trusted one"


def _signature_tsa_problem(sig: Any, ts: Any, tsas: TsaTrust | None) -> str | None:
    """Why the TSA of a signature's own timestamp is not a trusted one (None: it is, or no
    TSAs to check against)."""
    if tsas is None:
        return None
    if ts.signing_cert is None:
        return "its TSA's certificate is not in the token"
    tsa = x509.load_der_x509_certificate(ts.signing_cert.dump())
    others: list[x509.Certificate] = []
    token = _timestamp_token(sig.signer_info)
    if token is not None:
        for choice in token["content"]["certificates"] or ():
            if isinstance(choice.chosen, asn1_x509.Certificate):
                c = x509.load_der_x509_certificate(choice.chosen.dump())
                if c != tsa:
                    others.append(c)
    return tsas.tsa_problem(tsa, others, ts.timestamp)


def _carried_certs(sig: Any) -> list[x509.Certificate]:
    """The certificates a signature's CMS carries (its signer's chain, as the signer gave it)."""
    out = []
    try:
        for choice in sig.signed_data["certificates"] or ():
            if isinstance(choice.chosen, asn1_x509.Certificate):
                out.append(x509.load_der_x509_certificate(choice.chosen.dump()))
    except (ValueError, KeyError, TypeError):
        return []
    return out


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What `check_signature` found; `problems` empty means it holds.

    `signer_*`, the timestamp and the signature value are those of the *first* signature: the
    examiner who made the report. `signers` lists every signature, co-signers included.
    """

    signed: bool
    signer_name: str | None = None
    signer_fingerprint: str | None = None
    signer_certificate: x509.Certificate | None = None
    signing_time: dt.datetime | None = None
    timestamp_time: dt.datetime | None = None
    timestamp_token: bytes | None = None
    signature_value: bytes | None = None
    covers_whole_file: bool = False
    signers: tuple[SignerEntry, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    level: str | None = None  # the examiner's signature's PAdES level
    validation_time: dt.datetime | None = None  # the time it was validated at (proven)

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
            "signers": [s.to_dict() for s in self.signers],
            "level": self.level,
            "validation_time": self.validation_time.isoformat() if self.validation_time else None,
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


def _revision_end(data: bytes, reader: PdfFileReader, revision: int) -> int | None:
    """Where the given revision's `startxref N %%EOF` trailer ends, with its end of line."""
    meta = reader.xrefs.get_xref_container_info(revision)
    tail = re.compile(rb"startxref\s+%d\s*%%%%EOF(?:\r\n|\r|\n)?" % meta.declared_startxref)
    found = tail.search(data, meta.start_location)
    return found.end() if found else None


def _modification_problem(what: str, status: Any) -> str | None:
    """pyhanko's own verdict on what followed this signature (its diff analysis and DocMDP)."""
    diff = getattr(status, "diff_result", None)
    level = getattr(status, "modification_level", None)
    if isinstance(diff, SuspiciousModification) or (
        level is not None and level > ModificationLevel.FORM_FILLING
    ):
        return (
            f"{what}: the document was changed after it was signed (pyhanko's difference "
            "analysis rejects the later revisions)"
        )
    if getattr(status, "docmdp_ok", None) is False:
        return f"{what}: a later revision breaks the changes its certification permits"
    return None


def check_signature(
    data: bytes,
    trusted: Mapping[str, x509.Certificate],
    chains: SignerChains | None = None,
    tsas: TsaTrust | None = None,
) -> SignatureCheck:
    """Check the PDF's signatures: each intact and valid, each signer pinned in `trusted`
    (fingerprint -> certificate) or with a chain (carried by the signature) to a CA the reader
    trusts (`chains`, checked at the signature's proven time), after the first signature
    nothing but further signatures, document timestamps and validation data, and no byte after
    the last revision. With `tsas` (the case's `tsa` anchors, or the reader's `--tsa-cert`),
    every timestamp (a signature's own and each document timestamp) must come from a TSA they
    trust: one that does not is a problem and proves no time.

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
        revisions = reader.xrefs.total_revisions
    except Exception as exc:
        return SignatureCheck(signed=False, problems=(f"signature fields are malformed: {exc}",))
    if not sigs:
        return SignatureCheck(signed=False, problems=("the PDF carries no signature",))
    problems: list[str] = []
    notes: list[str] = []
    author = next((s for s in sigs if s.sig_object_type != "/DocTimeStamp"), None)
    if author is None:
        problems.append("the PDF carries only document timestamps, no examiner's signature")
    elif author is not sigs[0]:
        problems.append("a document timestamp precedes the examiner's signature")
    first: dict[str, Any] = {}
    seen: list[dict[str, Any]] = []  # per signature, for the level and time found after all
    stamps: list[Stamp] = []
    for n, sig in enumerate(sigs, 1):
        what = f"signature {n} of {len(sigs)}"
        is_ts = sig.sig_object_type == "/DocTimeStamp"
        try:
            cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        except Exception as exc:
            problems.append(f"{what}: its signer's certificate cannot be read: {exc}")
            continue
        fp = fingerprint(cert)
        vc = ValidationContext(trust_roots=[sig.signer_cert], allow_fetching=False)
        before = len(problems)
        try:
            if is_ts:
                status: Any = validate_pdf_timestamp(
                    sig, validation_context=vc, diff_policy=REPORT_DIFF_POLICY
                )
            else:
                status = validate_pdf_signature(
                    sig, signer_validation_context=vc, diff_policy=REPORT_DIFF_POLICY
                )
        except Exception as exc:
            problems.append(f"{what}: cannot be validated: {type(exc).__name__}: {exc}")
            continue
        if not status.intact:
            problems.append(f"{what}: the signed bytes were changed (digest mismatch)")
        elif not status.valid:
            problems.append(f"{what}: the cryptographic signature is invalid")
        mod = _modification_problem(f"{what} ({subject_name(cert)})", status)
        if mod is not None:
            problems.append(mod)
        signature_ts: tuple[dt.datetime, str] | None = None
        via_ca: tuple[SignerChains, list[x509.Certificate]] | None = None
        if is_ts:
            kind = "document timestamp"
            outside = None
            if tsas is not None:
                carried = [c for c in _carried_certs(sig) if fingerprint(c) != fp]
                outside = tsas.tsa_problem(cert, carried, status.timestamp)
            if outside is not None:
                problems.append(
                    f"{what}: document timestamp {status.timestamp.isoformat()} by "
                    f"{subject_name(cert)}, a TSA outside the trusted ones: it proves nothing "
                    f"({outside})"
                )
            else:
                notes.append(
                    f"{what}: document timestamp {status.timestamp.isoformat()} by "
                    f"{subject_name(cert)} ({_tsa_checked(tsas)})"
                )
            stamps.append(
                Stamp(
                    revision=sig.signed_revision,
                    time=status.timestamp,
                    tsa=subject_name(cert),
                    ok=bool(status.intact and status.valid) and outside is None,
                )
            )
        else:
            kind = "certification" if sig.docmdp_level is not None else "signature"
            if fp not in trusted and chains is not None:
                carried = [c for c in _carried_certs(sig) if fingerprint(c) != fp]
                if chains.covers(cert, carried):
                    via_ca = (chains, carried)
            if fp not in trusted and via_ca is None:
                problems.append(
                    f"{what}: unknown signer {subject_name(cert)!r} (sha256:{fp}); it is not "
                    "pinned in the case nor given with --trust"
                )
            ts = status.timestamp_validity
            if ts is not None and not ts.intact:
                problems.append(
                    f"{what}: its RFC 3161 timestamp token does not match the signature"
                )
            elif ts is not None and ts.valid:
                tsa = ts.signing_cert.subject.human_friendly if ts.signing_cert else "?"
                outside = _signature_tsa_problem(sig, ts, tsas)
                if outside is not None:
                    problems.append(
                        f"{what}: its signature timestamp {ts.timestamp.isoformat()} by {tsa} "
                        f"is from a TSA outside the trusted ones: it proves nothing ({outside})"
                    )
                else:
                    signature_ts = (ts.timestamp, str(tsa))
            if sig is author:
                first = {"status": status, "cert": cert, "fp": fp}
                if ts is not None:
                    notes.append(
                        f"timestamp {ts.timestamp.isoformat()} by "
                        f"{ts.signing_cert.subject.human_friendly if ts.signing_cert else '?'}"
                        f" ({_tsa_checked(tsas)})"
                    )
        seen.append(
            {
                "sig": sig,
                "cert": cert,
                "signature_ts": signature_ts,
                "via_ca": via_ca,
                "problems": len(problems) > before,
                "entry": SignerEntry(
                    number=n,
                    kind=kind,
                    field=str(sig.field_name),
                    name=subject_name(cert),
                    fingerprint=fp,
                    signing_time=status.timestamp if is_ts else status.signer_reported_dt,
                    revision=sig.signed_revision + 1,
                    trusted=fp in trusted or via_ca is not None,
                    end=_range_end(sig),
                ),
            }
        )
    entries = [_with_level(reader, s, stamps, sigs, problems, notes) for s in seen]
    try:
        earliest, lost = lost_signatures(reader, sigs)
    except Exception as exc:  # a form that cannot be walked is itself a finding
        earliest, lost = None, [f"the signature fields of earlier revisions cannot be read: {exc}"]
    problems += lost
    problems += revision_problems(reader, sigs, earliest)
    whole = _coverage(data, reader, sigs[-1], revisions, problems, notes)
    if not first or author is None:
        return SignatureCheck(
            signed=True,
            covers_whole_file=whole,
            signers=tuple(entries),
            problems=tuple(problems),
            notes=tuple(notes),
        )
    status = first["status"]
    ts = status.timestamp_validity
    token = _timestamp_token(author.signer_info)
    mine = next((e for e in entries if e.role == "examiner"), None)
    return SignatureCheck(
        signed=True,
        signer_name=subject_name(first["cert"]),
        signer_fingerprint=first["fp"],
        signer_certificate=first["cert"],
        signing_time=status.signer_reported_dt,
        timestamp_time=ts.timestamp if ts is not None else None,
        timestamp_token=token.dump() if token is not None else None,
        signature_value=bytes(author.signer_info["signature"].native),
        covers_whole_file=whole,
        signers=tuple(entries),
        problems=tuple(problems),
        notes=tuple(notes),
        level=mine.level if mine else None,
        validation_time=mine.proven_time if mine else None,
    )


def _range_end(sig: Any) -> int:
    try:
        br = [int(x) for x in sig.sig_object["/ByteRange"]]
        return br[2] + br[3]
    except (KeyError, TypeError, ValueError, IndexError):
        return 0


def _with_level(
    reader: PdfFileReader,
    seen: dict[str, Any],
    stamps: list[Stamp],
    sigs: list[Any],
    problems: list[str],
    notes: list[str],
) -> SignerEntry:
    """The entry with its role, PAdES level and proven time; the signer's certificate must
    have been valid at that time (at the current time when no timestamp proves an earlier
    one: a B-B signature says only when its signer claims to have signed)."""
    entry: SignerEntry = seen["entry"]
    sig = seen["sig"]
    if entry.kind == "document timestamp":
        return replace(entry, ok=not seen["problems"])
    is_first = sig is next(s for s in sigs if s.sig_object_type != "/DocTimeStamp")
    role = role_of(entry.field, is_first)
    try:
        lt = long_term(reader, sig, seen["signature_ts"], stamps)
    except Exception as exc:  # the level is a finding, never a crash
        lt = LongTerm("B-B", None, None, (f"the validation data cannot be read: {exc}",))
    what = f"signature {entry.number} ({role}, {entry.name})"
    notes += [f"{what}: {n}" for n in lt.notes]
    cert: x509.Certificate = seen["cert"]
    at = lt.proven_time or dt.datetime.now(dt.UTC)
    fine = not seen["problems"]
    if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        problems.append(
            f"{what}: the signer's certificate (valid {cert.not_valid_before_utc.isoformat()} "
            f"to {cert.not_valid_after_utc.isoformat()}) was not valid at "
            f"{at.isoformat()}"
            + (
                f", the time proved by {lt.proven_by}"
                if lt.proven_by
                else " (now: no timestamp proves an earlier time)"
            )
        )
        fine = False
    if seen.get("via_ca") is not None:
        chains, carried = seen["via_ca"]
        try:
            dss_crls, dss_ocsps = dss_revocation(reader)
        except Exception:  # unreadable validation data is no data
            dss_crls, dss_ocsps = [], []
        found = chains.with_data(dss_crls, dss_ocsps).problem(
            cert,
            carried,
            claimed=entry.signing_time,
            proven=lt.proven_time,
            what=f"{what}: checked against the reader's CA",
        )
        if found is not None:
            problems.append(found[1])
            fine = False
    return replace(
        entry,
        role=role,
        level=lt.level,
        proven_time=lt.proven_time,
        proven_by=lt.proven_by,
        ok=fine,
    )


def _coverage(
    data: bytes,
    reader: PdfFileReader,
    last: Any,
    revisions: int,
    problems: list[str],
    notes: list[str],
) -> bool:
    """Whether the last signature covers the whole file; else the problem (or, when only
    validation data follows it, the note). pyhanko on its own accepts appended bytes."""
    try:
        br = [int(x) for x in last.sig_object["/ByteRange"]]
    except (KeyError, TypeError, ValueError):
        br = []
    covered_end = br[2] + br[3] if len(br) == 4 else -1
    whole = len(br) == 4 and br[0] == 0 and covered_end == len(data)
    if last.signed_revision == revisions - 1:
        if not whole:
            problems.append(
                _coverage_problem(len(data) - covered_end if covered_end >= 0 else len(data))
            )
        return whole
    # Revisions after the last signature: `revision_problems` has judged what they change
    # (validation data only); here no byte may follow the last revision's own end.
    after = revisions - 1 - last.signed_revision
    try:
        end = _revision_end(data, reader, revisions - 1)
    except Exception:
        end = None
    if end != len(data):
        extra = len(data) - end if end is not None else len(data)
        problems.append(
            f"{extra} byte(s) follow the last revision of the file (appended data that is no "
            "revision and no signature covers)"
        )
    else:
        notes.append(f"{after} revision(s) after the last signature (validation data)")
    return False


def read_attachment_entries(data: bytes) -> list[EmbeddedEntry]:
    """Every entry of the PDF's embedded-files name tree, names unchecked (see
    `EmbeddedEntry.problems`).

    Raises:
        ReportError: the PDF cannot be read or its name tree is malformed.
    """
    reader = _open(data)
    try:
        return embedded_entries(reader.root)
    except Exception as exc:
        raise ReportError(f"cannot read the PDF's attachments: {exc}") from exc


def read_attachments(data: bytes) -> dict[str, bytes]:
    """The embedded files of the PDF, by name (see `read_attachment_entries` for the checks a
    hostile PDF needs: duplicates, names that are paths).

    Raises:
        ReportError: the PDF cannot be read or its attachments are malformed.
    """
    out: dict[str, bytes] = {}
    for entry in read_attachment_entries(data):
        if entry.data is None:
            raise ReportError(f"attachment {shown(entry.key)}: {entry.problem}")
        out[entry.key] = entry.data
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
