"""Files inside every shared test image, checked against Sleuth Kit's `icat` (the oracle).

For each image holding a file system we collect every allocated file and compare its sha256 to
what `icat` gives for the same inode (Debian's Sleuth Kit reads raw, split raw, E01, VMDK and
VHD; qcow2 is converted to raw with `qemu-img` first; APFS needs `-P apfs -B <superblock>`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from evidencekit.acquire.fs.open import open_image
from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.errors import SourceError, UsageError
from tests.conftest import need_peer
from tests.images import image

# image -> (files given to icat/fls, extra Sleuth Kit options)
CASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ímynd.dd": (("ímynd.dd",), ()),
    "iso9660.raw": (("iso9660.raw",), ()),
    "hfsplus.raw": (("hfsplus.raw",), ()),
    "apfs.raw": (("apfs.raw",), ("-P", "apfs", "-B", "107")),
    "ext2.E01": (("ext2.E01",), ()),
    "ext2.split.E01": (("ext2.split.E01", "ext2.split.E02"), ()),
    "ext2.splitraw.000": (("ext2.splitraw.000", "ext2.splitraw.001"), ()),
    "ext2.vmdk": (("ext2.vmdk",), ()),
    "ext2.vhd": (("ext2.vhd",), ()),
    "image.vhd": (("image.vhd",), ()),
    "ext2.qcow2": (("@raw",), ()),
    "windows_volume.qcow2": (("@raw",), ()),
}

EXT2_FILES = {
    "a_directory/a_file": "4a49638d0e1055fd9e4c17fef7fdf4d6ccf892b6d9c2f64164203c4bfb0ec92d",
    "a_directory/another_file": "c7fbc0e821c0871805a99584c6a384533909f68a6bbe9a2a687d28d9f3b10c16",
    "passwords.txt": "02a2a6af2f1ecf4720d7d49d640f0d0a269a7ec733e41973bdd34f09dad0e252",
}


def _peer_files(name: str, tmp_path: Path) -> list[str]:
    files, _opts = CASES[name]
    if files == ("@raw",):
        need_peer("qemu-img")
        raw = tmp_path / (name + ".raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", str(image(name)), str(raw)], check=True)
        return [str(raw)]
    return [str(image(f)) for f in files]


def _icat_sha256(files: list[str], opts: tuple[str, ...], inode: int, size: int) -> str:
    out = subprocess.run(["icat", *opts, *files, str(inode)], capture_output=True)
    if out.returncode and size == 0:
        # icat refuses an empty APFS file that only has a resource fork (no data attribute)
        assert b"Attribute not found" in out.stderr, out.stderr
        return hashlib.sha256(b"").hexdigest()
    assert out.returncode == 0, out.stderr
    return hashlib.sha256(out.stdout).hexdigest()


def _fls_regular_inodes(files: list[str], opts: tuple[str, ...]) -> set[int]:
    """Inodes of allocated regular files per `fls -r -u -F` (stream lines like `x:$Bad` skipped)."""
    out = subprocess.run(
        ["fls", "-r", "-u", "-F", "-p", *opts, *files], capture_output=True, check=True
    ).stdout.decode("utf-8", "surrogateescape")
    found = set()
    for line in out.splitlines():
        m = re.match(r"r/r (\d+)(?:-\d+-\d+)?:\t(.*)$", line)
        if m and ":" not in m.group(2):
            found.add(int(m.group(1)))
    return found


@pytest.mark.peer
@pytest.mark.parametrize("name", sorted(CASES))
def test_collected_files_match_icat(name: str, tmp_path: Path) -> None:
    need_peer("icat", "fls")
    files = _peer_files(name, tmp_path)
    opts = CASES[name][1]
    out = tmp_path / "out"
    out.mkdir()
    collection, outputs = collect(
        [image(name)], out, "ITEM", CollectOptions(algorithms=("md5", "sha256"))
    )
    assert not collection.errors, [(f.entry.path, f.error) for f in collection.errors]
    ours = {
        f.entry.inode: f
        for f in collection.files
        if f.entry.kind == "r" and f.entry.stream is None and f.member is not None
    }
    assert ours
    # every regular file Sleuth Kit lists is collected ...
    assert _fls_regular_inodes(files, opts) <= set(ours)
    # ... with the bytes icat gives
    streams: dict[int | None, set[str]] = {}
    for f in collection.files:
        if f.entry.stream is not None:
            streams.setdefault(f.entry.inode, set()).add(f.digests["sha256"])
    with tarfile.open(outputs.container) as tar:
        for inode, f in ours.items():
            assert inode is not None
            expected = _icat_sha256(files, opts, inode, f.entry.size)
            if f.entry.size == 0 and expected in streams.get(inode, ()):
                # NTFS file without an unnamed $DATA ($Secure): icat falls back to its first
                # named stream, which we store as that stream's own member
                continue
            assert f.digests["sha256"] == expected, f.entry.path
            member = tar.extractfile(f.member.decode("utf-8", "surrogateescape"))  # type: ignore[union-attr]
            assert member is not None
            assert hashlib.sha256(member.read()).hexdigest() == expected
    if name.startswith(("ext2", "ímynd")) and name != "ext2.vhd":
        by_path = {f.entry.path.decode(): f.digests["sha256"] for f in ours.values()}
        for path, digest in EXT2_FILES.items():
            assert by_path[path] == digest


@pytest.mark.peer
def test_deleted_entries_of_imynd_are_marked(tmp_path: Path) -> None:
    need_peer("fls")
    img = image("ímynd.dd")
    out = tmp_path / "out"
    out.mkdir()
    collection, _ = collect([img], out, "ITEM", CollectOptions(include_deleted=True))
    deleted = {f.entry.path for f in collection.files if f.entry.deleted}
    fls = subprocess.run(["fls", "-r", "-p", "-d", str(img)], capture_output=True, check=True)
    expected = {
        line.split("\t", 1)[1].encode() for line in fls.stdout.decode().splitlines() if "\t" in line
    }
    assert expected == {b"a_directory/.another_file.swp", b"a_directory/another_file~"}
    assert expected <= deleted
    # without --include-deleted they are not there
    out2 = tmp_path / "out2"
    out2.mkdir()
    plain, _ = collect([img], out2, "ITEM", CollectOptions())
    assert not any(f.entry.deleted for f in plain.files)


@pytest.mark.peer
@pytest.mark.parametrize(
    ("name", "opts", "inode"),
    [("hfsplus.raw", (), 25), ("apfs.raw", ("-P", "apfs", "-B", "107"), 23)],
)
def test_resource_fork_is_its_own_member(
    tmp_path: Path, name: str, opts: tuple[str, ...], inode: int
) -> None:
    need_peer("icat")
    out = tmp_path / "out"
    out.mkdir()
    collection, outputs = collect([image(name)], out, "ITEM", CollectOptions())
    forks = [f for f in collection.files if f.entry.stream == b"rsrc"]
    member = f"{name}/a_directory/a_resourcefork:rsrc"
    assert [f.member for f in forks] == [member.encode()]
    # Sleuth Kit's attribute type 4353 is the resource fork
    expected = subprocess.run(
        ["icat", *opts, str(image(name)), f"{inode}-4353"], capture_output=True, check=True
    ).stdout
    assert forks[0].digests["sha256"] == hashlib.sha256(expected).hexdigest()
    with tarfile.open(outputs.container) as tar:
        data = tar.extractfile(member)
        assert data is not None and data.read() == expected


def test_path_inside_image_and_missing_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    collection, _ = collect(
        [image("ímynd.dd")], out, "ITEM", CollectOptions(inside_path="/a_directory")
    )
    paths = {f.entry.path for f in collection.files}
    assert paths == {b"a_directory", b"a_directory/a_file", b"a_directory/another_file"}
    out2 = tmp_path / "out2"
    out2.mkdir()
    with pytest.raises(SourceError, match="no path"):
        collect([image("ímynd.dd")], out2, "ITEM", CollectOptions(inside_path="/nope"))
    assert not any(out2.iterdir())  # nothing half-written is left behind


@pytest.mark.parametrize(
    "content",
    [b"", b"not an image at all\n" * 100, b"\x00" * 65536],
    ids=["empty", "text", "zeros"],
)
def test_unrecognised_image_names_what_was_tried(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.dd"
    bad.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError) as info:
        collect([bad], out, "ITEM", CollectOptions(partition=None, inside_path="/"))
    assert "bad.dd" in info.value.message or "bad.dd" in str(info.value.hint)
    if content:
        assert "Sleuth Kit" in info.value.message and "dfvfs" in info.value.message
    assert not any(out.iterdir())


def test_truncated_image_is_an_error_not_a_crash(tmp_path: Path) -> None:
    data = (image("ímynd.dd")).read_bytes()
    cut = tmp_path / "cut.dd"
    cut.write_bytes(data[:3000])  # superblock only: the inode tables are gone
    out = tmp_path / "out"
    out.mkdir()
    try:
        collection, _ = collect([cut], out, "ITEM", CollectOptions())
    except SourceError as exc:
        assert "cut.dd" in exc.message
    else:
        assert collection.errors  # whatever could not be read is recorded


def test_partitions_numbered_and_chosen(tmp_path: Path) -> None:
    """An MBR disk with two FAT partitions: numbers 1 and 2, as --partition takes them."""
    need_peer("sfdisk", "mkfs.vfat", "mcopy")
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as fh:
        fh.truncate(12 << 20)
    subprocess.run(
        ["sfdisk", "-q", str(disk)],
        input=b"label: dos\nstart=2048, size=10240, type=c\nstart=14336, size=8192, type=c\n",
        check=True,
    )
    for i, (start, size) in enumerate(((2048, 10240), (14336, 8192)), 1):
        part = tmp_path / f"p{i}.img"
        with open(part, "wb") as fh:
            fh.truncate(size * 512)
        subprocess.run(["mkfs.vfat", "-n", f"P{i}", str(part)], check=True, capture_output=True)
        src = tmp_path / f"file{i}.txt"
        src.write_bytes(f"partition {i}\n".encode())
        subprocess.run(["mcopy", "-i", str(part), str(src), f"::/file{i}.txt"], check=True)
        with open(disk, "r+b") as fh:
            fh.seek(start * 512)
            fh.write(part.read_bytes())
    with open_image(disk) as img:
        numbered = img.numbered()
        assert [p.number for p in numbered] == [1, 2]
        assert [p.start for p in numbered] == [2048 * 512, 14336 * 512]
        assert all(p.filesystem and p.filesystem.startswith("FAT") for p in numbered)
        with pytest.raises(UsageError, match="no partition 3"):
            img.filesystems(3)
    out = tmp_path / "out"
    out.mkdir()
    collection, _ = collect([disk], out, "ITEM", CollectOptions(partition=2))
    members = {f.member for f in collection.files if f.member}
    assert members == {b"disk.img/p2/file2.txt"}
    rec = next(f for f in collection.files if f.member == b"disk.img/p2/file2.txt")
    if shutil.which("icat"):  # Sleuth Kit at the partition's sector offset agrees
        icat = subprocess.run(
            ["icat", "-o", "14336", str(disk), str(rec.entry.inode)],
            capture_output=True,
            check=True,
        ).stdout
        assert icat == b"partition 2\n"
        assert rec.digests["sha256"] == hashlib.sha256(icat).hexdigest()
    labels = [f for f in collection.files if f.entry.kind == "v"]
    assert [(f.entry.note, f.member) for f in labels] == [("FAT volume label", None)]
    out2 = tmp_path / "out2"
    out2.mkdir()
    both, _ = collect([disk], out2, "ITEM", CollectOptions())
    assert {f.partition for f in both.files if f.entry.kind == "r"} == {1, 2}


@pytest.mark.peer
def test_corrupt_inode_size_is_an_error_not_a_flood(tmp_path: Path) -> None:
    """An inode whose size field was set to 16 MiB in a 100 KiB image (debugfs): recorded with
    its reason, nothing huge written, the rest collected. (A bogus size of 4 GiB works the same
    but takes pytsk3 ~40 s: its directory iterator loads each file's block map.)"""
    need_peer("debugfs")
    img = tmp_path / "corrupt.dd"
    img.write_bytes((image("ímynd.dd")).read_bytes())
    subprocess.run(
        ["debugfs", "-w", "-R", "sif <14> size 0x1000000", str(img)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "out"
    out.mkdir()
    collection, outputs = collect([img], out, "ITEM", CollectOptions())
    errors = {f.entry.path: f.entry.error for f in collection.errors}
    assert list(errors) == [b"a_directory/a_file"]
    assert "larger than the file system" in errors[b"a_directory/a_file"]  # type: ignore[operator]
    assert outputs.container.stat().st_size < 1 << 20
    ok = {f.entry.path: f.digests["sha256"] for f in collection.files if f.member and f.digests}
    assert ok[b"passwords.txt"] == EXT2_FILES["passwords.txt"]
