"""The disk images the tests read, built on first use with peer tools nobody here wrote.

A clone of the repository alone must pass the suite, so every image a Linux tool can make is
made here, once per test session, in a temporary folder:

- `ext2.raw` (4 MiB): `mkfs.ext2 -d` of `lost+found/`, `a_directory/a_file`,
  `a_directory/another_file`, `passwords.txt` and the symlink `a_link`;
- `ímynd.dd` (100 KiB, a non-ASCII name): the same tree plus two files `debugfs rm` deletes;
- `ext2.E01`: `ewfacquire` (EnCase 6, deflate best) of `ext2.raw`; `ext2.split.E01`, `.E02` …:
  `ewfacquire -S 1MiB`, uncompressed; `ext2.splitraw.000`, `.001`: `split -b 2MiB`;
- `ext2.qcow2`, `ext2.vmdk`, `ext2.vhd`: `qemu-img convert`;
- `iso9660.raw`: `xorriso` (ISO 9660 level 2, no Rock Ridge) of `A_DIRECTORY/A_FILE`,
  `A_DIRECTORY/ANOTHER_FILE`, `PASSWORDS.TXT`;
- `image.vhd`: a FAT12 volume (`mkfs.vfat` + `mmd`/`mcopy`) in a VHD (`qemu-img -O vpc`);
- `windows_volume.qcow2`: an NTFS volume (`mkntfs` + `ntfscp`) in a qcow2.

The file contents are those of the dfvfs test images (Apache-2.0), so their sha256 values
(`EXT2_FILES`) are known answers. Media digests of built images come from `md5sum`/`sha256sum`
of the media (`qemu-img convert -O raw` for containers) — the oracle, computed here.

Only images no tool in Debian 12 can make (HFS+, APFS: `SHARED_ONLY`) come from
`../shared/testdata/images` (or `EVIDENCEKIT_TESTDATA`); without it they skip with the reason,
and fail in CI (`EVIDENCEKIT_REQUIRE_PEERS=1`), where shared/ is laid beside the checkout.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.peers import REQUIRE_PEERS, TESTDATA, need_peer

SHARED_IMAGES = TESTDATA / "images"

# name -> why no Linux tool here can make it
SHARED_ONLY = {
    "hfsplus.raw": "HFS+ (hfsprogs' mkfs.hfsplus is not in Debian 12)",
    "apfs.raw": "APFS (no Linux tool writes APFS)",
}

A_FILE = b"This is a text file.\n\nWe should be able to parse it.\n"
ANOTHER_FILE = b"This is another file.\n"
PASSWORDS = (
    b"place,user,password\nbank,joesmith,superrich\nalarm system,-,1234\n"
    b"treasure chest,-,1111\nuber secret laire,admin,admin\n"
)
EXT2_FILES = {
    "a_directory/a_file": "4a49638d0e1055fd9e4c17fef7fdf4d6ccf892b6d9c2f64164203c4bfb0ec92d",
    "a_directory/another_file": "c7fbc0e821c0871805a99584c6a384533909f68a6bbe9a2a687d28d9f3b10c16",
    "passwords.txt": "02a2a6af2f1ecf4720d7d49d640f0d0a269a7ec733e41973bdd34f09dad0e252",
}
# the deleted entries `ímynd.dd` keeps in a_directory's slack (Sleuth Kit `fls -d` lists them)
IMYND_DELETED = ("a_directory/.another_file.swp", "a_directory/another_file~")


@dataclass(frozen=True, slots=True)
class Media:
    """The media an image emulates, as the oracle tools see it."""

    size: int
    md5: str
    sha256: str


_DIR: Path | None = None


def _workdir() -> Path:
    global _DIR
    if _DIR is None:
        _DIR = Path(tempfile.mkdtemp(prefix="evidencekit-test-images-"))
        atexit.register(shutil.rmtree, _DIR, True)
    return _DIR


def _run(*args: str | Path, cwd: Path | None = None) -> None:
    subprocess.run(
        [str(a) for a in args], check=True, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True
    )


def _tree(root: Path, *, deleted: bool = False) -> Path:
    """The dfvfs ext2 test tree (plus the files `ímynd.dd` deletes afterwards)."""
    (root / "a_directory").mkdir(parents=True)
    (root / "a_directory" / "a_file").write_bytes(A_FILE)
    (root / "a_directory" / "another_file").write_bytes(ANOTHER_FILE)
    (root / "passwords.txt").write_bytes(PASSWORDS)
    (root / "a_link").symlink_to("a_directory/another_file")
    if deleted:
        (root / "a_directory" / ".another_file.swp").write_bytes(b"swap of another_file\n" * 40)
        (root / "a_directory" / "another_file~").write_bytes(ANOTHER_FILE + b"backup\n")
    return root


def _ext2(out: Path, size_kib: int, *, deleted: bool) -> Path:
    need_peer("mkfs.ext2", "debugfs")
    work = Path(tempfile.mkdtemp(dir=_workdir()))
    tree = _tree(work / "tree", deleted=deleted)
    _run("mkfs.ext2", "-q", "-F", "-b", "1024", "-N", "32", "-d", tree, out, f"{size_kib}k")
    if deleted:
        for path in IMYND_DELETED:
            _run("debugfs", "-w", "-R", f"rm /{path}", out)
    shutil.rmtree(work)
    return out


def _build(name: str, out: Path) -> None:
    """Write image `name` to `out` (its folder holds the image's other segments, if any)."""
    d = out.parent
    if name == "ímynd.dd":
        _ext2(out, 100, deleted=True)
    elif name == "ext2.raw":
        _ext2(out, 4096, deleted=False)
    elif name == "ext2.E01":
        need_peer("ewfacquire")
        _run(
            "ewfacquire", "-u", "-q", "-f", "encase6", "-c", "deflate:best", "-C", "EK-TEST-1",
            "-D", "ext2 test image", "-e", "evidencekit tests", "-E", "1", "-N", "built by tests",
            "-t", d / "ext2", image("ext2.raw"),
        )  # fmt: skip
    elif name == "ext2.split.E01":
        need_peer("ewfacquire")
        _run(
            "ewfacquire", "-u", "-q", "-f", "encase6", "-c", "none", "-S", str(1 << 20),
            "-t", d / "ext2.split", image("ext2.raw"),
        )  # fmt: skip
    elif name == "ext2.splitraw.000":
        need_peer("split")
        _run("split", "-b", str(2 << 20), "-a", "3", "-d", image("ext2.raw"), d / "ext2.splitraw.")
    elif name in ("ext2.qcow2", "ext2.vmdk", "ext2.vhd"):
        need_peer("qemu-img")
        fmt = {"qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc"}[name.rsplit(".", 1)[1]]
        _run("qemu-img", "convert", "-q", "-O", fmt, image("ext2.raw"), out)
    elif name == "iso9660.raw":
        need_peer("xorriso")
        work = Path(tempfile.mkdtemp(dir=_workdir()))
        (work / "A_DIRECTORY").mkdir()
        (work / "A_DIRECTORY" / "A_FILE").write_bytes(A_FILE)
        (work / "A_DIRECTORY" / "ANOTHER_FILE").write_bytes(ANOTHER_FILE)
        (work / "PASSWORDS.TXT").write_bytes(PASSWORDS)
        _run("xorriso", "-as", "mkisofs", "-quiet", "-iso-level", "2", "-V", "EK_TEST", "-o", out,
             work)  # fmt: skip
        shutil.rmtree(work)
    elif name == "image.vhd":
        need_peer("mkfs.vfat", "mcopy", "mmd", "qemu-img")
        fat = d / "image.fat"
        with open(fat, "wb") as f:
            f.truncate(100 << 10)
        _run("mkfs.vfat", fat)  # no label: a label entry is a case of its own (issue #19)
        work = Path(tempfile.mkdtemp(dir=_workdir()))
        _tree(work)
        _run("mmd", "-i", fat, "::a_directory")
        for rel in ("a_directory/a_file", "a_directory/another_file", "passwords.txt"):
            _run("mcopy", "-i", fat, work / rel, f"::{rel}")
        shutil.rmtree(work)
        _run("qemu-img", "convert", "-q", "-f", "raw", "-O", "vpc", fat, out)
    elif name == "windows_volume.qcow2":
        need_peer("mkntfs", "ntfscp", "qemu-img")
        ntfs = d / "windows_volume.raw"
        with open(ntfs, "wb") as f:
            f.truncate(8 << 20)
        _run("mkntfs", "-q", "-F", "-f", "-L", "EKTEST", ntfs)
        work = Path(tempfile.mkdtemp(dir=_workdir()))
        _tree(work)
        for rel in ("a_directory/a_file", "passwords.txt"):
            _run("ntfscp", "-q", ntfs, work / rel, Path(rel).name)
        shutil.rmtree(work)
        _run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", ntfs, out)
    else:
        raise KeyError(f"no recipe for test image {name!r}")


@functools.cache
def _built(name: str) -> Path:
    folder = _workdir() / name.replace(".", "_")
    folder.mkdir()
    out = folder / name
    _build(name, out)
    assert out.is_file(), f"building {name} wrote nothing"
    return out


def need_shared(name: str) -> Path:
    """The image from ../shared/testdata; skip (fail in CI) with why it cannot be built here."""
    path = SHARED_IMAGES / name
    if not path.is_file():
        why = SHARED_ONLY.get(name, "an image made by other tools")
        msg = f"{name}: {why} is read from {path}, which is absent"
        if REQUIRE_PEERS:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


def image(name: str) -> Path:
    """The test image `name`: built with peer tools, or read from shared/ when none can make it.

    Segments of a split image (`ext2.split.E02`, `ext2.splitraw.001`) lie beside the first.
    """
    if name in SHARED_ONLY:
        return need_shared(name)
    first = {"ext2.split.E02": "ext2.split.E01", "ext2.splitraw.001": "ext2.splitraw.000"}
    if name in first:
        return _built(first[name]).parent / name
    return _built(name)


def segments(name: str) -> list[Path]:
    """Every file of image `name`, in order (one for a single-file image)."""
    path = image(name)
    if name in ("ext2.split.E01", "ext2.splitraw.000"):
        return sorted(p for p in path.parent.iterdir() if p.name.startswith(path.stem + "."))
    return [path]


@functools.cache
def media(name: str) -> Media:
    """Size, md5 and sha256 of the media `name` emulates, from md5sum/sha256sum (the oracles)."""
    path = image(name)
    need_peer("md5sum", "sha256sum")
    if name.endswith((".E01", ".qcow2", ".vmdk", ".vhd")):
        need_peer("qemu-img" if not name.endswith(".E01") else "ewfexport")
        raw = _workdir() / f"{name}.media"
        if name.endswith(".E01"):
            _run("ewfexport", "-u", "-q", "-f", "raw", "-t", raw, path)
            raw = raw.with_name(raw.name + ".raw")
        else:
            _run("qemu-img", "convert", "-q", "-O", "raw", path, raw)
        files = [raw]
    else:
        files = segments(name)
    md5 = _digest("md5sum", files)
    sha256 = _digest("sha256sum", files)
    return Media(sum(os.path.getsize(f) for f in files), md5, sha256)


def _digest(tool: str, files: list[Path]) -> str:
    cat = subprocess.Popen(["cat", *map(str, files)], stdout=subprocess.PIPE)
    out = subprocess.run([tool], stdin=cat.stdout, capture_output=True, check=True).stdout
    assert cat.wait() == 0
    return out.split()[0].decode()


def ntfs_volume(
    path: Path, files: dict[str, bytes], *, then: Callable[[Path], None] | None = None
) -> Path:
    """An 8 MiB NTFS volume at `path` (`mkntfs`) holding `files` (relative name -> bytes),
    written through a real `ntfs-3g` FUSE mount (root); `then(mount point)` runs before the
    unmount (to delete what a test wants deleted)."""
    need_peer("mkntfs", "ntfs-3g", "fusermount")
    with open(path, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["mkntfs", "-F", "-q", "-f", str(path)], check=True, capture_output=True)
    mnt = path.with_name(path.name + ".mnt")
    mnt.mkdir()
    subprocess.run(["ntfs-3g", str(path), str(mnt)], check=True)
    try:
        for name, data in files.items():
            (mnt / name).parent.mkdir(parents=True, exist_ok=True)
            (mnt / name).write_bytes(data)
        if then is not None:
            then(mnt)
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], check=True)
    return path
