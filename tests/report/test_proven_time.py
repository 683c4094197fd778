"""A signature is validated at the time its timestamps prove, not at the time it claims nor
(when a timestamp proves an earlier one) now: an examiner certificate that has expired since
still verifies when a timestamp proves the signature was made while it was valid; without one
it does not. The TSA here is pyhanko's test timestamper with a fixed time (openssl's TSA always
stamps the current time). Oracle: pyhanko-cli's AdES validation (`sign adesverify`), which
slides the validation time back along the proofs of existence; it checks the validity of an
issued certificate, not of a trust anchor, so the examiner's certificate here is issued by a
test root."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

import evidencekit.report.sign as sign
from evidencekit.identity import Identity, IdentityInfo, fingerprint
from evidencekit.identity.algorithms import ECDSA_P256_SHA256
from evidencekit.identity.signer import SoftwareSigner
from evidencekit.report.render import render_pdf
from evidencekit.report.sign import check_signature, finish_pdf
from tests.report.sample import model
from tests.report.test_long_term import pyhanko_validate

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PROVEN = NOW - dt.timedelta(days=10)
NO_REV = ("--no-revocation-check",)  # the test root publishes no CRL


def _name(name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])


def _cert(
    name: str,
    key: Any,
    start: dt.datetime,
    end: dt.datetime,
    tsa: bool,
    issuer: tuple[x509.Certificate, Any] | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer[0].subject if issuer else _name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.BasicConstraints(
                ca=issuer is None and not tsa and name.startswith("Root"), path_length=None
            ),
            critical=True,
        )
    )
    if name.startswith("Root"):
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
    elif tsa:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


@pytest.fixture
def expired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Identity, Path, Path]:
    """An examiner whose certificate (issued by a test root) was valid from 30 days ago until
    yesterday, and a TSA that stamps 10 days ago (patched in for the URL-based timestamper);
    returns the identity and the root's and TSA's certificate files."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert(
        "Root CA test", root_key, NOW - dt.timedelta(days=60), NOW + dt.timedelta(days=30), False
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(
        "Phạm Văn Hết Hạn",
        key,
        NOW - dt.timedelta(days=30),
        NOW - dt.timedelta(days=1),
        False,
        issuer=(root, root_key),
    )
    tsa_key = rsa.generate_private_key(65537, 2048)  # pyhanko's test TSA signs with RSA only
    tsa_cert = _cert(
        "Test TSA fixed time",
        tsa_key,
        NOW - dt.timedelta(days=60),
        NOW + dt.timedelta(days=30),
        True,
    )
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=ax509.Certificate.load(tsa_cert.public_bytes(der)),
        tsa_key=akeys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        fixed_dt=PROVEN,
    )

    def fixed(url: str, *args: Any, **kwargs: Any) -> DummyTimeStamper:
        return stamper

    monkeypatch.setattr(sign, "UrllibTimeStamper", fixed)
    info = IdentityInfo("Phạm Văn Hết Hạn", fingerprint(cert), None, None, tmp_path)
    pems = []
    for name, c in (("root.pem", root), ("tsa.pem", tsa_cert)):
        (tmp_path / name).write_bytes(c.public_bytes(serialization.Encoding.PEM))
        pems.append(tmp_path / name)
    signer = SoftwareSigner(key, ECDSA_P256_SHA256)
    return Identity(info, cert, signer), pems[0], pems[1]


def test_an_expired_certificate_verifies_at_the_proven_time(
    expired: tuple[Identity, Path, Path], tmp_path: Path
) -> None:
    identity, root_pem, tsa_pem = expired
    trusted = {identity.fingerprint: identity.certificate}
    data = finish_pdf(render_pdf(model()), [], identity, tsa_url="fixed", level="B-T")
    check = check_signature(data, trusted)
    assert check.ok, check.problems
    assert check.level == "B-T" and check.validation_time == PROVEN
    (entry,) = check.signers
    assert entry.proven_by == "its signature timestamp by Common Name: Test TSA fixed time"
    pdf = tmp_path / "bt.pdf"
    pdf.write_bytes(data)
    oracle = pyhanko_validate(pdf, root_pem, tsa_pem, command="adesverify", options=NO_REV)
    assert "INTACT:TRUSTED" in oracle and "exit" not in oracle, oracle


def test_without_a_timestamp_the_expired_certificate_fails(
    expired: tuple[Identity, Path, Path], tmp_path: Path
) -> None:
    identity, root_pem, tsa_pem = expired
    data = finish_pdf(render_pdf(model()), [], identity, level="B-B")
    check = check_signature(data, {identity.fingerprint: identity.certificate})
    assert not check.ok
    assert any(
        "was not valid at" in p and "now: no timestamp proves an earlier time" in p
        for p in check.problems
    ), check.problems
    pdf = tmp_path / "bb.pdf"
    pdf.write_bytes(data)
    oracle = pyhanko_validate(pdf, root_pem, tsa_pem, command="adesverify", options=NO_REV)
    # the same root and TSA trusted as above: only the missing proof of time differs
    assert "exit" in oracle and "INTACT:UNTRUSTED" in oracle, oracle
