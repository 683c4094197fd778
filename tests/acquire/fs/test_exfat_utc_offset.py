"""exFAT times use the UTC offset each entry records (issue #19, item 6), and the manifest says
how every time was converted.

The volume is made by mkfs.exfat and filled through exfat-fuse by a process whose clock is in
Asia/Ho_Chi_Minh: it stores local wall-clock times with the offset +07:00 beside them, as Windows
does. The oracle is the instant the file's time was set to (os.utime, in UTC). Entries whose
offset is missing (old cameras write none) or different are made by editing the offset byte and
the entry set's checksum by hand, as no tool here writes them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer, need_root

ZONE = "Asia/Ho_Chi_Minh"
SET = dt.datetime(2024, 6, 15, 10, 20, 30, tzinfo=dt.UTC)
NAMES = ("bien-ban.txt", "máy ảnh.jpg", "khác.txt")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def _exfat(tmp_path: Path) -> Path:
    need_root()
    need_peer("mkfs.exfat", "mount.exfat-fuse", "losetup", "fusermount")
    img = tmp_path / "the-nho.img"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["mkfs.exfat", str(img)], check=True, capture_output=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    loop = subprocess.run(
        ["losetup", "-f", "--show", str(img)], capture_output=True, check=True, text=True
    ).stdout.strip()
    try:
        env = {**os.environ, "TZ": ZONE}
        subprocess.run(
            ["mount.exfat-fuse", loop, str(mnt)], check=True, env=env, capture_output=True
        )
        try:
            for name in NAMES:
                (mnt / name).write_bytes(name.encode() * 10)
                os.utime(mnt / name, (SET.timestamp(), SET.timestamp()))
        finally:
            subprocess.run(["fusermount", "-u", str(mnt)], check=True)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)
    return img


def _edit_offset(img: Path, name: str, tz_byte: int) -> None:
    """Set the modify-time offset byte of `name`'s File entry; fix the entry set checksum."""
    raw = bytearray(img.read_bytes())
    at = raw.find(name.encode("utf-16-le")) - 2 - 64  # File, Stream, then the File Name entry
    assert raw[at] == 0x85 and raw[at + 32] == 0xC0
    raw[at + 23] = tz_byte
    length = (raw[at + 1] + 1) * 32
    checksum = 0
    for i, byte in enumerate(raw[at : at + length]):
        if i not in (2, 3):
            checksum = (((checksum << 15) | (checksum >> 1)) + byte) & 0xFFFF
    raw[at + 2 : at + 4] = checksum.to_bytes(2, "little")
    img.write_bytes(raw)


def _listing(img: Path, *extra: str) -> dict[str, dict[str, object]]:
    code, out, err = _run("--json", "ls", *extra, str(img))
    assert code == 0, out + err
    return {e["path"]: e for e in json.loads(out)["entries"] if e["path"] in NAMES}


def _utc(text: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def test_recorded_offsets_are_used_whatever_zone_is_given(tmp_path: Path) -> None:
    img = _exfat(tmp_path)
    raw = img.read_bytes()
    at = raw.find(NAMES[0].encode("utf-16-le")) - 2 - 64
    assert raw[at + 23] == 0x80 | 28  # the writer recorded +07:00 (28 × 15 minutes)
    for zone in ("UTC", ZONE, "America/New_York"):
        entries = _listing(img, "--source-timezone", zone)
        for name in NAMES:
            assert _utc(entries[name]["mtime"]) == SET, (zone, name)
            assert "mtime +07:00" in str(entries[name]["note"])


def test_missing_or_other_offsets(tmp_path: Path, case_dir: Path) -> None:
    img = _exfat(tmp_path)
    _edit_offset(img, "máy ảnh.jpg", 0x00)  # no offset recorded
    _edit_offset(img, "khác.txt", 0x80 | (-20 & 0x7F))  # -05:00
    wall = SET + dt.timedelta(hours=7)  # what the writer stored as its wall clock
    entries = _listing(img, "--source-timezone", ZONE)
    assert _utc(entries["bien-ban.txt"]["mtime"]) == SET
    # no offset: the wall clock read in the zone the examiner gives, and the note says so
    assert _utc(entries["máy ảnh.jpg"]["mtime"]) == SET
    note = str(entries["máy ảnh.jpg"]["note"])
    assert f"no UTC offset recorded for mtime: read as local time in {ZONE}" in note
    entries_utc = _listing(img)
    assert _utc(entries_utc["máy ảnh.jpg"]["mtime"]) == wall.replace(tzinfo=dt.UTC)
    # another recorded offset wins over the zone given
    assert _utc(entries["khác.txt"]["mtime"]) == wall + dt.timedelta(hours=5)
    assert "mtime -05:00" in str(entries["khác.txt"]["note"])

    code, out, err = _run(
        "--case", str(case_dir), "acquire", "files", str(img), "--item", "SD1",
        "--source-timezone", ZONE,
    )  # fmt: skip
    assert code == 0, out + err
    manifest = json.loads((case_dir / "evidence" / "SD1" / "SD1.manifest.json").read_text())
    files = {f["path"]: f for f in manifest["files"]}
    assert "UTC offset recorded in the entry: mtime +07:00" in files["bien-ban.txt"]["note"]
    assert "no UTC offset recorded for mtime" in files["máy ảnh.jpg"]["note"]
