"""SIGTERM and SIGHUP stop a command like Ctrl-C (issue 14): the work so far is sealed
`incomplete` and recorded, exit 1; a second signal stops at once. Real processes, paused at a
step by a FIFO barrier (tests/paused.py): the signal lands exactly there."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evidencekit.case import Case
from evidencekit.hash.seal.read import load_seal
from evidencekit.workflows.custody import list_events
from tests.workflows.test_commit_protocol import (  # the barrier and its clean-up fixture
    REPO,
    Paused,
    _cli,
    _env,
    _no_paused_command_outlives_its_test,
)

__all__ = ["_no_paused_command_outlives_its_test"]  # autouse here too

SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def _signal(paused: Paused, sig: int) -> tuple[int, str]:
    paused.proc.send_signal(sig)
    _out, err = paused.proc.communicate(timeout=120)
    return paused.proc.returncode, err.decode()


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_seal_interrupted_by_a_signal_is_sealed_incomplete_and_recorded(
    sig: int, case_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "tệp nguồn"
    src.mkdir()
    for n in range(3):
        (src / f"ảnh {n}.jpg").write_bytes(bytes([n]) * 5000)
    # paused (and signalled) as the second file starts: the first one is copied and recorded
    paused = Paused(
        tmp_path, "evidencekit.workflows.seal:_copy_and_hash#2", case_dir, "seal", str(src),
        "--item", "SIG",
    )  # fmt: skip
    code, err = _signal(paused, sig)
    assert code == 1, err
    assert "interrupted" in err and "sealed as incomplete" in err, err
    if sig != signal.SIGINT:
        assert f"interrupted by {signal.Signals(sig).name}" in err
    item = case_dir / "evidence" / "SIG"
    assert load_seal(item / "SIG.seal.json").status == "incomplete"
    (event,) = list_events(Case.open(case_dir), "SIG")
    assert event["kind"] == "sealed"
    code, out, _ = _cli(case_dir, "--json", "verify", "SIG")
    assert code == 4, out  # verifies, but is not complete
    assert not list((case_dir / "evidence").glob(".staging/*"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_acquire_disk_interrupted_by_a_signal_is_sealed_incomplete(
    sig: int, case_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "disk.raw"
    src.write_bytes(b"".join(i.to_bytes(8, "little") * 64 for i in range(8192)))
    paused = Paused(
        tmp_path, "evidencekit.acquire.imaging.reader:ResilientReader.readinto", case_dir,
        "acquire", "disk", str(src), "--item", "DISK",
    )  # fmt: skip
    code, err = _signal(paused, sig)
    assert code == 1, err
    assert f"interrupted by {signal.Signals(sig).name}" in err, err
    seals = list(case_dir.glob("evidence/**/DISK.seal.json"))
    assert len(seals) == 1, seals
    doc = load_seal(seals[0]).document
    assert doc["status"] == "incomplete" and "interrupted" in doc["facts"]["error"]
    (event,) = list_events(Case.open(case_dir), "DISK")
    assert event["details"]["status"] == "incomplete"
    code, out, _ = _cli(case_dir, "--json", "case", "show")
    assert code == 0, out
    assert "DISK" in json.dumps(json.loads(out))


def test_a_second_signal_stops_at_once() -> None:
    """The handler itself: the first signal raises (the command cleans up); a second one, while
    the cleanup runs, ends the process with exit 1 and a line saying nothing was deleted."""
    code = textwrap.dedent(
        """
        import os, signal, sys
        from evidencekit.cli.runtime import Terminated, install_signal_handlers
        install_signal_handlers()
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()
        except Terminated as exc:
            print("first:", exc, flush=True)
            os.kill(os.getpid(), signal.SIGHUP)  # during the cleanup
            signal.pause()
        print("not reached", flush=True)
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=_env(), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert res.returncode == 1, res.stderr
    assert res.stdout == "first: SIGTERM\n"
    assert "SIGHUP again: stopping now" in res.stderr


@pytest.mark.parametrize(
    ("step", "state"),
    [
        # a small file is read whole before its header is written
        ("evidencekit.acquire.logical.tar_writer:_Filler.readinto#2", "before it was copied"),
        # the second file is in the tar, its entry not yet listed
        ("evidencekit.acquire.logical.collector:CollectedFile#2", "just after copying"),
    ],
    ids=["before-header", "after-member"],
)
def test_ctrl_c_in_acquire_files_leaves_a_collection_that_verifies_as_incomplete(
    step: str, state: str, case_dir: Path, tmp_path: Path
) -> None:
    """Issue 14, item 5: the manifest never lists a member the tar does not hold."""
    import tarfile

    src = tmp_path / "thư mục"
    src.mkdir()
    for n in range(4):
        (src / f"tệp {n}.txt").write_bytes(f"nội dung {n}\n".encode() * 100)
    paused = Paused(tmp_path, step, case_dir, "acquire", "files", str(src), "--item", "F")
    code, err = _signal(paused, signal.SIGINT)
    assert code == 1 and "interrupted" in err, err
    item = case_dir / "evidence" / "F"
    manifest = json.loads((item / "F.manifest.json").read_text("utf-8"))
    with tarfile.open(item / "F.tar") as tar:
        members = set(tar.getnames())
    listed = [f for f in manifest["files"] if f.get("member")]
    assert {f["member"] for f in listed} <= members, (listed, members)
    assert any(state in (f.get("error") or "") for f in manifest["files"]), manifest["files"]
    code, out, _ = _cli(case_dir, "--json", "verify", "F")
    assert code == 4, out  # verifies, incomplete: no member-missing
