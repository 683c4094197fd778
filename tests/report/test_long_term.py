"""PAdES B-B/B-T/B-LT/B-LTA through `report build --level` and `report extend`, in a real case
with the local RFC 3161 TSA. Oracles: pdfsig (poppler; with a test root in an NSS database,
"Certificate is Trusted"), pyhanko's own validation CLI (pyhanko-cli), the DSS read with pyhanko
directly, and `custody verify`."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from evidencekit.cli.main import cli
from evidencekit.identity import Identity, fingerprint, load_cert_file
from tests.conftest import PASSPHRASE, need_peer
from tests.report.attacks import add_page_text
from tests.report.ca import EXAMINER_CN, QuietHandler, make_ca, nss_db, ocsp_response, serve_folder
from tests.report.conftest import make_disk_item, run
from tests.report.tsa import local_tsa


def _build(runner: CliRunner, case_dir: Path, *args: str) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build", *args])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _verify(runner: CliRunner, pdf: Path, case_dir: Path) -> tuple[int, dict[str, object], str]:
    res = runner.invoke(cli, ["--json", "report", "verify", str(pdf), "--case", str(case_dir)])
    text = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case_dir)]).output
    return res.exit_code, json.loads(res.stdout), text


def _dss(data: bytes) -> tuple[set[str], int]:
    """(sha256 of every certificate, number of CRLs) in the final DSS, read with pyhanko."""
    store = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(data), strict=False))
    return {c.sha256.hex() for c in store.load_certs()}, len(store.crls)


def pdfsig_signatures(pdf: Path, *nss: str) -> list[str]:
    """pdfsig's block per signature (poppler cannot check document timestamps: ETSI.RFC3161)."""
    need_peer("pdfsig")
    out = run("pdfsig", *nss, str(pdf), check=False).stdout
    return out.split("Signature #")[1:]


def assert_pdfsig_all_valid(pdf: Path, signatures: int, *nss: str) -> list[str]:
    blocks = [b for b in pdfsig_signatures(pdf, *nss) if "Signature Type: ETSI.CAdES" in b]
    assert len(blocks) == signatures, blocks
    for b in blocks:
        assert "Signature Validation: Signature is Valid." in b, b
    return blocks


def pyhanko_validate(
    pdf: Path, *trust: Path, command: str = "validate", options: tuple[str, ...] = ()
) -> str:
    """pyhanko-cli's `sign validate` (or `sign adesverify`) with only `trust` as roots; its
    summary lines, and "exit N" when it failed."""
    exe = Path(sys.executable).parent / "pyhanko"
    if not exe.exists():
        exe = Path(shutil.which("pyhanko") or "pyhanko")
    need_peer(str(exe))
    args = [str(exe), "sign", command, "--trust-replace", *options]
    for t in trust:
        args += ["--trust", str(t)]
    res = subprocess.run([*args, str(pdf)], capture_output=True, text=True)
    return res.stdout + (f"\nexit {res.returncode}" if res.returncode else "")


@pytest.fixture
def tsa(tmp_path: Path):  # type: ignore[no-untyped-def]
    need_peer("openssl")
    with local_tsa(tmp_path / "tsa") as url:
        yield url


@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_each_level_is_reached_and_named(
    runner: CliRunner,
    case_dir: Path,
    identity: Identity,
    tmp_path: Path,
    tsa: str,
    level: str,
) -> None:
    make_disk_item(case_dir, identity)
    args = ["--level", level] + ([] if level == "B-B" else ["--tsa", tsa])
    pdf = _build(runner, case_dir, *args)
    data = pdf.read_bytes()
    code, doc, text = _verify(runner, pdf, case_dir)
    assert code == 0, text
    sig = doc["signature"]
    assert isinstance(sig, dict)
    assert sig["level"] == level, text
    assert f"level: PAdES {level}" in text
    blocks = pdfsig_signatures(pdf)
    assert sum("Signature is Valid." in b for b in blocks) == 1, blocks
    tsa_pem = tmp_path / "tsa" / "tsa.crt"
    examiner_pem = tmp_path / "examiner.pem"
    examiner_pem.write_bytes(identity.cert_pem().encode())
    oracle = pyhanko_validate(pdf, examiner_pem, tsa_pem)
    assert "EvidencekitSignature" in oracle and "INTACT:TRUSTED" in oracle, oracle
    assert "exit" not in oracle, oracle
    if level == "B-B":
        assert "validated at: now (no timestamp proves an earlier time)" in text, text
        return
    assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in oracle, oracle
    assert "(proved by its signature timestamp by Common Name: Test TSA evidencekit)" in text
    if level == "B-T":
        assert "/DSS" not in PdfFileReader(io.BytesIO(data), strict=False).root
        return
    certs, crls = _dss(data)
    # the signer's and the TSA's certificates; no revocation data for self-signed ones
    assert identity.fingerprint in certs
    assert fingerprint(load_cert_file(tsa_pem)) in certs
    assert crls == 0
    assert "no revocation data: every certificate involved is self-signed" in text, text
    kinds = [s["kind"] for s in sig["signers"]]
    assert kinds == (
        ["certification"] if level == "B-LT" else ["certification", "document timestamp"]
    )
    if level == "B-LTA":
        assert "EXTENDED_WITH_LTA_UPDATES" in oracle, oracle


