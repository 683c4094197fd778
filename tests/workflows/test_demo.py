"""The demo (`evidencekit demo [DIR]`, what `make demo` runs) builds a case whose reports verify."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer
from tests.report.conftest import (
    assert_fonts_embedded,
    assert_pdfsig_valid,
    assert_qpdf_ok,
    pdftotext,
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the demo must not need (or touch) the user's identities
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "not-used"))
    for var in ("EVIDENCEKIT_PASSPHRASE", "EVIDENCEKIT_IDENTITY", "EVIDENCEKIT_CASE"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.slow
def test_demo_builds_a_case_whose_reports_verify(
    runner: CliRunner, tmp_path: Path, clean_env: None
) -> None:
    folder = tmp_path / "demo"
    res = runner.invoke(cli, ["--json", "demo", str(folder)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    reports = [Path(p) for p in doc["reports"]]
    # the report in Vietnamese and English, and the Biên bản of the seizure session (issue 16)
    assert len(reports) == 3 and all(p.is_file() for p in reports)
    assert {p.name.rsplit("-", 1)[1] for p in reports} == {"vi.pdf", "en.pdf"}
    assert reports[2].name.endswith("-bien-ban-vi.pdf")
    case = Path(doc["case"])
    assert not (tmp_path / "not-used").exists()
    assert (folder / "passphrase.txt").stat().st_mode & 0o777 == 0o600  # issue 13
    for pdf in reports:
        assert_pdfsig_valid(pdf)
        assert_qpdf_ok(pdf)
        assert_fonts_embedded(pdf)
        out = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case)])
        assert out.exit_code == 0, out.output
        assert "consistency proof verified" in out.output
    vi = pdftotext(reports[0] if reports[0].name.endswith("vi.pdf") else reports[1])
    for needle in ("Nguyễn Bá Tùng", "Trương Đình Bủng", "Biên bản thu giữ", "Trang 1 /"):
        assert needle in vi, needle
    # the seizure: a session with witnesses, a seal opened and re-sealed, a working copy
    record = " ".join(pdftotext(reports[2]).split())
    for needle in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Lê Thị Hoa", "người chứng kiến",
                   "NP-2024-001", "NP-2024-002", "bản sao làm việc USB01-WC",
                   "Từ chối ký. Lý do: không đồng ý với việc thu giữ"):  # fmt: skip
        assert needle in record, needle
    # the items' content digests are in the report
    items = sorted(p.name for p in (case / "evidence").iterdir())
    assert items == ["FILES01", "USB01", "USB01-WC"]
    for item in items:
        seal = json.loads((case / "evidence" / item / f"{item}.seal.json").read_text("utf-8"))
        sha = next(d for d in seal["combined"]["digests"] if d.startswith("sha256:"))
        assert sha.split(":", 1)[1] in vi
    need_peer("ewfverify")
    e01 = case / "evidence" / "USB01" / "USB01.E01"
    out = subprocess.run(["ewfverify", "-q", str(e01)], capture_output=True, text=True)
    assert out.returncode == 0 and "SUCCESS" in out.stdout, out.stdout + out.stderr
    # the machine-readable record travels inside the PDF
    need_peer("pdfdetach")
    listing = subprocess.run(
        ["pdfdetach", "-list", str(reports[0])], capture_output=True, text=True, check=True
    ).stdout
    for name in ("FILES01.seal.json", "custody.jsonl", "custody.case.jsonld", "checkpoint.txt"):
        assert name in listing, listing
    # the printed commands name real paths
    assert any(c.startswith("pdfsig ") for c in doc["verify_commands"])
    # the case verifies with the ledger too
    ledger = runner.invoke(cli, ["--case", str(case), "custody", "verify"])
    assert ledger.exit_code == 0, ledger.output


def test_demo_refuses_a_non_empty_folder(
    runner: CliRunner, tmp_path: Path, clean_env: None
) -> None:
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "x").write_text("x")
    res = runner.invoke(cli, ["demo", str(folder)])
    assert res.exit_code == 1
    assert "not empty" in res.output


@pytest.mark.slow
def test_demo_default_folder_is_new_each_run(
    runner: CliRunner, tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["--json", "demo"])
    assert res.exit_code == 0, res.output
    folder = Path(json.loads(res.stdout)["folder"])
    assert folder.parent == tmp_path / "reports" and folder.name.startswith("demo-")
