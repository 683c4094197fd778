"""Issue 16: the default descriptions the tool signs into events read in the case's language —
also those of a trust anchor (`case trust-ca`), a report (`report build`) and a co-signature
(`report cosign`), the last ones left in English. `--json` keeps the words as signed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from tests.chain.helpers import SECOND, second_examiner
from tests.conftest import EXAMINER, need_peer
from tests.identity.ca import make_ca


def _case(invoke: Any, folder: Path, lang: str) -> Path:
    res = invoke("case", "init", str(folder), "--case-number", "VKS-1", "--title", "Vụ án",
                 "--lang", lang)  # fmt: skip
    assert res.exit_code == 0, res.output
    return folder


def _descriptions(invoke: Any, case: Path) -> dict[str, str]:
    log = json.loads(invoke("--json", "--case", str(case), "custody", "log").stdout)
    return {e["kind"]: e["description"] for e in log["events"]}


@pytest.mark.parametrize(
    ("lang", "anchor", "report", "cosigned"),
    [
        ("vi", "Thêm mốc tin cậy cho cán bộ ký số: ", "Báo cáo ", "Báo cáo được ký thêm với vai "
         "trò người chứng kiến"),
        ("en", "trust anchor for examiners: ", "report ", "report co-signed as witness"),
    ],
)  # fmt: skip
def test_trust_and_report_events_in_the_case_language(
    invoke: Any, identity: object, ek_home: Path, tmp_path: Path, lang: str, anchor: str,
    report: str, cosigned: str,
) -> None:  # fmt: skip
    need_peer("openssl")
    case = _case(invoke, tmp_path / f"case-{lang}", lang)
    second_examiner(ek_home, Case.open(case))
    ca = make_ca(tmp_path / "ca")
    c = ("--case", str(case), "--identity", EXAMINER)
    res = invoke(*c, "case", "trust-ca", str(ca.root), "--reason", "CA của Bộ")
    assert res.exit_code == 0, res.output
    out = tmp_path / f"r-{lang}.pdf"
    res = invoke(*c, "report", "build", "--lang", lang, "--out", str(out))
    assert res.exit_code == 0, res.output
    res = invoke("--case", str(case), "--identity", SECOND, "report", "cosign", str(out),
                 "--role", "witness")  # fmt: skip
    assert res.exit_code == 0, res.output
    said = _descriptions(invoke, case)
    assert said["trust_anchor_added"].startswith(anchor), said
    assert said["report_issued"].startswith(report) and f"({lang})" in said["report_issued"]
    assert said["report_cosigned"] == cosigned, said
