"""ID.map is a GNU ddrescue map: ddrescuelog reads it and agrees on the bad areas."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from evidencekit.acquire.imaging import mapfile
from evidencekit.errors import UsageError
from tests.conftest import need_peer


def test_blocks_cover_the_media() -> None:
    rows = mapfile.blocks(10_000, [(1024, 512), (1536, 512), (9728, 272)])
    assert [(b.pos, b.size, b.status) for b in rows] == [
        (0, 1024, "+"),
        (1024, 1024, "-"),
        (2048, 7680, "+"),
        (9728, 272, "-"),
    ]
    interrupted = mapfile.blocks(10_000, [(1024, 512)], done=4096)
    assert interrupted[-1] == mapfile.MapBlock(4096, 5904, "?")
    # stopped inside a block before delivering it: the bad extent lies beyond `done`
    stopped = mapfile.blocks(10_000, [(1024, 512)], done=0)
    assert [(b.pos, b.size, b.status) for b in stopped] == [
        (0, 1024, "?"),
        (1024, 512, "-"),
        (1536, 8464, "?"),
    ]


def test_render_parse_round_trip() -> None:
    text = mapfile.render(1 << 20, [(4096, 512)], command_line="ek acquire disk /dev/loop0")
    assert mapfile.parse(text) == mapfile.blocks(1 << 20, [(4096, 512)])
    with pytest.raises(UsageError):
        mapfile.parse(text + "0x10 zz\n")


@pytest.mark.peer
def test_ddrescuelog_reads_our_map(tmp_path: Path) -> None:
    need_peer("ddrescuelog")
    path = tmp_path / "x.map"
    path.write_text(mapfile.render(1 << 20, [(4096, 1024), (65536, 512)]))
    # -l- lists the bad-sector blocks (in 512-byte blocks)
    out = subprocess.run(
        ["ddrescuelog", "-b512", "-l-", str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["8", "9", "128"]
