"""Containers evidencekit cannot open are refused by name (issue #19, item 4) instead of being
imaged as raw bytes, or listed as "no file system recognised".

No Linux tool writes Apple's UDIF (.dmg), so its file is hand-made the way Apple lays it out:
compressed blocks, an XML property list, and the 512-byte "koly" trailer (version 4, size 512)
at the end. VDI, gzip and xz files are made by their own tools (qemu-img, gzip, xz).
"""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

PLIST = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>resource-fork</key><dict><key>blkx</key><array/></dict></dict>
</plist>
"""


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


def _koly(data_length: int, xml_offset: int, xml_length: int, sectors: int, version: int) -> bytes:
    trailer = bytearray(512)
    struct.pack_into(">4sIII", trailer, 0, b"koly", version, 512, 1)  # magic, version, size, flags
    struct.pack_into(">QQQ", trailer, 16, 0, 0, data_length)  # running, data fork offset, length
    struct.pack_into(">II", trailer, 56, 1, 1)  # segment number, count
    struct.pack_into(">QQ", trailer, 216, xml_offset, xml_length)
    struct.pack_into(">IQ", trailer, 488, 1, sectors)  # image variant, sector count
    return bytes(trailer)


def _fat(tmp_path: Path) -> Path:
    need_peer("mkfs.vfat", "mcopy")
    img = tmp_path / "usb.img"
    subprocess.run(["mkfs.vfat", "-C", str(img), "1024"], check=True, capture_output=True)
    note = tmp_path / "GHICHU.TXT"
    note.write_bytes("Trương Đình Bủng\n".encode())
    subprocess.run(["mcopy", "-i", str(img), str(note), "::GHICHU.TXT"], check=True)
    return img


def _dmg(tmp_path: Path, version: int = 4) -> Path:
    disk = _fat(tmp_path).read_bytes()
    blocks = zlib.compress(disk)
    dmg = tmp_path / "macbook.dmg"
    dmg.write_bytes(
        blocks + PLIST + _koly(len(blocks), len(blocks), len(PLIST), len(disk) // 512, version)
    )
    return dmg


def test_a_udif_dmg_is_refused_by_name(case_dir: Path, tmp_path: Path) -> None:
    dmg = _dmg(tmp_path)
    code, out, err = _run(None, "ls", str(dmg))
    assert code == 1, out + err
    assert "internal error" not in err
    assert "Apple disk image (UDIF .dmg" in err and "dmg2img" in err
    assert len(err.strip().splitlines()) == 2  # the error and what to do

    code, out, err = _run(case_dir, "acquire", "disk", str(dmg), "--item", "MAC1")
    assert code == 1 and "UDIF" in err and "--image-bytes" in err, out + err
    item = case_dir / "evidence" / "MAC1"
    assert not item.exists() or not any(item.iterdir())  # nothing sealed as if it were a disk

    code, out, err = _run(case_dir, "acquire", "files", str(dmg), "--item", "MAC2")
    assert code == 1 and "UDIF" in err, out + err

    # the container file itself can still be preserved as it is, when that is what is wanted
    code, out, err = _run(case_dir, "acquire", "disk", str(dmg), "--item", "MAC3", "--image-bytes")
    assert code == 0, out + err
    assert (case_dir / "evidence" / "MAC3" / "MAC3.raw").read_bytes() == dmg.read_bytes()


def test_a_koly_lookalike_is_not_refused(tmp_path: Path) -> None:
    """Only a trailer with Apple's version and size is UDIF: a raw disk whose last sector
    happens to start with "koly" is still read as the disk it is."""
    img = _fat(tmp_path)
    raw = bytearray(img.read_bytes())
    raw[-512:] = _koly(0, 0, 0, 0, version=3)
    img.write_bytes(raw)
    code, out, err = _run(None, "ls", str(img))
    assert code == 0, out + err
    assert "GHICHU.TXT" in out


@pytest.mark.parametrize(
    ("tool", "name"),
    [("vdi", "VirtualBox disk image (VDI)"), ("gzip", "gzip"), ("xz", "xz")],
)
def test_other_containers_made_by_their_own_tools_are_refused(
    tmp_path: Path, tool: str, name: str
) -> None:
    img = _fat(tmp_path)
    if tool == "vdi":
        need_peer("qemu-img")
        out_path = tmp_path / "disk.vdi"
        subprocess.run(
            ["qemu-img", "convert", "-O", "vdi", str(img), str(out_path)],
            check=True,
            capture_output=True,
        )
    else:
        need_peer(tool)
        subprocess.run([tool, "-k", str(img)], check=True, capture_output=True)
        out_path = Path(f"{img}.{'gz' if tool == 'gzip' else 'xz'}")
    code, out, err = _run(None, "ls", str(out_path))
    assert code == 1, out + err
    assert name in err and "internal error" not in err
