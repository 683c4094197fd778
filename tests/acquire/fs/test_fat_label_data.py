"""Data hidden behind a FAT volume-label entry is listed and collected, not dropped (issue #19,
item 4).

mkfs.vfat -n writes the label entry and mcopy a file; the label entry is then given the file's
cluster chain and size and the file's own entry is deleted, by hand, as someone hiding data would
(no tool does it). Oracle: Sleuth Kit's `istat` (Volume Label, its size) and `icat` of the
label's inode.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import subprocess
from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

LABEL = "NHAN        (Volume Label Entry)"


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


def _volume(tmp_path: Path, hide: bool) -> tuple[Path, bytes]:
    need_peer("mkfs.vfat", "mcopy", "istat", "icat")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-n", "NHAN", "-C", str(img), "1024"], check=True, capture_output=True
    )
    secret = random.Random(4).randbytes(5000)
    (tmp_path / "HIDE.BIN").write_bytes(secret)
    hide_file = tmp_path / "HIDE.BIN"
    subprocess.run(["mcopy", "-i", str(img), str(hide_file), "::HIDE.BIN"], check=True)
    if hide:
        raw = bytearray(img.read_bytes())
        bps = struct.unpack_from("<H", raw, 11)[0]
        reserved = struct.unpack_from("<H", raw, 14)[0]
        root = (reserved + raw[16] * struct.unpack_from("<H", raw, 22)[0]) * bps
        entries = [root + 32 * i for i in range(16)]
        label = next(e for e in entries if raw[e + 11] == 0x08)
        file = next(e for e in entries if raw[e : e + 11] == b"HIDE    BIN")
        for lo, hi in ((20, 22), (26, 28), (28, 32)):  # cluster high, cluster low, size
            raw[label + lo : label + hi] = raw[file + lo : file + hi]
        raw[file] = 0xE5  # the file's own entry deleted; its clusters stay allocated
        img.write_bytes(raw)
    return img, secret


def test_a_label_entry_holding_data_is_collected(tmp_path: Path, case_dir: Path) -> None:
    img, secret = _volume(tmp_path, hide=True)
    istat = subprocess.run(["istat", str(img), "3"], capture_output=True, text=True, check=True)
    assert "Volume Label" in istat.stdout and f"Size: {len(secret)}" in istat.stdout
    icat = subprocess.run(["icat", str(img), "3"], capture_output=True, check=True).stdout
    assert icat == secret

    code, out, err = _run(None, "--json", "ls", str(img))
    assert code == 0, out + err
    entry = next(e for e in json.loads(out)["entries"] if e["path"] == LABEL)
    assert entry["kind"] == "r" and entry["size"] == len(secret)
    assert "volume label entry that holds data" in entry["note"]

    code, out, err = _run(case_dir, "acquire", "files", str(img), "--item", "LBL")
    assert code == 0, out + err
    manifest = json.loads((case_dir / "evidence" / "LBL" / "LBL.manifest.json").read_text())
    got = next(f for f in manifest["files"] if f["path"] == LABEL)
    assert got["digests"]["sha256"] == f"sha256:{hashlib.sha256(icat).hexdigest()}"


def test_an_ordinary_label_stays_a_label(tmp_path: Path) -> None:
    img, _secret = _volume(tmp_path, hide=False)
    code, out, err = _run(None, "--json", "ls", str(img))
    assert code == 0, out + err
    entry = next(e for e in json.loads(out)["entries"] if e["path"] == LABEL)
    assert entry["kind"] == "v" and entry["size"] == 0 and entry["note"] == "FAT volume label"
