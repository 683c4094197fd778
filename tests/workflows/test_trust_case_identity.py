"""`--trust sha256:HEX` pins the ledger to a case identity, as the global `--case-identity`
does (issue 13: `--trust` takes an examiner certificate, a CA root or a case identity)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.ledger import Draft, Ledger
from evidencekit.identity import Identity
from evidencekit.workflows.origin import ledger_origin


def _identity_of(case_dir: Path, invoke: Any) -> str:
    res = invoke("--json", "--case", str(case_dir), "case", "show")
    assert res.exit_code == 0, res.output
    value = json.loads(res.stdout)["trust"]["identity"]
    assert isinstance(value, str) and value.startswith("sha256:")
    return value


def test_trust_takes_a_case_identity(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    case_id = _identity_of(case_dir, invoke)
    ok = invoke("--case", str(case_dir), "custody", "verify", "--trust", case_id.upper())
    assert ok.exit_code == 0, ok.output
    other = "sha256:" + "0" * 64
    res = invoke("--json", "--case", str(case_dir), "custody", "verify", "--trust", other)
    assert res.exit_code == 3, res.output
    # a ledger rebuilt from scratch with a pinned key passes alone, not for a pinning reader
    case = Case.open(case_dir)
    for f in case_dir.glob("custody.sqlite*"):
        f.unlink()
    trusted = {identity.fingerprint: identity.certificate}
    with Ledger.create(case.ledger_path, ledger_origin(case), trusted=trusted) as forged:
        forged.append(identity, [Draft(kind="case_opened", item_id=None, description="giả")])
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "reader-home"))
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0
    res = invoke("--json", "--case", str(case_dir), "custody", "verify", "--trust", case_id)
    assert res.exit_code == 3
    messages = [p["message"] for p in json.loads(res.stdout)["problems"]]
    assert any(f"not the case identity {case_id}" in m for m in messages), messages


def test_two_case_identities_are_a_usage_error(case_dir: Path, invoke: Any) -> None:
    a, b = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    res = invoke("--case", str(case_dir), "custody", "verify", "--trust", a, "--trust", b)
    assert res.exit_code == 2 and "two case identities" in res.output
    res = invoke("--case-identity", a, "--case", str(case_dir), "custody", "verify", "--trust", b)
    assert res.exit_code == 2 and "two case identities" in res.output
