#!/usr/bin/env python3
"""Issue 19's throughput targets, each against `md5sum` of the same media, side by side in one run.

Source: 1 GiB (half random, a quarter zeros, a quarter program bytes from /usr/bin; the same
source as bench_e01.py) in the page cache; case and outputs on tmpfs (/dev/shm); `--no-verify`;
best of `--repeat` (default 5), the commands taking turns so that drift in the machine's speed
touches them alike. md5 is one serial stream, so one `md5sum` is the physical floor for anything
that computes an MD5 of the media.

    md5sum SRC                                                        the baseline
    evidencekit acquire disk SRC --format raw -a md5,sha1,sha256      target <= 1.5 x md5sum
    evidencekit acquire disk SRC --format e01 -a md5,sha1 (fast)      target <= 1.6 x md5sum
    ewfacquire -c deflate:fast -d sha1 SRC                            ours <= 0.2 x this
    evidencekit hash -a md5,sha1,sha256 SRC                           target <= 1.1 x md5sum

The acquisitions are the real commands an examiner runs (log, sums files, signed seal/2,
custody event), with their default window digests (64 MiB BLAKE3 windows) on; a second raw row
with `--window 0` shows what those cost. `--record` appends the table to docs/benchmarks.md.

    .venv/bin/python bench/bench_targets.py [--size 1GiB] [--repeat 5] [--wait-idle 10] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import add_wait_idle, idle_before

ROOT = Path(__file__).resolve().parent.parent
OUT = Path("/dev/shm/evidencekit-bench-targets")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_e01 import make_source  # noqa: E402  (the same source as the E01 benchmark)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1GiB")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp"))
    parser.add_argument("--record", action="store_true")
    add_wait_idle(parser, 0.85)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from evidencekit.sizes import parse_size

    for tool in ("ewfacquire", "md5sum"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (make peers)")
    size = parse_size(args.size)
    source = args.dir / f"evidencekit-bench-e01-{size}.bin"
    make_source(source, size)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    home, case = OUT / "home", OUT / "case"
    env = {
        **os.environ,
        "EVIDENCEKIT_HOME": str(home),
        "EVIDENCEKIT_PASSPHRASE": "bench passphrase 2026",
    }
    ek = [sys.executable, "-m", "evidencekit"]
    subprocess.run(
        [*ek, "keys", "init", "--name", "Bench"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*ek, "case", "init", str(case), "--case-number", "BENCH", "--title", "bench"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    acquire = [*ek, "--case", str(case), "acquire", "disk", str(source), "--no-verify"]
    rows: dict[str, list[str]] = {
        "md5sum": ["md5sum", str(source)],
        "raw": [*acquire, "--format", "raw", "-a", "md5,sha1,sha256"],
        "raw --window 0": [*acquire, "--format", "raw", "-a", "md5,sha1,sha256", "--window", "0"],
        "e01": [*acquire, "--format", "e01", "--compression", "fast", "-a", "md5,sha1"],
        "ewfacquire": [
            "ewfacquire", "-u", "-q", "-c", "deflate:fast", "-d", "sha1", "-f", "encase6",
            "-S", str(4 << 30), "-t", str(OUT / "theirs"), str(source),
        ],
        "hash": [*ek, "hash", "-a", "md5,sha1,sha256", "--format", "json", str(source)],
    }  # fmt: skip
    idle = idle_before(args, 0.85)
    best = {name: float("inf") for name in rows}
    runs: dict[str, list[float]] = {name: [] for name in rows}
    for n in range(args.repeat):
        for row, (name, cmd) in enumerate(rows.items()):
            if name.startswith(("raw", "e01")):
                cmd = [*cmd, "--item", f"BENCH{row}-{n}"]
            for f in OUT.glob("theirs.E*"):
                f.unlink()
            wall = timed(cmd, env)
            runs[name].append(wall)
            best[name] = min(best[name], wall)
            if name.startswith(("raw", "e01")):  # free the tmpfs for the next run
                for item in (case / "evidence").iterdir():
                    for f in item.iterdir():
                        if f.suffix == ".raw" or f.suffix[:2] == ".E":
                            f.unlink()
    base = best["md5sum"]
    raw, raw0, e01, ewf = best["raw"], best["raw --window 0"], best["e01"], best["ewfacquire"]
    checks = [
        ("`acquire disk --format raw -a md5,sha1,sha256`", raw / base, 1.5, "md5sum"),
        ("the same, `--window 0`", raw0 / base, None, "md5sum"),
        ("`acquire disk --format e01 -a md5,sha1` (fast)", e01 / base, 1.6, "md5sum"),
        ("the same, against `ewfacquire -c deflate:fast`", e01 / ewf, 0.2, "ewfacquire"),
        ("`hash -a md5,sha1,sha256`", best["hash"] / base, 1.1, "md5sum"),
    ]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### Issue 19 throughput targets, {when}",
        "",
        f"{platform.node()}, {os.cpu_count()} cores, CPU {idle:.0%} idle before the runs; "
        f"{args.size} source (bench_e01's) in the page cache, outputs on /dev/shm, "
        f"`--no-verify`, best of {args.repeat}. `bench/bench_targets.py`.",
        "",
        "| command | best | runs (s) |",
        "|---|---|---|",
    ]
    for name, cmd in rows.items():
        words = [c for c in cmd if c not in (sys.executable, "-m", "--case", str(case))]
        shown = " ".join(Path(c).name if "/" in c else c for c in words)
        timing = ", ".join(f"{w:.2f}" for w in runs[name])
        lines.append(f"| {name}: `{shown}` | {best[name]:.2f} s | {timing} |")
    lines += ["", "| target | ratio | limit | result |", "|---|---|---|---|"]
    for what, ratio, limit, against in checks:
        verdict = "—" if limit is None else ("pass" if ratio <= limit else "miss")
        shown_limit = "—" if limit is None else f"<= {limit}x {against}"
        lines.append(f"| {what} | {ratio:.2f}x {against} | {shown_limit} | {verdict} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)
    shutil.rmtree(OUT, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