def test_level_and_tsa_must_agree(runner: CliRunner, case_dir: Path, identity: Identity) -> None:
    make_disk_item(case_dir, identity)
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build", "--level", "B-LT"])
    assert res.exit_code == 2 and "needs a timestamp authority" in res.output, res.output
    res = runner.invoke(
        cli,
        ["--case", str(case_dir), "report", "build", "--level", "B-B", "--tsa", "http://x/"],
    )
    assert res.exit_code == 2 and "carries no timestamp" in res.output, res.output
    assert (
        not list((case_dir / "reports").glob("*.pdf")) if (case_dir / "reports").exists() else True
    )


def test_a_tsa_alone_means_b_lt_and_extend_makes_b_lta_twice(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir, "--tsa", tsa)
    code, doc, text = _verify(runner, pdf, case_dir)
    assert code == 0 and "level: PAdES B-LT" in text, text
    sizes = [pdf.stat().st_size]
    for n in (1, 2):
        res = runner.invoke(
            cli, ["--case", str(case_dir), "report", "extend", str(pdf), "--tsa", tsa]
        )
        assert res.exit_code == 0, res.output
        assert "extended" in res.output and "recorded in the case's ledger" in res.output
        sizes.append(pdf.stat().st_size)
        code, doc, text = _verify(runner, pdf, case_dir)
        assert code == 0, text
        assert "level: PAdES B-LTA" in text, text
        stamps = [s for s in doc["signature"]["signers"] if s["kind"] == "document timestamp"]  # type: ignore[index]
        assert len(stamps) == n, stamps
        assert "(document timestamp): recorded by ledger event" in text, text
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    # the custody ledger holds both extensions and still verifies; report_issued still binds
    res = runner.invoke(cli, ["--case", str(case_dir), "custody", "verify"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "custody", "log"])
    kinds = [e["kind"] for e in json.loads(res.stdout)["events"]]
    assert kinds.count("report_extended") == 2 and kinds.count("report_issued") == 1, kinds
    assert "the ledger records the first" in text
    assert_pdfsig_all_valid(pdf, 1)
    oracle = pyhanko_validate(pdf, tmp_path / "tsa" / "tsa.crt", _pem(identity, tmp_path))
    assert "INTACT:TRUSTED" in oracle and "exit" not in oracle, oracle


def _pem(identity: Identity, tmp_path: Path) -> Path:
    path = tmp_path / f"{identity.fingerprint[:8]}.pem"
    path.write_bytes(identity.cert_pem().encode())
    return path


def test_a_content_change_after_an_extension_exits_3_and_is_not_extended(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir, "--tsa", tsa, "--level", "B-LTA")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(add_page_text(pdf.read_bytes(), b"(sua) Tj"))
    code, _doc, text = _verify(runner, bad, case_dir)
    assert code == 3 and "changes the content of page(s) 1" in text, text
    before = bad.read_bytes()
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "extend", str(bad), "--tsa", tsa])
    assert res.exit_code == 3 and "does not verify, so it is not amended" in res.output, res.output
    assert bad.read_bytes() == before  # untouched, no partial file left
    assert [p.name for p in tmp_path.glob("bad.pdf*")] == ["bad.pdf"]


