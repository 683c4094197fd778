"""What may legitimately follow the examiner's signature: validation data (DSS) and document
timestamps, added with pyhanko to a report built by `report build` in a real case; and what may
not ride along with them. Oracles: pdfsig (poppler) and pyhanko's own validation."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import add_validation_info
from pyhanko_certvalidator import ValidationContext

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.report.sign import UrllibTimeStamper
from tests.conftest import need_peer
from tests.report.attacks import add_page_text, modification_levels
from tests.report.conftest import make_disk_item, run
from tests.report.tsa import local_tsa


def _build(runner: CliRunner, case_dir: Path) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _with_dss(data: bytes) -> bytes:
    """pyhanko's LTV step: the signer's certificate into the document security store."""
    sig = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[0]
    vc = ValidationContext(trust_roots=[sig.signer_cert], allow_fetching=False)
    out = add_validation_info(sig, vc, in_place=False)
    return bytes(out.getvalue())


def _verify(runner: CliRunner, pdf: Path, case_dir: Path) -> tuple[int, str]:
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case_dir)])
    return res.exit_code, res.output


def test_validation_data_after_the_signature_is_accepted(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    dss = tmp_path / "dss.pdf"
    dss.write_bytes(_with_dss(pdf.read_bytes()))
    reader = PdfFileReader(io.BytesIO(dss.read_bytes()), strict=False)
    assert "/DSS" in reader.root and reader.xrefs.total_revisions == 3
    assert modification_levels(dss.read_bytes())[0][1] == "LTA_UPDATES"
    need_peer("pdfsig")
    assert "Signature is Valid" in run("pdfsig", str(dss), check=False).stdout
    code, out = _verify(runner, dss, case_dir)
    assert code == 0, out
    assert "1 revision(s) after the last signature (validation data)" in out
    assert "only validation data follows the last signature" in out
    # but a byte appended after that revision is not validation data
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(dss.read_bytes() + b"% not a revision\n")
    code, out = _verify(runner, junk, case_dir)
    assert code == 3 and "byte(s) follow the last revision" in out, out


def test_page_change_after_validation_data_exits_3(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(add_page_text(_with_dss(pdf.read_bytes()), b"(sua) Tj"))
    code, out = _verify(runner, bad, case_dir)
    assert code == 3, out
    assert "revision 4 of 4 (not signed) changes the content of page(s) 1" in out, out


def test_document_timestamp_after_the_signature_is_accepted(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    need_peer("openssl")
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    with local_tsa(tmp_path / "tsa") as url:
        w = IncrementalPdfFileWriter(io.BytesIO(_with_dss(pdf.read_bytes())))
        out = io.BytesIO()
        signers.PdfTimeStamper(UrllibTimeStamper(url)).timestamp_pdf(
            w, md_algorithm="sha256", output=out
        )
    stamped = tmp_path / "lta.pdf"
    stamped.write_bytes(out.getvalue())
    need_peer("pdfsig")
    sigs = run("pdfsig", str(stamped), check=False).stdout
    assert "Signature #2" in sigs and sigs.count("Total document signed") == 1, sigs
    res = runner.invoke(cli, ["--json", "report", "verify", str(stamped), "--case", str(case_dir)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    kinds = [(s["kind"], s["name"]) for s in doc["signature"]["signers"]]
    assert kinds == [
        ("certification", "Nguyễn Bá Tùng"),
        ("document timestamp", "Test TSA evidencekit"),
    ], kinds
    assert doc["signature"]["covers_whole_file"] is True
    assert any("document timestamp" in n for n in doc["notes"])
    # a page changed after the document timestamp is caught like any other
    bad = tmp_path / "after-ts.pdf"
    bad.write_bytes(add_page_text(stamped.read_bytes(), b"(sua) Tj"))
    code, text = _verify(runner, bad, case_dir)
    assert code == 3 and "changes the content of page(s) 1" in text, text
