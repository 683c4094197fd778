"""The PAX tar writer: safe names, PAX records, one-pass digests, zero-filled read errors, and
what GNU tar and Python's tarfile make of it."""

from __future__ import annotations

import errno
import hashlib
import subprocess
import tarfile
from pathlib import Path

import pytest

from evidencekit.acquire.fs.model import FileEntry
from evidencekit.acquire.logical.member_names import MemberNames, safe_component
from evidencekit.acquire.logical.tar_writer import PaxTarWriter
from evidencekit.errors import AcquisitionError
from tests.conftest import need_peer


class BytesReader:
    def __init__(self, data: bytes, fail_at: int | None = None, stop_at: int | None = None):
        self.data = data
        self.pos = 0
        self.fail_at = fail_at
        self.stop_at = stop_at
        self.closed = False

    def readinto(self, buf: memoryview) -> int:
        if self.fail_at is not None and self.pos >= self.fail_at:
            raise OSError(errno.EIO, "Input/output error")
        end = len(self.data) if self.stop_at is None else self.stop_at
        if self.fail_at is not None:
            end = min(end, self.fail_at)
        n = min(len(buf), end - self.pos)
        buf[:n] = self.data[self.pos : self.pos + n]
        self.pos += n
        return n

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        (b"normal.txt", b"normal.txt"),
        ("Báo cáo.txt".encode(), "Báo cáo.txt".encode()),
        (b"\xff\xfe-latin", b"\xff\xfe-latin"),
        (b"..", b"%2E%2E"),
        (b".", b"%2E"),
        (b"", b"%"),
        (b"a\nb", b"a%0Ab"),
        (b"a/b", b"a%2Fb"),
        (b"nul\x00x", b"nul%00x"),
        (b"del\x7f", b"del%7F"),
        (b"50%\n", b"50%25%0A"),
    ],
)
def test_safe_component(raw: bytes, safe: bytes) -> None:
    assert safe_component(raw) == safe


def test_overlong_component_is_cut_with_its_digest() -> None:
    raw = "đ".encode() * 200  # 400 bytes
    safe = safe_component(raw)
    assert len(safe) <= 255
    assert safe.endswith(b"~" + hashlib.sha256(raw).hexdigest()[:16].encode())


def test_member_names_are_unique_and_flag_renames() -> None:
    names = MemberNames()
    assert names.assign(b"root", b"a/b.txt") == (b"root/a/b.txt", False)
    assert names.assign(b"root", b"a/../b") == (b"root/a/%2E%2E/b", True)
    # a real "x%0Ay" and a hostile "x\ny" cannot collide
    assert names.assign(b"root", b"x%0Ay") == (b"root/x%0Ay", False)
    assert names.assign(b"root", b"x\ny") == (b"root/x%0Ay~2", True)
    assert names.assign(b"root", b"f", b"Zone.Identifier") == (b"root/f:Zone.Identifier", False)
    assert names.assign(b"root", b"") == (b"root", False)
    long_path = b"/".join([b"d" * 200] * 30)
    member, renamed = names.assign(b"root", long_path)
    assert renamed and member.startswith(b"root/_long/") and len(member) < 200


def test_nothing_is_named_below_a_link() -> None:
    """A corrupt file system with a link `x` and a folder `x`: the folder and its contents move
    together to `x~2`, and nothing lands below the link."""
    names = MemberNames()
    assert names.assign(b"r", b"x", kind="l") == (b"r/x", False)
    assert names.assign(b"r", b"x", kind="d") == (b"r/x~2", True)
    assert names.assign(b"r", b"x/passwd") == (b"r/x~2/passwd", True)
    assert names.assign(b"r", b"x/sub", kind="d") == (b"r/x~2/sub", True)
    assert names.assign(b"r", b"x/sub/f") == (b"r/x~2/sub/f", True)
    # a file whose folder was never given a member still cannot sit below a non-folder
    names.assign(b"r", b"y", kind="r")
    member, renamed = names.assign(b"r", b"y/z")
    assert renamed and member.startswith(b"r/_long/")


def _entry(path: bytes, **kw: object) -> FileEntry:
    base: dict[str, object] = {
        "kind": "r",
        "mode": 0o640,
        "uid": 1000,
        "gid": 1000,
        "mtime_ns": 1_718_446_830_123_456_789,
        "atime_ns": 1_718_446_831_000_000_001,
        "ctime_ns": 1_718_446_832_5,
        "crtime_ns": 1_600_000_000_000_000_000,
    }
    base.update(kw)
    return FileEntry(path=path, **base)  # type: ignore[arg-type]


def write_sample(path: Path) -> dict[str, object]:
    small = "Nội dung nhỏ\n".encode() * 10
    big = bytes(range(256)) * 12288  # 3 MiB: the threaded pump path
    with PaxTarWriter(path, ("md5", "sha256"), window=1 << 20) as tar:
        tar.add_entry(b"r/d\xc3\xa0", _entry(b"d", kind="d", mode=0o755))
        s1 = tar.add_file(
            "r/dà/nhỏ.txt".encode(),
            _entry(b"x", size=len(small), xattrs=((b"user.ghi_ch\xc3\xba", b"gi\xc3\xa1 tr\xe1"),)),
            BytesReader(small),
            len(small),
            ("md5", "sha256"),
        )
        s2 = tar.add_file(
            b"r/big.bin", _entry(b"b", size=len(big)), BytesReader(big), len(big), ("sha256",)
        )
        tar.add_entry(b"r/link", _entry(b"l", kind="l", link_target="../đích".encode()))
        tar.add_entry(b"r/fifo", _entry(b"p", kind="p"))
        s3 = tar.add_file(
            b"r/bad.bin",
            _entry(b"e", size=5000),
            BytesReader(b"A" * 5000, fail_at=1024),
            5000,
            ("sha256",),
        )
        s4 = tar.add_file(
            b"r/short.bin",
            _entry(b"s", size=3000),
            BytesReader(b"B" * 3000, stop_at=700),
            3000,
            ("sha256",),
        )
    return {"small": small, "big": big, "s1": s1, "s2": s2, "s3": s3, "s4": s4, "tar": tar}


