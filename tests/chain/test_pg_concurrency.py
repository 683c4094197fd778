"""Many workstations appending to one PostgreSQL ledger at once, one of them killed with -9 and
the server stopped with `pg_ctl stop -m immediate` (a crash) and started again mid-run.

Oracles: `custody verify` (the whole ledger: signatures, chains, rules, tree, checkpoints), and
the writers' own logs: every append whose call returned (its id fsynced to the log after that)
is in the ledger exactly once, no item is registered twice, no sequence number is missing or
repeated. The full 8 × 500 run is `bench/bench_ledger.py --writers 8 --events 500 --chaos`.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.custody import list_events
from tests.chain.helpers import SECOND
from tests.conftest import EXAMINER, PASSPHRASE, TEST_KDF
from tests.pgserver import PGServer

WRITERS = 8
EACH = 60
ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text("ascii").split()
    except FileNotFoundError:
        return []


@pytest.mark.slow
def test_writers_killed_and_server_restarted(
    tmp_path: Path,
    identity: Identity,
    ek_home: Path,
    pg_server: PGServer,
    pg_url: str,
    invoke: Any,
) -> None:
    second = IdentityStore(ek_home).create(SECOND, PASSPHRASE.encode(), kdf=TEST_KDF)
    case_dir = tmp_path / "case"
    init_case(
        case_dir,
        identity,
        number=f"VKS-PG-{uuid.uuid4().hex[:12]}",
        title="Nhiều máy trạm",
        pins=[second.certificate],
        ledger=pg_url,
    )
    mounts: list[Path] = []
    procs: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"w{w}.log" for w in range(WRITERS)]
    try:
        folders = []
        for w in range(WRITERS):
            folder = case_dir
            if w % 2 and os.geteuid() == 0:
                # another workstation's mount of the same case folder
                folder = tmp_path / f"mnt{w}"
                folder.mkdir()
                subprocess.run(["mount", "--bind", str(case_dir), str(folder)], check=True)
                mounts.append(folder)
            folders.append(folder)
        for w in range(WRITERS):
            home = tmp_path / f"home{w}"
            shutil.copytree(ek_home, home)
            who = EXAMINER if w % 2 == 0 else SECOND
            env = {**os.environ, "EVIDENCEKIT_HOME": str(home)}
            argv = [sys.executable, "-m", "tests.chain.pg_writer", str(folders[w]), who,
                    str(EACH), f"W{w}", str(logs[w]), "300"]  # fmt: skip
            procs.append(subprocess.Popen(argv, env=env, cwd=ROOT, stderr=subprocess.PIPE))
        killed = restarted = False
        give_up = time.monotonic() + 900
        while any(p.poll() is None for p in procs) and time.monotonic() < give_up:
            if not killed and len(_lines(logs[0])) >= EACH // 3:
                procs[0].kill()  # SIGKILL, wherever it is in its append
                killed = True
            done = sum(len(_lines(p)) for p in logs)
            if killed and not restarted and done >= WRITERS * EACH // 2:
                pg_server.stop("immediate")
                pg_server.start()
                restarted = True
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for m in mounts:
            subprocess.run(["umount", str(m)], check=False)
    assert killed and restarted, "the run ended before the kill and the restart"
    assert procs[0].returncode == -9
    for w, p in enumerate(procs[1:], 1):
        err = p.stderr.read().decode() if p.stderr else ""
        assert p.returncode == 0, f"writer {w}: {err}"
        assert len(_lines(logs[w])) == EACH
    res = invoke("--json", "--case", str(case_dir), "custody", "verify")
    doc = json.loads(res.stdout)
    assert res.exit_code == 0, doc["problems"]
    events = list_events(Case.open(case_dir))
    assert [e["seq"] for e in events] == list(range(len(events)))
    registered = collections.Counter(e["item"] for e in events if e["kind"] == "registered")
    assert len(events) == 1 + sum(registered.values())
    assert max(registered.values()) == 1
    acknowledged = [item for log in logs for item in _lines(log)]
    assert len(acknowledged) == len(set(acknowledged))
    missing = [item for item in acknowledged if item not in registered]
    assert not missing, f"acknowledged appends missing from the ledger: {missing[:5]}"
    # what is there without an acknowledgement: at most the killed writer's append in flight
    # and appends whose answer the restart cut off (retried under another id)
    assert len(registered) - len(acknowledged) <= WRITERS + 1
    assert doc["events"] == len(events)
