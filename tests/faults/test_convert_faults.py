"""`convert` (raw → E01 and E01 → raw) killed (SIGKILL, SIGTERM, SIGINT) at every step boundary
of the commit protocol and at seeded random points while the media is copied; afterwards the
case tells the truth, the original is untouched, and after `case recover` the same command with
the same id ends complete and verified (tests/faults/_harness.py)."""

from __future__ import annotations

import pytest

from tests.faults._harness import (
    SAYS,
    SEED,
    SIGNALS,
    World,
    assert_done,
    cli_run,
    kill_at,
    no_paused_command_outlives_its_test,
    random_points,
    recover_all,
    truth,
    world,
)

__all__ = ["no_paused_command_outlives_its_test", "world"]

CHUNKS = 2  # the media is 2 MiB: the copy reads it in 1 MiB buffers

STEPS = {
    "guarded": "evidencekit.workflows.commit:reserve",
    "reserving": "evidencekit.workflows.commit:_make_folder",
    "reserved": "evidencekit.workflows.convert:copy_media",
    "written": "evidencekit.workflows.convert:_seal_item",
    "sealed": "evidencekit.workflows.convert:_record",
    "recorded": "evidencekit.workflows.commit:Reservation.publish",
    "published": "evidencekit.workflows.commit:Reservation._settle",
}

# the media is read in the main thread, one buffer per call (the last call finds the end)
HOT = {
    "e01": [("evidencekit.workflows.convert_media:_ConcatReader.readinto", CHUNKS)],
    "raw": [("evidencekit.acquire.ewf.reader:EwfImage.readinto", CHUNKS)],
}
ORIGINAL = {"e01": "RAW0", "raw": "E010"}  # what each target format is converted from


@pytest.fixture(scope="module")
def originals(world: World) -> dict[str, str]:
    """RAW0, a sealed 2 MiB raw image, and E010, its E01 made by convert."""
    image = world.base / "đĩa.raw"
    image.write_bytes(bytes(range(256)) * (CHUNKS << 12))
    code, _, err = cli_run(world.case_dir, "seal", str(image), "--item", "RAW0")
    assert code == 0, err
    code, _, err = cli_run(world.case_dir, "convert", "RAW0", "--to", "e01", "--item", "E010")
    assert code == 0, err
    return ORIGINAL


def _run(world: World, to: str, step: str, sig: str) -> None:
    item = world.new_id(f"C{to.upper()}")
    args = ["convert", ORIGINAL[to], "--to", to, "--item", item]
    done = kill_at(world, step, SIGNALS[sig], *args)
    said = next((v for k, v in SAYS.items() if step == STEPS[k]), None)
    if said and sig != "kill9":  # stopped after recording: it says so, and what to do
        assert said in done.stderr, done.stderr
    assert_done(world, item, args, recover_all(world, truth(world)))
    # the original was only read
    code, out, err = cli_run(world.case_dir, "verify", ORIGINAL[to])
    assert code == 0, out + err


@pytest.mark.parametrize("sig", sorted(SIGNALS))
@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("to", ["e01", "raw"])
def test_convert_killed_at_a_step(
    world: World, originals: dict[str, str], to: str, step: str, sig: str
) -> None:
    _run(world, to, STEPS[step], sig)


@pytest.mark.parametrize(
    ("to", "step", "sig"),
    [
        pytest.param(to, s, g, id=f"{to}-{i}")
        for to in ("e01", "raw")
        for i, s, g in random_points(SEED, f"convert-{to}", HOT[to], 2)
    ],
)
def test_convert_killed_at_a_random_point(
    world: World, originals: dict[str, str], to: str, step: str, sig: str
) -> None:
    _run(world, to, step, sig)
