#!/usr/bin/env python3
"""Benchmark unlocking an examiner key (issue 13, keys at rest): before and after, side by side.

Each row is one key file format, written the way evidencekit writes it, unlocked `--repeat`
times by `evidencekit.identity.keyfile.read_key` (the best and the median wall time), and once
in a child process whose peak RSS (`ru_maxrss`) shows the KDF's memory:

    before   PBKDF2-HMAC-SHA256, 2,048 iterations  (cryptography's BestAvailableEncryption,
                                                    what keyfile.py wrote until issue 13)
    after    scrypt N=2^17 r=8 p=1                 (the default for new keys)
    also     PBKDF2-HMAC-SHA256, 600,000 iterations (the other KDF the issue allows)
             scrypt N=2^16 r=8 p=1                 (half the default, for scale)
    cached   a second unlock of the same identity in the same process

An attacker's cost per guess scales with the "after" time on one core (and, for scrypt, with
128 MiB of memory per guess in flight). `--record` appends the table to docs/benchmarks.md.

    .venv/bin/python bench/bench_keys.py [--repeat 5] [--wait-idle MINUTES] [--record]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import add_wait_idle, idle_before

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from evidencekit.identity import IdentityStore, forget_unlocked_keys  # noqa: E402
from evidencekit.identity.keyfile import read_key, write_key  # noqa: E402
from evidencekit.identity.pkcs8 import DEFAULT_SCRYPT, Pbkdf2, Scrypt  # noqa: E402

PASSPHRASE = "mật khẩu thử nghiệm".encode()

# VmHWM, not ru_maxrss: Linux carries a forked child's ru_maxrss over from the parent (this
# process, which has already run scrypt), while VmHWM belongs to the exec'd address space.
CHILD = """
import sys
from pathlib import Path
from evidencekit.identity.keyfile import read_key
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:"))
before = hwm()
read_key(Path(sys.argv[1]), sys.argv[2].encode(), "bench")
print(before, hwm())
"""


def write_old(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """What keyfile.write_key did before issue 13."""
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE),
        )
    )


def time_unlock(path: Path, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read_key(path, PASSPHRASE, "bench")
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def peak_mib(path: Path) -> tuple[float, float]:
    """(RSS before the unlock, peak RSS after it) of a fresh child, in MiB."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), PASSPHRASE.decode()],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    add_wait_idle(parser)
    args = parser.parse_args()

    key = ec.generate_private_key(ec.SECP256R1())
    rows: list[tuple[str, str, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files: list[tuple[str, str, Path]] = []
        old = folder / "before.pem"
        write_old(old, key)
        files.append(("before", "PBKDF2-HMAC-SHA256, 2,048 iterations", old))
        for label, kdf in (
            ("after", DEFAULT_SCRYPT),
            ("also", Pbkdf2(iterations=600_000)),
            ("also", Scrypt(n=2**16, r=8, p=1)),
        ):
            path = folder / f"{kdf.describe().replace(' ', '_')}.pem"
            write_key(path, key, PASSPHRASE, kdf)
            files.append((label, kdf.describe(), path))
        idle = idle_before(args)
        for label, what, path in files:
            best, median = time_unlock(path, args.repeat)
            base, peak = peak_mib(path)
            rows.append((label, what, best, median, peak - base))
        store = IdentityStore(folder / "home")
        made = store.create("Nguyễn Bá Tùng", PASSPHRASE)
        forget_unlocked_keys()
        start = time.perf_counter()
        store.unlock(made.info, PASSPHRASE)
        first = time.perf_counter() - start
        cached = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            store.unlock(made.info, PASSPHRASE)
            cached.append(time.perf_counter() - start)
        rows.append(("cached", "second unlock in one process (after one of " + (
            f"{first:.3f} s)"), min(cached), statistics.median(cached), 0.0))  # fmt: skip

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    lines = [
        f"### Key unlock, {stamp}",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f}, CPU {idle:.0%} idle before the runs; best and median of "
        f"{args.repeat} unlocks (`read_key`), memory = peak RSS growth of a child that unlocks "
        "once.",
        "",
        "| | key file | best s | median s | guesses/s/core | memory MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for label, what, best, median, mem in rows:
        rate = f"{1 / median:,.1f}" if label != "cached" else "—"
        lines.append(
            f"| {label} | {what} | {best:.4f} | {median:.4f} | {rate} | {mem:.0f} |".replace(
                "| 0 |", "| — |"
            )
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.record:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as fh:
            fh.write("\n" + text)


if __name__ == "__main__":
    main()
