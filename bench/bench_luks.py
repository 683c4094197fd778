#!/usr/bin/env python3
"""Benchmark LUKS payload decryption: one cipher call per sector (the reader before issue 19)
against the batched `acquire/fs/luks_cipher.py`, side by side on the same buffer, in one run.

A random buffer (`--size`, default 256 MiB) is decrypted in reads of `--read` bytes (1 MiB, the
size disk acquisition reads) with AES-256-XTS (plain64), for 512- and 4096-byte sectors, each
path `--repeat` times interleaved; the best wall time and its CPU time (this process's user +
system) are shown as MB/s. Both paths must give the same bytes (checked on the first read).
The machine's floor is OpenSSL's own XTS on 16 KiB buffers (`openssl speed -evp`), and
`cryptsetup benchmark` (the kernel's crypto API) where the kernel offers it.
Target of issue 19: >= 200 MB/s with 512-byte sectors.

`--acquire` adds the whole command: QEMU writes a LUKS1 volume (AES-256-XTS, 512-byte sectors)
around the buffer in /dev/shm, and `acquire disk --no-verify -a sha256` images it as it is and
decrypted (`--decrypt`), beside `qemu-img convert` decrypting it (a peer doing the same work).
Wall and CPU seconds are the child's (wait4).

    .venv/bin/python bench/bench_luks.py [--size 256MiB] [--repeat 3] [--acquire] [--wait-idle MIN]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import add_wait_idle, idle_before
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from evidencekit.acquire.fs.luks import LuksMedia
from evidencekit.acquire.fs.luks_cipher import SectorCipher
from evidencekit.sizes import parse_size

KEY = bytes(range(64))  # AES-256-XTS: two 32-byte halves
EK = [sys.executable, "-m", "evidencekit"]
PASSWORD = "Mật khẩu Việt 2024"


def per_sector(size: int) -> Callable[[int, bytes], bytes]:
    """The reader as it was: one `cryptography` XTS cipher object per sector."""

    def decrypt(first: int, data: bytes) -> bytes:
        out = bytearray()
        for i in range(0, len(data) - size + 1, size):
            iv = ((first + i // size) * (size // 512)).to_bytes(16, "little")
            dec = Cipher(algorithms.AES(KEY), modes.XTS(iv)).decryptor()
            out += dec.update(data[i : i + size]) + dec.finalize()
        return bytes(out)

    return decrypt


def batched_cipher(size: int) -> SectorCipher:
    return SectorCipher("xts-plain64", KEY, size)


def batched(size: int) -> Callable[[int, bytes], bytes]:
    return batched_cipher(size).decrypt


def through_media(size: int, buf: bytes) -> Callable[[int, bytes], bytes]:
    """The batched path as disk acquisition reads it: `LuksMedia.read_at` over the buffer."""
    media = LuksMedia(lambda o, n: buf[o : o + n], 0, len(buf), batched_cipher(size))

    def decrypt(first: int, data: bytes) -> bytes:
        return media.read_at(first * size, len(data))

    return decrypt


def run(
    decrypt: Callable[[int, bytes], bytes], buf: bytes, read: int, size: int
) -> tuple[float, float]:
    """(wall s, CPU s) to decrypt `buf` in reads of `read` bytes."""
    wall, cpu = time.perf_counter(), time.process_time()
    for at in range(0, len(buf), read):
        decrypt(at // size, buf[at : at + read])
    return time.perf_counter() - wall, time.process_time() - cpu


def floor() -> list[str]:
    lines = []
    try:
        speed = subprocess.run(
            ["openssl", "speed", "-evp", "aes-256-xts", "-seconds", "2", "-bytes", "16384"],
            capture_output=True, text=True, timeout=60,
        ).stdout  # fmt: skip
        row = re.search(r"^AES-256-XTS\s+([\d.]+)k", speed, re.M)
        if row:
            lines.append(
                f"openssl speed -evp aes-256-xts (16 KiB): {float(row[1]) / 1000:.0f} MB/s"
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        lines.append(f"openssl speed: {exc}")
    try:
        bench = subprocess.run(
            ["cryptsetup", "benchmark", "-c", "aes-xts-plain64", "-s", "512"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        text = (bench.stdout + bench.stderr).strip().splitlines()
        lines.append(
            "cryptsetup benchmark -c aes-xts-plain64 -s 512: " + (text[-1] if text else "?")
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        lines.append(f"cryptsetup benchmark: {exc}")
    return lines


def child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall s, CPU s) of one child run, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read() if proc.stderr else b""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def acquire_rows(buf: bytes, repeat: int) -> None:
    """`acquire disk` of a QEMU-written LUKS1 volume, as it is and --decrypt, and qemu-img."""
    work = Path(tempfile.mkdtemp(prefix="ek-bench-luks-", dir="/dev/shm"))
    env = dict(
        os.environ,
        EVIDENCEKIT_HOME=str(work / "home"),
        EVIDENCEKIT_PASSPHRASE="bench passphrase 2026",
    )
    env["LUKS_PW"] = PASSWORD
    env.pop("EVIDENCEKIT_CASE", None)
    try:
        plain, volume = work / "plain.raw", work / "volume.luks"
        plain.write_bytes(buf)
        secret = f"secret,id=s0,data={PASSWORD}"
        for _attempt in range(30):  # QEMU's PBKDF2 calibration fails now and then under load
            done = subprocess.run(
                ["qemu-img", "convert", "--object", secret, "-O", "luks",
                 "-o", "key-secret=s0,iter-time=10", str(plain), str(volume)],
                capture_output=True,
            )  # fmt: skip
            if done.returncode == 0:
                break
        plain.unlink()
        case = work / "case"
        child([*EK, "keys", "init", "--name", "Bench Examiner"], env)
        child([*EK, "case", "init", str(case), "--case-number", "B", "--title", "bench",
               "--agency", "bench"], env)  # fmt: skip
        runs: dict[str, list[str]] = {
            "acquire disk (encrypted bytes)": [],
            "acquire disk --decrypt": ["--decrypt", "--password-env", "LUKS_PW"],
        }
        best: dict[str, tuple[float, float]] = {}
        for i in range(repeat):
            for name, extra in runs.items():
                item = f"I{i}{len(extra)}"
                cmd = [*EK, "--case", str(case), "acquire", "disk", str(volume), "--item", item,
                       "-a", "sha256", "--no-verify", *extra]  # fmt: skip
                got = child(cmd, env)
                shutil.rmtree(case / "evidence" / item)
                if name not in best or got[0] < best[name][0]:
                    best[name] = got
            out = work / "qemu.raw"
            got = child(
                ["qemu-img", "convert", "--object", secret, "--image-opts",
                 f"driver=luks,key-secret=s0,file.filename={volume}", "-O", "raw", str(out)],
                env,
            )  # fmt: skip
            out.unlink()
            name = "qemu-img convert (decrypt to raw)"
            if name not in best or got[0] < best[name][0]:
                best[name] = got
        total = len(buf)
        for name, (wall, cpu) in best.items():
            print(f"| 512 | {name} | {wall:.2f} | {cpu:.2f} | {total / wall / 1e6:.0f} | "
                  f"{total / cpu / 1e6:.0f} |")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="256MiB", help="buffer size (default 256MiB)")
    parser.add_argument("--read", default="1MiB", help="bytes per read (default 1MiB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--acquire", action="store_true", help="also time acquire disk")
    add_wait_idle(parser)
    args = parser.parse_args()
    total = parse_size(args.size, what="--size")
    read = parse_size(args.read, what="--read")
    buf = os.urandom(total)
    idle = idle_before(args)
    print(f"buffer {total >> 20} MiB, reads of {read >> 10} KiB, AES-256-XTS plain64, "
          f"best of {args.repeat}; CPU idle before: {idle:.0%}; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print("| sector | path | wall s | CPU s | MB/s (wall) | MB/s (CPU) |")
    print("|---|---|---|---|---|---|")
    for size in (512, 4096):
        paths = {
            "one cipher per sector": per_sector(size),
            "batched": batched(size),
            "batched, via LuksMedia.read_at": through_media(size, buf),
        }
        first = buf[:read]
        results = {name: dec(0, first) for name, dec in paths.items()}
        if len(set(results.values())) != 1:
            raise SystemExit(f"the paths disagree for {size}-byte sectors")
        best: dict[str, tuple[float, float]] = {}
        for _ in range(args.repeat):
            for name, dec in paths.items():
                wall, cpu = run(dec, buf, read, size)
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
        for name, (wall, cpu) in best.items():
            print(f"| {size} | {name} | {wall:.2f} | {cpu:.2f} | {total / wall / 1e6:.0f} | "
                  f"{total / cpu / 1e6:.0f} |")  # fmt: skip
        sys.stdout.flush()
    if args.acquire:
        acquire_rows(buf, args.repeat)
    for line in floor():
        print(line)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
