"""A real faulty disk: FUSE file with EIO on chosen sectors behind a direct-I/O loop device."""

from __future__ import annotations

import errno
import itertools
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.acquire.imaging import mapfile
from evidencekit.cli.main import cli
from evidencekit.hash.seal.read import load_seal
from tests.conftest import need_peer, need_root
from tests.fixtures.faulty import faulty_loop

BAD = [100, 101, 102, 2048, 4099]  # 4099 is the last sector (a 1 MiB-chunk tail)
SIZE = 4100 * 512


@pytest.mark.root
def test_bad_sectors_zero_filled_exactly_and_reported(case_dir: Path, tmp_path: Path) -> None:
    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    good = bytes((i * 31 + 7) % 253 or 1 for i in range(SIZE))  # no zero bytes anywhere
    backing.write_bytes(good)
    with faulty_loop(backing, BAD) as dev:
        r = CliRunner().invoke(
            cli,
            [
                "--case",
                str(case_dir),
                "--json",
                "acquire",
                "disk",
                dev.device,
                "--item",
                "BAD",
                "--retries",
                "1",
            ],
        )
    assert r.exit_code == 4, r.output
    doc = json.loads(r.stdout)
    assert doc["status"] == "complete-with-errors" and doc["bad_sectors"] == 5
    item = case_dir / "evidence" / "BAD"
    image = (item / "BAD.raw").read_bytes()
    assert len(image) == SIZE
    expected = bytearray(good)
    for s in BAD:
        expected[s * 512 : (s + 1) * 512] = bytes(512)
    assert image == bytes(expected)  # zeros exactly there, the right data everywhere else
    extents = [(100 * 512, 3 * 512), (2048 * 512, 512), (4099 * 512, 512)]
    want = [{"offset": o, "length": n, "errno": errno.EIO, "error": "EIO"} for o, n in extents]
    seal = load_seal(item / "BAD.seal.json").document
    assert seal["status"] == "complete-with-errors"
    assert seal["facts"]["read_errors"] == want
    assert doc["read_errors"] == want
    bad_blocks = [
        (b.pos, b.size) for b in mapfile.parse((item / "BAD.map").read_text()) if b.status == "-"
    ]
    assert bad_blocks == extents
    log = (item / "BAD.log").read_text()
    for o, n in extents:
        assert f"unreadable: bytes {o}-{o + n - 1}" in log
    assert "COMPLETE-WITH-ERRORS" in log
    assert "unreadable sector" in r.stderr


@pytest.mark.root
def test_max_errors_stops_and_seals_incomplete(case_dir: Path, tmp_path: Path) -> None:
    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    backing.write_bytes(bytes(range(256)) * (SIZE // 256))
    with faulty_loop(backing, BAD) as dev:
        r = CliRunner().invoke(
            cli,
            ["--case", str(case_dir), "acquire", "disk", dev.device, "--item", "MAX",
             "--retries", "0", "--max-errors", "2"],
        )  # fmt: skip
    assert r.exit_code == 1, r.output
    assert "more than 2 unreadable sectors" in r.stderr
    item = case_dir / "evidence" / "MAX"
    seal = load_seal(item / "MAX.seal.json").document
    assert seal["status"] == "incomplete" and seal["combined"] is None
    assert seal["facts"]["read_errors"][0]["offset"] == 100 * 512
    # the map shows what was not reached
    blocks = mapfile.parse((item / "MAX.map").read_text())
    assert blocks[-1].status == "?" and blocks[-1].pos + blocks[-1].size == SIZE
    assert all(a.pos + a.size == b.pos for a, b in itertools.pairwise(blocks))
    assert ("-", 100 * 512) in [(b.status, b.pos) for b in blocks]


@pytest.mark.root
@pytest.mark.peer
def test_same_bad_sectors_as_gnu_ddrescue(case_dir: Path, tmp_path: Path) -> None:
    """GNU ddrescue -d on the same faulty device finds the same bad sectors as our map."""
    need_root()
    need_peer("losetup", "fusermount", "ddrescue", "ddrescuelog")
    backing = tmp_path / "backing.bin"
    backing.write_bytes(bytes(range(256)) * (SIZE // 256))
    with faulty_loop(backing, BAD) as dev:
        r = CliRunner().invoke(
            cli, ["--case", str(case_dir), "acquire", "disk", dev.device, "--item", "DDR"]
        )
        assert r.exit_code == 4, r.output
        theirs = tmp_path / "ddrescue.map"
        subprocess.run(
            ["ddrescue", "-d", "-b512", "-r1", "-q", dev.device, str(tmp_path / "dd.img"),
             str(theirs)],
            check=True,
        )  # fmt: skip
    ours = case_dir / "evidence" / "DDR" / "DDR.map"

    def bad(path: Path) -> list[str]:
        out = subprocess.run(
            ["ddrescuelog", "-b512", "-l-", str(path)], capture_output=True, text=True, check=True
        )
        return out.stdout.split()

    assert bad(ours) == bad(theirs) == [str(s) for s in BAD]
    # ddrescue leaves unread sectors unwritten (a hole, or nothing at the very end): zeros too
    theirs_img = (tmp_path / "dd.img").read_bytes().ljust(SIZE, b"\0")
    assert theirs_img == (case_dir / "evidence" / "DDR" / "DDR.raw").read_bytes()
