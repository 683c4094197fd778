"""Reports read both seal versions: a seal/2 item whose files have names that are not UTF-8
(shown escaped; the attached seal holds the exact bytes) and a seal/1 item made by the former
writer, in one signed report that `report verify --case` and pdfsig accept."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

from evidencekit.hash.seal.document import SCHEMA_V1
from evidencekit.hash.seal.write import seal_item as real_seal_item
from evidencekit.identity import Identity
from tests.report.conftest import assert_pdfsig_valid, pdftotext


def test_report_of_a_seal2_byte_name_and_a_seal1_item(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    with open(os.fsencode(src) + b"/caf\xe9.txt", "wb") as fh:
        fh.write(b"latin-1")
    res = invoke("--case", str(case_dir), "seal", str(src), "--item", "NEW")
    assert res.exit_code == 0, res.output
    old = tmp_path / "old"
    old.mkdir()
    (old / "Biên bản.txt").write_text("Trương Đình Bủng\n", "utf-8")
    monkeypatch.setattr(
        "evidencekit.workflows.seal.seal_item",
        functools.partial(real_seal_item, schema=SCHEMA_V1),
    )
    res = invoke("--case", str(case_dir), "seal", str(old), "--item", "OLD")
    assert res.exit_code == 0, res.output
    monkeypatch.setattr("evidencekit.workflows.seal.seal_item", real_seal_item)
    res = invoke("--json", "--case", str(case_dir), "report", "build", "--lang", "en")
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    text = pdftotext(pdf)
    assert "src/caf\\xe9.txt" in text and "Biên bản.txt" in text
    assert_pdfsig_valid(pdf)
    ok = invoke("report", "verify", str(pdf), "--case", str(case_dir))
    assert ok.exit_code == 0, ok.output
