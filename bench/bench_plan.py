"""Benchmark: N small items sealed by one `evidencekit run PLAN.toml` vs N `evidencekit seal` runs.

Both sides seal the same N one-line files into two fresh cases with the same examiner identity
(its key encrypted with the production scrypt setting, as `keys init` makes it), so the
difference is the per-command cost a plan pays once: starting Python and importing, opening the
case and the ledger, unlocking the key. Each side is timed end to end as a subprocess.

Usage: .venv/bin/python bench/bench_plan.py [--items N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_wait_idle, idle_before

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "mật khẩu đo hiệu năng 2026"


def ek(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "evidencekit", *args],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50)
    add_wait_idle(parser)
    args = parser.parse_args()
    idle = idle_before(args)
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        root = Path(tmp)
        env = dict(os.environ)
        env.update(EVIDENCEKIT_HOME=str(root / "home"), EVIDENCEKIT_PASSPHRASE=PASSPHRASE)
        env.pop("EVIDENCEKIT_CASE", None)
        ek(env, "keys", "init", "--name", "Nguyễn Bá Tùng")
        files = []
        for n in range(args.items):
            f = root / "src" / f"tệp {n:04d}.txt"
            f.parent.mkdir(exist_ok=True)
            f.write_text(f"Biên bản số {n}\n", "utf-8")
            files.append(f)
        for name in ("cli", "plan"):
            ek(env, "case", "init", str(root / name), "--case-number", name, "--title", "bench")

        t0 = time.perf_counter()
        for n, f in enumerate(files):
            ek(env, "--case", str(root / "cli"), "seal", str(f), "--item", f"S{n:04d}")
        cli_s = time.perf_counter() - t0

        plan = root / "plan.toml"
        plan.write_text(
            "".join(
                f'[[step]]\nkind = "seal"\nitem = "S{n:04d}"\nsource = {json.dumps(str(f))}\n\n'
                for n, f in enumerate(files)
            ),
            "utf-8",
        )
        t0 = time.perf_counter()
        ek(env, "--case", str(root / "plan"), "run", str(plan))
        plan_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ek(env, "--case", str(root / "plan"), "run", str(plan))
        rerun_s = time.perf_counter() - t0
    n = args.items
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, idle before {idle:.0%}")
    print(f"{n} × `evidencekit seal`: {cli_s:.1f} s, {cli_s / n * 1000:.0f} ms per item")
    print(
        f"`evidencekit run` of {n} seal steps: {plan_s:.1f} s, {plan_s / n * 1000:.0f} ms per item"
    )
    print(
        f"the same plan again (all skipped): {rerun_s:.1f} s, {rerun_s / n * 1000:.0f} ms per item"
    )


if __name__ == "__main__":
    main()
