"""Logical collection end to end at the library level: file-system images built with real tools
round-trip through GNU tar; live folders keep links, xattrs, FIFOs and report unreadable files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.options import CollectOptions
from evidencekit.errors import UsageError
from tests.conftest import need_peer, need_root

ZONE = "Asia/Ho_Chi_Minh"
# Vietnamese names (NFC), nested folders, an empty file and a 1 MiB file.
TREE: dict[str, bytes] = {
    "Tài liệu/Báo cáo tháng 6.txt": "Báo cáo: Nguyễn Bá Tùng\n".encode(),
    "Tài liệu/Hợp đồng/bản gốc.doc": b"\xd0\xcf\x11\xe0" + bytes(range(256)) * 4,
    "Ảnh/Đà Lạt/hình ảnh 01.jpg": b"\xff\xd8\xff\xe0" + os.urandom(5000),
    "tệp rỗng.txt": b"",  # a space forces a long name: mtools would squash "rỗng.txt" to 8.3
    "tệp lớn.bin": bytes(range(256)) * 4096,  # 1 MiB
    "Trương Đình Bủng.txt": "Trương Đình Bủng\n".encode(),
}


def make_tree(root: Path) -> dict[str, int]:
    """Write TREE under root with even-second mtimes (FAT keeps 2 s); return path -> mtime."""
    base = int(dt.datetime(2024, 6, 15, 10, 20, 30, tzinfo=dt.UTC).timestamp())
    mtimes = {}
    for i, (name, data) in enumerate(sorted(TREE.items())):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        mtime = base + 2 * 3600 * i
        os.utime(path, (mtime, mtime))
        mtimes[name] = mtime
    return mtimes


def tar_extract(tar: Path, dest: Path, *extra: str) -> None:
    need_peer("tar")
    dest.mkdir()
    subprocess.run(
        ["tar", "--warning=no-unknown-keyword", *extra, "-xf", str(tar), "-C", str(dest)],
        check=True,
    )


def files_under(root: Path) -> dict[str, bytes]:
    found = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = Path(dirpath) / name
            found[str(full.relative_to(root))] = full.read_bytes()
    return found


def run_collect(sources: list[Path], out: Path, **kw: object):  # type: ignore[no-untyped-def]
    out.mkdir(parents=True, exist_ok=True)
    return collect(sources, out, "ITEM", CollectOptions(**kw))  # type: ignore[arg-type]


@pytest.mark.peer
def test_fat32_round_trip_vietnamese_names_bytes_mtimes(tmp_path: Path) -> None:
    need_peer("mkfs.vfat", "mcopy", "tar")
    src = tmp_path / "src"
    mtimes = make_tree(src)
    img = tmp_path / "fat32.img"
    with open(img, "wb") as fh:
        fh.truncate(34 << 20)  # sparse; FAT32 needs 65525 clusters
    subprocess.run(
        ["mkfs.vfat", "-F", "32", "-s", "1", "-S", "512", str(img)], check=True, capture_output=True
    )
    env = {**os.environ, "TZ": ZONE, "LC_ALL": "C.UTF-8"}  # FAT stores local wall-clock times
    for top in sorted({n.split("/")[0] for n in TREE}):
        subprocess.run(
            ["mcopy", "-s", "-m", "-i", str(img), str(src / top), "::/"], check=True, env=env
        )
    collection, outputs = run_collect([img], tmp_path / "out", source_timezone=ZONE)
    assert not collection.errors
    out = tmp_path / "x"
    tar_extract(outputs.container, out)
    got = files_under(out / "fat32.img")
    assert got == TREE
    for name, mtime in mtimes.items():
        assert (out / "fat32.img" / name).stat().st_mtime == mtime, name
    # the same image read as if its clock were UTC is off by the zone's offset: the option works
    other, _ = run_collect([img], tmp_path / "out2", source_timezone="UTC")
    by_path = {f.entry.path.decode(): f.entry.mtime_ns for f in other.files}
    offset = ZoneInfo(ZONE).utcoffset(dt.datetime(2024, 6, 15)).total_seconds()  # type: ignore[union-attr]
    assert by_path["tệp rỗng.txt"] == (mtimes["tệp rỗng.txt"] + offset) * 1_000_000_000


@pytest.mark.peer
def test_ext4_round_trip_vietnamese_names_bytes_mtimes(tmp_path: Path) -> None:
    need_peer("mkfs.ext4", "tar")
    src = tmp_path / "src"
    mtimes = make_tree(src)
    img = tmp_path / "ext4.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(src), str(img), "6M"], check=True)
    collection, outputs = run_collect([img], tmp_path / "out")
    assert not collection.errors
    out = tmp_path / "x"
    tar_extract(outputs.container, out)
    got = files_under(out / "ext4.img")
    assert {k: got[k] for k in TREE} == TREE
    assert set(got) == set(TREE)  # lost+found is an (empty) folder, nothing else appears
    for name, mtime in mtimes.items():
        assert (out / "ext4.img" / name).stat().st_mtime == mtime, name
    # names are byte-exact (no NFC/NFD change) in the tar itself
    with tarfile.open(outputs.container, encoding="utf-8") as tar:
        names = {m.name for m in tar.getmembers()}
    assert {"ext4.img/" + n for n in TREE} <= names


@pytest.mark.peer
def test_hostile_names_inside_an_image_stay_inside(tmp_path: Path) -> None:
    """Control characters, a newline and non-UTF-8 bytes in names from an ext4 image."""
    need_peer("mkfs.ext4", "tar")
    src = tmp_path / "src"
    src.mkdir()
    hostile = [b"new\nline.txt", b"tab\there", b"esc\x1b[31mred", b"latin1-\xe9t\xe9.txt"]
    for i, raw in enumerate(hostile):
        with open(os.path.join(os.fsencode(src), raw), "wb") as fh:
            fh.write(b"content %d\n" % i)
    img = tmp_path / "h.img"
    subprocess.run(["mkfs.ext4", "-q", "-F", "-d", str(src), str(img), "4M"], check=True)
    collection, outputs = run_collect([img], tmp_path / "out")
    records = {f.entry.path: f for f in collection.files if f.entry.kind == "r"}
    assert set(hostile) <= set(records)
    for raw in hostile[:3]:
        assert records[raw].renamed
        assert b"\n" not in records[raw].member and b"\x1b" not in records[raw].member  # type: ignore[operator]
    assert not records[hostile[3]].renamed  # any bytes are kept; only dangerous ones are not
    manifest = json.loads(outputs.manifest.read_text("utf-8"))
    by_b64 = {f.get("path_b64"): f for f in manifest["files"]}
    import base64

    for raw in hostile:
        assert base64.b64encode(raw).decode() in by_b64
    out = tmp_path / "x"
    tar_extract(outputs.container, out)
    extracted = {p.name: p.read_bytes() for p in (out / "h.img").iterdir() if p.is_file()}
    assert os.fsdecode(b"latin1-\xe9t\xe9.txt") in extracted
    assert "new%0Aline.txt" in extracted and "esc%1B[31mred" in extracted
    assert sorted(os.listdir(out)) == ["h.img"]


@pytest.fixture
def eio_mount(tmp_path: Path) -> Iterator[Path]:
    """A FUSE folder with `hỏng.bin` (reads fail with EIO) and `cấm.txt` (open fails EACCES)."""
    need_root()
    pytest.importorskip("fuse")
    if not os.path.exists("/dev/fuse") or shutil.which("fusermount") is None:
        pytest.skip("FUSE not available")
    script = textwrap.dedent(
        """
        import errno, stat, sys, time
        from fuse import FUSE, FuseOSError, Operations
        NOW = time.time()
        FILES = {"/hỏng.bin": 8192, "/cấm.txt": 10}
        class Faulty(Operations):
            def getattr(self, path, fh=None):
                base = dict(st_mtime=NOW, st_atime=NOW, st_ctime=NOW, st_uid=0, st_gid=0)
                if path == "/":
                    return dict(base, st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
                if path in FILES:
                    return dict(base, st_mode=stat.S_IFREG | 0o644, st_nlink=1,
                                st_size=FILES[path])
                raise FuseOSError(errno.ENOENT)
            def readdir(self, path, fh):
                return [".", ".."] + [p[1:] for p in FILES]
            def open(self, path, flags):
                if path == "/cấm.txt":
                    raise FuseOSError(errno.EACCES)
                return 0
            def read(self, path, size, offset, fh):
                raise FuseOSError(errno.EIO)
        FUSE(Faulty(), sys.argv[1], foreground=True, ro=True, nothreads=True)
        """
    )
    mnt = tmp_path / "live" / "faulty"
    mnt.mkdir(parents=True)
    proc = subprocess.Popen([sys.executable, "-c", script, str(mnt)])
    try:
        for _ in range(100):
            if os.path.ismount(mnt):
                break
            time.sleep(0.05)
        else:
            pytest.fail("FUSE fixture did not mount")
        yield mnt
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], check=False, capture_output=True)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # never mounted, or stuck: end the process we started
            proc.kill()
            proc.wait()


def build_live(root: Path) -> None:
    """A live folder: a file, a symlink, an xattr, a FIFO, a name with a newline, a subfolder."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "thư.txt").write_text("Kính gửi ông Trương Đình Bủng\n", encoding="utf-8")
    (root / "liên kết").symlink_to("thư.txt")
    (root / "treo").symlink_to("/không/tồn/tại")
    os.setxattr(root / "thư.txt", "user.ghi_chú", "Nội dung quan trọng".encode())
    os.mkfifo(root / "ống")
    (root / "dòng\nmới.txt").write_bytes(b"newline in my name\n")
    (root / "thư mục").mkdir()
    (root / "thư mục" / "a.bin").write_bytes(os.urandom(3 << 20))  # takes the pump path


@pytest.mark.root
def test_live_folder_as_specified(tmp_path: Path, eio_mount: Path) -> None:
    live = eio_mount.parent
    build_live(live)
    collection, outputs = run_collect([live], tmp_path / "out")
    recs = {f.entry.path: f for f in collection.files}
    # symlinks are recorded as links, not followed
    assert recs["liên kết".encode()].entry.kind == "l"
    assert recs[b"treo"].entry.link_target == "/không/tồn/tại".encode()
    # FIFO recorded, not read (we got here: nothing blocked)
    assert recs["ống".encode()].entry.kind == "p"
    # the newline name is stored under a safe name, the original kept
    nl = recs["dòng\nmới.txt".encode()]
    assert nl.renamed and nl.member == "live/dòng%0Amới.txt".encode()
    # unreadable files are errors, the rest is collected
    errors = {f.entry.path: f.error for f in collection.errors}
    assert set(errors) == {"faulty/hỏng.bin".encode(), "faulty/cấm.txt".encode()}
    assert "Permission denied" in errors["faulty/cấm.txt".encode()]  # type: ignore[operator]
    assert "read error" in errors["faulty/hỏng.bin".encode()]  # type: ignore[operator]
    assert recs["faulty/cấm.txt".encode()].member is None
    big = recs["thư mục/a.bin".encode()]
    assert (
        big.digests["sha256"]
        == hashlib.sha256((live / "thư mục" / "a.bin").read_bytes()).hexdigest()
    )
    with tarfile.open(outputs.container, encoding="utf-8") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["live/liên kết"].issym() and members["live/liên kết"].linkname == "thư.txt"
        assert members["live/ống"].isfifo()
        letter = members["live/thư.txt"]
        assert letter.pax_headers["SCHILY.xattr.user.ghi_chú"] == "Nội dung quan trọng"
        assert "." in letter.pax_headers["mtime"] and "atime" in letter.pax_headers
        assert letter.pax_headers["ctime"]
    # GNU tar restores the xattr and the link
    out = tmp_path / "x"
    tar_extract(outputs.container, out, "--xattrs", "--xattrs-include=user.*")
    assert os.getxattr(out / "live" / "thư.txt", "user.ghi_chú") == "Nội dung quan trọng".encode()
    assert os.readlink(out / "live" / "liên kết") == "thư.txt"
    assert (out / "live" / "thư.txt").stat().st_mtime_ns == (live / "thư.txt").stat().st_mtime_ns
    # the manifest lists the errors with their reasons
    manifest = json.loads(outputs.manifest.read_text("utf-8"))
    assert manifest["summary"]["errors"] == 2
    assert {e["path"] for e in manifest["errors"]} == {"faulty/hỏng.bin", "faulty/cấm.txt"}


def test_follow_symlinks(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    (live / "real.txt").write_bytes(b"real\n")
    (live / "link.txt").symlink_to("real.txt")
    (live / "loop").symlink_to(".")
    collection, _ = run_collect([live], tmp_path / "out", follow_symlinks=True)
    recs = {f.entry.path: f for f in collection.files}
    assert recs[b"link.txt"].entry.kind == "r"
    assert recs[b"link.txt"].digests["sha256"] == hashlib.sha256(b"real\n").hexdigest()
    assert recs[b"loop"].entry.note and "loop" in recs[b"loop"].entry.note  # not followed twice


def test_include_exclude_ignore_case_max_size(tmp_path: Path) -> None:
    live = tmp_path / "src"
    make_tree(live)
    coll, _ = run_collect([live], tmp_path / "o1", includes=("*.TXT",), ignore_case=True)
    assert {f.entry.path.decode() for f in coll.files if f.member and f.entry.kind == "r"} == {
        n for n in TREE if n.endswith(".txt")
    }
    coll, _ = run_collect([live], tmp_path / "o2", includes=("*.TXT",))
    assert not [f for f in coll.files if f.entry.kind == "r"]
    coll, _ = run_collect([live], tmp_path / "o3", excludes=("Ảnh", "*.doc"))
    paths = {f.entry.path.decode() for f in coll.files}
    assert not any(p.startswith("Ảnh") or p.endswith(".doc") for p in paths)
    assert "tệp lớn.bin" in paths
    coll, _ = run_collect([live], tmp_path / "o4", max_size=1000)
    big = next(f for f in coll.files if f.entry.path == "tệp lớn.bin".encode())
    assert big.member is None and "max-size" in (big.entry.note or "")
    assert not coll.errors


def test_two_sources_with_the_same_name_get_distinct_roots(tmp_path: Path) -> None:
    a = tmp_path / "a" / "docs"
    b = tmp_path / "b" / "docs"
    for d in (a, b):
        d.mkdir(parents=True)
        (d / "f.txt").write_bytes(str(d).encode())
    coll, _outputs = run_collect([a, b], tmp_path / "out")
    members = sorted(f.member for f in coll.files if f.member)
    assert members == [b"docs", b"docs/f.txt", b"docs~2", b"docs~2/f.txt"]


def test_missing_source_and_bad_options(tmp_path: Path) -> None:
    from evidencekit.errors import SourceError

    with pytest.raises(SourceError, match="cannot open source"):
        run_collect([tmp_path / "nope"], tmp_path / "out")
    with pytest.raises(UsageError, match="time zone"):
        run_collect([tmp_path], tmp_path / "out2", source_timezone="Mars/Olympus")
    live = tmp_path / "live"
    live.mkdir()
    with pytest.raises(UsageError, match="--path is for disk images"):
        run_collect([live], tmp_path / "out3", inside_path="/x")
    assert not list((tmp_path / "out3").iterdir())


@pytest.mark.peer
@pytest.mark.root
def test_exfat_names_bytes_and_local_times(tmp_path: Path) -> None:
    """exFAT made by mkfs.exfat, filled through exfat-fuse on a loop device by a process whose
    clock is in Asia/Ho_Chi_Minh; icat is the oracle for the bytes."""
    need_root()
    need_peer("mkfs.exfat", "mount.exfat-fuse", "losetup", "fusermount", "icat", "fls")
    img = tmp_path / "exfat.img"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["mkfs.exfat", str(img)], check=True, capture_output=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    loop = subprocess.run(
        ["losetup", "-f", "--show", str(img)], capture_output=True, check=True, text=True
    ).stdout.strip()
    mtime = int(dt.datetime(2024, 6, 15, 10, 20, 30, tzinfo=dt.UTC).timestamp())
    try:
        env = {**os.environ, "TZ": ZONE}
        subprocess.run(
            ["mount.exfat-fuse", loop, str(mnt)], check=True, env=env, capture_output=True
        )
        try:
            (mnt / "Thư mục").mkdir()
            (mnt / "Thư mục" / "tệp một.txt").write_text("xin chào\n", encoding="utf-8")
            (mnt / "tệp lớn.bin").write_bytes(TREE["tệp lớn.bin"])
            os.utime(mnt / "tệp lớn.bin", (mtime, mtime))
        finally:
            subprocess.run(["fusermount", "-u", str(mnt)], check=True)
    finally:
        subprocess.run(["losetup", "-d", loop], check=False)
    collection, outputs = run_collect([img], tmp_path / "out", source_timezone=ZONE)
    assert not collection.errors
    recs = {f.entry.path.decode(): f for f in collection.files}
    big = recs["tệp lớn.bin"]
    assert big.entry.mtime_ns == mtime * 1_000_000_000
    for name in ("tệp lớn.bin", "Thư mục/tệp một.txt"):
        icat = subprocess.run(
            ["icat", str(img), str(recs[name].entry.inode)], capture_output=True, check=True
        ).stdout
        assert recs[name].digests["sha256"] == hashlib.sha256(icat).hexdigest()
    out = tmp_path / "x"
    tar_extract(outputs.container, out)
    assert (out / "exfat.img" / "Thư mục" / "tệp một.txt").read_text("utf-8") == "xin chào\n"


def test_nfc_and_nfd_names_stay_distinct_and_exact(tmp_path: Path) -> None:
    import unicodedata

    live = tmp_path / "live"
    live.mkdir()
    nfc = unicodedata.normalize("NFC", "Nguyễn Bá Tùng.txt")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    (live / nfc).write_bytes(b"nfc")
    (live / nfd).write_bytes(b"nfd")
    _c, outputs = run_collect([live], tmp_path / "out")
    with tarfile.open(outputs.container, encoding="utf-8") as tar:
        got = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert got == {f"live/{nfc}": b"nfc", f"live/{nfd}": b"nfd"}
    # a typed (NFC) pattern matches both spellings; what is stored stays exact
    coll, _ = run_collect([live], tmp_path / "o2", includes=("nguyễn*",), ignore_case=True)
    assert {f.entry.path for f in coll.files if f.entry.kind == "r"} == {nfc.encode(), nfd.encode()}


@pytest.mark.peer
def test_live_birth_time_matches_coreutils_stat(tmp_path: Path) -> None:
    need_peer("stat")
    live = tmp_path / "live"
    live.mkdir()
    (live / "tệp.txt").write_bytes(b"x")
    birth = subprocess.run(
        ["stat", "-c", "%W", str(live / "tệp.txt")], capture_output=True, check=True, text=True
    ).stdout.strip()
    if birth in ("0", "-"):
        pytest.skip("this file system keeps no birth time")
    collection, outputs = run_collect([live], tmp_path / "out")
    rec = next(f for f in collection.files if f.entry.path == "tệp.txt".encode())
    assert rec.entry.crtime_ns is not None
    assert rec.entry.crtime_ns // 1_000_000_000 == int(birth)
    with tarfile.open(outputs.container, encoding="utf-8") as tar:
        pax = tar.getmember("live/tệp.txt").pax_headers
    secs, frac = divmod(rec.entry.crtime_ns, 1_000_000_000)
    assert pax["LIBARCHIVE.creationtime"] == f"{secs}.{frac:09d}"
