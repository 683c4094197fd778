"""LVM2 logical volumes inside images: volume groups made by LVM's own tools (pvcreate,
vgcreate, vgcfgrestore on a loop device; lvcreate needs device-mapper, which this machine lacks),
file systems by mkfs.ext4, the extents' places as `lvs` reports them, and Sleuth Kit's `fls` /
`icat` on the volume put together from those places as the oracle for what we collect."""

from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
import uuid
from pathlib import Path

import pytest

from evidencekit.acquire.fs import lvm
from evidencekit.acquire.fs.open import open_image
from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.errors import SourceError
from tests.conftest import need_peer, need_root

MiB = 1 << 20
ENV = {**os.environ, "LVM_SUPPRESS_FD_WARNINGS": "1"}

# name -> [(first extent of the LV, extent count, first extent on the PV)], 1 MiB extents
# (LVM names are ASCII: letters, digits, + _ . -)
LAYOUT = {"root": [(0, 8, 2)], "data": [(0, 4, 12), (4, 4, 20)], "empty": [(0, 2, 26)]}


def _lv_text(name: str, segments: list[tuple[int, int, int]], kind: str = "striped") -> str:
    body = "".join(
        f'segment{i} {{\nstart_extent = {s}\nextent_count = {n}\ntype = "{kind}"\n'
        + (f'stripe_count = 1\nstripes = [\n"pv0", {pe}\n]\n' if kind == "striped" else "")
        + "}\n"
        for i, (s, n, pe) in enumerate(segments, 1)
    )
    return (
        f'{name} {{\nid = "{uuid.uuid4().hex[:6]}-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa"\n'
        f'status = ["READ", "WRITE", "VISIBLE"]\nflags = []\nsegment_count = {len(segments)}\n'
        f"{body}}}\n"
    )


def _lvm(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, env=ENV).stdout


def make_pv(path: Path, volumes: dict[str, str]) -> tuple[str, dict[str, list[int]]]:
    """A 32 MiB physical volume at `path` whose group holds the logical volumes of `volumes`
    (name -> metadata text); returns the group's name and, per volume, the byte offsets of its
    extents on the PV as `pvs` and `lvs` report them."""
    need_root()
    need_peer("pvcreate", "vgcreate", "vgcfgbackup", "vgcfgrestore", "lvs", "pvs", "losetup")
    with open(path, "wb") as fh:
        fh.truncate(32 * MiB)
    loop = subprocess.run(
        ["losetup", "-f", "--show", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    vg = f"vg{uuid.uuid4().hex[:8]}"
    try:
        _lvm("pvcreate", "-q", loop)
        _lvm("vgcreate", "-q", "-s", "1M", vg, loop)
        backup = path.with_suffix(".vg")
        _lvm("vgcfgbackup", "-q", "-f", str(backup), vg)
        if volumes:
            text = backup.read_text()
            end = text.rindex("}")
            lvs = "logical_volumes {\n" + "".join(volumes.values()) + "}\n"
            backup.write_text(text[:end] + lvs + text[end:])
            _lvm("vgcfgrestore", "-q", "-f", str(backup), vg)
        pe_start = _lvm("pvs", "--noheadings", "--units", "b", "--nosuffix", "-o", "pe_start", loop)
        ranges = _lvm("lvs", "--noheadings", "--separator", "|", "-o", "lv_name,seg_pe_ranges", vg)
    finally:  # lvm2 keeps no cache: the group is gone from this host with the loop device
        subprocess.run(["losetup", "-d", loop], check=True)
    base = int(pe_start.split()[0])
    places: dict[str, list[int]] = {}
    for line in ranges.splitlines():
        if "|" not in line:
            continue
        name, pe = (x.strip() for x in line.split("|"))
        for first, last in re.findall(r":(\d+)-(\d+)", pe):
            places.setdefault(name, []).extend(
                base + e * MiB for e in range(int(first), int(last) + 1)
            )
    return vg, places


def _ext4(tmp_path: Path, name: str, files: dict[str, bytes], size_mib: int) -> bytes:
    need_peer("mkfs.ext4")
    src = tmp_path / f"src-{name}"
    src.mkdir()
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    img = tmp_path / f"{name}.ext4"
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(src), str(img), f"{size_mib}M"],
        check=True,
        capture_output=True,
    )
    return img.read_bytes()


FILES = {
    "root": {"tệp gốc.txt": "Biên bản thu giữ — Nguyễn Bá Tùng\n".encode()},
    "data": {"big.bin": os.urandom(5 * MiB + 123), "ghi chú.txt": b"data\n"},
}


