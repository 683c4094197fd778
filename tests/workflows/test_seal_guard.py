"""`seal` checks everything before any work (sources, names, pinning, then the key), accepts any
name a POSIX file system holds, and seals a file that changed while it
was read as `complete-with-errors` (exit 4) naming it. `acquire files` and `convert` refuse an
unpinned examiner before writing anything."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import CustodyError, PartialReadError
from evidencekit.hash.seal.read import load_seal
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.collect import CollectRequest, collect_item
from evidencekit.workflows.convert import ConvertRequest, convert_item
from evidencekit.workflows.custody import list_events
from evidencekit.workflows.progress import Tick
from evidencekit.workflows.seal import SealFilesResult, SealRequest, seal_files
from tests.conftest import PASSPHRASE, need_peer

MiB = 1 << 20


def _cli(case_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--case", str(case_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _nothing_written(case_dir: Path, item: str) -> None:
    assert not (case_dir / "evidence" / item).exists()
    assert not (case_dir / "evidence" / ".staging").exists()
    assert list_events(Case.open(case_dir), item) == []


def test_bad_entries_are_refused_before_anything_is_copied_or_a_passphrase_asked(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a" * 4096)  # sorted first: copied first, before
    (src / "b-dangling").symlink_to(tmp_path / "nowhere")
    os.mkfifo(src / "c-fifo")  # opening it would wait for a writer for ever
    # no passphrase and no terminal: asking for one would fail with another message
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    code, _, err = _cli(case_dir, "seal", str(src), "--item", "X")
    assert code == 1, err
    assert "cannot seal 2 of the files given, so nothing was copied" in err
    assert "'src/b-dangling'" not in err and f"{str(src / 'b-dangling')!r}: a dangling" in err
    assert f"{str(src / 'c-fifo')!r}: not a regular file (a named pipe)" in err
    assert "passphrase" not in err
    _nothing_written(case_dir, "X")
    # a folder holding only a special file is a usage error (exit 2)
    only = tmp_path / "only"
    only.mkdir()
    os.mkfifo(only / "pipe")
    code, _, err = _cli(case_dir, "seal", str(only), "--item", "X")
    assert code == 2 and "not a regular file (a named pipe)" in err
    _nothing_written(case_dir, "X")
    # the id was never blocked: without the bad entries the same id seals
    (src / "b-dangling").unlink()
    (src / "c-fifo").unlink()
    monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
    code, _, err = _cli(case_dir, "seal", str(src), "--item", "X")
    assert code == 0, err


def test_unreadable_file_is_refused_up_front(case_dir: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads a mode-000 file; the dangling link and FIFO cover this as root")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    (src / "b.txt").write_bytes(b"b")
    (src / "b.txt").chmod(0)
    code, _, err = _cli(case_dir, "seal", str(src), "--item", "X")
    assert code == 1 and "Permission denied" in err and "b.txt" in err
    _nothing_written(case_dir, "X")


def test_names_with_backslash_newline_and_cr_are_sealed_exactly(
    case_dir: Path, tmp_path: Path
) -> None:
    need_peer("sha256sum", "md5sum")
    src = tmp_path / "src"
    src.mkdir()
    names = ["a\\b.txt", "dòng\nmới.txt", "cr\r.txt", "Nguyễn Bá Tùng.txt"]
    for i, name in enumerate(names):
        (src / name).write_bytes(f"nội dung {i}".encode())
    code, out, err = _cli(case_dir, "seal", str(src), "--item", "N")
    assert code == 0, err
    item = case_dir / "evidence" / "N"
    seal = load_seal(item / "N.seal.json")
    assert sorted(a.name for a in seal.artifacts) == sorted(f"src/{n}" for n in names)
    # shown escaped on one line each, as sums files do
    assert "  \\src/a\\\\b.txt  " in out and "  \\src/dòng\\nmới.txt  " in out
    # the peers check every line of our sums files, escaped names included
    for tool, ext in (("sha256sum", "sha256"), ("md5sum", "md5")):
        run = subprocess.run([tool, "-c", f"N.{ext}"], cwd=item, capture_output=True, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.count(b": OK") == len(names)
    code, out, err = _cli(case_dir, "verify", "N")
    assert code == 0, out + err
    # a flipped byte in the backslash-named copy is still found
    victim = item / "src" / "a\\b.txt"
    victim.chmod(0o644)
    victim.write_bytes(b"X" + victim.read_bytes()[1:])
    code, out, _ = _cli(case_dir, "verify", "N")
    assert code == 3 and "a\\b.txt" in out


def _mutating(path: Path, change: Callable[[Path], None]) -> Callable[[Tick], None]:
    """A progress that changes `path` once, after its first 1 MiB buffer was read (the
    total counts the smaller files read before it)."""
    done = [False]

    def progress(tick: Tick) -> None:
        if not done[0] and tick.done >= MiB:
            done[0] = True
            change(path)

    return progress


def _shrink(p: Path) -> None:
    os.truncate(p, MiB + MiB // 2)


def _grow(p: Path) -> None:
    with open(p, "ab") as fh:
        fh.write(b"z" * MiB)


def _same_size_same_mtime(p: Path) -> None:
    st = p.stat()
    with open(p, "r+b") as fh:
        fh.seek(2 * MiB)
        fh.write(b"\xff" * 4096)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # only the ctime tells


@pytest.mark.parametrize(
    ("change", "size_after"),
    [(_shrink, MiB + MiB // 2), (_grow, 4 * MiB), (_same_size_same_mtime, 3 * MiB)],
    ids=["shrinks", "grows", "rewritten-mtime-reset"],
)
def test_file_changed_while_read_is_sealed_with_errors_and_named(
    case_dir: Path,
    tmp_path: Path,
    identity: Identity,
    change: Callable[[Path], None],
    size_after: int,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "calm.bin").write_bytes(b"c" * 1000)
    moving = src / "moving.bin"
    moving.write_bytes(os.urandom(3 * MiB))
    case = Case.open(case_dir)
    with pytest.raises(PartialReadError, match=r"moving\.bin") as info:
        seal_files(
            case,
            identity,
            SealRequest("CH", (src / "calm.bin", moving), progress=_mutating(moving, change)),
        )
    result = info.value.result
    assert isinstance(result, SealFilesResult) and result.seal.status == "complete-with-errors"
    seal = load_seal(case_dir / "evidence" / "CH" / "CH.seal.json")
    assert seal.status == "complete-with-errors"
    [changed] = seal.facts["changed_while_read"]
    assert changed["name"] == "moving.bin" and changed["path"] == str(moving)
    assert changed["size_before"] == 3 * MiB and changed["size_after"] == size_after
    # the copy holds exactly what was read, and the seal says so
    copy = case_dir / "evidence" / "CH" / "moving.bin"
    assert copy.stat().st_size == changed["bytes_read"]
    [event] = list_events(case, "CH")
    assert event["kind"] == "sealed" and event["details"]["status"] == "complete-with-errors"
    # the copy verifies against its seal, which tells that it is not complete
    code, out, _ = _cli(case_dir, "verify", "CH")
    assert code in (0, 4) and "complete-with-errors" in out


def test_unchanged_files_are_complete(case_dir: Path, tmp_path: Path, identity: Identity) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * MiB))
    touched = [0]

    def progress(_tick: Tick) -> None:
        touched[0] += 1
        os.stat(src)  # reading metadata changes nothing

    result = seal_files(Case.open(case_dir), identity, SealRequest("OK", (src,), progress=progress))
    assert touched[0] >= 3 and result.seal.status == "complete"
    assert "changed_while_read" not in result.seal.document["facts"]


def test_cli_exits_4_naming_the_changed_file(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidencekit.workflows.seal as wf

    moving = tmp_path / "đang ghi.log"
    moving.write_bytes(b"x" * (3 * MiB))
    real = wf.pump

    mutate = _mutating(moving, _grow)

    def pump(readinto, consumers, on_progress=None, **kw):  # type: ignore[no-untyped-def]
        return real(readinto, consumers, on_progress=lambda n: mutate(Tick("", n)), **kw)

    monkeypatch.setattr(wf, "pump", pump)
    code, out, err = _cli(case_dir, "seal", str(moving), "--item", "LOG")
    assert code == 4, err
    assert "1 file(s) changed while being read" in err and "đang ghi.log" in err
    assert "(complete-with-errors)" in out and "changed while read: đang ghi.log" in out
    assert load_seal(case_dir / "evidence" / "LOG" / "LOG.seal.json").status == (
        "complete-with-errors"
    )


@pytest.fixture
def outsider(ek_home: Path, identity: Identity) -> Identity:
    """A second examiner in the same home, not pinned in the case."""
    return IdentityStore(ek_home).create("Người Lạ", PASSPHRASE.encode())


def test_collect_with_unpinned_examiner_writes_nothing(
    case_dir: Path, tmp_path: Path, outsider: Identity
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    with pytest.raises(CustodyError, match="not pinned"):
        collect_item(Case.open(case_dir), outsider, CollectRequest("C1", (src,), CollectOptions()))
    _nothing_written(case_dir, "C1")


def test_convert_with_unpinned_examiner_writes_nothing(
    case_dir: Path, tmp_path: Path, identity: Identity, outsider: Identity
) -> None:
    img = tmp_path / "disk.raw"
    img.write_bytes(os.urandom(MiB))
    case = Case.open(case_dir)
    seal_files(case, identity, SealRequest("IMG", (img,)))
    with pytest.raises(CustodyError, match="not pinned"):
        convert_item(case, outsider, ConvertRequest("IMG", "IMG-E01", to="e01"))
    _nothing_written(case_dir, "IMG-E01")
    # the pinned examiner converts it under the same id afterwards
    result = convert_item(case, identity, ConvertRequest("IMG", "IMG-E01", to="raw"))
    assert result.item_dir == case_dir / "evidence" / "IMG-E01" and result.files[0].is_file()


def test_cli_unpinned_examiner_is_refused_before_the_passphrase(
    case_dir: Path, tmp_path: Path, outsider: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    monkeypatch.setenv("EVIDENCEKIT_IDENTITY", outsider.fingerprint)
    f = tmp_path / "f.txt"
    f.write_text("f")
    for args in (
        ("seal", str(f), "--item", "P"),
        ("acquire", "files", str(f), "--item", "P"),
        ("acquire", "disk", str(f), "--item", "P"),
    ):
        code, _, err = _cli(case_dir, *args)
        assert code == 1 and "is not pinned" in err and "passphrase" not in err, (args, err)
        _nothing_written(case_dir, "P")


def test_case_show_json_lists_no_attempts_when_none(case_dir: Path) -> None:
    code, out, _ = _cli(case_dir, "--json", "case", "show")
    assert code == 0 and json.loads(out)["unfinished"] == []


def test_in_place_file_changed_while_hashed_is_named(
    case_dir: Path, tmp_path: Path, identity: Identity
) -> None:
    moving = tmp_path / "in-place.bin"
    moving.write_bytes(os.urandom(3 * MiB))
    with pytest.raises(PartialReadError, match=r"in-place\.bin"):
        seal_files(
            Case.open(case_dir),
            identity,
            SealRequest("IP", (moving,), in_place=True, progress=_mutating(moving, _shrink)),
        )
    seal = load_seal(case_dir / "evidence" / "IP" / "IP.seal.json")
    assert seal.status == "complete-with-errors"
    assert seal.facts["changed_while_read"][0]["name"] == str(moving)
    assert seal.artifacts[0].size == seal.facts["changed_while_read"][0]["bytes_read"]
