"""Issue 13, scenario 4: a pinned colleague takes a signed report over with an incremental update.

Every attack is a real pyhanko incremental update of a report built by `report build` in a real
case, signed by a second examiner whose key was made with `keys init` and pinned with
`case add-examiner`. Oracles: pdfsig (poppler) shows what a reader without our check sees, and
pyhanko's own validation gives its modification level for each signature.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.conftest import need_peer
from tests.report.attacks import (
    COLLEAGUE,
    add_page_text,
    add_text_field,
    attached,
    cosign,
    drop_signature_and_swap,
    make_colleague,
    modification_levels,
    record_cosign,
    renamed_examiner,
    swap_by_pointer,
    swap_in_place,
)
from tests.report.conftest import add_annotation, assert_pdfsig_valid, make_disk_item, run

SEAL = "USB01.seal.json"


def _build(runner: CliRunner, case_dir: Path) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _verify(runner: CliRunner, pdf: Path, case_dir: Path, code: int) -> str:
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case_dir)])
    assert res.exit_code == code, res.output
    return res.output


def _pdfsig_valid_count(path: Path) -> int:
    need_peer("pdfsig")
    out = run("pdfsig", str(path), check=False).stdout
    return out.count("Signature Validation: Signature is Valid.")


@pytest.fixture
def signed_case(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> tuple[Path, Path, Identity]:
    """A case with one sealed item, its signed report, and a pinned colleague."""
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir)
    return case_dir, pdf, colleague


def test_takeover_swapping_seal_and_report_json_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    case_dir, pdf, colleague = signed_case
    data = pdf.read_bytes()
    forged_seal = attached(data, SEAL).replace(b"Kingston", b"Kingstom")
    forged_meta = renamed_examiner(attached(data, "report.json"), colleague.fingerprint)
    # the colleague has write access to the case: the seal on disk says the same as the PDF
    on_disk = case_dir / "evidence" / "USB01" / SEAL
    on_disk.chmod(0o644)
    on_disk.write_bytes(forged_seal)
    attacked = tmp_path / "taken-over.pdf"
    attacked.write_bytes(
        swap_in_place(data, {SEAL: forged_seal, "report.json": forged_meta}, colleague)
    )
    # what a reader without our check sees: two valid signatures, the last one total
    assert _pdfsig_valid_count(attacked) == 2
    # pyhanko's own difference analysis condemns the first signature
    levels = modification_levels(attacked.read_bytes())
    assert levels[0][1] == "OTHER" and levels[1][1] == "NONE", levels
    out = _verify(runner, attacked, case_dir, 3)
    assert "revision 3 of 3 (signed by 'Trần Văn Đồng')" in out, out
    assert f"replaces embedded file(s) '{SEAL}', 'report.json'" in out, out
    assert "after the first signature" in out
    assert "signature 1 of 2 (Nguyễn Bá Tùng): the document was changed after it was signed" in out
    # the report.json swap is named too: it no longer matches the first signature
    assert "but its first signature is by" in out
    # and the signer shown is the examiner who made the report, not the last one
    assert "signer: Nguyễn Bá Tùng" in out


def test_takeover_by_repointing_the_seal_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    """New stream objects and a changed file specification, report.json left alone."""
    case_dir, pdf, colleague = signed_case
    data = pdf.read_bytes()
    forged_seal = attached(data, SEAL).replace(b"Kingston", b"Kingstom")
    on_disk = case_dir / "evidence" / "USB01" / SEAL
    on_disk.chmod(0o644)
    on_disk.write_bytes(forged_seal)
    attacked = tmp_path / "repointed.pdf"
    attacked.write_bytes(swap_by_pointer(data, {SEAL: forged_seal}, colleague))
    assert _pdfsig_valid_count(attacked) == 2
    assert modification_levels(attacked.read_bytes())[0][1] == "OTHER"
    out = _verify(runner, attacked, case_dir, 3)
    assert f"replaces embedded file(s) '{SEAL}' after the first signature" in out, out
    assert "report.json" not in out.split("PROBLEM", 1)[1]


def test_swap_without_a_signature_then_cosigned_names_the_unsigned_revision(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    """The change sits in its own unsigned revision; a legitimate-looking co-signature follows.
    The walk is revision by revision, so the guilty one is named, not the co-signature."""
    case_dir, pdf, colleague = signed_case
    data = pdf.read_bytes()
    original = attached(data, "report.json")
    meta = original.replace("Nguyễn Bá Tùng".encode(), COLLEAGUE.encode())
    assert meta != original
    attacked = tmp_path / "two-step.pdf"
    attacked.write_bytes(cosign(swap_in_place(data, {"report.json": meta}), colleague))
    assert _pdfsig_valid_count(attacked) == 2
    out = _verify(runner, attacked, case_dir, 3)
    assert "revision 3 of 4 (not signed) replaces embedded file(s) 'report.json'" in out, out
    assert "revision 4 of 4" not in out, out


def test_rewriting_an_object_with_the_same_bytes_is_still_a_change(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    """An override that changes nothing visible is still not a signature, timestamp or DSS:
    named with pyhanko's own finding."""
    case_dir, pdf, _colleague = signed_case
    data = pdf.read_bytes()
    same = tmp_path / "same.pdf"
    same.write_bytes(swap_in_place(data, {"report.json": attached(data, "report.json")}))
    out = _verify(runner, same, case_dir, 3)
    assert "revision 3 of 3 (not signed) pyhanko (revisions counted from 0): There are " in out