def test_pax_records_digests_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    r = write_sample(path)
    s1, s2, s3, s4 = r["s1"], r["s2"], r["s3"], r["s4"]
    assert s1.digests["sha256"] == hashlib.sha256(r["small"]).hexdigest()  # type: ignore[attr-defined, arg-type]
    assert s1.digests["md5"] == hashlib.md5(r["small"]).hexdigest()  # type: ignore[attr-defined, arg-type]
    assert s2.digests["sha256"] == hashlib.sha256(r["big"]).hexdigest()  # type: ignore[attr-defined, arg-type]
    assert s1.error is None and s2.error is None  # type: ignore[attr-defined]
    # a read error: the member keeps its size, zero-filled from the failure, and says so
    assert "read error at offset 1024" in s3.error and "zeros" in s3.error  # type: ignore[attr-defined]
    expected_bad = b"A" * 1024 + bytes(5000 - 1024)
    assert s3.digests["sha256"] == hashlib.sha256(expected_bad).hexdigest()  # type: ignore[attr-defined]
    assert "data ended at offset 700 of 3000" in s4.error  # type: ignore[attr-defined]
    # the tar's own digests, computed while writing, match the file
    result = r["tar"].result  # type: ignore[attr-defined]
    data = path.read_bytes()
    assert result.digests["sha256"] == hashlib.sha256(data).hexdigest()
    assert result.digests["md5"] == hashlib.md5(data).hexdigest()
    assert result.size == len(data) and len(data) % 10240 == 0
    assert [w.offset for w in result.windows] == list(range(0, len(data), 1 << 20))
    for w in result.windows:
        chunk = data[w.offset : w.offset + w.length]
        assert w.digests["sha256"] == hashlib.sha256(chunk).hexdigest()
    with tarfile.open(path, encoding="utf-8") as tar:
        m = {x.name: x for x in tar.getmembers()}
        small = m["r/dà/nhỏ.txt"]
        assert small.pax_headers["mtime"] == "1718446830.123456789"
        assert small.pax_headers["atime"] == "1718446831.000000001"
        assert small.pax_headers["LIBARCHIVE.creationtime"] == "1600000000.000000000"
        assert small.mode == 0o640 and small.uid == 1000
        assert m["r/link"].linkname == "../đích"
        assert m["r/fifo"].isfifo()
        assert tar.extractfile(small).read() == r["small"]  # type: ignore[union-attr]
        assert tar.extractfile(m["r/bad.bin"]).read() == expected_bad  # type: ignore[union-attr]
    # the xattr value is not valid UTF-8: kept byte-exact through hdrcharset=BINARY
    assert b"hdrcharset=BINARY" in data
    assert b"SCHILY.xattr.user.ghi_ch\xc3\xba=gi\xc3\xa1 tr\xe1\n" in data


@pytest.mark.peer
def test_gnu_tar_reads_it(tmp_path: Path) -> None:
    need_peer("tar")
    path = tmp_path / "x.tar"
    r = write_sample(path)
    listing = subprocess.run(
        ["tar", "--warning=no-unknown-keyword", "-tvf", str(path)], capture_output=True, check=True
    )
    assert "r/dà/nhỏ.txt" in listing.stdout.decode()
    dest = tmp_path / "x"
    dest.mkdir()
    subprocess.run(
        ["tar", "--warning=no-unknown-keyword", "-xf", str(path), "-C", str(dest)], check=True
    )
    assert (dest / "r" / "dà" / "nhỏ.txt").read_bytes() == r["small"]
    assert (dest / "r" / "dà" / "nhỏ.txt").stat().st_mtime_ns == 1_718_446_830_123_456_789
    assert (dest / "r" / "big.bin").read_bytes() == r["big"]


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(b"already here")
    with pytest.raises(AcquisitionError, match="already exists"):
        PaxTarWriter(path)
    assert path.read_bytes() == b"already here"


def test_corrupted_container_is_noticed_by_tar(tmp_path: Path) -> None:
    """Negative: a flipped header byte or a truncation breaks the tar for readers."""
    path = tmp_path / "x.tar"
    write_sample(path)
    data = bytearray(path.read_bytes())
    flipped = tmp_path / "flipped.tar"
    data2 = bytearray(data)
    data2[148] ^= 0xFF  # the first header's checksum field
    flipped.write_bytes(data2)
    with pytest.raises(tarfile.ReadError), tarfile.open(flipped) as tar:
        tar.getmembers()
    truncated = tmp_path / "cut.tar"
    truncated.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(tarfile.ReadError), tarfile.open(truncated) as tar:
        for m in tar.getmembers():
            if m.isfile():
                tar.extractfile(m).read()  # type: ignore[union-attr]