def fat_and(tmp_path: Path, second: bytes, kind: str) -> Path:
    """disk.img: MBR, partition 1 a 4 MiB FAT (mkfs.vfat), partition 2 `second` (MBR type
    `kind`) from sector 10240."""
    need_peer("sfdisk", "mkfs.vfat")
    fat = tmp_path / "fat.img"
    with open(fat, "wb") as fh:
        fh.truncate(4 * MiB)
    subprocess.run(["mkfs.vfat", "-n", "BOOT", str(fat)], check=True, capture_output=True)
    disk = tmp_path / "disk.img"
    sectors = -(-len(second) // 512)
    with open(disk, "wb") as fh:
        fh.truncate((10240 + sectors) * 512 + MiB)
    table = f"label: dos\nstart=2048, size=8192, type=c\nstart=10240, size={sectors}, type={kind}\n"
    subprocess.run(["sfdisk", "-q", str(disk)], input=table.encode(), check=True)
    with open(disk, "r+b") as fh:
        fh.seek(2048 * 512)
        fh.write(fat.read_bytes())
        fh.seek(10240 * 512)
        fh.write(second)
    return disk


@pytest.fixture
def lvm_disk(tmp_path: Path) -> tuple[Path, str, dict[str, bytes]]:
    """disk.img: MBR, partition 1 FAT, partition 2 an LVM PV with three logical volumes (ext4
    in `root` and in the two-segment `data`, nothing in `empty`); returns it, the group's name
    and each volume's bytes as put together from the places `lvs` reports."""
    pv = tmp_path / "pv.img"
    vg, places = make_pv(pv, {n: _lv_text(n, segs) for n, segs in LAYOUT.items()})
    volumes = {}
    with open(pv, "r+b") as fh:
        for name, files in FILES.items():
            data = _ext4(tmp_path, name, files, len(places[name]))
            for i, at in enumerate(places[name]):
                fh.seek(at)
                fh.write(data[i * MiB : (i + 1) * MiB])
            volumes[name] = data
    disk = fat_and(tmp_path, pv.read_bytes(), "8e")
    return disk, vg, volumes


@pytest.mark.peer
def test_logical_volumes_are_listed_and_collected(
    tmp_path: Path, lvm_disk: tuple[Path, str, dict[str, bytes]]
) -> None:
    need_peer("fls", "icat")
    disk, vg, volumes = lvm_disk
    with open_image(disk) as img:
        rows = [(p.number, p.description, p.filesystem) for p in img.numbered()]
    assert rows[0][2] is not None and rows[0][2].startswith("FAT")
    assert rows[1][0] == 2 and rows[1][2] == f"LVM physical volume ({vg})"
    assert rows[2:] == [
        (3, f"LVM logical volume {vg}/root in partition 2", "ext4"),
        (4, f"LVM logical volume {vg}/data in partition 2", "ext4"),
        (5, f"LVM logical volume {vg}/empty in partition 2", None),
    ]
    out = tmp_path / "out"
    out.mkdir()
    collection, _ = collect([disk], out, "ITEM", CollectOptions())
    got = {
        f.member: f.digests["sha256"]
        for f in collection.files
        if f.member and f.entry.kind == "r" and b"lost+found" not in f.member
    }
    # the oracle: Sleuth Kit's own tools on each volume as LVM places it
    for number, name in ((3, "root"), (4, "data")):
        image = tmp_path / f"lv{number}.raw"
        image.write_bytes(volumes[name])
        listing = subprocess.run(
            ["fls", "-r", "-F", str(image)], capture_output=True, check=True
        ).stdout.decode()
        for inode, fname in re.findall(r"r/r (\d+):\t(.+)", listing):
            if fname == "lost+found":
                continue
            content = subprocess.run(
                ["icat", str(image), inode], capture_output=True, check=True
            ).stdout
            member = f"disk.img/p{number}/{fname}".encode()
            assert got.pop(member) == hashlib.sha256(content).hexdigest()
            assert content == FILES[name][fname]
    assert not got  # nothing collected that the oracle does not list (partition 1 is empty)


@pytest.mark.peer
def test_physical_volume_and_empty_volume_say_what_to_do(
    tmp_path: Path, lvm_disk: tuple[Path, str, dict[str, bytes]]
) -> None:
    disk, vg, _ = lvm_disk
    out = tmp_path / "out"
    out.mkdir()
    pattern = re.escape(
        f"partition 2 of 'disk.img' is an LVM physical volume (volume group '{vg}'): collect "
        "from its logical volumes, partition(s) 3, 4, 5"
    )
    with pytest.raises(SourceError, match=pattern):
        collect([disk], out, "ITEM", CollectOptions(partition=2))
    with pytest.raises(
        SourceError,
        match=r"no file system in partition 5 of 'disk.img' \(LVM logical volume vg\w+/empty",
    ):
        collect([disk], out, "ITEM", CollectOptions(partition=5))
    assert not any(out.iterdir())


@pytest.mark.peer
def test_whole_image_physical_volume_and_unsupported_segments(tmp_path: Path) -> None:
    pv = tmp_path / "pv.img"
    volumes = {
        "zero": _lv_text("zero", [(0, 2, 0)], kind="zero"),
        "root": _lv_text("root", LAYOUT["root"]),
    }
    _vg, places = make_pv(pv, volumes)
    data = _ext4(tmp_path, "root", FILES["root"], 8)
    with open(pv, "r+b") as fh:
        for i, at in enumerate(places["root"]):
            fh.seek(at)
            fh.write(data[i * MiB : (i + 1) * MiB])
    with open_image(pv) as img:
        assert img.description == "LVM physical volume"
        numbered = img.numbered()
    assert sorted((p.number, p.filesystem or "") for p in numbered)[0][0] == 1
    assert sorted(p.filesystem or "" for p in numbered) == ["", "ext4"]
    zero = next(p for p in numbered if "zero" in p.description)
    assert "not read: LVM segment type 'zero'" in zero.description
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError, match="LVM segment type 'zero'"):
        collect([pv], out, "ITEM", CollectOptions(partition=zero.number))
    collection, _ = collect([pv], out, "ITEM", CollectOptions())  # the readable one
    names = {f.entry.path for f in collection.files if f.entry.kind == "r"}
    assert "tệp gốc.txt".encode() in names


