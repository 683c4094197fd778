"""`case recover --reports` finishes what a killed `report build` left (issue 14): a report the
ledger records as issued but that was killed before its rename is published under its final name;
one killed before its event is set aside; one whose bytes changed after they were recorded is an
integrity failure (exit 3) and stays where it is. The build is killed at the report fault suite's
step boundaries (tests/faults/test_report_faults.py: SIGKILL, SIGTERM, SIGINT), then `case
recover --reports` runs, and afterwards (`_harness.truth`): every PDF under its own name is
recorded, no temporary name is left, `report verify` of the published report exits 0 (it checks
the signature and the ledger's `report_issued` event), and a new build ends verified.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.faults._harness import (
    SIGNALS,
    World,
    cli_run,
    kill_at,
    no_paused_command_outlives_its_test,
    truth,
    world,
)
from tests.faults.test_report_faults import STEPS

__all__ = ["no_paused_command_outlives_its_test", "world"]


@pytest.fixture(scope="module")
def sealed(world: World) -> str:
    src = world.base / "biên bản.txt"
    src.write_text("Biên bản thu giữ tang vật", encoding="utf-8")
    code, _, err = cli_run(world.case_dir, "seal", str(src), "--item", "BB1")
    assert code == 0, err
    return "BB1"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _left(world: World) -> list[dict[str, object]]:
    code, out, err = cli_run(world.case_dir, "--json", "case", "show")
    assert code == 0, err
    return list(json.loads(out)["unfinished_reports"])


@pytest.mark.parametrize("sig", sorted(SIGNALS))
@pytest.mark.parametrize("step", ["written", "committed", "recorded", "linked"])
def test_recover_reports_after_a_killed_build(
    world: World, sealed: str, step: str, sig: str
) -> None:
    world.new_id("RR")
    kill_at(world, STEPS[step], SIGNALS[sig], "report", "build", "--lang", "en")
    before = truth(world)
    left = _left(world)
    issued = {
        e["digests"]["sha256"]: e["seq"] for e in before.events if e["kind"] == "report_issued"
    }
    code, out, err = cli_run(world.case_dir, "--json", "case", "recover", "--reports")
    assert code == 0, out + err
    done = json.loads(out)["reports"]
    assert sorted(r["file"] for r in done) == sorted(str(r["file"]) for r in left)
    for r, was in zip(
        sorted(done, key=lambda r: r["file"]),
        sorted(left, key=lambda r: str(r["file"])),
        strict=True,
    ):
        assert r["sha256"] == was["sha256"]
        if was["recorded"]:
            # published under the name the event gave it, the very bytes it recorded
            assert r["action"] == "published" and r["path"] == was["final"], r
            assert r["event"] == issued[r["sha256"]]
            assert _sha(Path(r["path"])) == r["sha256"]
            code, vout, verr = cli_run(world.case_dir, "report", "verify", r["path"])
            assert code == 0, vout + verr
        else:
            assert r["action"] == "set-aside", r
            assert Path(r["path"]).parent == world.case_dir / "reports" / ".discarded"
            assert _sha(Path(r["path"])) == r["sha256"]
            assert not Path(str(was["final"])).exists()
    if step in ("committed", "recorded") and sig == "kill9":
        assert [r["action"] for r in done] == ["published"]  # the case this issue is about
    assert _left(world) == []
    after = truth(world)  # every PDF under its own name is a recorded one
    assert {_sha(p) for p in after.reports} == {_sha(p) for p in before.reports} | {
        r["sha256"] for r in done if r["action"] == "published"
    }
    # nothing left to do: a second run says so
    code, out, err = cli_run(world.case_dir, "--json", "case", "recover", "--reports")
    assert code == 0 and json.loads(out)["reports"] == [], out + err
    code, out, err = cli_run(world.case_dir, "--json", "report", "build", "--lang", "en")
    assert code == 0, err
    code, out, err = cli_run(world.case_dir, "report", "verify", json.loads(out)["path"])
    assert code == 0, out + err


def test_recorded_report_changed_before_recovery(world: World, sealed: str) -> None:
    """Killed after the event, the temporary file then changed: exit 3, nothing published,
    the file left as it is (and then a new build still works once it is removed by hand)."""
    world.new_id("RX")
    kill_at(world, STEPS["recorded"], SIGNALS["kill9"], "report", "build", "--lang", "en")
    (left,) = _left(world)
    partial = Path(str(left["file"]))
    data = bytearray(partial.read_bytes())
    data[len(data) // 2] ^= 0x01
    partial.write_bytes(bytes(data))
    code, out, err = cli_run(world.case_dir, "case", "recover", "--reports")
    assert code == 3, out + err
    assert "recorded as issued with other bytes" in err and partial.name in err, err
    assert partial.read_bytes() == bytes(data)  # left as it is
    assert not Path(str(left["final"])).exists()
    partial.unlink()
    truth(world)


def test_recover_usage(world: World) -> None:
    code, _, err = cli_run(world.case_dir, "case", "recover")
    assert code == 2 and "--reports" in err, err
    code, _, err = cli_run(world.case_dir, "case", "recover", "X1", "--reports")
    assert code == 2, err
