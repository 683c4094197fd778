"""Attachment names are plain file names: `report verify` flags the others, `report extract`
writes only plain names into its folder, overwrites nothing and follows no symlink.

Hostile names are crafted with pyhanko's embedded-file API in an incremental update of a real
report (and, to test the name check on its own, in the signed revision of a report signed by the
examiner). Oracles: `pdfdetach -list` (poppler) shows the name a reader would save under;
`sha256sum -c` checks the extracted files against the digests `report extract` prints.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from evidencekit.cli.main import cli
from evidencekit.errors import ReportError
from evidencekit.identity import Identity
from evidencekit.report.attachments import name_problem
from evidencekit.report.model import Attachment
from evidencekit.report.render import render_pdf
from evidencekit.report.sign import finish_pdf
from tests.conftest import need_peer
from tests.report.attacks import add_attachment, cosign, make_colleague
from tests.report.conftest import make_disk_item, run
from tests.report.sample import model

HOSTILE = [
    "../../evil.sh",
    "/etc/cron.d/evil",
    "a/b.json",
    "a\\b.json",
    "..",
    ".bashrc",
    "-rf",
    "C:evil",
    "seal\x00.json",
    "line\nbreak.json",
    "esc\x1b[31mred.json",
    "gpj.\u202eexe",
    "",
    "x" * 256,
]
PLAIN = ["USB01.seal.json", "report.json", "Biên bản thu giữ.pdf", "a.b-c_d", "x" * 255]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_refused(name: str) -> None:
    assert name_problem(name) is not None


@pytest.mark.parametrize("name", PLAIN)
def test_plain_names_are_accepted(name: str) -> None:
    assert name_problem(name) is None


def _build(runner: CliRunner, case_dir: Path) -> Path:
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def _pdfdetach_names(path: Path) -> str:
    need_peer("pdfdetach")
    return run("pdfdetach", "-list", str(path), check=False).stdout


def test_hostile_attachment_added_after_signing(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    colleague = make_colleague(runner, tmp_path, case_dir)
    attacked = tmp_path / "attacked.pdf"
    attacked.write_bytes(
        add_attachment(pdf.read_bytes(), "../../evil.sh", b"echo pwned\n", colleague)
    )
    # poppler would save it under exactly that name (pdfdetach -saveall writes a path)
    assert "../../evil.sh" in _pdfdetach_names(attacked)
    res = runner.invoke(cli, ["report", "verify", str(attacked), "--case", str(case_dir)])
    assert res.exit_code == 3, res.output
    assert "attachment name '../../evil.sh' holds a path separator" in res.output
    assert "adds embedded file(s) '../../evil.sh' after the first signature" in res.output
    # extraction refuses and writes nothing, inside the folder or beside it
    out = tmp_path / "x" / "y" / "out"
    res = runner.invoke(cli, ["report", "extract", str(attacked), "--out", str(out)])
    assert res.exit_code == 3, res.output
    assert "nothing was written" in res.output
    assert not (tmp_path / "x" / "evil.sh").exists() and not (tmp_path / "evil.sh").exists()
    assert not out.exists()


def _signed_with(attachments: list[tuple[str, str | None]], identity: Identity) -> bytes:
    """A report whose signed revision already holds the given (key, file name) attachments:
    the name check alone must catch them (no later revision to blame)."""
    w = IncrementalPdfFileWriter(io.BytesIO(render_pdf(model())))
    out = io.BytesIO()
    w.write(out)
    data = out.getvalue()
    for key, file_name in attachments:
        data = add_attachment(data, key, b"x", file_name=file_name)
    return cosign(data, identity, field="EvidencekitSignature")


@pytest.mark.parametrize(
    ("key", "file_name", "expected"),
    [
        ("esc\x1b[31m.json", None, "attachment name 'esc\\x1b[31m.json' holds a control"),
        ("-rf", None, "attachment name '-rf' starts with '-'"),
        ("report.json", "../report.json", "attachment name '../report.json' holds a path"),
        ("report.json", "other.json", "saved by PDF readers under another name, 'other.json'"),
    ],
)
def test_hostile_names_in_the_signed_revision(
    runner: CliRunner,
    identity: Identity,
    tmp_path: Path,
    key: str,
    file_name: str | None,
    expected: str,
) -> None:
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(_signed_with([(key, file_name)], identity))
    cert = tmp_path / "examiner.pem"
    cert.write_text(identity.cert_pem())
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--trust", str(cert)])
    assert res.exit_code == 3, res.output
    assert expected in res.output, res.output
    assert "after the first signature" not in res.output  # only the name is wrong
    assert "\x1b" not in res.output  # no raw escape sequence reaches the terminal
    out = tmp_path / "out"
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(out)])
    assert res.exit_code == 3 and expected in res.output, res.output
    assert not out.exists()  # refused before anything, the folder included, was made


def test_duplicate_attachment_names_are_a_problem(
    runner: CliRunner, identity: Identity, tmp_path: Path
) -> None:
    pdf = tmp_path / "dup.pdf"
    pdf.write_bytes(_signed_with([("a.json", None), ("a.json", None)], identity))
    cert = tmp_path / "examiner.pem"
    cert.write_text(identity.cert_pem())
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--trust", str(cert)])
    assert res.exit_code == 3 and "two attachments are named 'a.json'" in res.output


def test_build_refuses_a_name_its_own_verify_would_flag(identity: Identity) -> None:
    with pytest.raises(ReportError, match="starts with '-'"):
        finish_pdf(render_pdf(model()), [Attachment("-x.seal.json", b"{}", "s")], identity)


def test_extract_writes_plain_names_and_sha256sum_agrees(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    out = tmp_path / "đính kèm"
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(out)])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        ["USB01.seal.json", "checkpoint.txt", "custody.case.jsonld", "custody.jsonl", "report.json"]
    )
    seal = case_dir / "evidence" / "USB01" / "USB01.seal.json"
    assert (out / "USB01.seal.json").read_bytes() == seal.read_bytes()
    # the printed lines are sha256sum's format: coreutils checks them
    need_peer("sha256sum")
    (tmp_path / "SUMS").write_text(res.stdout)
    check = subprocess.run(
        ["sha256sum", "-c", str(tmp_path / "SUMS")], cwd=out, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # a second run overwrites nothing: exit 1, the files unchanged
    (out / "report.json").write_bytes(b"mine")
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(out)])
    assert res.exit_code == 1 and "already exists" in res.output, res.output
    assert (out / "report.json").read_bytes() == b"mine"


def test_extract_follows_no_symlink(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    make_disk_item(case_dir, identity)
    pdf = _build(runner, case_dir)
    target = tmp_path / "victim.txt"
    target.write_bytes(b"untouched")
    # a link planted in the folder under an attachment's name
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(target, out / "report.json")
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(out)])
    assert res.exit_code == 1 and "already exists" in res.output, res.output
    assert target.read_bytes() == b"untouched"
    assert sorted(p.name for p in out.iterdir()) == ["report.json"]
    # a dangling link too (O_CREAT would follow it and create the target)
    out2 = tmp_path / "out2"
    out2.mkdir()
    os.symlink(tmp_path / "created-through-link", out2 / "checkpoint.txt")
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(out2)])
    assert res.exit_code == 1, res.output
    assert not (tmp_path / "created-through-link").exists()
    # the folder itself a symlink
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "linked")
    res = runner.invoke(cli, ["report", "extract", str(pdf), "--out", str(tmp_path / "linked")])
    assert res.exit_code == 1 and "symlink" in res.output, res.output
    assert not any(real.iterdir())


def test_the_report_itself_recommends_the_safe_extraction(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    from tests.report.conftest import pdftotext

    make_disk_item(case_dir, identity)
    text = " ".join(pdftotext(_build(runner, case_dir)).split())
    # the placeholders are in the report's language (this case's is Vietnamese)
    assert "evidencekit report extract BÁO_CÁO.pdf --out THƯ_MỤC" in text, text
    assert "saveall" not in text
