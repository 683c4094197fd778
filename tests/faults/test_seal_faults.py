"""`seal` of a folder killed (SIGKILL, SIGTERM, SIGINT) at every step boundary of the commit
protocol and at seeded random points; afterwards the case tells the truth, and after `case
recover` the same command with the same id ends complete and verified (tests/faults/_harness.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults._harness import (
    SAYS,
    SEED,
    SIGNALS,
    World,
    assert_done,
    kill_at,
    no_paused_command_outlives_its_test,
    random_points,
    recover_all,
    truth,
    world,
)

__all__ = ["no_paused_command_outlives_its_test", "world"]

FILES = 4  # files in the sealed folder: the copy calls `_copy_and_hash` once per file

# step boundary -> the call the command is paused before (docs/commit-protocol.md)
STEPS = {
    "guarded": "evidencekit.workflows.commit:reserve",
    "reserving": "evidencekit.workflows.commit:_make_folder",  # record linked, no folder yet
    "reserved": "evidencekit.workflows.seal:_seal_reserved",
    "copying": "evidencekit.workflows.seal:_copy_and_hash#2",
    "written": "evidencekit.workflows.seal:seal_item",
    "sealed": "evidencekit.workflows.seal:_record_sealed",
    "recorded": "evidencekit.workflows.commit:Reservation.publish",
    "published": "evidencekit.workflows.commit:Reservation._settle",  # renamed, record left
}

# hot functions and how often one `seal` of FILES files calls them: open_readonly once per file
# while checking the sources (before the key is unlocked) and once per file while copying
HOT = [
    ("evidencekit.workflows.seal:open_readonly", 2 * FILES),
    ("evidencekit.workflows.seal:_changed", FILES),
]


@pytest.fixture(scope="module")
def src(world: World) -> Path:
    folder = world.base / "nguồn"
    (folder / "thư mục").mkdir(parents=True)
    for n in range(FILES - 1):
        (folder / f"tệp {n}.bin").write_bytes(bytes([n]) * (3000 + n))
    (folder / "thư mục" / "Trương Đình Bủng.txt").write_bytes("xin chào".encode())
    return folder


def _run(world: World, src: Path, step: str, sig: str) -> None:
    item = world.new_id("S")
    args = ["seal", str(src), "--item", item]
    done = kill_at(world, step, SIGNALS[sig], *args)
    said = next((v for k, v in SAYS.items() if step == STEPS[k]), None)
    if said and sig != "kill9":  # stopped after recording: it says so, and what to do
        assert said in done.stderr, done.stderr
    assert_done(world, item, args, recover_all(world, truth(world)))


@pytest.mark.parametrize("sig", sorted(SIGNALS))
@pytest.mark.parametrize("step", list(STEPS))
def test_seal_killed_at_a_step(world: World, src: Path, step: str, sig: str) -> None:
    _run(world, src, STEPS[step], sig)


@pytest.mark.parametrize(
    ("step", "sig"),
    [pytest.param(s, g, id=i) for i, s, g in random_points(SEED, "seal", HOT, 4)],
)
def test_seal_killed_at_a_random_point(world: World, src: Path, step: str, sig: str) -> None:
    _run(world, src, step, sig)
