#!/usr/bin/env python3
"""Per-item overhead of the Python API versus the command line (issue 18): seal N small files
as N items of one case, three ways, and print the median wall time per item.

    api          `evidencekit.api.seal_files` in one process (the identity unlocked once)
    cli          `python -m evidencekit --json seal --item ID FILE`, one process per item: the
                 interpreter start, the imports, the key unlock (scrypt, docs/keys.md) and the
                 seal, what a lab's shell loop pays
    api+verify   as `api`, each item also verified (`verify_evidence`, re-hashing)

The files are 4 KiB, so the time is overhead, not hashing.

    .venv/bin/python bench/bench_api.py [--items 10] [--wait-idle MINUTES]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_wait_idle, idle_before

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidencekit import api  # noqa: E402

PASSPHRASE = "mật khẩu thử nghiệm đo hiệu năng"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10)
    add_wait_idle(parser)
    args = parser.parse_args()
    idle = idle_before(args)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["EVIDENCEKIT_HOME"] = str(work / "home")
        os.environ["EVIDENCEKIT_PASSPHRASE"] = PASSPHRASE
        examiner = api.IdentityStore().create("Nguyễn Bá Tùng", PASSPHRASE.encode())
        api.init_case(work / "case", examiner, number="BENCH-1", title="Đo hiệu năng")
        case = api.open_case(work / "case")
        files = []
        for i in range(3 * args.items):
            f = work / f"tệp {i}.bin"
            f.write_bytes(os.urandom(4096))
            files.append(f)
        rows: dict[str, list[float]] = {"api": [], "cli": [], "api+verify": []}
        for i in range(args.items):
            t = time.perf_counter()
            api.seal_files(case, examiner, api.SealRequest(f"A{i}", (files[i],)))
            rows["api"].append(time.perf_counter() - t)
        for i in range(args.items):
            cmd = [sys.executable, "-m", "evidencekit", "--json", "--case", str(work / "case")]
            t = time.perf_counter()
            out = subprocess.run(
                [*cmd, "seal", "--item", f"C{i}", str(files[args.items + i])],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            rows["cli"].append(time.perf_counter() - t)
            assert json.loads(out.stdout)["status"] == "complete"
        for i in range(args.items):
            t = time.perf_counter()
            api.seal_files(case, examiner, api.SealRequest(f"V{i}", (files[2 * args.items + i],)))
            res = api.verify_evidence(case, api.VerifyRequest((f"V{i}",)))
            rows["api+verify"].append(time.perf_counter() - t)
            assert res.ok
    print(f"CPU idle before: {idle:.0%}; {args.items} items of 4 KiB each")
    print("| way | median per item | best |")
    print("|---|---|---|")
    for name, times in rows.items():
        print(f"| {name} | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
