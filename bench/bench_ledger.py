"""Ledger backends side by side: SQLite (`custody.sqlite`) vs PostgreSQL, same machine.

    .venv/bin/python bench/bench_ledger.py [--events 200] [--writers 1,8] [--chaos]

Starts its own PostgreSQL server (tests/pgserver.py: Debian's initdb + pg_ctl in a temporary
folder, unix socket, fsync on, SCRAM passwords in a PGPASSFILE). For each backend and each
writer count W: a new case, W processes (tests/chain/pg_writer.py) each appending EVENTS signed
events through `record_event`, exactly as W workstations running commands would (one durable
transaction and checkpoint per event); appends/s is all events over the wall time from the
first process started to the last finished (process start and key unlock included, ~1 s).
Then `verify_custody` over that ledger: events/s.

--chaos: the issue's acceptance run, 8 writers × EVENTS on PostgreSQL, one killed with -9 and
the server crashed (`pg_ctl stop -m immediate`) and started again mid-run; prints whether
`custody verify` passes and every acknowledged append is there exactly once.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import add_wait_idle, idle_before  # noqa: E402

from evidencekit.case import Case  # noqa: E402
from evidencekit.identity import IdentityStore  # noqa: E402
from evidencekit.workflows.casework import init_case  # noqa: E402
from evidencekit.workflows.custody import list_events, verify_custody  # noqa: E402
from tests.pgserver import PGServer, start_server, stop_server, unavailable  # noqa: E402

PASSPHRASE = "mật khẩu thử nghiệm 2026"
NAMES = ("Nguyễn Bá Tùng", "Trương Đình Bủng")


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text("ascii").split()
    except FileNotFoundError:
        return []


def _case(work: Path, home: Path, url: str | None) -> Path:
    store = IdentityStore(home)
    a = store.load(NAMES[0], lambda _: PASSPHRASE.encode())
    b = store.load(NAMES[1], lambda _: PASSPHRASE.encode())
    path = work / f"case-{uuid.uuid4().hex[:8]}"
    init_case(path, a, number=f"BENCH-{uuid.uuid4().hex[:10]}", title="Bench",
              pins=[b.certificate], ledger=url)  # fmt: skip
    return path


def _run(
    work: Path, home: Path, case: Path, writers: int, events: int, chaos: PGServer | None = None
) -> tuple[float, list[Path], list[int]]:
    logs = [work / f"{case.name}-w{w}.log" for w in range(writers)]
    procs = []
    t0 = time.perf_counter()
    for w in range(writers):
        wh = work / f"{case.name}-home{w}"
        shutil.copytree(home, wh)
        env = {**os.environ, "EVIDENCEKIT_HOME": str(wh), "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
        argv = [sys.executable, "-m", "tests.chain.pg_writer", str(case), NAMES[w % 2],
                str(events), f"W{w}", str(logs[w]), "900"]  # fmt: skip
        procs.append(subprocess.Popen(argv, env=env, cwd=ROOT))
    killed = restarted = False
    while any(p.poll() is None for p in procs):
        if chaos is not None:
            if not killed and len(_lines(logs[0])) >= events // 3:
                procs[0].kill()
                killed = True
            done = sum(len(_lines(p)) for p in logs)
            if killed and not restarted and done >= writers * events // 2:
                chaos.stop("immediate")
                chaos.start()
                restarted = True
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    if chaos is not None and not (killed and restarted):
        print("chaos: the run ended before the kill and the restart", file=sys.stderr)
    return wall, logs, [p.returncode for p in procs]


def _verify_rate(case: Path) -> tuple[int, float, bool]:
    c = Case.open(case)
    t0 = time.perf_counter()
    status = verify_custody(c)
    return status.events, time.perf_counter() - t0, status.ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=200, help="events per writer")
    ap.add_argument("--writers", default="1,8", help="writer counts, comma-separated")
    ap.add_argument("--chaos", action="store_true", help="8 writers, kill -9 and a crash")
    add_wait_idle(ap)
    args = ap.parse_args()
    why = unavailable()
    if why:
        sys.exit(f"bench_ledger: {why}")
    work = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    server = start_server()
    try:
        home = work / "home"
        os.environ["EVIDENCEKIT_HOME"] = str(home)
        store = IdentityStore(home)
        for name in NAMES:
            store.create(name, PASSPHRASE.encode())
        idle = idle_before(args)
        print(f"CPU idle before the runs: {idle:.0%}; {os.cpu_count()} cores; "
              f"PostgreSQL in {server.bindir}")  # fmt: skip
        if args.chaos:
            case = _case(work, home, server.url())
            wall, logs, codes = _run(work, home, case, 8, args.events, chaos=server)
            acked = [i for log in logs for i in _lines(log)]
            events = list_events(Case.open(case))
            reg = collections.Counter(e["item"] for e in events if e["kind"] == "registered")
            n, secs, ok = _verify_rate(case)
            missing = [i for i in acked if i not in reg]
            others = sorted(set(codes[1:]))
            contiguous = [e["seq"] for e in events] == list(range(len(events)))
            print(
                f"chaos: 8 writers × {args.events}, writer 0 killed (exit {codes[0]}), others "
                f"exit {others}; server crashed and restarted once"
            )
            print(
                f"  {len(acked)} acknowledged appends, {len(reg)} registered events, "
                f"{len(missing)} acknowledged but missing, max per item {max(reg.values())}, "
                f"seqs contiguous: {contiguous}"
            )
            print(
                f"  custody verify: {'OK' if ok else 'FAILED'}, {n} events in {secs:.1f} s; "
                f"run {wall:.1f} s ({len(acked) / wall:.0f} appends/s through the crash)"
            )
            return
        print("| backend | writers | events | wall s | appends/s | verify events/s |")
        print("|---|---|---|---|---|---|")
        for label, url in (("SQLite", None), ("PostgreSQL", server.url())):
            for writers in [int(w) for w in args.writers.split(",")]:
                case = _case(work, home, url)
                wall, logs, codes = _run(work, home, case, writers, args.events)
                assert codes == [0] * writers, codes
                total = sum(len(_lines(p)) for p in logs)
                n, secs, ok = _verify_rate(case)
                assert ok, f"{label} ledger does not verify"
                print(f"| {label} | {writers} | {total} | {wall:.1f} | {total / wall:.1f} | "
                      f"{n / secs:,.0f} ({n} in {secs:.2f} s) |", flush=True)  # fmt: skip
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
