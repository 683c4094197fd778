"""What a reader trusts through a CA of their own: `--trust ROOT.pem` with the limits and
revocation data given beside it (`--trust-org/-ou/-policy/-eku`, `--crl`, `--ocsp-response`),
the same for `verify`, `custody verify`, `custody witness check` and `report verify`
(docs/trust.md, "A reader's own CA root").

A `--trust` file that is a CA certificate is an anchor of the reader's; the other `--trust`
files are examiner certificates trusted as they are. A signer whose chain (carried by the seal,
the ledger's events or the PDF) builds to a reader's anchor is checked against it:

- at the **proven** time when something proves when it signed (a timestamp the case trusts over
  a checkpoint covering the event; a report signature's own timestamp), within the anchor's
  limits, not revoked before then according to the data given (and the data the case keeps);
- otherwise at the time the signer wrote, and then **any** revocation the data shows fails it:
  nothing proves the signature came first.

Chain validation itself is `identity.validation` (its one home).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from evidencekit.identity import load_cert_file
from evidencekit.identity.validation import (
    EXAMINER,
    TSA,
    Anchor,
    ChainResult,
    Limits,
    is_ca,
    read_revocation,
    validate_chain,
)
from evidencekit.timeutil import isoformat, utcnow

_SHA256 = hashes.SHA256()
REVOKED = "revoked-certificate"
INVALID = "chain-invalid"


@dataclass(frozen=True, slots=True)
class ReaderAnchors:
    """What a reader outside a case trusts through a CA (`--trust ROOT.pem` and the limits and
    revocation data given with it)."""

    anchors: tuple[Anchor, ...] = ()
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()
    now: dt.datetime = field(default_factory=utcnow)
    """"Now" for this reader's checks: one moment for every signature nothing proves."""
    _done: dict[tuple[str, dt.datetime, bool], ChainResult] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __bool__(self) -> bool:
        return bool(self.anchors)

    def with_data(self, crls: Sequence[bytes], ocsps: Sequence[bytes]) -> ReaderAnchors:
        """The same anchors with more revocation data (what a case keeps; a report's DSS)."""
        if not crls and not ocsps:
            return self
        # results found with less data are not reused; paths built without revocation are
        keep = {k: v for k, v in self._done.items() if not k[2]}
        return ReaderAnchors(
            self.anchors, (*self.crls, *crls), (*self.ocsps, *ocsps), self.now, keep
        )

    def _validate(
        self,
        leaf: x509.Certificate,
        others: Sequence[x509.Certificate],
        moment: dt.datetime,
        revocation: bool = True,
    ) -> ChainResult:
        key = (leaf.fingerprint(_SHA256).hex(), moment, revocation)
        found = self._done.get(key)
        if found is None:
            found = validate_chain(
                leaf,
                others,
                self.anchors,
                moment=moment,
                crls=self.crls,
                ocsps=self.ocsps,
                revocation=revocation,
            )
            self._done[key] = found
        return found

    def covers(self, leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> bool:
        """Whether `leaf` builds a path to one of the reader's anchors (whatever its validity,
        limits or revocation): only then do the anchors decide about it."""
        if not self.anchors or is_ca(leaf) or leaf.issuer == leaf.subject:
            return False  # a CA, or a self-signed certificate: no path to build
        if any(a.certificate == leaf for a in self.anchors):
            return False
        moment = (
            leaf.not_valid_before_utc + (leaf.not_valid_after_utc - leaf.not_valid_before_utc) / 2
        )
        return self._validate(leaf, others, moment, revocation=False).builds

    def problem(
        self,
        leaf: x509.Certificate,
        others: Sequence[x509.Certificate],
        *,
        claimed: dt.datetime | None,
        proven: dt.datetime | None,
        what: str,
    ) -> tuple[str, str] | None:
        """(kind, message) when what `leaf` signed does not hold against the reader's anchors;
        None when it does. `claimed` is the time the signer wrote, `proven` the time a
        timestamp proves (None: nothing does)."""
        if proven is not None:
            at = self._validate(leaf, others, proven)
            if at.ok:
                return None
            if at.revoked is not None:
                return (REVOKED, f"{what}, proven by {isoformat(proven)}: {at.revoked.describe()}")
            return (INVALID, f"{what}, at its proven time {isoformat(proven)}: {at.problem}")
        # nothing proves when it was signed: checked at the last moment the certificate was
        # valid (or now), so any revocation the data shows counts
        last = min(self.now, leaf.not_valid_after_utc - dt.timedelta(seconds=1))
        later = self._validate(leaf, others, last)
        if later.revoked is not None:
            when = isoformat(claimed) if claimed is not None else "an unknown time"
            return (
                REVOKED,
                f"{what}: {later.revoked.describe()}; it says it was signed at {when}, but "
                "nothing proves that time",
            )
        moment = claimed or self.now
        if later.ok and _within(later.path, moment):
            # the same path, limits and policies hold at `moment` (they do not depend on
            # time), every certificate of it is valid then, and nothing is revoked even later:
            # a validation at `moment` would say the same (one validation per signer, not one
            # per event time)
            return None
        at = self._validate(leaf, others, moment)
        if not at.ok:
            kind = REVOKED if at.revoked else INVALID
            return (kind, f"{what}: {at.problem}")
        return None


def _within(path: Sequence[x509.Certificate], moment: dt.datetime) -> bool:
    """Whether every certificate of `path` is valid at `moment`."""
    return bool(path) and all(
        c.not_valid_before_utc <= moment <= c.not_valid_after_utc for c in path
    )


def reader_anchors(
    trust: Sequence[Path],
    limits: Limits = Limits(),
    crls: Sequence[bytes] = (),
    ocsps: Sequence[bytes] = (),
) -> tuple[list[Path], ReaderAnchors]:
    """Split `--trust` files into examiner certificates (pinned as they are) and CA
    certificates (anchors with `limits`); the CA certificates that are not self-signed are also
    offered as path material to every anchor.

    Raises:
        IdentityError: a file is not a certificate, or revocation data is malformed.
    """
    leaves: list[Path] = []
    cas: list[x509.Certificate] = []
    for path in trust:
        cert = load_cert_file(path)
        if is_ca(cert):
            cas.append(cert)
        else:
            leaves.append(path)
    inter = tuple(c for c in cas if c.issuer != c.subject)
    anchors = tuple(Anchor(c, EXAMINER, limits, inter) for c in cas)
    return leaves, ReaderAnchors(
        anchors,
        tuple(read_revocation("crl", c).der for c in crls),
        tuple(read_revocation("ocsp", o).der for o in ocsps),
    )


def read_data_file(path: Path) -> bytes:
    """A revocation data file given by the reader.

    Raises:
        IdentityError: it cannot be read.
    """
    from evidencekit.errors import IdentityError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read {str(path)!r}: {exc.strerror}") from exc


@dataclass(frozen=True, slots=True)
class ReaderTrust:
    """Everything a reader gives with the shared trust options (cli/options.py)."""

    trust: tuple[Path, ...] = ()
    limits: Limits = field(default_factory=Limits)
    crls: tuple[Path, ...] = ()
    ocsps: tuple[Path, ...] = ()

    def split(self) -> tuple[list[x509.Certificate], ReaderAnchors]:
        """The examiner certificates trusted as they are, and the reader's anchors.

        Raises:
            IdentityError: a file is not a certificate, or revocation data is malformed.
        """
        leaves, anchors = reader_anchors(
            self.trust,
            self.limits,
            [read_data_file(p) for p in self.crls],
            [read_data_file(p) for p in self.ocsps],
        )
        return [load_cert_file(p) for p in leaves], anchors


@dataclass(frozen=True, slots=True)
class TsaAnchors:
    """The timestamp authorities a report's timestamps must come from: the case's `tsa`
    anchors and the reader's `--tsa-cert` (a TSA's own certificate or a CA above it), with the
    revocation data known (`report.sign.TsaTrust`)."""

    anchors: tuple[Anchor, ...]
    crls: tuple[bytes, ...] = ()
    ocsps: tuple[bytes, ...] = ()

    def tsa_problem(
        self, tsa: x509.Certificate, others: Sequence[x509.Certificate], when: dt.datetime
    ) -> str | None:
        result = validate_chain(
            tsa, others, self.anchors, moment=when, purpose=TSA, crls=self.crls, ocsps=self.ocsps
        )
        return None if result.ok else result.problem
