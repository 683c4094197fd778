"""GNU ddrescue map files (`ID.map`): which parts of the media were read and which were not.

Format (GNU ddrescue manual, "Mapfile structure"): comment lines start with `#`; the first
non-comment line is `current_pos current_status current_pass`; each further line is
`pos size status` in hexadecimal, covering the media without gaps. Status `+` = finished
(read), `-` = bad sector, `?` = non-tried (an interrupted acquisition stopped before it).
`ddrescuelog` reads what we write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from evidencekit import __version__
from evidencekit.errors import UsageError


@dataclass(frozen=True, slots=True)
class MapBlock:
    pos: int
    size: int
    status: str


def blocks(size: int, bad: Iterable[tuple[int, int]], done: int | None = None) -> list[MapBlock]:
    """The map's blocks: `bad` extents as `-`, the rest up to `done` as `+`, after it `?`."""
    done = size if done is None else min(done, size)
    out: list[MapBlock] = []

    def add(pos: int, length: int, status: str) -> None:
        if length <= 0:
            return
        if out and out[-1].status == status and out[-1].pos + out[-1].size == pos:
            prev = out.pop()
            out.append(MapBlock(prev.pos, prev.size + length, status))
        else:
            out.append(MapBlock(pos, length, status))

    def fill(start: int, end: int) -> None:  # a stretch without bad sectors
        if start < done:
            add(start, min(end, done) - start, "+")
        rest = max(start, done)
        add(rest, end - rest, "?")

    pos = 0
    for off, length in sorted(bad):
        fill(pos, off)
        add(off, length, "-")
        pos = off + length
    fill(pos, size)
    return out


def render(
    size: int,
    bad: Iterable[tuple[int, int]],
    *,
    done: int | None = None,
    command_line: str = "",
    started: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The map file text."""
    rows = blocks(size, bad, done)
    finished = done is None or done >= size
    stamp = "%Y-%m-%d %H:%M:%S"
    lines = [
        f"# Mapfile. Created by evidencekit {__version__}",
        f"# Command line: {command_line}",
    ]
    if started is not None:
        lines.append(f"# Start time:   {started.strftime(stamp)} UTC")
    if now is not None:
        lines.append(f"# Current time: {now.strftime(stamp)} UTC")
    lines.append("# Finished" if finished else "# Interrupted")
    lines.append("# current_pos  current_status  current_pass")
    cur = size if finished else (done or 0)
    lines.append(f"0x{cur:08X}     {'+' if finished else '?'}               1")
    lines.append("#      pos        size  status")
    for b in rows:
        lines.append(f"0x{b.pos:08X}  0x{b.size:08X}  {b.status}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> list[MapBlock]:
    """The blocks of a map file (the status line is skipped).

    Raises:
        UsageError: a line is not `pos size status`.
    """
    out: list[MapBlock] = []
    seen_status = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if not seen_status:
            seen_status = True
            continue
        if len(fields) != 3 or fields[2] not in "?*/-+":
            raise UsageError(f"map file line {number} is not 'pos size status': {line!r}")
        out.append(MapBlock(int(fields[0], 0), int(fields[1], 0), fields[2]))
    return out
