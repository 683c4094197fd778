"""Helpers every benchmark script shares: how busy the machine is, waiting for it to be idle,
and a random source file warmed into the page cache.

The scripts run as `python bench/bench_X.py`, so this folder is on sys.path and they import it
as `_common`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def cpu_idle(seconds: float = 2.0) -> float:
    """Share of CPU time idle over `seconds` (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return (i1 - i0) / max(1, t1 - t0)


def wait_idle(limit: float, minutes: float) -> float:
    """Wait (up to `minutes`) until the CPU is at least `limit` idle; return the last idle share.

    The machine is shared: a benchmark taken while another job holds a core measures that job.
    """
    deadline = time.monotonic() + minutes * 60
    idle = cpu_idle()
    while idle < limit and time.monotonic() < deadline:
        print(f"waiting for an idle CPU: {idle:.0%} idle", file=sys.stderr, flush=True)
        idle = cpu_idle()
    return idle


def add_wait_idle(
    parser: argparse.ArgumentParser, limit: float = 0.85, when: str = "first"
) -> None:
    """The `--wait-idle MINUTES` option every benchmark takes (see `idle_before`)."""
    percent = round(limit * 100)
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, metavar="MINUTES",
        help=f"{when} wait up to MINUTES for the CPU to be >= {percent}%% idle (shared machines)",
    )  # fmt: skip


def idle_before(args: argparse.Namespace, limit: float = 0.85) -> float:
    """The CPU's idle share just before the timed runs, after waiting for it if asked to."""
    return wait_idle(limit, args.wait_idle) if args.wait_idle else cpu_idle()


def warm(path: Path) -> None:
    """Read `path` once so it is in the page cache (benchmarks measure the tool, not the disk)."""
    with path.open("rb") as fh:
        while fh.read(16 << 20):
            pass


def make_random_file(path: Path, size: int) -> None:
    """`size` random bytes at `path` (kept when it already has that size), warmed into the cache."""
    if not path.exists() or path.stat().st_size != size:
        with path.open("wb") as fh:
            left = size
            while left:
                n = min(left, 16 << 20)
                fh.write(os.urandom(n))
                left -= n
    warm(path)
