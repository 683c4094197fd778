"""The report names a party who holds no key with their role, "không giữ khoá" and their
identity document, so two namesakes stay apart on paper (issue 13 / issue 16's participants).
Oracle: `pdftotext` of the PDF `report build` signs; `pdfsig` still validates it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain.parties import keyless
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event
from tests.report.conftest import assert_pdfsig_valid, make_disk_item, pdftotext

AN = "Nguyễn Văn An"


@pytest.mark.peer
def test_namesakes_without_keys_in_the_pdf(
    runner: CliRunner, case_dir: Path, identity: Identity
) -> None:
    make_disk_item(case_dir, identity, "USB01")
    make_disk_item(case_dir, identity, "USB02")
    case = Case.open(case_dir)
    for item, cccd in (("USB01", "001203004567"), ("USB02", "079088001234")):
        record_event(
            case,
            identity,
            "returned",
            item,
            reason="trả chủ sở hữu",
            counterpart=keyless(AN, "owner", f"cccd:{cccd}"),
        )
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    assert_pdfsig_valid(pdf)
    text = re.sub(r"\s+", " ", pdftotext(pdf))
    for cccd in ("001203004567", "079088001234"):
        assert f"CCCD {cccd}" in text
    assert text.count("không giữ khoá") >= 2
