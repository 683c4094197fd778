"""Two workstations racing for one item id on shared storage, the ledger in PostgreSQL (issue 14,
"one item state machine": the id is reserved by the attempt record's exclusive `link` and the
staging folder's `mkdir`, not by a `started` ledger event; docs/commit-protocol.md).

A workstation is a process with a host name of its own (`unshare --uts`, as root), its own
examiner (both pinned) and its own bind mount of the one case folder (`mount --bind`, as a second
NFS client would see it). Both are stopped by the barrier of tests/paused.py: the loser just
before it links its attempt record (it has passed the guard: id free, sources checked, examiner
pinned, key unlocked), the winner after it reserved the id and wrote its artifacts. No sleeping:
the test decides who goes on.

Oracles: `sha256sum` of every file of the winner's attempt before and after the loser ran; the
custody ledger (`custody verify`, and the events of the item: exactly one); `verify` of the item
(re-hashes every sealed file); `ewfverify` for E01; `sha256sum` of the source against the image;
`case show --json` read through both mounts from both hosts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.custody import list_events
from tests.chain.conftest import pg_server, pg_url  # noqa: F401  (the session's PostgreSQL)
from tests.chain.helpers import SECOND
from tests.conftest import EXAMINER, PASSPHRASE, TEST_KDF
from tests.paused import REPO, Paused, env
from tests.peers import need_peer

MiB = 1 << 20
SEED = 1414
HOST_A, HOST_B = "ws-a", "ws-b"
# the loser: paused once it passed the guard, just before its exclusive link of the record
BEFORE_LINK = "evidencekit.workflows.commit:_link_record"
# the winner: paused once it reserved the id and wrote its artifacts, before sealing them
WRITTEN = {
    "disk": "evidencekit.workflows.acquire_disk.record:seal_item",
    "files": "evidencekit.workflows.collect:seal_item",
    "seal": "evidencekit.workflows.seal:seal_item",
}
RECORDED_KIND = {"disk": "acquired", "files": "collected", "seal": "sealed"}


def _host(name: str) -> tuple[str, ...]:
    """Run the command under host name `name` (a UTS namespace of its own; exec keeps the pid)."""
    return ("unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name)


class Workstation:
    """One examiner's workstation: a host name, an identity and a mount of the case folder."""

    def __init__(self, host: str, who: str, mount: Path, home: Path) -> None:
        self.host, self.who, self.mount = host, who, mount
        self.environ = {
            **env(),
            "EVIDENCEKIT_HOME": str(home),
            "EVIDENCEKIT_IDENTITY": who,
            "EVIDENCEKIT_PASSPHRASE": PASSPHRASE,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *_host(self.host),
                sys.executable,
                "-m",
                "evidencekit",
                "--case",
                str(self.mount),
                *args,
            ],
            cwd=REPO,
            env=self.environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def paused(self, tmp: Path, step: str, *args: str) -> Paused:
        return Paused(tmp, step, self.mount, *args, environ=self.environ, prefix=_host(self.host))

    def show(self) -> dict[str, Any]:
        r = self.run("--json", "case", "show")
        assert r.returncode == 0, r.stderr
        return dict(json.loads(r.stdout))


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


@pytest.fixture
def lab(
    tmp_path: Path,
    identity: Identity,
    ek_home: Path,
    pg_url: str,  # noqa: F811
) -> Iterator[tuple[Path, Workstation, Workstation]]:
    """A case whose ledger is in PostgreSQL, mounted at two paths, and two workstations."""
    if os.geteuid() != 0:
        pytest.skip("needs root: mount --bind and unshare --uts")
    need_peer("unshare")
    second = IdentityStore(ek_home).create(SECOND, PASSPHRASE.encode(), kdf=TEST_KDF)
    case_dir = tmp_path / "case"
    init_case(
        case_dir,
        identity,
        number=f"VKS-PG-{uuid.uuid4().hex[:12]}",
        title="Hai máy trạm, một vật chứng",
        pins=[second.certificate],
        ledger=pg_url,
    )
    mounts = []
    try:
        for name in ("mnt-a", "mnt-b"):
            m = tmp_path / name
            m.mkdir()
            subprocess.run(["mount", "--bind", str(case_dir), str(m)], check=True)
            mounts.append(m)
        yield (
            case_dir,
            Workstation(HOST_A, EXAMINER, mounts[0], ek_home),
            Workstation(HOST_B, SECOND, mounts[1], ek_home),
        )
    finally:
        Paused.reap()
        for m in mounts:
            subprocess.run(["umount", str(m)], check=False)


