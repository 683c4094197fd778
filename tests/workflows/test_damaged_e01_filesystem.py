"""A corrupt E01 chunk inside a file system (issue #19, item 3): `ls` and `acquire files` name the
damage per file (exit 4 for the collection) instead of crashing with "internal error:
RuntimeError" in file-system detection.

The FAT volume is made by mkfs.vfat + mcopy, imaged by ewfacquire, and one chunk's bytes are
changed without fixing its Adler-32 (a damaged copy). Oracles: Sleuth Kit's `fls` and `icat` on
the intact volume, and `ewfverify` (FAILURE on the damaged E01).
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import tarfile
from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

CHUNK = 64 * 512


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


def _fat_with_files(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    need_peer("mkfs.vfat", "mcopy", "ewfacquire", "ewfverify", "fls", "icat")
    img = tmp_path / "fat.img"
    subprocess.run(["mkfs.vfat", "-C", str(img), "4096"], check=True, capture_output=True)
    files = {f"F{i}.BIN": random.Random(i).randbytes(70_000) for i in (1, 2, 3)}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        subprocess.run(["mcopy", "-i", str(img), str(tmp_path / name), f"::{name}"], check=True)
    return img, files


def _e01(img: Path, base: Path) -> Path:
    subprocess.run(
        ["ewfacquire", "-u", "-q", "-t", str(base), "-c", "none", "-f", "encase6", str(img)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Path(f"{base}.E01")


def _damage_chunk(first: Path, img: bytes, index: int) -> None:
    """Change bytes in chunk `index` of the E01, leaving its Adler-32 as it was."""
    raw = bytearray(first.read_bytes())
    start = index * CHUNK
    probe = img[start : start + 64]
    at = raw.find(probe)
    assert at > 0 and raw.find(probe, at + 1) < 0
    raw[at + 1000 : at + 1004] = bytes(b ^ 0xFF for b in raw[at + 1000 : at + 1004])
    first.write_bytes(raw)
    res = subprocess.run(["ewfverify", "-q", str(first)], capture_output=True, text=True)
    assert res.returncode != 0  # the oracle agrees the copy is damaged


def _icat(img: Path, name: str) -> bytes:
    listing = subprocess.run(["fls", "-r", str(img)], capture_output=True, text=True, check=True)
    for line in listing.stdout.splitlines():
        if line.endswith(f"\t{name}"):
            inode = line.split()[1].rstrip(":")
            return subprocess.run(["icat", str(img), inode], capture_output=True, check=True).stdout
    raise AssertionError(f"fls does not list {name}")


def test_a_corrupt_chunk_in_one_file_is_that_file_s_error(case_dir: Path, tmp_path: Path) -> None:
    img, files = _fat_with_files(tmp_path)
    data = img.read_bytes()
    at = data.find(files["F2.BIN"])
    index = -(-at // CHUNK)  # a chunk wholly inside F2.BIN's data
    assert (index + 1) * CHUNK <= at + len(files["F2.BIN"])
    first = _e01(img, tmp_path / "fat")
    _damage_chunk(first, data, index)

    code, out, err = _run(None, "--json", "ls", "-r", str(first))
    assert code == 0, out + err
    assert "internal error" not in err
    names = sorted(e["path"] for e in json.loads(out)["entries"])
    assert names == ["F1.BIN", "F2.BIN", "F3.BIN"]  # fls -r lists the same on the intact volume
    assert "stored digests were not compared" in err  # the whole media cannot be read

    code, out, err = _run(case_dir, "--json", "acquire", "files", str(first), "--item", "D1")
    assert code == 4, out + err
    assert "internal error" not in err
    doc = json.loads(out)
    errors = {e["path"]: e["error"] for e in doc["errors"]}
    assert list(errors) == ["F2.BIN"], errors
    (message,) = errors.values()
    start = index * CHUNK
    assert f"media bytes {start}-{start + CHUNK - 1}" in message and "damaged media" in message
    with tarfile.open(case_dir / "evidence" / "D1" / "D1.tar") as tar:
        members = {m.name.rsplit("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        for name in ("F1.BIN", "F3.BIN"):
            fh = tar.extractfile(members[name])
            assert fh is not None
            assert fh.read() == _icat(img, name) == files[name]
        f2 = members.get("F2.BIN")
        if f2 is not None:  # if stored at all, never as if it were the whole, good file
            fh = tar.extractfile(f2)
            assert fh is not None and io.BytesIO(fh.read()).getvalue() != files["F2.BIN"]


def test_a_corrupt_boot_sector_chunk_is_a_clear_error(case_dir: Path, tmp_path: Path) -> None:
    img, _files = _fat_with_files(tmp_path)
    first = _e01(img, tmp_path / "fat")
    _damage_chunk(first, img.read_bytes(), 0)
    code, out, err = _run(None, "ls", str(first))
    assert code == 1, out + err
    assert "internal error" not in err
    assert "damaged where it would start: media bytes 0-32767" in err
    code, out, err = _run(case_dir, "acquire", "files", str(first), "--item", "D2")
    assert code == 1 and "internal error" not in err and "media bytes 0-32767" in err
