"""The case identity (issue 13): the Merkle leaf hash of a case's first event, shown by
`case show` and in every report; a reader outside the lab pins it with `--case-identity`, and
then only the ledger that starts with that event says who is trusted (never case.toml)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.chain.merkle import leaf_hash
from evidencekit.identity import Identity
from evidencekit.workflows.custody import list_events
from evidencekit.workflows.origin import ledger_origin
from tests.report.conftest import pdftotext


def _identity_of(case_dir: Path, invoke: Any) -> str:
    res = invoke("--case", str(case_dir), "--json", "case", "show")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["trust"]["identity"]  # type: ignore[no-any-return]


def test_the_identity_is_the_leaf_hash_of_case_opened(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    first = list_events(Case.open(case_dir))[0]
    assert first["kind"] == "case_opened"
    case_id = _identity_of(case_dir, invoke)
    assert case_id == "sha256:" + first["leaf_hash"]
    with Ledger.open(Case.open(case_dir).ledger_path, "x", trusted={}, writable=False) as ledger:
        (row,) = list(ledger.store.rows(0, 1))
    assert case_id == "sha256:" + leaf_hash(row.data).hex()  # RFC 9162 leaf of the stored bytes
    text = invoke("--case", str(case_dir), "case", "show").stdout
    assert f"Identity:    {case_id}" in text


def test_reports_name_the_case_and_a_pinning_reader_checks_it(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    case_id = _identity_of(case_dir, invoke)
    res = invoke("--json", "--case", str(case_dir), "report", "build", "--lang", "en")
    assert res.exit_code == 0, res.output
    pdf = Path(json.loads(res.stdout)["path"])
    assert case_id in re.sub(r"\s+", "", pdftotext(pdf))  # wrapped in its table cell
    ok = invoke("--case-identity", case_id, "report", "verify", str(pdf), "--case", str(case_dir))
    assert ok.exit_code == 0, ok.output
    other = "sha256:" + "0" * 64
    res = invoke("--case-identity", other, "report", "verify", str(pdf), "--case", str(case_dir))
    assert res.exit_code == 3 and "another ledger" in res.output


def test_a_rebuilt_ledger_fails_for_a_reader_who_pinned_the_case(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    case_id = _identity_of(case_dir, invoke)
    case = Case.open(case_dir)
    # rebuilt from scratch by someone holding a pinned key (here: the creator's own)
    for f in case_dir.glob("custody.sqlite*"):
        f.unlink()
    trusted = {identity.fingerprint: identity.certificate}
    with Ledger.create(case.ledger_path, ledger_origin(case), trusted=trusted) as forged:
        forged.append(identity, [Draft(kind="case_opened", item_id=None, description="giả")])
    # a reader with a home of their own, who kept only the case identity from a report
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "reader-home"))
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0  # alone: fine
    res = invoke("--case-identity", case_id, "--case", str(case_dir), "--json", "custody", "verify")
    assert res.exit_code == 3
    messages = [p["message"] for p in json.loads(res.stdout)["problems"]]
    assert any(f"not the case identity {case_id}" in m for m in messages), messages


def test_a_malformed_identity_is_a_usage_error(case_dir: Path, invoke: Any) -> None:
    res = invoke("--case-identity", "abc", "--case", str(case_dir), "case", "show")
    assert res.exit_code == 2 and "not a case identity" in res.output
