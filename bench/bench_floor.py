#!/usr/bin/env python3
"""How fast can `acquire disk` possibly be on this machine? The CPU floor of issues 4 and 5.

Measures, one thread at a time on the benchmark sources (1 GiB, in the page cache), the CPU
seconds of every step the command cannot skip, then bounds the wall time from below:

    wall >= max(longest single stream, total CPU / cores)

A stream such as MD5 is sequential: it cannot be split across cores. Everything else can at best
spread perfectly over the cores. Real runs add start-up (imports, key, device facts), signing and
thread hand-offs on top, so the bound is optimistic. It is compared with the baselines' wall times,
measured in the same run.

    raw   (issue 4): read + md5 + sha1 + sha256 + BLAKE3 64 MiB windows + write to tmpfs,
                     vs dc3dd hash=md5 hash=sha1 hash=sha256 (target: 3x its throughput)
    e01   (issue 5): read + md5 + sha1 + our chunk encoder (ISA-L) + write the E01 bytes + md5 +
                     sha1 of the written segment files (the seal's per-file digests),
                     vs ewfacquire -c deflate:fast -d sha1 (target: 5x its throughput)

    .venv/bin/python bench/bench_floor.py [--no-baselines] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import cpu_idle, make_random_file, warm

ROOT = Path(__file__).resolve().parent.parent
SHM = Path("/dev/shm")
RAW_SOURCE = Path("/var/tmp/ek-bench-acquire-1073741824.bin")  # bench_acquire.py's
E01_SOURCE = Path("/tmp/evidencekit-bench-e01-1073741824.bin")  # bench_e01.py's
BUF = 1 << 20


def cpu(fn: Callable[[], object]) -> float:
    """CPU seconds (this process, all threads) of fn(), best of 3."""
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def read_all(path: Path, sink: Callable[[memoryview], object] | None = None) -> None:
    buf = bytearray(BUF)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            if sink is not None:
                sink(view[:n])


def hash_cost(path: Path, name: str, read_cost: float) -> float:
    def run() -> None:
        h = hashlib.new(name) if name != "blake3" else _blake3()
        read_all(path, h.update)

    return max(0.0, cpu(run) - read_cost)


def _blake3() -> object:
    import blake3

    return blake3.blake3()


def windows_cost(path: Path, read_cost: float, window: int = 64 << 20) -> float:
    import blake3

    def run() -> None:
        state = {"h": blake3.blake3(), "n": 0}

        def sink(view: memoryview) -> None:
            state["h"].update(view)  # type: ignore[attr-defined]
            state["n"] += len(view)  # type: ignore[operator]
            if state["n"] >= window:
                state["h"].hexdigest()  # type: ignore[attr-defined]
                state["h"], state["n"] = blake3.blake3(), 0

        read_all(path, sink)

    return max(0.0, cpu(run) - read_cost)


def write_cost(nbytes: int) -> float:
    """CPU of writing nbytes to a new tmpfs file in 1 MiB writes, with fsync (kernel copy and page
    allocation: what any imager pays)."""
    block = os.urandom(BUF)

    def run() -> None:
        fd, name = tempfile.mkstemp(dir=SHM, prefix="ek-floor-")
        try:
            left = nbytes
            while left > 0:
                left -= os.write(fd, block[: min(BUF, left)])
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(name)

    return cpu(run)


def encode_cost(path: Path, read_cost: float) -> tuple[float, int]:
    """Our E01 chunk encoder (zero test, incompressibility sample, ISA-L deflate, Adler-32)."""
    sys.path.insert(0, str(ROOT))
    from evidencekit.acquire.ewf.encode import ChunkEncoder

    enc = ChunkEncoder("fast", 32768)
    out = {"n": 0}
    buf = bytearray(BUF)

    def run() -> None:
        out["n"] = 0
        with path.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                stored = enc.encode(buf, n)
                out["n"] += sum(len(p) for pieces, _ in stored for p in pieces)

    return max(0.0, cpu(run) - read_cost), out["n"]


def bytes_hash_cost(nbytes: int, name: str) -> float:
    """One algorithm over nbytes already in memory (the E01 writer hashes what it writes)."""
    block = os.urandom(BUF)

    def run() -> None:
        h = hashlib.new(name)
        left = nbytes
        while left > 0:
            h.update(block[: min(BUF, left)])
            left -= BUF

    return cpu(run)


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-baselines", action="store_true", help="skip dc3dd and ewfacquire")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    make_random_file(RAW_SOURCE, 1 << 30)
    if not E01_SOURCE.exists():
        raise SystemExit(f"{E01_SOURCE} is missing: run bench/bench_e01.py once first")
    warm(E01_SOURCE)
    idle = cpu_idle()

    read_raw = cpu(lambda: read_all(RAW_SOURCE))
    read_e01 = cpu(lambda: read_all(E01_SOURCE))
    costs_raw = {
        "read 1 GiB (page cache -> buffer)": read_raw,
        "md5": hash_cost(RAW_SOURCE, "md5", read_raw),
        "sha1": hash_cost(RAW_SOURCE, "sha1", read_raw),
        "sha256": hash_cost(RAW_SOURCE, "sha256", read_raw),
        "BLAKE3 64 MiB window digests": windows_cost(RAW_SOURCE, read_raw),
        "write 1 GiB to tmpfs + fsync": write_cost(1 << 30),
    }
    encode, written = encode_cost(E01_SOURCE, read_e01)
    costs_e01 = {
        "read 1 GiB (page cache -> buffer)": read_e01,
        "md5 (media)": hash_cost(E01_SOURCE, "md5", read_e01),
        "sha1 (media)": hash_cost(E01_SOURCE, "sha1", read_e01),
        "chunk encoder (ISA-L deflate, Adler-32)": encode,
        f"write {written / 1e6:.0f} MB of E01 to tmpfs + fsync": write_cost(written),
        "md5 (segment files, for the seal)": bytes_hash_cost(written, "md5"),
        "sha1 (segment files, for the seal)": bytes_hash_cost(written, "sha1"),
    }
    baselines: dict[str, float] = {}
    if not args.no_baselines:
        with tempfile.TemporaryDirectory(dir=SHM) as tmp:
            if shutil.which("dc3dd"):
                baselines["raw"] = wall(
                    ["dc3dd", f"if={RAW_SOURCE}", f"of={tmp}/d.raw", "hash=md5", "hash=sha1",
                     "hash=sha256", "nwspc=on"]
                )  # fmt: skip
            if shutil.which("ewfacquire"):
                baselines["e01"] = wall(
                    ["ewfacquire", "-u", "-q", "-c", "deflate:fast", "-d", "sha1", "-f",
                     "encase6", "-S", str(4 << 30), "-t", f"{tmp}/e", str(E01_SOURCE)]
                )  # fmt: skip
    lines = [
        f"### CPU floor, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`.venv/bin/python bench/bench_floor.py{' --no-baselines' if args.no_baselines else ''}`"
        f": CPU seconds of each step, one thread, best of 3; {cores} cores; "
        f"{idle:.0%} CPU idle before the run.",
        "",
    ]
    for label, costs, stream, target, base in (
        ("raw, md5+sha1+sha256 (issue 4)", costs_raw, "md5", 3, "raw"),
        ("E01, md5+sha1, fast (issue 5)", costs_e01, "md5 (media)", 5, "e01"),
    ):
        total = sum(costs.values())
        floor = max(costs[stream], total / cores)
        lines += [f"**{label}**", "", "| step | CPU s |", "|---|---|"]
        lines += [f"| {k} | {v:.2f} |" for k, v in costs.items()]
        lines += [f"| **total** | **{total:.2f}** |", ""]
        verdict = (
            f"lower bound on wall time: max({stream} {costs[stream]:.2f} s, "
            f"{total:.2f} / {cores} cores = {total / cores:.2f} s) = **{floor:.2f} s**"
        )
        if base in baselines:
            need = baselines[base] / target
            verdict += (
                f"; baseline took {baselines[base]:.2f} s, so {target}x needs <= {need:.2f} s: "
                + (
                    "reachable in principle"
                    if floor <= need
                    else "**out of reach on this machine**"
                )
                + f" (at the bound: {baselines[base] / floor:.1f}x)"
            )
        lines += [verdict, ""]
    text = "\n".join(lines)
    print(text)
    if args.record:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