def test_page_content_changed_then_signed_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    case_dir, pdf, colleague = signed_case
    attacked = tmp_path / "page.pdf"
    attacked.write_bytes(add_page_text(pdf.read_bytes(), b"(Tran Van Dong) Tj", colleague))
    assert _pdfsig_valid_count(attacked) == 2
    out = _verify(runner, attacked, case_dir, 3)
    assert "changes the content of page(s) 1 after the first signature" in out, out


def test_annotation_then_signed_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    case_dir, pdf, colleague = signed_case
    attacked = tmp_path / "annot.pdf"
    attacked.write_bytes(cosign(add_annotation(pdf.read_bytes()), colleague))
    assert _pdfsig_valid_count(attacked) == 2
    out = _verify(runner, attacked, case_dir, 3)
    assert "revision 3 of 4 (not signed) changes the annotations of page(s) 1" in out, out


def test_cosigned_report_verifies_and_lists_both_signers(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    case_dir, pdf, colleague = signed_case
    cosigned = tmp_path / "co-signed.pdf"
    cosigned.write_bytes(cosign(pdf.read_bytes(), colleague))
    # unrecorded, the co-signature is a problem (tests/report/test_cosign.py); recorded, not
    res = runner.invoke(cli, ["report", "verify", str(cosigned), "--case", str(case_dir)])
    assert res.exit_code == 3 and "is not recorded in the case's ledger" in res.output
    record_cosign(case_dir, colleague, cosigned.read_bytes(), "CoSigner")
    # poppler: both signatures valid, the last one covering the whole file
    need_peer("pdfsig")
    out = run("pdfsig", str(cosigned), check=False).stdout
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert "Total document signed" in out and "Not total document signed" in out, out
    # pyhanko: the first signature saw form filling (a new signature) and its DocMDP allows it
    levels = modification_levels(cosigned.read_bytes())
    assert levels == [
        ("EvidencekitSignature", "FORM_FILLING", True),
        ("CoSigner", "NONE", True),
    ], levels
    res = runner.invoke(cli, ["--json", "report", "verify", str(cosigned), "--case", str(case_dir)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    sig = doc["signature"]
    assert sig["signer"] == "Nguyễn Bá Tùng"
    assert [(s["name"], s["kind"], s["revision"]) for s in sig["signers"]] == [
        ("Nguyễn Bá Tùng", "certification", 2),
        (COLLEAGUE, "signature", 3),
    ]
    text = _verify(runner, cosigned, case_dir, 0)
    assert "signature 1 (certification, revision 2" in text
    assert "signature 2 (signature, revision 3" in text and COLLEAGUE in text


def test_cosigned_by_an_unpinned_examiner_exits_3(
    runner: CliRunner,
    case_dir: Path,
    identity: Identity,
    other_identity: Identity,
    tmp_path: Path,
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    cosigned = tmp_path / "co-signed.pdf"
    cosigned.write_bytes(cosign(pdf.read_bytes(), other_identity))
    assert _pdfsig_valid_count(cosigned) == 2
    out = _verify(runner, cosigned, case_dir, 3)
    assert "signature 2 of 2: unknown signer 'Kẻ Giả Mạo'" in out, out


def test_report_is_certified_for_form_filling_and_pdfsig_accepts_it(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    assert_pdfsig_valid(pdf)
    reader = PdfFileReader(io.BytesIO(pdf.read_bytes()), strict=False)
    (sig,) = reader.embedded_signatures
    assert sig.docmdp_level == MDPPerm.FILL_FORMS
    assert "/Perms" in reader.root and "/DocMDP" in reader.root["/Perms"]
    _verify(runner, pdf, case_dir, 0)


def test_appended_bytes_after_a_cosignature_exit_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    case_dir, pdf, colleague = signed_case
    cosigned = cosign(pdf.read_bytes(), colleague)
    bad = tmp_path / "appended.pdf"
    bad.write_bytes(cosigned + b"\n%%EOF\n")
    assert "whole file" in _verify(runner, bad, case_dir, 3)


def test_dropping_the_examiners_signature_field_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    """The colleague removes the examiner's signature from the form before signing, so their
    own signature looks like the first; the earlier revision still holds it."""
    case_dir, pdf, colleague = signed_case
    data = pdf.read_bytes()
    forged_seal = attached(data, SEAL).replace(b"Kingston", b"Kingstom")
    forged_meta = renamed_examiner(attached(data, "report.json"), colleague.fingerprint)
    on_disk = case_dir / "evidence" / "USB01" / SEAL
    on_disk.chmod(0o644)
    on_disk.write_bytes(forged_seal)
    attacked = tmp_path / "dropped.pdf"
    attacked.write_bytes(
        drop_signature_and_swap(
            data,
            "EvidencekitSignature",
            {SEAL: forged_seal, "report.json": forged_meta},
            colleague,
        )
    )
    # poppler now sees one valid signature, the colleague's, covering the whole file
    need_peer("pdfsig")
    out = run("pdfsig", str(attacked), check=False).stdout
    assert out.count("Signature is Valid") == 1 and "Trần Văn Đồng" in out, out
    assert "Nguyễn Bá Tùng" not in out
    res = _verify(runner, attacked, case_dir, 3)
    assert (
        "the signature in field 'EvidencekitSignature', added in revision 2, is no longer part "
        "of the document" in res
    ), res
    assert "revision 3 of 3 (signed by 'Trần Văn Đồng') replaces embedded file(s)" in res, res


def test_text_form_field_added_with_a_signature_exits_3(
    runner: CliRunner, signed_case: tuple[Path, Path, Identity], tmp_path: Path
) -> None:
    """A form field that is not a signature, added in the colleague's signed revision."""
    case_dir, pdf, colleague = signed_case
    attacked = tmp_path / "field.pdf"
    attacked.write_bytes(add_text_field(pdf.read_bytes(), COLLEAGUE, colleague))
    assert _pdfsig_valid_count(attacked) == 2
    out = _verify(runner, attacked, case_dir, 3)
    assert "revision 3 of 3 (signed by 'Trần Văn Đồng')" in out, out
    assert "changes the annotations of page(s) 1" in out, out
