#!/usr/bin/env python3
"""Benchmark `evidencekit acquire disk` against dc3dd, side by side, in one run (issue 4).

A 1 GiB source file of random bytes (on the real disk, read once so it sits in the page cache)
is imaged to raw on tmpfs (/dev/shm, so the tool is measured rather than the disk; our fsync is
included) with md5+sha1+sha256 and --no-verify, interleaved with

    dc3dd if=SOURCE of=/dev/shm/… hash=md5 hash=sha1 hash=sha256

`--repeat` times each; the best wall time of each is compared. Targets: at least 3x dc3dd's
throughput; peak RSS (the child's own ru_maxrss from wait4) <= 200 MB. Our wall time is the whole
command: start-up, device facts, imaging, fsync, seal signing and the custody event.
Other processes on this 2-core machine add noise: the CPU idle share is recorded; re-run when
numbers look off. `--record` appends the table to docs/benchmarks.md.

    .venv/bin/python bench/bench_acquire.py [--size 1GiB] [--repeat 3] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_wait_idle, idle_before, make_random_file

ROOT = Path(__file__).resolve().parent.parent
EK = [sys.executable, "-m", "evidencekit"]
RSS_LIMIT_MB = 200.0
SHM = Path("/dev/shm")


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MB, CPU seconds) of one child run, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {err.decode()}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1GiB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source-dir", default="/var/tmp", help="where the source file lives")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    add_wait_idle(parser)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from evidencekit.sizes import parse_size

    size = parse_size(args.size)
    if shutil.which("dc3dd") is None:
        raise SystemExit("dc3dd is not installed (apt-get install dc3dd)")
    source = Path(args.source_dir) / f"ek-bench-acquire-{size}.bin"
    make_random_file(source, size)
    work = Path(tempfile.mkdtemp(prefix="ek-bench-acquire-", dir=SHM))
    env = dict(os.environ)
    env.update(EVIDENCEKIT_HOME=str(work / "home"), EVIDENCEKIT_PASSPHRASE="bench passphrase 2026")
    env.pop("EVIDENCEKIT_CASE", None)
    # an installed tool runs from compiled bytecode: do not recompile every module on each run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    case = work / "case"
    try:
        run([*EK, "keys", "init", "--name", "Bench Examiner"], env)
        run(
            [
                *EK,
                "case",
                "init",
                str(case),
                "--case-number",
                "B",
                "--title",
                "bench",
                "--agency",
                "bench",
            ],
            env,
        )
        warm = work / "warm.bin"
        warm.write_bytes(b"w" * 4096)
        run([*EK, "--case", str(case), "acquire", "disk", str(warm), "--item", "WARM"], env)
        idle = idle_before(args)
        ours: list[tuple[float, float, float]] = []
        theirs: list[tuple[float, float, float]] = []
        for i in range(args.repeat):
            item = f"B{i}"
            ours.append(
                run(
                    [
                        *EK,
                        "--case",
                        str(case),
                        "acquire",
                        "disk",
                        str(source),
                        "--item",
                        item,
                        "-a",
                        "md5,sha1,sha256",
                        "--no-verify",
                    ],
                    env,
                )
            )
            shutil.rmtree(case / "evidence" / item)
            out = work / "dc3dd.raw"
            theirs.append(
                run(
                    [
                        "dc3dd",
                        f"if={source}",
                        f"of={out}",
                        "hash=md5",
                        "hash=sha1",
                        "hash=sha256",
                        "nwspc=on",
                    ],
                    env,
                )
            )
            out.unlink()
        best_ours = min(w for w, _, _ in ours)
        best_theirs = min(w for w, _, _ in theirs)
        rss = max(r for _, r, _ in ours)
        mb = size / 1e6
        rows = [
            (
                "evidencekit acquire disk (raw, md5+sha1+sha256, --no-verify)",
                best_ours,
                rss,
                min(c for _, _, c in ours),
            ),
            (
                "dc3dd hash=md5 hash=sha1 hash=sha256",
                best_theirs,
                max(r for _, r, _ in theirs),
                min(c for _, _, c in theirs),
            ),
        ]
        ratio = best_theirs / best_ours
        lines = [
            "| command | best wall (s) | MB/s | CPU s (user+sys) | peak RSS (MB) |",
            "|---|---|---|---|---|",
            *[f"| {name} | {w:.2f} | {mb / w:.0f} | {c:.2f} | {r:.0f} |" for name, w, r, c in rows],
            "",
            f"Throughput ratio ours/dc3dd: {ratio:.2f}x (target >= 3x): "
            f"{'PASS' if ratio >= 3 else 'FAIL'}; peak RSS {rss:.0f} MB (target <= "
            f"{RSS_LIMIT_MB:.0f} MB): {'PASS' if rss <= RSS_LIMIT_MB else 'FAIL'}.",
            f"All runs (wall s): ours {[round(w, 2) for w, _, _ in ours]}, dc3dd "
            f"{[round(w, 2) for w, _, _ in theirs]}; CPU idle before the runs {idle:.0%}.",
        ]
        print("\n".join(lines))
        if args.record:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            text = (
                f"\n### Run of {stamp} — {platform.node()}, {os.cpu_count()} cores, "
                f"{args.size} source in the page cache, output on /dev/shm\n\n"
                f"Command: `.venv/bin/python bench/bench_acquire.py --size {args.size} "
                f"--repeat {args.repeat} --record`\n\n" + "\n".join(lines) + "\n"
            )
            with open(ROOT / "docs" / "benchmarks.md", "a", encoding="utf-8") as fh:
                fh.write(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
