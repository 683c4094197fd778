"""Certificate chains: does a signer's certificate chain to a trust anchor, within the anchor's
limits, at a given time, and is it not revoked then?

The only home of pyhanko-certvalidator in evidencekit (path building, RFC 5280 path validation,
certificate policies, CRL and OCSP checking; the report layer hands pyHanko a validation context
of its own). A trust anchor is a CA certificate a case (or a reader, `verify --trust ROOT.pem`)
trusts *with limits*: a national root must not make every holder of one of its certificates an
examiner of this case, so an anchor may require the signer's subject O and OU to be among given
values, a certificate policy among given OIDs (RFC 5280 policy processing, with an explicit
policy required) and extended key usages. The signer's certificate must also allow signing
(digitalSignature or nonRepudiation) and — for a timestamp authority — timeStamping.

Time is the caller's to prove: :func:`validate_chain` checks the chain *at* the moment it is
given (validity periods, and revocation: a certificate revoked before that moment is revoked,
one revoked after is not). Revocation data is what the caller passes (CRLs and OCSP responses,
DER); it may have been issued after the moment (a CRL fetched today about a signature made last
month), and when a certificate names a revocation source (CRL distribution point, OCSP
responder) its status must be known from that data ("hard-fail"). :func:`fetch_revocation`
fetches it from those URLs, for callers that are online.

Nothing here raises for a finding: the result says what is wrong, in one sentence.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.policy_decl import PKIXValidationParams

from evidencekit.errors import IdentityError
from evidencekit.identity.certs import fingerprint, subject_name

log = logging.getLogger(__name__)

EXAMINER = "examiner"
TSA = "tsa"
ANCHOR_KINDS = (EXAMINER, TSA)
MAX_REVOCATION_BYTES = 16 << 20
"""A CRL of a national CA runs to megabytes; more than this is refused (fetching or reading)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What an anchor allows: the signer's subject O and OU among these values (each list:
    empty = any), a certificate policy among these OIDs, and these extended key usages."""

    orgs: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    ekus: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "orgs": list(self.orgs),
            "ous": list(self.ous),
            "policies": list(self.policies),
            "ekus": list(self.ekus),
        }

    @classmethod
    def from_dict(cls, value: object) -> Limits:
        """Limits as an event carries them.

        Raises:
            IdentityError: not a mapping of lists of text.
        """
        if not isinstance(value, dict):
            raise IdentityError("an anchor's limits are not an object")
        out: dict[str, tuple[str, ...]] = {}
        for key in ("orgs", "ous", "policies", "ekus"):
            items = value.get(key, [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise IdentityError(f"an anchor's limit {key!r} is not a list of text")
            out[key] = tuple(items)
        return cls(**out)

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("O", self.orgs),
                ("OU", self.ous),
                ("policy", self.policies),
                ("EKU", self.ekus),
            )
            if values
        ]
        return "; ".join(parts) or "no limits"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A trusted CA certificate (or a TSA's own certificate), what it is trusted for, its
    limits, and the CA certificates below it that paths may go through (not trusted themselves)."""

    certificate: x509.Certificate
    kind: str = EXAMINER
    limits: Limits = field(default_factory=Limits)
    intermediates: tuple[x509.Certificate, ...] = ()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def name(self) -> str:
        return self.certificate.subject.rfc4514_string()


@dataclass(frozen=True, slots=True)
class Revocation:
    """A certificate of the path found revoked: which, when, why, and by what data."""

    subject: str
    serial: int
    time: dt.datetime
    reason: str
    source: str
    """What said so: "CRL" or "OCSP" (pyhanko-certvalidator's words)."""

    def describe(self) -> str:
        return (
            f"{self.subject} (serial {self.serial:#x}) was revoked at "
            f"{self.time.astimezone(dt.UTC).isoformat().replace('+00:00', 'Z')} "
            f"({self.reason}, according to the {self.source})"
        )


@dataclass(frozen=True, slots=True)
class ChainResult:
    """The outcome of one validation: `problem` None when the chain holds."""

    problem: str | None
    anchor: Anchor | None = None
    path: tuple[x509.Certificate, ...] = ()
    revoked: Revocation | None = None
    builds: bool = True
    """Whether a path to an anchor was built at all (False: the certificate does not chain to
    any anchor given, whatever else)."""

    @property
    def ok(self) -> bool:
        return self.problem is None


