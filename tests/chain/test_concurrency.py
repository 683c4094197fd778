"""Several processes appending at once, and kill -9 in the middle of appends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from evidencekit.case import Case
from evidencekit.identity import Identity
from evidencekit.workflows.custody import list_events, record_event, verify_custody
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from evidencekit.case import Case
    from evidencekit.identity import IdentityStore
    from evidencekit.workflows.custody import record_event, record_drafts, make_draft

    case = Case.open(Path(sys.argv[1]))
    identity = IdentityStore().load(None, lambda name: sys.argv[2].encode())
    tag, count, batch = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    out = sys.stdout
    for i in range(count):
        if batch > 1:
            drafts = [make_draft(case, "note", "SHARED", note=f"{tag}-{i}-{j}")
                      for j in range(batch)]
            res = record_drafts(case, identity, drafts)
            out.write(f"ACK {res.events[-1].seq} {tag}-{i}\\n")
        else:
            se = record_event(case, identity, "note", "SHARED", note=f"{tag}-{i}")
            out.write(f"ACK {se.seq} {tag}-{i}\\n")
        out.flush()
    """
)


def _spawn(case_dir: Path, tag: str, count: int, batch: int = 1) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, str(case_dir), PASSPHRASE, tag, str(count), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_four_processes_append_2000_events(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "SHARED", description="dùng chung")
    procs = [_spawn(case_dir, f"p{n}", 500) for n in range(4)]
    acked: dict[int, str] = {}
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        for line in out.splitlines():
            _, seq, note = line.split()
            assert int(seq) not in acked
            acked[int(seq)] = note
    assert len(acked) == 2000
    events = list_events(case, "SHARED")
    assert len(events) == 2001
    by_seq = {e["seq"]: e["note"] for e in events}
    assert all(by_seq[s] == note for s, note in acked.items())
    status = verify_custody(case)
    assert status.ok, status.problems[:5]
    assert status.events == 2002 and status.tree_size == 2002
    assert status.checkpoints == 2002


def _kill_after(case_dir: Path, acks: int, batch: int) -> dict[int, str]:
    proc = _spawn(case_dir, f"k{acks}", 10_000, batch)
    acked: dict[int, str] = {}
    assert proc.stdout is not None
    try:
        while len(acked) < acks:
            line = proc.stdout.readline()
            if not line:
                break
            _, seq, note = line.split()
            acked[int(seq)] = note
        # Let it get well into the next transaction before the kill.
        time.sleep(0.003 * batch)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(acked) == acks, proc.stderr.read() if proc.stderr else ""
    return acked


def test_kill_9_during_appends(case_dir: Path, identity: Identity) -> None:
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "SHARED", description="x")
    acked: dict[int, str] = {}
    for acks, batch in ((40, 1), (5, 200), (25, 1)):
        acked.update(_kill_after(case_dir, acks, batch))
        status = verify_custody(case)
        assert status.ok, status.problems[:5]
    notes = {e["seq"]: e["note"] for e in list_events(case, "SHARED")}
    for seq, note in acked.items():
        # single appends ack their note; batches ack their last event's seq
        assert seq in notes
        assert notes[seq].startswith(note)
    # the ledger still takes appends after the crashes
    record_event(case, identity, "note", "SHARED", note="sau sự cố")
    assert verify_custody(case).ok
