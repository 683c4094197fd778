"""NTFS read through the dfvfs back-end returns the files' data (issue #19, item 7), and a volume
holding two file systems' signatures is named as ambiguous, with `--fs-type` to choose.

The NTFS volume is made by mkntfs and filled through ntfs-3g (root, FUSE); the second signature is
the superblock of a real `mkfs.ext2` volume copied over NTFS's unused boot-code area (Sleuth
Kit's `fsstat` then says "Cannot determine file system type (EXT2/3/4 or NTFS)"). Oracles: Sleuth
Kit's `fls -f ntfs` and `icat -f ntfs`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.acquire.fs import _dfvfs
from evidencekit.acquire.fs.model import Credentials
from evidencekit.cli.main import cli
from tests.conftest import need_peer, need_root
from tests.images import ntfs_volume

FILES = {
    "Biên bản.txt": "Biên bản thu giữ số 12\n".encode() * 30,
    "tài liệu/ghi chú.txt": "Trương Đình Bủng\n".encode() * 500,
    "tài liệu/con/sâu.bin": bytes(range(256)) * 40,
}


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ntfs(tmp_path: Path) -> Path:
    need_root()
    need_peer("fls", "icat")
    return ntfs_volume(tmp_path / "ntfs.img", FILES)


def _icat_ntfs(img: Path) -> dict[str, bytes]:
    """Every regular file Sleuth Kit lists, read by icat, forced to NTFS."""
    out = subprocess.run(
        ["fls", "-f", "ntfs", "-r", "-p", str(img)], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        head, path = line.split("\t", 1)
        if not head.startswith("r/r") or path.startswith("$") or ":" in path:
            continue
        inode = head.split()[-1].rstrip(":")
        found[path] = subprocess.run(
            ["icat", "-f", "ntfs", str(img), inode], capture_output=True, check=True
        ).stdout
    return found


def test_dfvfs_reads_ntfs_file_data(ntfs: Path) -> None:
    oracle = _icat_ntfs(ntfs)
    assert oracle == FILES
    fs = _dfvfs.open_filesystem(ntfs, 0, ntfs.stat().st_size, Credentials(), "ntfs.img")
    assert fs.description == "NTFS (dfvfs)"
    for start in (b"/", "/tài liệu".encode(), "/tài liệu/con/sâu.bin".encode()):
        got = {}
        for entry in fs.walk(start):
            if entry.kind != "r" or entry.path.startswith(b"$") or entry.stream is not None:
                continue
            reader = fs.open(entry)
            data = bytearray()
            buf = bytearray(4096)
            while n := reader.readinto(memoryview(buf)):
                data += buf[:n]
            reader.close()
            got[entry.path.decode()] = bytes(data)
        want = {p: d for p, d in oracle.items() if p.startswith(start.decode().strip("/"))}
        assert got == want, start  # the second walk reads the same data again


def _ambiguous(ntfs: Path, tmp_path: Path) -> Path:
    need_peer("mkfs.ext2", "fsstat")
    ext = tmp_path / "ext.img"
    with open(ext, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["mkfs.ext2", "-q", "-F", str(ext)], check=True, capture_output=True)
    raw = bytearray(ntfs.read_bytes())
    raw[1024:2048] = ext.read_bytes()[1024:2048]  # the ext2 superblock, in NTFS's boot code
    both = tmp_path / "both.img"
    both.write_bytes(raw)
    res = subprocess.run(["fsstat", str(both)], capture_output=True, text=True)
    assert "Cannot determine file system type (EXT2/3/4 or NTFS)" in res.stdout + res.stderr
    return both


def test_two_file_system_signatures_are_named_and_chosen(
    ntfs: Path, tmp_path: Path, case_dir: Path
) -> None:
    both = _ambiguous(ntfs, tmp_path)
    code, out, err = _run(None, "ls", str(both))
    assert code == 1, out + err
    assert "more than one file-system signature (EXT2/3/4 or NTFS)" in err
    assert "--fs-type" in err

    code, out, err = _run(case_dir, "acquire", "files", str(both), "--item", "AMB")
    assert code == 1 and "EXT2/3/4 or NTFS" in err, out + err

    oracle = _icat_ntfs(both)
    assert oracle == FILES
    code, out, err = _run(None, "--json", "ls", "-r", "--fs-type", "ntfs", str(both))
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["filesystem"] == "NTFS (Sleuth Kit)"
    listed = {e["path"] for e in doc["entries"] if e["kind"] == "r"}
    assert set(FILES) <= listed

    code, out, err = _run(
        case_dir, "acquire", "files", str(both), "--item", "AMB2", "--fs-type", "ntfs"
    )
    assert code == 0, out + err
    manifest = json.loads((case_dir / "evidence" / "AMB2" / "AMB2.manifest.json").read_text())
    digests = {f["path"]: f["digests"]["sha256"] for f in manifest["files"] if f["kind"] == "r"}
    for path, data in oracle.items():
        assert digests[path] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert manifest["options"]["fs_type"] == "ntfs"
