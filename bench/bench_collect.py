"""Benchmark: logical collection of a live tree vs `tar -cf` followed by `hashdeep -r`.

The tree: 10,000 small files (1–16 KiB, in 100 folders) plus four 256 MiB files. Both sides
run in the same process run, alternately, on the same warm page cache:

- baseline: `tar -cf OUT/base.tar -C PARENT tree` then `hashdeep -r -c md5,sha256 tree`
- ours: `evidencekit.acquire.logical.collect.collect` with md5,sha256 (the same digests),
  which writes
  the PAX tar, hashes every file in the same pass, hashes the tar itself, and writes the DFXML
  and JSON manifests; then once more with the default md5,sha1,sha256.

Usage: .venv/bin/python bench/bench_collect.py [--dir DIR] [--rounds N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_wait_idle, idle_before

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.options import CollectOptions

SMALL = 10_000
BIG = 4
BIG_SIZE = 256 << 20


def make_tree(root: Path) -> int:
    rng_block = os.urandom(1 << 20)
    total = 0
    for i in range(SMALL):
        d = root / f"d{i % 100:03d}"
        d.mkdir(parents=True, exist_ok=True)
        size = 1024 + (i * 7919) % (15 * 1024)
        start = (i * 4099) % ((1 << 20) - size)
        (d / f"tệp {i:05d}.txt").write_bytes(rng_block[start : start + size])
        total += size
    for j in range(BIG):
        with open(root / f"lớn {j}.bin", "wb") as fh:
            for k in range(BIG_SIZE >> 20):
                fh.write(k.to_bytes(8, "little") + bytes([j]) + rng_block[9:])
        total += BIG_SIZE
    return total


def run_baseline(tree: Path, out: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        ["tar", "-cf", str(out / "base.tar"), "-C", str(tree.parent), tree.name], check=True
    )
    with open(out / "hashdeep.txt", "wb") as fh:
        subprocess.run(["hashdeep", "-r", "-c", "md5,sha256", str(tree)], check=True, stdout=fh)
    return time.perf_counter() - t0


def run_ours(tree: Path, out: Path, algorithms: tuple[str, ...]) -> float:
    t0 = time.perf_counter()
    collection, _ = collect([tree], out, "BENCH", CollectOptions(algorithms=algorithms))
    assert not collection.errors
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", action="store_true")
    add_wait_idle(ap, when="before each round")
    args = ap.parse_args()
    for tool in ("tar", "hashdeep"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed")
    work = Path(tempfile.mkdtemp(prefix="bench-collect-", dir=args.dir))
    try:
        tree = work / "tree"
        t0 = time.perf_counter()
        total = make_tree(tree)
        print(
            f"tree: {SMALL} small + {BIG} x 256 MiB files, {total / 2**20:.0f} MiB, "
            f"made in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
        runs: dict[str, list[float]] = {
            "baseline": [],
            "ours md5,sha256": [],
            "ours md5,sha1,sha256": [],
        }
        for r in range(args.rounds):
            idle = idle_before(args)
            print(
                f"round {r + 1}: CPU idle before it {idle:.0%}, load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            for name in runs:
                out = work / f"out-{r}-{name.replace(' ', '_').replace(',', '-')}"
                out.mkdir()
                if name == "baseline":
                    secs = run_baseline(tree, out)
                else:
                    algos = tuple(name.split(" ", 1)[1].split(","))
                    secs = run_ours(tree, out, algos)
                runs[name].append(secs)
                print(
                    f"round {r + 1}: {name:22s} {secs:6.2f} s ({total / 2**20 / secs:6.0f} MiB/s)",
                    flush=True,
                )
                shutil.rmtree(out)
        print()
        print(
            f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
            f"host: {platform.machine()}, {os.cpu_count()} cores; "
            f"python {platform.python_version()}"
        )
        print("| run | best (s) | all rounds (s) | MiB/s (best) |")
        print("|---|---|---|---|")
        for name, secs in runs.items():
            best = min(secs)
            print(
                f"| {name} | {best:.2f} | {', '.join(f'{s:.2f}' for s in secs)} | "
                f"{total / 2**20 / best:.0f} |"
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