def test_extend_needs_a_report_the_case_issued(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    """A report of another case is not extended (nor recorded) as if this case issued it."""
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    other = tmp_path / "other-case"
    res = runner.invoke(
        cli, ["case", "init", str(other), "--case-number", "VKS-2024-07", "--title", "Khác"]
    )
    assert res.exit_code == 0, res.output
    before = pdf.read_bytes()
    res = runner.invoke(cli, ["--case", str(other), "report", "extend", str(pdf), "--tsa", tsa])
    assert res.exit_code == 3 and "is not a report case 'VKS-2024-07' issued" in res.output
    assert pdf.read_bytes() == before


def test_ca_issued_examiner_with_crl_reaches_b_lta_and_pdfsig_trusts_the_root(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    """An examiner whose certificate a CA issued: with the root and its CRL given, the DSS holds
    the chain and the CRL (B-LT, then B-LTA); without the CRL the level stops at B-T and the
    note names what is missing. With the root in an NSS database pdfsig trusts the signer."""
    need_peer("openssl", "certutil")
    ca = make_ca(tmp_path / "ca")
    res = runner.invoke(
        cli,
        [
            "keys",
            "import",
            str(ca.examiner_p12),
            "--p12-passphrase-file",
            str(ca.p12_password_file),
        ],
        env={"EVIDENCEKIT_PASSPHRASE": PASSPHRASE},
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli,
        ["--identity", identity.name, "--case", str(case_dir), "case", "add-examiner",
         str(ca.examiner_cert)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    make_disk_item(case_dir, identity)
    hoa = ["--identity", EXAMINER_CN, "--case", str(case_dir)]

    res = runner.invoke(
        cli, ["--json", *hoa, "report", "build", "--tsa", tsa, "--cert", str(ca.root)]
    )
    assert res.exit_code == 0, res.output
    no_crl = Path(json.loads(res.stdout)["path"])
    code, _doc, text = _verify(runner, no_crl, case_dir)
    assert code == 0 and "level: PAdES B-T" in text, text
    assert (
        "lacks revocation data (CRL or OCSP) for Organization: Công an tỉnh, Common Name: "
        f"{EXAMINER_CN}" in text
    ), text

    res = runner.invoke(
        cli,
        ["--json", *hoa, "report", "build", "--tsa", tsa, "--level", "B-LTA",
         "--cert", str(ca.root), "--crl", str(ca.crl)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    code, doc, text = _verify(runner, pdf, case_dir)
    assert code == 0 and "level: PAdES B-LTA" in text, text
    certs, crls = _dss(pdf.read_bytes())
    assert fingerprint(load_cert_file(ca.root)) in certs
    assert fingerprint(load_cert_file(ca.examiner_cert)) in certs and crls == 1
    assert doc["signature"]["signer"] == EXAMINER_CN  # type: ignore[index]
    # poppler with the test root trusted: valid and trusted; without it: issuer unknown
    nss = nss_db(tmp_path / "nss", ca.root)
    (block,) = assert_pdfsig_all_valid(pdf, 1, "-nssdir", nss)
    assert "Certificate Validation: Certificate is Trusted." in block, block
    (block,) = assert_pdfsig_all_valid(pdf, 1)
    assert "Certificate is Trusted" not in block, block
    oracle = pyhanko_validate(pdf, ca.root, tmp_path / "tsa" / "tsa.crt")
    assert "INTACT:TRUSTED" in oracle and "exit" not in oracle, oracle
    # and pyhanko does not trust it without the root (the oracle is not a rubber stamp)
    assert "exit" in pyhanko_validate(pdf, tmp_path / "tsa" / "tsa.crt")


def test_an_ocsp_response_given_as_a_file_goes_into_the_dss(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    """Revocation data as an OCSP response (made offline with `openssl ocsp`) instead of a CRL:
    embedded in the DSS, and the level reaches B-LT."""
    need_peer("openssl")
    ca = make_ca(tmp_path / "ca")
    resp = ocsp_response(ca)
    res = runner.invoke(
        cli,
        ["keys", "import", str(ca.examiner_p12), "--p12-passphrase-file",
         str(ca.p12_password_file)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli,
        ["--identity", identity.name, "--case", str(case_dir), "case", "add-examiner",
         str(ca.examiner_cert)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    make_disk_item(case_dir, identity)
    res = runner.invoke(
        cli,
        ["--json", "--identity", EXAMINER_CN, "--case", str(case_dir), "report", "build",
         "--tsa", tsa, "--cert", str(ca.root), "--ocsp", str(resp)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    code, _doc, text = _verify(runner, pdf, case_dir)
    assert code == 0 and "level: PAdES B-LT" in text, text
    store = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf.read_bytes())))
    assert len(store.ocsps) == 1 and not store.crls
    # a file that is no OCSP response is refused before anything is built
    res = runner.invoke(
        cli,
        ["--identity", EXAMINER_CN, "--case", str(case_dir), "report", "build", "--tsa", tsa,
         "--ocsp", str(ca.root)],
    )  # fmt: skip
    assert res.exit_code == 1 and "is not an OCSP response" in res.output, res.output


def test_fetch_revocation_gets_the_crl_the_certificate_names(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path, tsa: str
) -> None:
    """With --fetch-revocation the CRL comes from the distribution point the examiner's
    certificate names (a loopback HTTP server here); without it nothing is fetched."""
    need_peer("openssl")
    served = tmp_path / "www"
    with serve_folder(served) as base:
        ca = make_ca(tmp_path / "ca", crl_url=f"{base}/root.crl")
        served.joinpath("root.crl").write_bytes(ca.crl.read_bytes())
        res = runner.invoke(
            cli,
            ["keys", "import", str(ca.examiner_p12), "--p12-passphrase-file",
             str(ca.p12_password_file)],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        res = runner.invoke(
            cli,
            ["--identity", identity.name, "--case", str(case_dir), "case", "add-examiner",
             str(ca.examiner_cert)],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        make_disk_item(case_dir, identity)
        hoa = ["--json", "--identity", EXAMINER_CN, "--case", str(case_dir), "report", "build"]
        QuietHandler.requests.clear()
        res = runner.invoke(cli, [*hoa, "--tsa", tsa, "--cert", str(ca.root)])
        assert res.exit_code == 0, res.output
        assert QuietHandler.requests == []  # offline by default
        res = runner.invoke(cli, [*hoa, "--tsa", tsa, "--cert", str(ca.root), "--fetch-revocation"])
        assert res.exit_code == 0, res.output
        assert "/root.crl" in QuietHandler.requests
    pdf = Path(json.loads(res.stdout)["path"])
    code, _doc, text = _verify(runner, pdf, case_dir)
    assert code == 0 and "level: PAdES B-LT" in text, text
    assert _dss(pdf.read_bytes())[1] == 1
