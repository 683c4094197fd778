"""A report signed by an examiner the case's ledger later revoked (issue 13): valid when it was
issued (its `report_issued` event) before the revocation; otherwise `report verify --case`
exits 3 naming the revocation. Reports are built by `report build` in a real case; the late
one is built by the colleague in a scratch copy of the case, from a home of their own, before
the revocation, and copied in after it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.chain.helpers import SECOND, second_examiner
from tests.conftest import EXAMINER
from tests.report.conftest import make_disk_item


def _cli(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env)


def _build(case_dir: Path, env: dict[str, str] | None = None) -> Path:
    res = _cli("--json", "--case", str(case_dir), "--identity", SECOND, "report", "build", env=env)
    assert res.exit_code == 0, res.output
    return Path(json.loads(res.stdout)["path"])


def test_reports_of_a_revoked_examiner(
    case_dir: Path, identity: Identity, ek_home: Path, tmp_path: Path
) -> None:
    other = second_examiner(ek_home)
    pem = tmp_path / "b.pem"
    pem.write_text(other.cert_pem())
    res = _cli("--case", str(case_dir), "--identity", EXAMINER, "case", "add-examiner", str(pem))
    assert res.exit_code == 0, res.output
    make_disk_item(case_dir, identity)
    early = _build(case_dir)
    scratch = tmp_path / "scratch"
    shutil.copytree(case_dir, scratch)
    home = tmp_path / "other-home"
    shutil.copytree(ek_home, home)
    late = _build(scratch, env={"EVIDENCEKIT_HOME": str(home)})
    res = _cli(
        "--case", str(case_dir), "--identity", EXAMINER, "case", "revoke-examiner", SECOND,
        "--reason", "chuyển công tác",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    # issued before the revocation: still valid
    res = _cli("report", "verify", str(early), "--case", str(case_dir))
    assert res.exit_code == 0, res.output
    # issued after it (here: never in this ledger): named
    copied = case_dir / "reports" / ("late-" + late.name)
    shutil.copy(late, copied)
    res = _cli("report", "verify", str(copied), "--case", str(case_dir))
    assert res.exit_code == 3, res.output
    assert f"signed by {SECOND}" in res.output and "whose trust was revoked by" in res.output
    # and the revoked colleague cannot build one now
    res = _cli("--case", str(case_dir), "--identity", SECOND, "report", "build")
    assert res.exit_code == 1, res.output