@pytest.mark.peer
@pytest.mark.parametrize("where", ["label", "metadata"])
def test_damaged_lvm_structures_are_named(tmp_path: Path, where: str) -> None:
    pv = tmp_path / "pv.img"
    make_pv(pv, {"root": _lv_text("root", LAYOUT["root"])})
    raw = bytearray(pv.read_bytes())
    if where == "label":
        raw[512 + 40] ^= 0xFF  # the PV's UUID, covered by the label's CRC
        message = "label of 'pv.img' is damaged"
    else:  # the current metadata text, as the metadata area header points to it
        offset = struct.unpack_from("<Q", raw, 4096 + 40)[0]
        raw[4096 + offset + 10] ^= 0x01
        message = "metadata of 'pv.img' fails its checksum"
    pv.write_bytes(bytes(raw))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError, match=re.escape(message)):
        collect([pv], out, "ITEM", CollectOptions())
    assert not any(out.iterdir())


def test_metadata_parser_reads_lvm_text_and_refuses_garbage() -> None:
    doc = lvm.parse_metadata(
        '# comment\nvg0 {\n id = "a-b"\n extent_size = 8192 # 4 MiB\n'
        ' status = ["READ", "WRITE"]\n tags = []\n note = "say \\"hi\\""\n'
        ' physical_volumes {\n  pv0 { pe_start = 2048 }\n }\n}\ncontents = "Text"\n'
    )
    vg = doc["vg0"]
    assert isinstance(vg, dict)
    assert vg["extent_size"] == 8192 and vg["status"] == ["READ", "WRITE"] and vg["tags"] == []
    assert vg["note"] == 'say "hi"'
    assert vg["physical_volumes"] == {"pv0": {"pe_start": 2048}}
    for bad in ("vg0 {", "vg0 { a = }", "= 1", "a = [1, 2", "a b", "}"):
        with pytest.raises(SourceError, match="cannot parse the LVM2 metadata"):
            lvm.parse_metadata(bad)


def test_crc_is_lvms() -> None:
    # LVM's calc_crc over no bytes returns its initial value
    assert lvm.lvm_crc(b"") == 0xF597A6CF


def test_hostile_metadata_nesting_is_a_clear_error() -> None:
    for text in ("a {" * 5000 + "}" * 5000, "a = " + "[" * 5000 + "]" * 5000):
        with pytest.raises(SourceError, match="cannot parse the LVM2 metadata"):
            lvm.parse_metadata(text)