def _sha256(path: Path) -> str:
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def _digests(root: Path) -> dict[str, str]:
    """sha256sum of every file under `root` (the winner's attempt), by relative path."""
    return {str(p.relative_to(root)): _sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _source(tmp_path: Path, kind: str) -> Path:
    rnd = random.Random(f"{SEED}-{kind}")
    if kind == "disk":
        src = tmp_path / "source.bin"
        src.write_bytes(rnd.randbytes(4 * MiB))  # whole sectors: E01 too
        return src
    tree = tmp_path / "Thu giữ"
    (tree / "Biên bản").mkdir(parents=True)
    for n in range(4):
        (tree / "Biên bản" / f"tệp {n}.bin").write_bytes(rnd.randbytes(200_000))
    return tree


def _args(kind: str, fmt: str, src: Path, item: str) -> tuple[str, ...]:
    if kind == "disk":
        return ("acquire", "disk", str(src), "--item", item,
                *(("--format", "e01") if fmt == "e01" else ()))  # fmt: skip
    if kind == "files":
        return ("acquire", "files", str(src), "--item", item)
    return ("seal", str(src), "--item", item)


def _same_truth(a: Workstation, b: Workstation) -> dict[str, Any]:
    """`case show` through either mount, from either host, says the same (but for the paths
    and what only the attempt's own host can know: whether its process runs)."""

    def norm(doc: dict[str, Any]) -> dict[str, Any]:
        doc = json.loads(
            json.dumps(doc).replace(str(a.mount), "CASE").replace(str(b.mount), "CASE")
        )
        for att in doc.get("unfinished", []):
            att.pop("running", None)
        return doc

    sa, sb = a.show(), b.show()
    assert norm(sa) == norm(sb)
    return sa


def _events(case_dir: Path, item: str, kind: str) -> list[dict[str, Any]]:
    return [e for e in list_events(Case.open(case_dir), item) if e["kind"] == kind]


@pytest.mark.parametrize(
    ("kind", "fmt"), [("disk", "raw"), ("disk", "e01"), ("files", "folder"), ("seal", "folder")]
)
def test_two_workstations_one_item(
    tmp_path: Path, lab: tuple[Path, Workstation, Workstation], kind: str, fmt: str
) -> None:
    case_dir, ws_a, ws_b = lab
    src = _source(tmp_path, kind)
    item = "VC-01"
    args = _args(kind, fmt, src, item)
    # B passes the guard (the id is free) and stops before reserving it; then A passes the
    # guard too, reserves the id and writes its artifacts: both passed the guard before
    # either reserved
    loser = ws_b.paused(tmp_path, BEFORE_LINK, *args)
    winner = ws_a.paused(tmp_path, WRITTEN[kind], *args)
    staging = case_dir / "evidence" / ".staging"
    before = _digests(staging)
    assert any(k.startswith(f"{item}/") for k in before), before
    shown = ws_b.show()["unfinished"]
    assert [(u["item"], u["host"], u["pid"], u["running"]) for u in shown] == [
        (item, HOST_A, winner.proc.pid, None)
    ]
    assert [u["running"] for u in ws_a.show()["unfinished"]] == [True]

    rc, _, err = loser.release()
    assert rc == 1, err  # operational: the id is taken (DESIGN.md exit codes)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    said = lines[0]
    assert "Traceback" not in err and "internal error" not in err, err
    assert f"'{item}'" in said and "reserved by another attempt" in said, err
    assert f"pid {winner.proc.pid} on {HOST_A}" in said, err
    assert _digests(staging) == before, "the loser touched the winner's attempt"

    rc, _, err = winner.release()
    assert rc == 0, err
    assert not staging.exists()
    final = case_dir / "evidence" / item
    assert json.loads((final / f"{item}.seal.json").read_text("utf-8"))["status"] == "complete"
    assert len(_events(case_dir, item, RECORDED_KIND[kind])) == 1
    shown_a = _same_truth(ws_a, ws_b)
    assert shown_a["unfinished"] == [] and item in shown_a["items"]
    for ws in (ws_a, ws_b):
        v = ws.run("verify", item)
        assert v.returncode == 0, v.stdout + v.stderr
        c = ws.run("custody", "verify")
        assert c.returncode == 0, c.stdout + c.stderr
    if kind == "disk" and fmt == "raw":
        assert _sha256(final / f"{item}.raw") == _sha256(src)
    if fmt == "e01":
        need_peer("ewfverify")
        v = subprocess.run(["ewfverify", "-q", str(final / f"{item}.E01")], capture_output=True)
        assert v.returncode == 0, v.stdout


def test_released_together(tmp_path: Path, lab: tuple[Path, Workstation, Workstation]) -> None:
    """Both stopped just before the exclusive link and let go at once: whichever wins, exactly
    one item is sealed, recorded once and verifies, and the loser says the id is taken."""
    case_dir, ws_a, ws_b = lab
    src = _source(tmp_path, "disk")
    args = _args("disk", "raw", src, "VC-02")
    a = ws_a.paused(tmp_path, BEFORE_LINK, *args)
    b = ws_b.paused(tmp_path, BEFORE_LINK, *args)
    for p in (a, b):
        with open(p.go, "w") as fh:
            fh.write("go\n")
    ends = [p._ended() for p in (a, b)]
    assert sorted(e.returncode for e in ends) == [0, 1], ends
    lost = next(e for e in ends if e.returncode == 1)
    assert "'VC-02'" in lost.stderr and (
        "reserved by another attempt" in lost.stderr or "already exists" in lost.stderr
    ), lost.stderr
    assert len(_events(case_dir, "VC-02", "acquired")) == 1
    final = case_dir / "evidence" / "VC-02"
    assert _sha256(final / "VC-02.raw") == _sha256(src)
    assert _same_truth(ws_a, ws_b)["unfinished"] == []
    for ws in (ws_a, ws_b):
        assert ws.run("verify", "VC-02").returncode == 0
        assert ws.run("custody", "verify").returncode == 0


def test_winner_killed_resume_on_its_host(
    tmp_path: Path, lab: tuple[Path, Workstation, Workstation]
) -> None:
    """The winner killed with SIGKILL mid-acquisition: the other workstation sees the unfinished
    attempt with its host and `running: null`, and its `--resume` is refused (it cannot know
    whether the process still runs; docs/commit-protocol.md, "Shared storage"), touching
    nothing; on the attempt's own host `running` is false and the resume ends complete."""
    case_dir, ws_a, ws_b = lab
    src = _source(tmp_path, "disk")
    item = "VC-03"
    # the 2nd of four 1 MiB block reads: the image is partly written
    p = ws_a.paused(
        tmp_path, "evidencekit.acquire.imaging.reader:ResilientReader.readinto#2",
        *_args("disk", "raw", src, item),
    )  # fmt: skip
    pid = p.proc.pid
    rc, _, _ = p.kill(signal.SIGKILL)
    assert rc == -signal.SIGKILL
    staging = case_dir / "evidence" / ".staging"
    before = _digests(staging)
    [seen_b] = ws_b.show()["unfinished"]
    assert (seen_b["item"], seen_b["host"], seen_b["pid"]) == (item, HOST_A, pid)
    assert seen_b["running"] is None and seen_b["recorded"] is False
    [seen_a] = ws_a.show()["unfinished"]
    assert seen_a["running"] is False
    _same_truth(ws_a, ws_b)

    r = ws_b.run("acquire", "disk", str(src), "--resume", item)
    assert r.returncode == 1, r.stdout + r.stderr
    said = r.stderr.splitlines()[0]
    assert f"'{item}'" in said and f"pid {pid} on {HOST_A}" in said, r.stderr
    assert "Traceback" not in r.stderr
    assert _digests(staging) == before, "the refused resume touched the attempt"
    # nor may the other host discard it
    r = ws_b.run("case", "recover", item, "--discard", "máy trạm khác")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"'{item}'" in r.stderr and HOST_A in r.stderr.splitlines()[0], r.stderr
    assert _digests(staging) == before
    assert _events(case_dir, item, "attempt_discarded") == []

    r = ws_a.run("acquire", "disk", str(src), "--resume", item)
    assert r.returncode == 0, r.stderr
    final = case_dir / "evidence" / item
    assert _sha256(final / f"{item}.raw") == _sha256(src)
    assert len(_events(case_dir, item, "acquired")) == 1
    shown = _same_truth(ws_a, ws_b)
    assert shown["unfinished"] == [] and item in shown["items"]
    for ws in (ws_a, ws_b):
        assert ws.run("verify", item).returncode == 0
        assert ws.run("custody", "verify").returncode == 0


def _clone(name: str, machine_id: Path) -> tuple[str, ...]:
    """Another machine with the same host name `name` (a cloned workstation): its own UTS, mount
    and PID namespaces (it cannot see this machine's processes) and its own /etc/machine-id."""
    return (
        *("unshare", "--uts", "--mount", "--pid", "--fork", "--mount-proc", "sh", "-c"),
        'hostname "$0" && mount --bind "$1" /etc/machine-id && shift && exec "$@"',
        name,
        str(machine_id),
    )


def test_same_host_name_other_machine(
    tmp_path: Path, lab: tuple[Path, Workstation, Workstation]
) -> None:
    """Two workstations with one host name (cloned machines): the attempt of one, still running,
    is never judged gone by the other, which cannot see its pid — `case show` there says
    `running: null`, and its `--resume` and `case recover --discard` are refused, touching
    nothing. (Before the machine id was recorded it said `running: false`, and the resume took
    over the live attempt's files.)"""
    if not Path("/etc/machine-id").is_file():
        pytest.skip("no /etc/machine-id here")
    case_dir, ws_a, ws_b = lab
    fake = tmp_path / "machine-id"
    fake.write_text(uuid.uuid4().hex + "\n")
    src = _source(tmp_path, "disk")
    item = "VC-04"
    winner = ws_a.paused(tmp_path, WRITTEN["disk"], *_args("disk", "raw", src, item))
    staging = case_dir / "evidence" / ".staging"
    before = _digests(staging)

    def on_clone(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *_clone(HOST_A, fake),
                sys.executable,
                "-m",
                "evidencekit",
                "--case",
                str(ws_b.mount),
                *args,
            ],
            cwd=REPO,
            env=ws_b.environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    shown = on_clone("--json", "case", "show")
    assert shown.returncode == 0, shown.stderr
    [seen] = json.loads(shown.stdout)["unfinished"]
    assert (seen["item"], seen["host"], seen["pid"]) == (item, HOST_A, winner.proc.pid)
    assert seen["running"] is None, seen
    r = on_clone("acquire", "disk", str(src), "--resume", item)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    r = on_clone("case", "recover", item, "--discard", "máy nhân bản")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert _digests(staging) == before, "the other machine touched the running attempt"

    rc, _, err = winner.release()
    assert rc == 0, err
    final = case_dir / "evidence" / item
    assert _sha256(final / f"{item}.raw") == _sha256(src)
    assert len(_events(case_dir, item, "acquired")) == 1
    assert _events(case_dir, item, "attempt_discarded") == []
    for ws in (ws_a, ws_b):
        assert ws.run("verify", item).returncode == 0
        assert ws.run("custody", "verify").returncode == 0


def test_resume_taking_back_a_published_item(
    tmp_path: Path, lab: tuple[Path, Workstation, Workstation]
) -> None:
    """A resume of an item sealed incomplete links its record, then renames the item back into
    staging. Another workstation's `case show` between the two must not remove that record
    (the item still looks published): it is the resume's reservation, and without it the
    folder renamed back would be an attempt with no owner, open to another resume."""
    case_dir, ws_a, ws_b = lab
    src = _source(tmp_path, "disk")
    item = "VC-05"
    p = ws_a.paused(
        tmp_path, "evidencekit.acquire.imaging.reader:ResilientReader.readinto#2",
        *_args("disk", "raw", src, item),
    )  # fmt: skip
    rc, _, err = p.signal(signal.SIGINT)  # Ctrl-C: sealed incomplete, recorded, published
    assert rc == 1, err
    final = case_dir / "evidence" / item
    assert json.loads((final / f"{item}.seal.json").read_text("utf-8"))["status"] == "incomplete"
    resume = ws_a.paused(
        tmp_path, "evidencekit.workflows.commit:_take_back", "acquire", "disk", str(src),
        "--resume", item,
    )  # fmt: skip
    record = case_dir / "evidence" / ".staging" / f"{item}.attempt.json"
    held = record.read_bytes()
    for ws in (ws_b, ws_a):  # another host, and its own host (the process runs)
        shown = ws.show()
        assert shown["unfinished"] == [] and item in shown["items"]
        assert record.read_bytes() == held, f"{ws.host}'s case show removed the resume's record"
    r = ws_b.run("acquire", "disk", str(src), "--resume", item)
    assert r.returncode == 1 and f"'{item}'" in r.stderr, r.stderr
    rc, _, err = resume.release()
    assert rc == 0, err
    assert _sha256(final / f"{item}.raw") == _sha256(src)
    assert [e["details"]["status"] for e in _events(case_dir, item, "acquired")] == [
        "incomplete",
        "complete",
    ]
    assert not (case_dir / "evidence" / ".staging").exists()
    for ws in (ws_a, ws_b):
        assert ws.run("verify", item).returncode == 0
        assert ws.run("custody", "verify").returncode == 0
