"""The trust-list events of a case that trusts a CA read as sentences in the report: the root's
name and fingerprint, what it is trusted for, the stored revocation data's digest — never the
PEM certificate or the tool's English description."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from evidencekit.identity import cert_pem, fingerprint
from tests.report.test_custody_sentences import _one


def _root(cn: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


def test_anchor_and_revocation_events_read_as_sentences() -> None:
    root = _root("Cơ quan chứng thực gốc Thử nghiệm")
    fp = fingerprint(root)
    added = _one(
        "trust_anchor_added",
        item=None,
        description="trust anchor for timestamp authorities: CN=x",
        details={"anchor_kind": "tsa", "certificate": cert_pem(root), "fingerprint": fp},
    )
    assert added == (
        "Nguyễn Bá Tùng thêm chứng thư gốc tin cậy cho đơn vị cấp dấu thời gian: "
        f"Cơ quan chứng thực gốc Thử nghiệm (dấu vân tay {fp[:16]})."
    )
    removed = _one(
        "trust_anchor_removed",
        item=None,
        description="trust anchor removed: x",
        details={"fingerprint": fp, "name": "Gốc B"},
    )
    assert removed == f"Nguyễn Bá Tùng thôi tin cậy chứng thư gốc Gốc B (dấu vân tay {fp[:16]})."
    stored = _one(
        "revocation_data_added",
        item=None,
        description="CRL of x",
        details={"kind": "crl", "file": "trust/revocation/a.crl", "sha256": "sha256:" + "ab" * 32},
    )
    assert f"(CRL, SHA-256 {'ab' * 32})" in stored and "sha256:" not in stored
    for text in (added, removed, stored):
        assert "BEGIN" not in text and "trust anchor" not in text
