"""The two windows of `--resume`'s reclaim (commit.reclaim) that had no barrier, now step
boundaries of the fault matrix (issue 14): taking back an unfinished attempt (its record renamed
to a claim, the resume's own record not yet written; then written, the claim not yet removed)
and taking back a published item sealed incomplete (the resume's record linked, the item not yet
renamed back into staging; then renamed). The resume is killed there with SIGKILL, SIGTERM or
SIGINT (the paused-process harness), and then:

- `case show`, `verify` and `custody verify` agree (assert_truthful), every unfinished attempt's
  process is known to be gone (`running` false: recoverable, never "state unknown"), and nothing
  is left in `evidence/.staging` but unfinished attempts' folders and their records (no claim,
  no temporary record);
- `--resume` once more ends complete, the image equal to the source (`sha256sum`, the oracle).
"""

from __future__ import annotations

import json
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import (
    Paused,
    assert_truthful,
    media_sha256,
    run,
    sha256,
)

MiB = 1 << 20
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}
READ = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"
COMMIT = "evidencekit.workflows.commit"
# (how the first acquisition is stopped, the state it leaves, where the resume is stopped)
WINDOWS = {
    "claiming": ("KILL", "unfinished", f"{COMMIT}:_write_claim"),
    "claimed": ("KILL", "unfinished", f"{COMMIT}:_drop_claim"),
    "linked": ("INT", "incomplete", f"{COMMIT}:_take_back"),
    "taken": ("INT", "incomplete", "evidencekit.workflows.acquire_disk.run:_earlier_taken"),
}


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _stop(tmp: Path, case_dir: Path, step: str, sig: str, *args: str) -> int:
    p = Paused(tmp, step, case_dir, *args)
    assert p.reached, p.release()
    rc, _, err = p.signal(SIGNALS[sig])
    assert "internal error" not in err and "Traceback" not in err, err
    if sig != "KILL":
        assert rc == 1 and "interrupted" in err, (rc, err)
    return rc


def _staging_is_clean(case_dir: Path) -> None:
    r = run(case_dir, "--json", "case", "show")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    for a in shown["unfinished"]:
        assert a["running"] is False, a  # its process is known to be gone: recoverable
    staging = case_dir / "evidence" / ".staging"
    names = {a["item"] for a in shown["unfinished"]}
    if staging.is_dir():
        for entry in staging.iterdir():
            if entry.is_dir():
                assert entry.name in names, entry
            else:
                assert entry.name.removesuffix(".attempt.json") in names, (
                    f"{entry.name} is left in staging by no unfinished attempt"
                )


@pytest.mark.parametrize("sig", list(SIGNALS))
@pytest.mark.parametrize("window", list(WINDOWS))
def test_resume_stopped_while_taking_the_item_back(
    tmp_path: Path, case_dir: Path, window: str, sig: str
) -> None:
    first_sig, first_state, step = WINDOWS[window]
    src = tmp_path / "source.bin"
    src.write_bytes(random.Random(1616).randbytes(4 * MiB))
    args = ("acquire", "disk", str(src))
    _stop(tmp_path, case_dir, f"{READ}#3", first_sig, *args, "--item", "D1")
    assert assert_truthful(case_dir, "D1") == first_state
    _stop(tmp_path, case_dir, step, sig, *args, "--resume", "D1")
    state = assert_truthful(case_dir, "D1")
    _staging_is_clean(case_dir)
    if window == "linked":
        assert state == "incomplete"  # not taken back yet: still the published item
    elif window != "taken" or sig == "KILL":
        assert state == "unfinished"
    r = run(case_dir, *args, "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "D1") == "complete"
    _staging_is_clean(case_dir)
    files = sorted((case_dir / "evidence" / "D1").glob("D1.raw"))
    assert media_sha256(files) == sha256(src)
