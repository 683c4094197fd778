"""`--format sums` is byte-identical to coreutils 9.1 and b3sum 1.2, run here as oracles, for
hostile names (spaces, Vietnamese, backslash, newline, carriage return, non-UTF-8)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.hash.sums import format_line, parse_sums
from tests.conftest import need_peer

NAMES = [
    b"plain.txt",
    b"with space",
    "Nguyễn Bá Tùng.txt".encode(),
    "Trương Đình Bủng".encode(),
    b"back\\slash",
    b"new\nline",
    b"carriage\rreturn",
    b"both\\and\nnewline",
    b"latin1-\xe9t\xe9",
    b"tab\tname",
]
PEERS = {
    "md5": "md5sum",
    "sha1": "sha1sum",
    "sha256": "sha256sum",
    "sha512": "sha512sum",
    "blake3": "b3sum",
}


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    folder.mkdir()
    for i, name in enumerate(NAMES):
        (folder / os.fsdecode(name)).write_bytes(b"content %d\n" % i * (i + 1))
    (folder / "empty").write_bytes(b"")
    return folder


def _names(folder: Path) -> list[bytes]:
    return sorted(os.fsencode(n) for n in os.listdir(folder))


@pytest.mark.parametrize("algorithm", list(PEERS))
def test_sums_output_is_byte_identical_to_peer(
    hostile: Path, algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = PEERS[algorithm]
    need_peer(tool)
    names = _names(hostile)
    monkeypatch.chdir(hostile)
    peer = subprocess.run([tool, *names], capture_output=True, check=True).stdout
    result = CliRunner().invoke(cli, ["hash", "-a", algorithm, *map(os.fsdecode, names)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == peer
    # and line by line through the library function
    ours = b"".join(format_line(algorithm, _digest_of(line), n) for line, n in _lines(peer, names))
    assert ours == peer


def _lines(output: bytes, names: list[bytes]) -> list[tuple[bytes, bytes]]:
    lines = [line + b"\n" for line in output.split(b"\n")[:-1]]
    assert len(lines) == len(names)
    return list(zip(lines, names, strict=True))


def _digest_of(line: bytes) -> str:
    return line.lstrip(b"\\").split(b" ", 1)[0].decode()


def test_peers_differ_on_carriage_return_and_non_utf8() -> None:
    # coreutils 9.1 escapes CR and keeps raw bytes; b3sum 1.2 does neither (lossy UTF-8)
    assert format_line("sha256", "ab", b"a\rb") == b"\\ab  a\\rb\n"
    assert format_line("blake3", "ab", b"a\rb") == b"ab  a\rb\n"
    assert format_line("sha256", "ab", b"x\xff") == b"ab  x\xff\n"
    assert format_line("blake3", "ab", b"x\xff") == "ab  x\ufffd\n".encode()
    assert format_line("md5", "ab", b"a\\b\nc") == b"\\ab  a\\\\b\\nc\n"


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
def test_coreutils_checks_our_lists_and_we_check_theirs(
    hostile: Path, algorithm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = PEERS[algorithm]
    need_peer(tool)
    names = _names(hostile)
    monkeypatch.chdir(hostile)
    runner = CliRunner()
    ours = runner.invoke(cli, ["hash", "-a", algorithm, *map(os.fsdecode, names)]).stdout_bytes
    (hostile.parent / "ours.sums").write_bytes(ours)
    check = subprocess.run([tool, "-c", str(hostile.parent / "ours.sums")], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # our -c reads the peer's list and prints the same verdict lines
    peer_list = subprocess.run([tool, *names], capture_output=True, check=True).stdout
    (hostile.parent / "peer.sums").write_bytes(peer_list)
    result = runner.invoke(cli, ["hash", "-c", str(hostile.parent / "peer.sums")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == check.stdout


def test_b3sum_checks_our_list(hostile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need_peer("b3sum")
    # b3sum cannot check names that are not UTF-8 (it wrote them lossily)
    names = [n for n in _names(hostile) if _utf8(n)]
    monkeypatch.chdir(hostile)
    ours = CliRunner().invoke(cli, ["hash", "-a", "blake3", *map(os.fsdecode, names)])
    (hostile.parent / "ours.b3").write_bytes(ours.stdout_bytes)
    check = subprocess.run(["b3sum", "-c", str(hostile.parent / "ours.b3")], capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    result = CliRunner().invoke(cli, ["hash", "-c", str(hostile.parent / "ours.b3")])
    assert result.exit_code == 0, result.stderr


def _utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_check_mismatch_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_bytes(b"abc")
    (tmp_path / "g").write_bytes(b"")
    sums = (
        b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\n"
        b"0000000000000000000000000000000000000000000000000000000000000000  g\n"
    )
    (tmp_path / "list").write_bytes(sums)
    result = CliRunner().invoke(cli, ["hash", "-c", "list"])
    assert result.exit_code == 3
    assert result.stdout_bytes == b"f: OK\ng: FAILED\n"
    assert "did NOT match" in result.stderr


def test_check_missing_file_exits_1_and_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").write_bytes(b"abc")
    sums = (
        b"900150983cd24fb0d6963f7d28e17f72  gone\n900150983cd24fb0d6963f7d28e17f72  f\nnot a line\n"
    )
    (tmp_path / "list.md5").write_bytes(sums)
    result = CliRunner().invoke(cli, ["hash", "-c", "list.md5"])
    assert result.exit_code == 1
    assert result.stdout_bytes == b"gone: FAILED open or read\nf: OK\n"
    assert "gone: No such file or directory" in result.stderr
    assert "1 line(s) improperly formatted" in result.stderr


def test_check_list_with_no_valid_line_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "list").write_bytes(b"hello world\n")
    result = CliRunner().invoke(cli, ["hash", "-c", str(tmp_path / "list")])
    assert result.exit_code == 1
    assert "no properly formatted checksum lines" in result.stderr


def test_parse_tagged_and_escaped_lines() -> None:
    data = (
        b"SHA256 (a b) = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        b"\\900150983cd24fb0d6963f7d28e17f72  x\\ny\\\\z\n"
        b"\\900150983cd24fb0d6963f7d28e17f72  bad\\qescape\n"
        b"900150983cd24fb0d6963f7d28e17f72 *binary-mode\n"
    )
    entries, bad = parse_sums(data)
    assert [(e.algorithm, e.name) for e in entries] == [
        ("sha256", b"a b"),
        ("md5", b"x\ny\\z"),
        ("md5", b"binary-mode"),
    ]
    assert bad == [3]


def test_sums_with_several_algorithms_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    result = CliRunner().invoke(cli, ["hash", "-a", "md5,sha1", str(tmp_path / "f")])
    assert result.exit_code == 2
    assert "exactly one algorithm" in result.stderr
