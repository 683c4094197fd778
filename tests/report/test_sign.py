"""PAdES signing and its checks: pdfsig agrees, and every tamper is caught."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evidencekit.identity import Identity
from evidencekit.report.model import Attachment
from evidencekit.report.render import render_pdf
from evidencekit.report.sign import check_signature, finish_pdf, read_attachments
from tests.conftest import need_peer
from tests.report.conftest import (
    add_annotation,
    assert_fonts_embedded,
    assert_pdfsig_valid,
    assert_qpdf_ok,
    run,
)
from tests.report.sample import model
from tests.report.tsa import local_tsa

ATTACH = [
    Attachment("USB01.seal.json", b'{"item":"USB01"}', "seal"),
    Attachment("custody.jsonl", b'{"seq":0}\n', "custody", "application/jsonl"),
]


@pytest.fixture
def signed(identity: Identity) -> bytes:
    return finish_pdf(render_pdf(model()), ATTACH, identity, reason="test")


def test_signed_report_is_valid_for_poppler_and_qpdf(
    tmp_path: Path, signed: bytes, identity: Identity
) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(signed)
    out = assert_pdfsig_valid(pdf)
    assert "Nguyễn Bá Tùng" in out
    assert_qpdf_ok(pdf)
    assert_fonts_embedded(pdf)
    check = check_signature(signed, {identity.fingerprint: identity.certificate})
    assert check.ok, check.problems
    assert check.covers_whole_file and check.signer_name == "Nguyễn Bá Tùng"
    assert read_attachments(signed) == {a.name: a.data for a in ATTACH}
    need_peer("pdfdetach")
    listing = run("pdfdetach", "-list", str(pdf)).stdout
    assert "USB01.seal.json" in listing and "custody.jsonl" in listing


def test_flipped_byte_is_caught(signed: bytes, identity: Identity) -> None:
    trusted = {identity.fingerprint: identity.certificate}
    # flip one byte inside the first signed range (page content), not in the signature itself
    pos = len(signed) // 3
    bad = signed[:pos] + bytes([signed[pos] ^ 0x01]) + signed[pos + 1 :]
    try:
        check = check_signature(bad, trusted)
    except Exception:  # a flip may also break the PDF's structure: that fails too
        return
    assert not check.ok


def test_appended_bytes_are_caught(signed: bytes, identity: Identity) -> None:
    check = check_signature(signed + b"% appended\n", {identity.fingerprint: identity.certificate})
    assert not check.ok
    assert any("whole file" in p for p in check.problems)


def test_incremental_update_after_signing_is_caught(signed: bytes, identity: Identity) -> None:
    updated = add_annotation(signed)
    check = check_signature(updated, {identity.fingerprint: identity.certificate})
    assert not check.ok
    assert any("whole file" in p or "revision" in p for p in check.problems)


def test_other_identity_is_an_unknown_signer(identity: Identity, other_identity: Identity) -> None:
    forged = finish_pdf(render_pdf(model()), ATTACH, other_identity)
    check = check_signature(forged, {identity.fingerprint: identity.certificate})
    assert not check.ok
    assert any("unknown signer" in p for p in check.problems)


def test_unsigned_pdf_is_not_ok(identity: Identity) -> None:
    plain = finish_pdf(render_pdf(model(signed=False)), ATTACH, None)
    check = check_signature(plain, {identity.fingerprint: identity.certificate})
    assert not check.signed and not check.ok
    assert read_attachments(plain) == {a.name: a.data for a in ATTACH}


def test_b_t_timestamp_token_verifies_with_openssl(tmp_path: Path, identity: Identity) -> None:
    need_peer("openssl")
    with local_tsa(tmp_path / "tsa") as url:
        data = finish_pdf(render_pdf(model()), ATTACH, identity, tsa_url=url)
    pdf = tmp_path / "bt.pdf"
    pdf.write_bytes(data)
    assert_pdfsig_valid(pdf)
    check = check_signature(data, {identity.fingerprint: identity.certificate})
    assert check.ok, check.problems
    assert check.timestamp_time is not None and check.timestamp_token
    assert check.signature_value is not None
    (tmp_path / "token.der").write_bytes(check.timestamp_token)

    def ts_verify(data: bytes) -> subprocess.CompletedProcess[str]:
        (tmp_path / "data.bin").write_bytes(data)
        return run(
            "openssl", "ts", "-verify", "-in", str(tmp_path / "token.der"), "-token_in",
            "-data", str(tmp_path / "data.bin"), "-CAfile", str(tmp_path / "tsa" / "tsa.crt"),
            check=False,
        )  # fmt: skip

    res = ts_verify(check.signature_value)
    assert res.returncode == 0 and "Verification: OK" in res.stdout, res.stdout + res.stderr
    # and a token over other data does not verify (the oracle is not a rubber stamp)
    assert ts_verify(b"x" + check.signature_value).returncode != 0


def test_unreachable_tsa_is_a_clear_error(identity: Identity) -> None:
    from evidencekit.errors import ReportError

    with pytest.raises(ReportError, match=r"127\.0\.0\.1:9"):
        finish_pdf(render_pdf(model()), [], identity, tsa_url="http://127.0.0.1:9/tsa")
