"""Issue 16 in plans: a `[[step]]` of `run PLAN.toml` names who was present (`participants`, the
SPECs `--participant` takes) and the seizure session (`session`), recorded in the step's event
as the command's options are; a session that is not open fails the step with nothing done."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.workflows.test_plan import _toml

WITNESS = 'role=witness,name=Lê Thị Hoa,cccd=046190004567,address="20 Lê Lợi, Huế"'


def test_plan_steps_record_participants_and_session(tmp_path: Path, case_dir: Path) -> None:
    invoke = CliRunner().invoke
    c = ["--case", str(case_dir)]
    res = invoke(cli, [*c, "custody", "session", "open", "S1", "--place", "Huế", "--agency",
                       "Công an tỉnh"])  # fmt: skip
    assert res.exit_code == 0, res.output
    f = tmp_path / "biên bản.txt"
    f.write_text("tệp\n", "utf-8")
    step = {"kind": "seal", "item": "A", "source": str(f), "participants": [WITNESS],
            "session": "S1"}  # fmt: skip
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml([step]), "utf-8")
    res = invoke(cli, [*c, "run", str(plan)])
    assert res.exit_code == 0, res.output
    log = json.loads(invoke(cli, ["--json", *c, "custody", "log", "A"]).stdout)
    (sealed,) = [e for e in log["events"] if e["kind"] == "sealed"]
    assert sealed["details"]["session"] == "S1"
    (who,) = sealed["details"]["participants"]
    assert (who["name"], who["role"], who["address"]) == ("Lê Thị Hoa", "witness", "20 Lê Lợi, Huế")

    # a session that is not open: the step fails, nothing recorded for B
    plan.write_text(_toml([{**step, "item": "B", "session": "S2"}]), "utf-8")
    res = invoke(cli, [*c, "run", str(plan)])
    assert res.exit_code != 0
    assert "S2" in res.output + res.stderr
    log = json.loads(invoke(cli, ["--json", *c, "custody", "log"]).stdout)
    assert not [e for e in log["events"] if e["item"] == "B"]
    assert not (case_dir / "evidence" / "B").exists()

    # a malformed participant: the step fails as the command would (usage), nothing recorded
    plan.write_text(_toml([{**step, "item": "C", "participants": ["role=nobody"]}]), "utf-8")
    res = invoke(cli, [*c, "run", str(plan)])
    assert res.exit_code == 2, res.output
    log = json.loads(invoke(cli, ["--json", *c, "custody", "log"]).stdout)
    assert not [e for e in log["events"] if e["item"] == "C"]
