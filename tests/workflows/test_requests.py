"""The workflows as a Python API (issue 15): one request in, one result out, and progress that
knows the size of what the workflow opened — the caller never opens a source to size a bar.

Oracles: the bytes written into the sources (their length and hashlib digests), the size of the
E01 file on disk (which the media size must not be confused with), and the rendered bar text.
"""

from __future__ import annotations

import hashlib
import io
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.cli.progress import TickBar
from evidencekit.errors import UsageError
from evidencekit.identity import Identity
from evidencekit.workflows.acquire_disk import AcquireDiskRequest, AcquireOptions, acquire_disk
from evidencekit.workflows.collect import CollectRequest, collect_item
from evidencekit.workflows.convert import ConvertRequest, convert_item
from evidencekit.workflows.hashing import (
    AuditRequest,
    CheckRequest,
    HashedFile,
    HashRequest,
    audit_files,
    check_sums,
    hash_files,
)
from evidencekit.workflows.progress import Tick
from evidencekit.workflows.seal import SealRequest, seal_files
from evidencekit.workflows.verify import VerifyRequest, verify_evidence

SIZE = 8 * 64 * 512  # eight 32 KiB chunks


@pytest.fixture
def media(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(1515).randbytes(SIZE)
    path = tmp_path / "disk.bin"
    path.write_bytes(data)
    return path, data


def _passes(ticks: list[Tick]) -> list[str]:
    return list(dict.fromkeys(t.label for t in ticks))


def test_acquire_disk_reports_the_media_size_of_an_e01_source(
    case_dir: Path, identity: Identity, media: tuple[Path, bytes]
) -> None:
    src, data = media
    result = CliRunner().invoke(
        cli, ["--case", str(case_dir), "acquire", "disk", str(src), "--item", "E",
              "--format", "e01", "--compression", "best"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    e01 = case_dir / "evidence" / "E" / "E.E01"
    assert e01.stat().st_size != SIZE  # compressed: the file's size is not the media's
    ticks: list[Tick] = []
    request = AcquireDiskRequest(e01, "R", progress=ticks.append)
    res = acquire_disk(Case.open(case_dir), identity, request)
    imaging = [t for t in ticks if t.label == "imaging R"]
    assert imaging and all(t.total == SIZE for t in imaging)
    assert imaging[-1].done == SIZE
    # the read-back is a pass of its own, announced with its size before it reads
    later = [t for t in ticks if t.label != "imaging R"]
    assert later and later[0].done == 0 and later[0].total == SIZE
    assert res.digests["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_bar_draws_the_size_the_workflow_reports(
    case_dir: Path, identity: Identity, media: tuple[Path, bytes]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    src, _ = media
    screen = Terminal()
    bar = TickBar(stream=screen)
    request = AcquireDiskRequest(src, "B", AcquireOptions(verify=False), progress=bar)
    acquire_disk(Case.open(case_dir), identity, request)
    bar.finish()
    text = screen.getvalue()
    assert "imaging B: 256.0 KiB of 256.0 KiB (100.0 %)" in text, text
    assert text.endswith("\n")


def test_transient_bar_wipes_its_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    bar = TickBar(stream=screen, transient=True)
    bar(Tick("a.bin", 10, 100))
    bar(Tick("b.bin", 0, None))  # a new pass: the first line is wiped, not ended
    bar.finish()
    text = screen.getvalue()
    assert "a.bin: 10 B of 100 B" in text and "b.bin: 0 B" in text
    assert "\n" not in text and text.endswith("\r\033[K")
    quiet = Terminal()
    off = TickBar(stream=quiet, enabled=False)
    off(Tick("x", 1, 2))
    off.finish()
    assert quiet.getvalue() == ""


def test_seal_convert_verify_collect_through_requests(
    case_dir: Path, identity: Identity, media: tuple[Path, bytes], tmp_path: Path
) -> None:
    src, data = media
    case = Case.open(case_dir)
    ticks: list[Tick] = []
    sealed = seal_files(case, identity, SealRequest("S", (src,), progress=ticks.append))
    assert sealed.seal.status == "complete"
    assert ticks and {t.total for t in ticks} == {SIZE} and ticks[-1].done == SIZE
    assert _passes(ticks) == ["sealing S"]

    ticks.clear()
    request = ConvertRequest("S", "S-E01", to="e01", compression="none", progress=ticks.append)
    converted = convert_item(case, identity, request)
    assert converted.digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert ticks and all(t.total == SIZE for t in ticks) and ticks[-1].done == SIZE

    ticks.clear()
    verified = verify_evidence(case, VerifyRequest(("S", "S-E01"), progress=ticks.append))
    assert verified.ok and verified.exit_code == 0
    assert {"verifying S", "verifying S-E01"} <= set(_passes(ticks))
    # each item's document is its status plus its own exit code and `verified` event (none:
    # nothing was recorded)
    assert verified.to_dict()["items"] == [
        {**st.to_dict(), "exit_code": 0, "recorded_event": None} for st in verified.statuses
    ]

    folder = tmp_path / "thư mục"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"x" * 5000)
    ticks.clear()
    collected = collect_item(case, identity, CollectRequest("C", (folder,), progress=ticks.append))
    assert collected.status == "complete"
    assert _passes(ticks) == ["collecting C"] and ticks[-1].done == 5000


def test_verify_result_exit_codes_and_record_needs_an_examiner(
    case_dir: Path, identity: Identity, media: tuple[Path, bytes]
) -> None:
    src, _ = media
    case = Case.open(case_dir)
    seal_files(case, identity, SealRequest("S", (src,)))
    with pytest.raises(UsageError, match="needs a case and an examiner"):
        verify_evidence(case, VerifyRequest(("S",), record=True))
    copy = case_dir / "evidence" / "S" / "disk.bin"
    copy.chmod(0o644)
    with copy.open("r+b") as fh:
        fh.seek(SIZE - 1)
        fh.write(b"\x00" if fh.read(1) != b"\x00" else b"\x01")
    unlocked: list[int] = []

    def examiner() -> Identity:
        unlocked.append(1)
        return identity

    result = verify_evidence(case, VerifyRequest(("S", str(src.parent)), record=True), examiner)
    assert not result.ok and result.exit_code == 3  # 3 (tampered) over 1 (no seal)
    assert [p.kind for p in result.statuses[1].problems] == ["not-sealed"]
    assert unlocked == [1]  # the key is asked for once, after the re-hashing
    assert result.to_dict()["recorded"] is True


def test_hash_workflows_stream_each_file_and_return_all(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    files = {b"d/a": b"alpha", b"d/b\xff": b"beta"}  # a name that is not UTF-8
    for name, content in files.items():
        (tmp_path / name.decode("utf-8", "surrogateescape")).write_bytes(content)
    root = str(tmp_path / "d")
    met: list[HashedFile] = []
    result = hash_files(
        HashRequest((root, str(tmp_path / "absent")), ("md5", "sha256"), recursive=True,
                    on_file=met.append)
    )  # fmt: skip
    assert [m.name for m in met] == [
        (root + "/a").encode(),
        (root + "/").encode() + b"b\xff",
        str(tmp_path / "absent").encode(),
    ]
    assert [f.result.digests["sha256"] for f in result.files if f.result] == [
        hashlib.sha256(b"alpha").hexdigest(),
        hashlib.sha256(b"beta").hexdigest(),
    ]
    assert [e.error for e in result.errors] == ["No such file or directory"]
    assert result.exit_code == 1
    assert result.to_dict()["errors"] == [
        {"name": str(tmp_path / "absent"), "error": "No such file or directory"}
    ]

    sums = tmp_path / "d.sha256"
    sums.write_text(
        f"{hashlib.sha256(b'alpha').hexdigest()}  {root}/a\n"
        f"{hashlib.sha256(b'not beta').hexdigest()}  {root}/a\n"
        "garbage\n"
    )
    checked = check_sums(CheckRequest(str(sums)))
    assert [e.verdict for e in checked.entries] == ["OK", "FAILED"]
    assert checked.bad_lines == (3,) and checked.exit_code == 3
    with pytest.raises(UsageError, match="at most one algorithm"):
        check_sums(CheckRequest(str(sums), "sha256,md5"))

    known = tmp_path / "known.txt"
    known.write_text(
        "%%%% HASHDEEP-1.0\n%%%% size,sha256,filename\n"
        f"5,{hashlib.sha256(b'alpha').hexdigest()},{root}/a\n"
        f"3,{hashlib.sha256(b'old').hexdigest()},{root}/gone\n"
    )
    audited = audit_files(AuditRequest((root,), str(known), recursive=True))
    assert audited.exit_code == 3
    assert [m for m in audited.audit.matched] == [(root + "/a").encode()]
    assert audited.audit.missing == [(root + "/gone").encode()]


def test_convert_prints_the_sizes_its_result_sealed(
    case_dir: Path, identity: Identity, media: tuple[Path, bytes]
) -> None:
    src, _ = media
    seal_files(Case.open(case_dir), identity, SealRequest("S", (src,)))
    result = CliRunner().invoke(
        cli, ["--case", str(case_dir), "convert", "S", "--to", "raw", "--item", "S-RAW"]
    )
    assert result.exit_code == 0, result.output
    raw = case_dir / "evidence" / "S-RAW" / "S-RAW.raw"
    assert raw.stat().st_size == SIZE
    assert "  S-RAW.raw  256.0 KiB\n" in result.stdout
