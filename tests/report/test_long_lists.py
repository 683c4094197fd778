"""Issue 14, item 11: a whole-case report lays out when an item's seal carries a very long list
(an interrupted `seal` lists every file it did not seal under facts.not_sealed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event
from evidencekit.workflows.trust import identity_of
from tests.report.conftest import assert_qpdf_ok, pdftotext


def test_an_item_with_thousands_of_files_not_sealed(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    folder = case_dir / "evidence" / "INT"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    art, _ = artifact_from_file(folder, "a.txt", ("sha256",))
    not_sealed = [f"/mnt/nguồn/thư mục {n // 50:03d}/tệp số {n:05d}.txt" for n in range(3000)]
    sealed = seal_item(
        folder,
        "INT",
        identity,
        kind="files",
        artifacts=[art],
        status="incomplete",
        facts={"mode": "copy", "not_sealed": not_sealed},
        case_identity=identity_of(Case.open(case_dir)),  # seal/2 names its case
    )
    details = {"seal_sha256": sealed.seal_sha256, "status": "incomplete"}
    record_event(Case.open(case_dir), identity, "sealed", "INT", details=details)
    res = invoke("--json", "--case", str(case_dir), "report", "build", "--lang", "en")
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    assert_qpdf_ok(pdf)
    text = pdftotext(pdf)
    assert "tệp số 00000.txt" in text  # the list starts in the report
    assert "3000" in text  # and says how long it is (all of it is in the attached seal)