def is_ca(cert: x509.Certificate) -> bool:
    """True when the certificate says it is a CA (basicConstraints cA)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def validate_chain(
    leaf: x509.Certificate,
    others: Sequence[x509.Certificate],
    anchors: Sequence[Anchor],
    *,
    moment: dt.datetime,
    purpose: str = EXAMINER,
    crls: Sequence[bytes] = (),
    ocsps: Sequence[bytes] = (),
    revocation: bool = True,
) -> ChainResult:
    """Validate `leaf` to one of `anchors` of kind `purpose`, at `moment`.

    With `revocation` false, the revocation status is not looked at (what a ledger checks when
    a signer first presents a chain; each signature is checked with it later, at its proven
    time).

    Each anchor is tried on its own, so its limits apply to the paths that end at it. `others`
    (certificates the signer carries) and every anchor's intermediates are path material only.

    Returns:
        The first anchor that accepts the chain, with the path (anchor first); else the reason
        the last candidate gave (a revocation is always the one reported).
    """
    candidates = [a for a in anchors if a.kind == purpose]
    if not candidates:
        return ChainResult(
            f"no {purpose} trust anchor to validate {subject_name(leaf)!r} against", builds=False
        )
    pool = [*others, *(c for a in candidates for c in a.intermediates)]
    worst: ChainResult | None = None
    for anchor in candidates:
        result = _validate_one(leaf, pool, anchor, moment, purpose, crls, ocsps, revocation)
        if result.ok:
            return result
        if worst is None or (result.revoked is not None and worst.revoked is None):
            worst = result
        elif worst.revoked is None and "does not chain" in (worst.problem or ""):
            worst = result  # a limit or validity failure says more than "another CA"
    assert worst is not None
    return worst


def _validate_one(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchor: Anchor,
    moment: dt.datetime,
    purpose: str,
    crls: Sequence[bytes],
    ocsps: Sequence[bytes],
    revocation: bool,
) -> ChainResult:
    who = subject_name(leaf)
    limits = anchor.limits
    params = None
    if limits.policies:
        params = PKIXValidationParams(
            user_initial_policy_set=frozenset(limits.policies), initial_explicit_policy=True
        )
    context = ValidationContext(
        trust_roots=[_asn1(anchor.certificate)],
        other_certs=[_asn1(c) for c in pool],
        moment=moment,
        crls=list(crls) if revocation else [],
        ocsps=list(ocsps) if revocation else [],
        revocation_mode="hard-fail" if revocation else "soft-fail",
        retroactive_revinfo=True,
    )
    validator = CertificateValidator(_asn1(leaf), validation_context=context, pkix_params=params)
    when = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    try:
        path = asyncio.run(validator.async_validate_path())
    except RevokedError as exc:
        # which certificate of the path: the examiner's, or a CA's above it
        subject = who if exc.is_ee_cert else "a CA certificate of its chain"
        revoked = Revocation(
            subject,
            int(leaf.serial_number) if exc.is_ee_cert else 0,
            exc.revocation_dt.astimezone(dt.UTC),
            str(exc.reason.human_friendly),
            "OCSP response" if "OCSP" in exc.failure_msg else "CRL",
        )
        return ChainResult(
            f"the certificate of {who!r} is revoked: {revoked.describe()}, before {when}",
            anchor,
            revoked=revoked,
        )
    except (ExpiredError, NotYetValidError) as exc:
        return ChainResult(f"{who!r} at {when}: {exc.failure_msg}", anchor)
    except InsufficientRevinfoError as exc:
        later = (
            _revoked_later(leaf, pool, anchor, moment, purpose, crls, ocsps) if revocation else None
        )
        if later is not None:
            return later
        return ChainResult(
            f"the chain of {who!r} to {anchor.name!r} does not validate at {when}: "
            f"{exc.failure_msg}",
            anchor,
        )
    except PathBuildingError:
        return ChainResult(
            f"the certificate of {who!r} (issued by {leaf.issuer.rfc4514_string()!r}) does not "
            f"chain to the trust anchor {anchor.name!r}",
            anchor,
            builds=False,
        )
    except ValidationError as exc:
        return ChainResult(
            f"the chain of {who!r} to {anchor.name!r} does not validate at {when}: "
            f"{exc.failure_msg}",
            anchor,
        )
    certs = tuple(_crypto(c) for c in path.iter_certs(include_root=True))
    outside = _outside_limits(leaf, limits, purpose)
    if outside is not None:
        return ChainResult(
            f"{who!r} chains to {anchor.name!r} but {outside} ({limits.describe()})", anchor
        )
    return ChainResult(None, anchor, certs)


def _revoked_later(
    leaf: x509.Certificate,
    pool: Sequence[x509.Certificate],
    anchor: Anchor,
    moment: dt.datetime,
    purpose: str,
    crls: Sequence[bytes],
    ocsps: Sequence[bytes],
) -> ChainResult | None:
    """The result at `moment` when an OCSP response says the leaf was revoked only *after* it.

    pyhanko-certvalidator reads a "revoked" OCSP answer whose revocation time is after the
    validation time as no answer at all (a CRL it reads as "not revoked then"). The same
    answer proves the leaf was good until its revocation time, so: the validation at that
    time must find the leaf revoked at exactly that time by that answer (the library checks
    the response's signature and responder there), and the chain must hold at `moment` apart
    from revocation. Else None (the caller reports the missing status).
    """
    for der in ocsps:
        try:
            resp = ocsp.load_der_ocsp_response(der)
            if (
                resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL
                or resp.serial_number != leaf.serial_number
                or resp.certificate_status != ocsp.OCSPCertStatus.REVOKED
            ):
                continue
            at = resp.revocation_time_utc
        except ValueError:
            continue
        if at is None or at <= moment:
            continue
        then = _validate_one(
            leaf, pool, anchor, at + dt.timedelta(seconds=1), purpose, crls, [der], True
        )
        if then.revoked is None or then.revoked.time != at or then.revoked.serial == 0:
            continue
        return _validate_one(leaf, pool, anchor, moment, purpose, crls, ocsps, False)
    return None


def _outside_limits(leaf: x509.Certificate, limits: Limits, purpose: str) -> str | None:
    """Why `leaf` is outside the anchor's subject, key usage and EKU limits (policies are
    checked by the path validation), or None."""
    for label, oid, allowed in (
        ("O", NameOID.ORGANIZATION_NAME, limits.orgs),
        ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME, limits.ous),
    ):
        if not allowed:
            continue
        values = [str(a.value) for a in leaf.subject.get_attributes_for_oid(oid)]
        if not set(values) & set(allowed):
            return f"its subject {label} is {values or 'absent'}, not one the anchor allows"
    try:
        ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        signs = ku.digital_signature or ku.content_commitment
    except x509.ExtensionNotFound:
        signs = False
    if not signs:
        return "its key usage allows neither digitalSignature nor nonRepudiation"
    try:
        ekus = {
            o.dotted_string
            for o in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        }
    except x509.ExtensionNotFound:
        ekus = set()
    required = set(limits.ekus)
    if purpose == TSA:
        required.add(ExtendedKeyUsageOID.TIME_STAMPING.dotted_string)
    missing = sorted(required - ekus)
    if missing:
        return f"its extended key usage lacks {', '.join(missing)}"
    return None


def token_certificates(token: bytes) -> list[x509.Certificate]:
    """The certificates an RFC 3161 token (CMS SignedData) carries: its TSA's and any chain.

    Raises:
        IdentityError: the token is not CMS signed data.
    """
    try:
        signed = asn1_cms.ContentInfo.load(token)["content"]
        out = []
        for choice in signed["certificates"] or ():
            if isinstance(choice.chosen, asn1_x509.Certificate):
                out.append(_crypto(choice.chosen))
    except (ValueError, KeyError, TypeError) as exc:
        raise IdentityError(f"the timestamp token's certificates cannot be read: {exc}") from exc
    return out


# -- revocation data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevocationData:
    """One CRL or OCSP response (DER), and what it is about (for the record)."""

    kind: str
    """"crl" or "ocsp"."""
    der: bytes
    about: str

    @property
    def suffix(self) -> str:
        return ".crl" if self.kind == "crl" else ".ocsp"


def read_revocation(kind: str, data: bytes) -> RevocationData:
    """Check that `data` is a CRL (DER or PEM) or an OCSP response (DER) and describe it.

    Raises:
        IdentityError: it is not.
    """
    if len(data) > MAX_REVOCATION_BYTES:
        raise IdentityError(f"revocation data of {len(data)} bytes: more than allowed")
    if kind == "crl":
        try:
            crl = (
                x509.load_pem_x509_crl(data)
                if data.lstrip().startswith(b"-----BEGIN")
                else x509.load_der_x509_crl(data)
            )
        except ValueError as exc:
            raise IdentityError(f"not a CRL (PEM or DER): {exc}") from exc
        der = crl.public_bytes(serialization.Encoding.DER)
        upd = crl.last_update_utc.isoformat().replace("+00:00", "Z")
        n = len(list(crl))
        return RevocationData(
            "crl", der, f"CRL of {crl.issuer.rfc4514_string()} issued {upd}, {n} revoked"
        )
    if kind == "ocsp":
        try:
            resp = ocsp.load_der_ocsp_response(data)
        except ValueError as exc:
            raise IdentityError(f"not a DER OCSP response: {exc}") from exc
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise IdentityError(f"the OCSP response is {resp.response_status.name}, no answer")
        status = resp.certificate_status.name.lower()
        produced = resp.produced_at_utc.isoformat().replace("+00:00", "Z")
        return RevocationData(
            "ocsp", data, f"OCSP response for serial {resp.serial_number:#x}: {status}, {produced}"
        )
    raise IdentityError(f"unknown revocation data kind {kind!r} (crl or ocsp)")


def fetch_revocation(
    path: Sequence[x509.Certificate], *, timeout: float = 30.0
) -> list[RevocationData]:
    """Fetch the CRLs (distribution points) and OCSP responses (authority information access)
    of every certificate of `path` (anchor first) that names them, over HTTP.

    Raises:
        IdentityError: a source a certificate names cannot be reached or answers nonsense
            (verification would then fail on the missing status anyway: said here, plainly).
    """
    out: list[RevocationData] = []
    for issuer, cert in itertools.pairwise(path):
        # one answer per certificate: its OCSP responder first (fresh, small), else its CRLs
        failures: list[str] = []
        got = None
        for url in _ocsp_urls(cert):
            req = (
                ocsp.OCSPRequestBuilder()
                .add_certificate(cert, issuer, hashes.SHA1())
                .build()
                .public_bytes(serialization.Encoding.DER)
            )
            try:
                got = read_revocation("ocsp", _http(url, req, timeout))
                break
            except IdentityError as exc:
                failures.append(exc.message)
        for url in [] if got is not None else _crl_urls(cert):
            try:
                got = read_revocation("crl", _http(url, None, timeout))
                break
            except IdentityError as exc:
                failures.append(exc.message)
        if got is not None:
            out.append(got)
        elif failures:
            raise IdentityError(
                f"no revocation data for {subject_name(cert)!r}: {'; '.join(failures)}",
                hint="offline: give the CRL or OCSP response as a file (--crl, --ocsp-response)",
            )
    return out


def _crl_urls(cert: x509.Certificate) -> list[str]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        n.value
        for p in points
        for n in (p.full_name or [])
        if isinstance(n, x509.UniformResourceIdentifier) and n.value.startswith("http")
    ]


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in aia
        if d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and d.access_location.value.startswith("http")
    ]


def _http(url: str, body: bytes | None, timeout: float) -> bytes:
    headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(MAX_REVOCATION_BYTES + 1)
    except OSError as exc:
        raise IdentityError(
            f"cannot fetch revocation data from {url}: {exc}",
            hint="offline: give the CRL or OCSP response as a file (--crl, --ocsp-response)",
        ) from exc
    if len(data) > MAX_REVOCATION_BYTES:
        raise IdentityError(f"{url} answered more than {MAX_REVOCATION_BYTES} bytes")
    return bytes(data)
