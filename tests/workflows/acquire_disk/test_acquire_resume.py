"""`acquire disk --resume ITEM` (issue 19 "Resume", issue 14 "Recovery"): an acquisition interrupted
by Ctrl-C, SIGTERM or kill -9 is continued from the same source; the image is byte for byte the
source (`sha256sum`/`md5sum`), `verify` and `custody verify` exit 0, the seal and log say it was
resumed, and the ledger's superseding event passes the custody rules.

The interruption is injected deterministically: the command is paused before its Nth block read
(tests/paused.py) and signalled there.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults._acquire_harness import (
    Paused,
    assert_truthful,
    events,
    media_sha256,
    run,
    sha256,
)
from tests.peers import need_root

READ = "evidencekit.acquire.imaging.reader:ResilientReader.readinto"
MiB = 1 << 20


@pytest.fixture(autouse=True)
def _reap() -> Iterator[None]:
    yield
    Paused.reap()


def _source(tmp_path: Path, size: int = 5 * MiB + 1234) -> Path:
    src = tmp_path / "source.bin"
    src.write_bytes(os.urandom(size))
    return src


def _image(case_dir: Path, item: str) -> list[Path]:
    folder = case_dir / "evidence" / item
    raw = folder / f"{item}.raw"
    return [raw] if raw.exists() else sorted(folder.glob(f"{item}.[0-9][0-9][0-9]"))


def _seal(case_dir: Path, item: str) -> dict[str, object]:
    return dict(json.loads((case_dir / "evidence" / item / f"{item}.seal.json").read_text()))


def _interrupt(tmp_path: Path, case_dir: Path, src: Path, sig: int, *extra: str) -> int:
    p = Paused(tmp_path, f"{READ}#3", case_dir, "acquire", "disk", str(src), "--item", "D1", *extra)
    assert p.reached
    rc, _, _ = p.signal(sig)
    return rc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("fmt", ["raw", "split"])
def test_resume_after_interruption_gives_the_source(
    tmp_path: Path, case_dir: Path, sig: int, fmt: str
) -> None:
    src = _source(tmp_path)
    extra = ("--format", "split", "--segment-size", "2MiB") if fmt == "split" else ()
    rc = _interrupt(tmp_path, case_dir, src, sig, "-a", "md5,sha256", *extra)
    state = assert_truthful(case_dir, "D1")
    if sig == signal.SIGKILL:
        assert rc == -signal.SIGKILL and state == "unfinished"
    else:
        assert rc == 1 and state == "incomplete"
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert "resumed at byte" in r.stdout
    files = _image(case_dir, "D1")
    assert media_sha256(files) == sha256(src)
    if fmt == "split":
        assert [f.name for f in files] == ["D1.001", "D1.002", "D1.003"]
        assert [f.stat().st_size for f in files] == [2 * MiB, 2 * MiB, MiB + 1234]
    md5 = subprocess.run(["md5sum", str(src)], capture_output=True, text=True).stdout.split()[0]
    seal = _seal(case_dir, "D1")
    assert seal["status"] == "complete"
    facts = seal["facts"]
    assert isinstance(facts, dict)
    resumed = facts["resumed"]
    assert resumed["mode"] == "resume" and resumed["from_offset"] < src.stat().st_size
    if sig != signal.SIGKILL:  # the pump hands every block read to the writer first
        assert resumed["from_offset"] == 2 * MiB
    # the digests chosen by the interrupted run (-a md5,sha256) are kept, and right
    combined = json.dumps(seal["combined"])
    assert f"md5:{md5}" in combined and f"sha256:{sha256(src)}" in combined
    assert "sha1:" not in combined
    log = (case_dir / "evidence" / "D1" / "D1.log").read_text()
    assert "RESUMED" in log and f"resumed at byte {resumed['from_offset']}" in log
    assert run(case_dir, "verify", "D1").returncode == 0
    assert run(case_dir, "custody", "verify").returncode == 0
    evs = [e for e in events(case_dir, "D1") if e["kind"] == "acquired"]
    if sig == signal.SIGKILL:
        assert len(evs) == 1 and "supersedes" not in evs[0]["details"]
    else:
        assert [e["details"]["status"] for e in evs] == ["incomplete", "complete"]
        assert evs[1]["details"]["supersedes"] == evs[0]["details"]["seal_sha256"]
        assert resumed["earlier"]["seal_sha256"] == evs[0]["details"]["seal_sha256"]
    assert assert_truthful(case_dir, "D1") == "complete"
    # a complete item is never resumed again (nor superseded)
    again = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert again.returncode == 1 and "nothing to resume" in again.stderr


def test_resume_refuses_another_source_and_changes_nothing(tmp_path: Path, case_dir: Path) -> None:
    src = _source(tmp_path)
    assert _interrupt(tmp_path, case_dir, src, signal.SIGINT) == 1
    before = {p.name: p.read_bytes() for p in (case_dir / "evidence" / "D1").iterdir()}
    other = tmp_path / "other.bin"
    other.write_bytes(src.read_bytes())  # same size and bytes, another file (inode)
    r = run(case_dir, "acquire", "disk", str(other), "--resume", "D1")
    assert r.returncode == 1
    assert "is not the source of the interrupted acquisition of 'D1': its inode" in r.stderr
    shorter = tmp_path / "short.bin"
    shorter.write_bytes(src.read_bytes()[:-512])
    r = run(case_dir, "acquire", "disk", str(shorter), "--resume", "D1")
    assert r.returncode == 1 and "its size is" in r.stderr
    # put back as it was: the same files, the item published, still incomplete
    after = {p.name: p.read_bytes() for p in (case_dir / "evidence" / "D1").iterdir()}
    assert after == before
    assert assert_truthful(case_dir, "D1") == "incomplete"
    assert run(case_dir, "acquire", "disk", str(src), "--resume", "D1").returncode == 0
    assert assert_truthful(case_dir, "D1") == "complete"


def test_resume_usage_errors(tmp_path: Path, case_dir: Path) -> None:
    src = _source(tmp_path, MiB)
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "NOPE")
    assert r.returncode == 2 and "no item or unfinished attempt 'NOPE'" in r.stderr
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "X", "--item", "X")
    assert r.returncode == 2 and "either --item" in r.stderr
    r = run(case_dir, "acquire", "disk", str(src))
    assert r.returncode == 2
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "X", "--format", "e01", "-a", "md5")
    assert r.returncode == 2 and "leave out --format, --algorithms" in r.stderr, r.stderr


def test_a_second_interruption_while_resuming_is_resumed_again(
    tmp_path: Path, case_dir: Path
) -> None:
    src = _source(tmp_path)
    assert _interrupt(tmp_path, case_dir, src, signal.SIGTERM) == 1
    # the resume killed outright before its 2nd read of the source (the written part was
    # re-hashed by then; the image reads are not the reader's)
    p = Paused(tmp_path, f"{READ}#2", case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert p.reached
    assert p.signal(signal.SIGKILL)[0] == -signal.SIGKILL
    assert assert_truthful(case_dir, "D1") == "unfinished"
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert media_sha256(_image(case_dir, "D1")) == sha256(src)
    assert assert_truthful(case_dir, "D1") == "complete"
    evs = [e for e in events(case_dir, "D1") if e["kind"] == "acquired"]
    assert [e["details"]["status"] for e in evs] == ["incomplete", "complete"]


def test_redo_after_discarding_an_unfinished_attempt(tmp_path: Path, case_dir: Path) -> None:
    src = _source(tmp_path)
    assert _interrupt(tmp_path, case_dir, src, signal.SIGKILL) == -signal.SIGKILL
    r = run(case_dir, "case", "recover", "D1", "--discard", "killed; imaged again")
    assert r.returncode == 0, r.stderr
    assert assert_truthful(case_dir, "D1") == "absent"
    r = run(case_dir, "acquire", "disk", str(src), "--item", "D1")
    assert r.returncode == 0, r.stderr
    assert media_sha256(_image(case_dir, "D1")) == sha256(src)
    assert assert_truthful(case_dir, "D1") == "complete"


def test_resume_an_e01_redoes_it(tmp_path: Path, case_dir: Path) -> None:
    src = _source(tmp_path, 5 * MiB)  # E01 stores whole sectors
    assert _interrupt(tmp_path, case_dir, src, signal.SIGINT, "--format", "e01") == 1
    assert assert_truthful(case_dir, "D1") == "incomplete"
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 0, r.stderr
    seal = _seal(case_dir, "D1")
    assert seal["facts"]["resumed"]["mode"] == "redo"  # type: ignore[index]
    aside = Path(seal["facts"]["resumed"]["earlier_files_set_aside"])  # type: ignore[index]
    assert (aside / "D1.E01").is_file() and (aside / "D1.seal.json").is_file()
    assert assert_truthful(case_dir, "D1") == "complete"


def test_resume_from_a_loop_device_after_kill_9(tmp_path: Path, case_dir: Path) -> None:
    need_root()
    backing = _source(tmp_path, 6 * MiB)
    dev = subprocess.run(
        ["losetup", "--find", "--show", "-r", str(backing)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        p = Paused(tmp_path, f"{READ}#4", case_dir, "acquire", "disk", dev, "--item", "D1")
        assert p.reached
        assert p.signal(signal.SIGKILL)[0] == -signal.SIGKILL
        assert assert_truthful(case_dir, "D1") == "unfinished"
        # another device of the same size is not the source
        other = _source(tmp_path / "o", 6 * MiB) if (tmp_path / "o").mkdir() is None else None
        assert other is not None
        dev2 = subprocess.run(
            ["losetup", "--find", "--show", "-r", str(other)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        try:
            r = run(case_dir, "acquire", "disk", dev2, "--resume", "D1")
            assert r.returncode == 1 and "loop_backing_file" in r.stderr, r.stderr
        finally:
            subprocess.run(["losetup", "-d", dev2], check=False)
        r = run(case_dir, "acquire", "disk", dev, "--resume", "D1")
        assert r.returncode == 0, r.stderr
        assert media_sha256(_image(case_dir, "D1")) == sha256(backing)
        seal = _seal(case_dir, "D1")
        assert seal["facts"]["resumed"]["earlier"]["state"] == "unfinished"  # type: ignore[index]
        assert assert_truthful(case_dir, "D1") == "complete"
    finally:
        subprocess.run(["losetup", "-d", dev], check=False)


def test_a_partial_image_changed_since_its_seal_is_not_continued(
    tmp_path: Path, case_dir: Path
) -> None:
    src = _source(tmp_path)
    assert _interrupt(tmp_path, case_dir, src, signal.SIGINT) == 1
    raw = case_dir / "evidence" / "D1" / "D1.raw"
    data = bytearray(raw.read_bytes())
    data[1000] ^= 0xFF  # one flipped byte in what the interrupted run sealed
    raw.write_bytes(bytes(data))
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 3, r.stderr
    assert "D1.raw has changed since the interrupted acquisition sealed it" in r.stderr
    # nothing was added or re-sealed: the item is back where it was, with its recorded seal,
    # and `verify` reports the changed image
    assert raw.read_bytes() == bytes(data)
    assert not (case_dir / "evidence" / ".staging" / "D1").exists()
    assert run(case_dir, "verify", "D1").returncode == 3
    assert run(case_dir, "custody", "verify").returncode == 0
    evs = [e for e in events(case_dir, "D1") if e["kind"] == "acquired"]
    assert len(evs) == 1


def test_a_shortened_partial_image_is_refused_before_anything(
    tmp_path: Path, case_dir: Path
) -> None:
    src = _source(tmp_path)
    assert _interrupt(tmp_path, case_dir, src, signal.SIGINT) == 1
    raw = case_dir / "evidence" / "D1" / "D1.raw"
    os.truncate(raw, raw.stat().st_size - 4096)
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 3 and "sealed it at" in r.stderr, r.stderr
    assert raw.is_file() and not (case_dir / "evidence" / ".staging").exists()


@pytest.mark.parametrize("fmt", ["raw", "split"])
def test_a_resume_killed_while_adding_is_resumed_again(
    tmp_path: Path, case_dir: Path, fmt: str
) -> None:
    src = _source(tmp_path)
    extra = ("--format", "split", "--segment-size", "2MiB") if fmt == "split" else ()
    assert _interrupt(tmp_path, case_dir, src, signal.SIGINT, *extra) == 1
    # paused before the writer's 2nd write: its 1st (1 MiB of the source) is in the image
    write = "evidencekit.acquire.imaging.writers:SplitRawWriter.write#2"
    p = Paused(tmp_path, write, case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert p.reached
    assert p.signal(signal.SIGKILL)[0] == -signal.SIGKILL
    assert assert_truthful(case_dir, "D1") == "unfinished"
    # the recorded seal covers only the earlier part. raw: the sealed file grew, so recover
    # refuses and says how to go on; split: the sealed segments are intact (the added ones are
    # not in the seal), so it publishes the item as recorded, incomplete
    r = run(case_dir, "case", "recover", "D1")
    if fmt == "raw":
        assert r.returncode == 3 and "--resume D1" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert assert_truthful(case_dir, "D1") == "incomplete"
    r = run(case_dir, "acquire", "disk", str(src), "--resume", "D1")
    assert r.returncode == 0, r.stderr
    assert media_sha256(_image(case_dir, "D1")) == sha256(src)
    assert assert_truthful(case_dir, "D1") == "complete"
