"""`report build` of the whole case killed (SIGKILL, SIGTERM, SIGINT) after its checks, with the
signed PDF written under its temporary name, with its `report_issued` event appended, and once
published, and at seeded points of its ledger reads; afterwards no signed report under its own
name is unrecorded, `case show` names what is left under a temporary name (and whether the
ledger records it), and building again ends with a report that verifies against the case."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.faults._harness import (
    SEED,
    SIGNALS,
    World,
    cli_run,
    kill_at,
    no_paused_command_outlives_its_test,
    random_points,
    truth,
    world,
)

__all__ = ["no_paused_command_outlives_its_test", "world"]

BUILD = "evidencekit.workflows.report.build"
STEPS = {
    "checked": f"{BUILD}:render_pdf",  # ledger and seals verified, nothing written
    "written": f"{BUILD}:_record_report_issued",  # signed PDF under its temporary name
    # report_issued committed, its checkpoint not yet remembered (the first call is the check's)
    "committed": "evidencekit.workflows.custody:_remember#2",
    "recorded": f"{BUILD}:_publish",  # report_issued committed, not renamed
    "linked": f"{BUILD}:_drop_partial",  # under both names for an instant
    "published": f"{BUILD}:ReportResult",  # renamed, not acknowledged
}
# a build opens the ledger 7 times (verify, trust, events, checkpoint, exports, the append)
HOT = [("evidencekit.workflows.custody:open_ledger", 7)]


@pytest.fixture(scope="module")
def sealed(world: World) -> str:
    src = world.base / "biên bản.txt"
    src.write_text("Biên bản thu giữ tang vật", encoding="utf-8")
    code, _, err = cli_run(world.case_dir, "seal", str(src), "--item", "BB1")
    assert code == 0, err
    return "BB1"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _issued(world: World) -> list[str]:
    return [e["digests"]["sha256"] for e in truth(world).events if e["kind"] == "report_issued"]


def _run(world: World, step: str, sig: str) -> None:
    before = _issued(world)
    world.new_id("R")
    done = kill_at(world, step, SIGNALS[sig], "report", "build", "--lang", "en")
    if step in (STEPS["committed"], STEPS["recorded"]) and sig != "kill9":
        assert "interrupted after the report was recorded as issued" in done.stderr
    state = truth(world)  # no report under its own name that the ledger does not record
    issued = [e["digests"]["sha256"] for e in state.events if e["kind"] == "report_issued"]
    assert issued[: len(before)] == before and len(issued) - len(before) in (0, 1)
    code, out, err = cli_run(world.case_dir, "--json", "case", "show")
    left = json.loads(out)["unfinished_reports"]
    # a report the ledger records as issued is never lost: under its name, or a temporary one
    kept = {_sha(p) for p in (world.case_dir / "reports").iterdir()}
    assert set(issued) <= kept, "a recorded report was removed or overwritten"
    on_disk = sorted(p.name for p in (world.case_dir / "reports").glob("*.partial-*"))
    assert sorted(Path(r["file"]).name for r in left) == on_disk
    for r in left:
        # case show says whether the ledger records it, as report verify does
        assert r["recorded"] is (r["sha256"] in issued)
        code, out, err = cli_run(world.case_dir, "report", "verify", r["file"])
        assert code == (0 if r["recorded"] else 3), out + err
        # what the examiner does once case show names it: a recorded report gets its name,
        # one never issued is removed
        if r["recorded"]:
            os.link(r["file"], r["final"])  # never over another report (EEXIST)
            Path(r["file"]).unlink()
        else:
            Path(r["file"]).unlink()
    truth(world)
    code, out, err = cli_run(world.case_dir, "--json", "report", "build", "--lang", "en")
    assert code == 0, err
    pdf = json.loads(out)["path"]
    code, out, err = cli_run(world.case_dir, "report", "verify", pdf)
    assert code == 0, out + err
    truth(world)


@pytest.mark.parametrize("sig", sorted(SIGNALS))
@pytest.mark.parametrize("step", list(STEPS))
def test_report_build_killed_at_a_step(world: World, sealed: str, step: str, sig: str) -> None:
    _run(world, STEPS[step], sig)


@pytest.mark.parametrize(
    ("step", "sig"),
    [pytest.param(s, g, id=i) for i, s, g in random_points(SEED, "report", HOT, 3)],
)
def test_report_build_killed_at_a_random_point(
    world: World, sealed: str, step: str, sig: str
) -> None:
    _run(world, step, sig)
