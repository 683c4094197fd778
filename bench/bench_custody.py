"""Custody ledger benchmark: append, verify, prove.

    .venv/bin/python bench/bench_custody.py [--events 100000] [--batch 1000] [--singles 200]

1. Append N signed events in batches of B per transaction (one checkpoint per batch), as a bulk
   import does; then S single durable appends through `record_event` (one transaction, fsync
   and checkpoint each), as a CLI command does.
2. Verify the whole ledger (`verify_custody`) on 1 process and on all cores.
3. Inclusion proof for one event: from the stored subtree hashes (what `custody prove` does)
   and from an in-memory tree.
Baseline, side by side: `openssl speed ecdsap256` (sign and verify per second per core), the
floor under both append and verify throughput.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evidencekit.chain import merkle
from evidencekit.identity import IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.custody import (
    make_draft,
    open_ledger,
    record_drafts,
    record_event,
    verify_custody,
)


def openssl_baseline() -> str:
    try:
        out = subprocess.run(
            ["openssl", "speed", "-seconds", "2", "ecdsap256"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"openssl speed unavailable: {exc}"
    m = re.search(r"256 bits ecdsa \(nistp256\)\s+\S+s\s+\S+s\s+([\d.]+)\s+([\d.]+)", out)
    if not m:
        return "openssl speed: could not parse output"
    sign, verify = float(m.group(1)), float(m.group(2))
    return f"openssl speed ecdsap256 (1 core): {sign:,.0f} sign/s, {verify:,.0f} verify/s"


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the verify workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--singles", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = ap.parse_args()

    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-custody-"))
    os.environ["EVIDENCEKIT_HOME"] = str(work / "home")
    identity = IdentityStore().create("Nguyễn Bá Tùng", b"bench passphrase 2026")
    case = init_case(work / "case", identity, number="BENCH-1", title="Benchmark vụ án")
    cpus = len(os.sched_getaffinity(0))
    print(f"work folder {work}; {cpus} CPU(s); load average {os.getloadavg()}")
    print(openssl_baseline())

    items = [f"ITEM{n:03d}" for n in range(100)]
    for item in items:
        record_event(case, identity, "registered", item, description=f"Vật chứng {item}")
    t0 = time.perf_counter()
    c0 = _cpu()
    appended = 0
    n = 0
    while appended < args.events:
        count = min(args.batch, args.events - appended)
        drafts = [
            make_draft(
                case,
                "verified" if (n + j) % 3 else "accessed",
                items[(n + j) % len(items)],
                digests={"sha256": f"{(n + j):064x}"},
                purpose="kiểm tra định kỳ",
                details={"result": "ok", "batch": n // args.batch},
            )
            for j in range(count)
        ]
        record_drafts(case, identity, drafts)
        appended += count
        n += count
    dt = time.perf_counter() - t0
    cpu = _cpu() - c0
    print(
        f"append {appended:,} events in batches of {args.batch}: {dt:.2f} s = "
        f"{appended / dt:,.0f} events/s ({cpu:.1f} CPU-s = {appended / cpu:,.0f} events per "
        "CPU-second; the rest is waiting for the CPU or for fsync)"
    )

    t0 = time.perf_counter()
    c0 = _cpu()
    for i in range(args.singles):
        record_event(case, identity, "note", items[i % len(items)], note=f"ghi chú {i}")
    dt = time.perf_counter() - t0
    cpu = _cpu() - c0
    print(
        f"single durable appends (record_event, own transaction + checkpoint each): "
        f"{args.singles / dt:,.0f} events/s, {dt / args.singles * 1000:.2f} ms each "
        f"({cpu / args.singles * 1000:.1f} ms CPU each: the check of what it builds on grows "
        "with the ledger)"
    )

    total = appended + args.singles + len(items) + 1
    for workers in (1, cpus):
        t0 = time.perf_counter()
        c0 = _cpu()
        status = verify_custody(case, workers=workers)
        dt = time.perf_counter() - t0
        cpu = _cpu() - c0
        assert status.ok, status.problems[:3]
        assert status.events == total
        print(
            f"verify {status.events:,} events + {status.checkpoints:,} checkpoints on "
            f"{workers} process(es): {dt:.2f} s = {status.events / dt:,.0f} events/s "
            f"({cpu:.1f} CPU-s = {status.events / cpu:,.0f} events per CPU-second)"
        )

    with open_ledger(case) as ledger:
        size = ledger.size()
        rng = random.Random(1)
        picks = [rng.randrange(size) for _ in range(1000)]
        t0 = time.perf_counter()
        for idx in picks:
            merkle.inclusion_proof(ledger.node, idx, size)
        stored = (time.perf_counter() - t0) / len(picks)
        root = merkle.root(ledger.node, size)
        leaves = [r.leaf_hash for r in ledger.store.rows()]
    proof = merkle.inclusion_proof(merkle.MemoryTree(leaves).node, picks[0], size)
    merkle.verify_inclusion(picks[0], size, leaves[picks[0]], proof, root)
    tree = merkle.MemoryTree(leaves)
    t0 = time.perf_counter()
    for idx in picks:
        tree.inclusion_proof(idx, size)
    mem = (time.perf_counter() - t0) / len(picks)
    t0 = time.perf_counter()
    for idx in picks:
        merkle.verify_inclusion(idx, size, leaves[idx], tree.inclusion_proof(idx, size), root)
    ver = (time.perf_counter() - t0) / len(picks) - mem
    print(
        f"inclusion proof for one event in a tree of {size:,}: {stored * 1e6:.0f} µs from the "
        f"SQLite subtree table, {mem * 1e6:.0f} µs from memory; verifying it {ver * 1e6:.0f} µs"
    )
    db = case.ledger_path
    print(f"ledger size: {db.stat().st_size / 2**20:.1f} MiB for {size:,} events")


if __name__ == "__main__":
    main()
