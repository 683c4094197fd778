"""`acquire disk` end to end: real loop devices, split output, verify after tampering, ENOSPC,
interruption, mounted sources, images as sources."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import InterruptedError_
from evidencekit.hash.seal.read import load_seal
from evidencekit.identity import Identity
from evidencekit.workflows.acquire_disk import AcquireDiskRequest, AcquireOptions, acquire_disk
from evidencekit.workflows.custody import list_events
from tests.conftest import need_peer, need_root
from tests.fixtures.faulty import loop_device
from tests.images import image, media

MiB = 1 << 20


def _run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args))
    return r.exit_code, r.stdout, r.stderr


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source(tmp_path: Path, size: int, name: str = "source.bin") -> Path:
    path = tmp_path / name
    # compressible but not constant: every sector differs
    path.write_bytes(b"".join(i.to_bytes(8, "little") * 64 for i in range(size // 512 + 1))[:size])
    return path


@pytest.mark.root
def test_loop_device_bit_identical_and_source_unchanged(case_dir: Path, tmp_path: Path) -> None:
    need_root()
    need_peer("losetup", "sha256sum")
    size = 5 * MiB + 3 * 512  # not a multiple of the 1 MiB chunk
    src = _source(tmp_path, size)
    before = _sha256(src.read_bytes())
    with loop_device(src) as dev:
        code, out, err = _run(
            "--case",
            str(case_dir),
            "--json",
            "acquire",
            "disk",
            dev,
            "--item",
            "LOOP1",
            "--description",
            "Ổ USB của ông A",
        )
        assert code == 0, out + err
    doc = json.loads(out)
    item = case_dir / "evidence" / "LOOP1"
    image = item / "LOOP1.raw"
    assert image.stat().st_size == size
    assert _sha256(image.read_bytes()) == before == doc["digests"]["sha256"]
    assert _sha256(src.read_bytes()) == before  # the source is unchanged
    assert doc["status"] == "complete" and doc["verification"]["image"] == "match"
    assert doc["source"]["kind"] == "block-device"
    assert doc["source"]["read_only_flag"] is True
    # coreutils checks the sums file we wrote
    subprocess.run(["sha256sum", "--quiet", "-c", "LOOP1.sha256"], cwd=item, check=True)
    seal = load_seal(item / "LOOP1.seal.json").document
    assert seal["kind"] == "raw" and seal["status"] == "complete"
    assert seal["facts"]["source"]["identity"]["loop_backing_file"] == str(src)
    log = (item / "LOOP1.log").read_text()
    assert "Host clock:" in log and dev in log and "status: COMPLETE" in log
    assert "BLKROGET = True" in log
    assert (item / "LOOP1.device.txt").exists() and not (item / "LOOP1.map").exists()
    code, out, err = _run("--case", str(case_dir), "verify", "--no-record", "LOOP1")
    assert code == 0, out + err
    events = [e for e in list_events(Case.open(case_dir), "LOOP1")]
    assert [e["kind"] for e in events] == ["acquired"]
    assert events[0]["digests"]["sha256"] == before
    assert events[0]["details"]["status"] == "complete"


def test_split_segments_and_verify_names_the_flipped_range(case_dir: Path, tmp_path: Path) -> None:
    size = 4 * MiB + 1000
    src = _source(tmp_path, size)
    code, out, err = _run(
        "--case",
        str(case_dir),
        "acquire",
        "disk",
        str(src),
        "--item",
        "SPL",
        "--format",
        "split",
        "--segment-size",
        "1MiB",
        "--window",
        "256KiB",
    )
    assert code == 0, out + err
    item = case_dir / "evidence" / "SPL"
    segs = sorted(item.glob("SPL.[0-9][0-9][0-9]"))
    assert [p.name for p in segs] == ["SPL.001", "SPL.002", "SPL.003", "SPL.004", "SPL.005"]
    assert all(p.stat().st_size <= MiB for p in segs)
    whole = b"".join(p.read_bytes() for p in segs)
    assert whole == src.read_bytes()
    seal = load_seal(item / "SPL.seal.json").document
    assert seal["kind"] == "split-raw"
    assert seal["combined"]["digests"][2] == "sha256:" + _sha256(whole)
    # one byte flipped in segment 2, at media offset 1 MiB + 300 000
    seg2 = segs[1]
    seg2.chmod(0o644)
    data = bytearray(seg2.read_bytes())
    data[300_000] ^= 0x01
    seg2.write_bytes(bytes(data))
    code, out, err = _run("--case", str(case_dir), "verify", "SPL")
    assert code == 3, out + err
    assert "SPL.002" in out
    lo, hi = MiB + 256 * 1024, MiB + 512 * 1024 - 1  # the 256 KiB window holding the byte
    assert f"media bytes {lo}-{hi}" in out


@pytest.mark.parametrize(
    "name",
    ["ext2.E01", "ext2.split.E01", "ext2.splitraw.000", "ext2.qcow2", "ext2.vmdk", "ext2.vhd"],
)
def test_images_as_sources_keep_their_media_digests(
    case_dir: Path, identity: Identity, name: str
) -> None:
    md5 = media(name).md5
    res = acquire_disk(
        Case.open(case_dir), identity, AcquireDiskRequest(image(name), "IMG", AcquireOptions())
    )
    assert res.digests["md5"] == md5 and res.status == "complete"
    assert hashlib.md5((res.item_dir / "IMG.raw").read_bytes()).hexdigest() == md5
    assert res.source["kind"] == "image"


def test_copy_to_writes_an_identical_second_image(case_dir: Path, tmp_path: Path) -> None:
    src = _source(tmp_path, 2 * MiB + 512)
    copy = tmp_path / "working copy"
    code, out, err = _run(
        "--case",
        str(case_dir),
        "--json",
        "acquire",
        "disk",
        str(src),
        "--item",
        "CP",
        "--copy-to",
        str(copy),
        "--verify-source",
    )
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["verification"] == {"image": "match", "copy": "match", "source": "match"}
    assert (copy / "CP.raw").read_bytes() == src.read_bytes()
    assert (case_dir / "evidence" / "CP" / "CP.raw").read_bytes() == src.read_bytes()


def test_refuses_when_it_cannot_fit_unless_forced(
    case_dir: Path, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from evidencekit.errors import AcquisitionError

    src = _source(tmp_path, MiB)
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1000))
    with pytest.raises(AcquisitionError, match="not enough free space"):
        acquire_disk(
            Case.open(case_dir), identity, AcquireDiskRequest(src, "BIG", AcquireOptions())
        )
    assert not (case_dir / "evidence" / "BIG").exists()
    res = acquire_disk(
        Case.open(case_dir), identity, AcquireDiskRequest(src, "BIG", AcquireOptions(force=True))
    )
    assert res.status == "complete" and res.warnings


def test_ctrl_c_leaves_an_incomplete_seal(
    case_dir: Path, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencekit.acquire.imaging import reader as reader_mod

    src = _source(tmp_path, 6 * MiB)
    real = reader_mod.ResilientReader.readinto

    def interrupted(self: reader_mod.ResilientReader, buf: memoryview) -> int:
        if self.pos >= 3 * MiB:
            raise KeyboardInterrupt
        return real(self, buf)

    monkeypatch.setattr(reader_mod.ResilientReader, "readinto", interrupted)
    with pytest.raises(InterruptedError_, match="incomplete"):
        acquire_disk(
            Case.open(case_dir), identity, AcquireDiskRequest(src, "INT", AcquireOptions())
        )
    item = case_dir / "evidence" / "INT"
    seal = load_seal(item / "INT.seal.json").document
    assert seal["status"] == "incomplete" and seal["combined"] is None
    assert "interrupted" in seal["facts"]["error"]
    assert "INCOMPLETE" in (item / "INT.log").read_text()
    (event,) = list_events(Case.open(case_dir), "INT")
    assert event["details"]["status"] == "incomplete"
    _code, out, _ = _run("--case", str(case_dir), "verify", "INT")
    assert "incomplete" in out  # verify notes it (the seal helper decides the exit code)


def test_ctrl_c_during_verification(
    case_dir: Path, identity: Identity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import evidencekit.workflows.acquire_disk.readback as mod

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mod, "hash_image", interrupted)
    src = _source(tmp_path, MiB)
    with pytest.raises(InterruptedError_, match="during verification"):
        acquire_disk(Case.open(case_dir), identity, AcquireDiskRequest(src, "VI", AcquireOptions()))
    seal = load_seal(case_dir / "evidence" / "VI" / "VI.seal.json").document
    assert seal["status"] == "complete" and seal["facts"]["verification"]["interrupted"]
    assert "verification INTERRUPTED" in (case_dir / "evidence" / "VI" / "VI.log").read_text()


@contextlib.contextmanager
def _mounted_ext4(tmp_path: Path, size: int, *, name: str = "small") -> Iterator[tuple[str, Path]]:
    img = tmp_path / f"{name}.ext4"
    with open(img, "wb") as fh:
        fh.truncate(size)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(img)], check=True)
    mnt = tmp_path / f"{name}-mnt"
    mnt.mkdir()
    with loop_device(img, direct_io=False, read_only=False) as dev:
        subprocess.run(["mount", dev, str(mnt)], check=True)
        try:
            yield dev, mnt
        finally:
            subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.root
@pytest.mark.parametrize("fmt", ["raw", "split", "e01"])
def test_enospc_stops_with_a_clear_error_and_no_complete_seal(
    identity: Identity, tmp_path: Path, fmt: str
) -> None:
    need_root()
    need_peer("mkfs.ext4", "losetup", "mount")
    src = tmp_path / "random.bin"
    src.write_bytes(os.urandom(40 * MiB))  # incompressible: E01 cannot fit either
    with _mounted_ext4(tmp_path, 24 * MiB) as (_dev, mnt):
        case = mnt / "case"
        code, out, err = _run(
            "case", "init", str(case), "--case-number", "N1", "--title", "T", "--agency", "A"
        )
        assert code == 0, out + err
        args = ["--case", str(case), "acquire", "disk", str(src), "--item", "FULL"]
        args += ["--format", fmt, "--segment-size", "8MiB"]
        if fmt != "e01":  # E01 size is unknown in advance: no up-front refusal
            code, out, err = _run(*args)
            assert code == 1 and "not enough free space" in err
        code, out, err = _run(*args, "--force")
        assert code == 1, out + err
        assert "destination full" in err or "No space left" in err
        item = case / "evidence" / "FULL"
        seal = load_seal(item / "FULL.seal.json").document
        assert seal["status"] == "incomplete" and seal["combined"] is None
        assert "INCOMPLETE" in (item / "FULL.log").read_text()
        (event,) = list_events(Case.open(case), "FULL")
        assert event["details"]["status"] == "incomplete"
        code, out, err = _run("--case", str(case), "verify", "FULL")
        assert "incomplete" in out


@pytest.mark.root
def test_refuses_a_source_mounted_read_write(case_dir: Path, tmp_path: Path) -> None:
    need_root()
    need_peer("mkfs.ext4", "losetup", "mount")
    with _mounted_ext4(tmp_path, 8 * MiB) as (dev, mnt):
        code, out, err = _run("--case", str(case_dir), "acquire", "disk", dev, "--item", "MNT")
        assert code == 1 and "mounted read-write" in err and str(mnt) in err
        code, out, err = _run(
            "--case",
            str(case_dir),
            "acquire",
            "disk",
            dev,
            "--item",
            "MNT",
            "--allow-mounted",
            "--no-verify",
        )
        assert code == 0, out + err


@pytest.mark.root
def test_set_readonly_is_restored(case_dir: Path, tmp_path: Path) -> None:
    need_root()
    from evidencekit.acquire.source import device

    src = _source(tmp_path, MiB)
    with loop_device(src, read_only=False) as dev:
        code, out, err = _run(
            "--case", str(case_dir), "acquire", "disk", dev, "--item", "RO", "--set-readonly"
        )
        assert code == 0, out + err
        fd = os.open(dev, os.O_RDONLY)
        try:
            assert device.get_readonly(fd) is False
        finally:
            os.close(fd)
    log = (case_dir / "evidence" / "RO" / "RO.log").read_text()
    assert "BLKROSET 1" in log and "BLKROSET 0: read-only flag restored" in log
    # already read-only (losetup -r): left alone, and nothing sticks to the loop device after
    with loop_device(src, read_only=True) as dev:
        code, out, err = _run(
            "--case", str(case_dir), "acquire", "disk", dev, "--item", "RO2", "--set-readonly"
        )
        assert code == 0, out + err
    log = (case_dir / "evidence" / "RO2" / "RO2.log").read_text()
    assert "already set" in log and "BLKROSET" not in log
    with loop_device(src, read_only=False) as dev:
        fd = os.open(dev, os.O_RDONLY)
        try:
            assert device.get_readonly(fd) is False
        finally:
            os.close(fd)


@pytest.mark.root
def test_set_readonly_is_restored_when_interrupted_before_imaging(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C between setting the flag and the imaging pass's own handler: the flag (which
    outlives the process) is cleared and the writers are closed."""
    need_root()
    from evidencekit.acquire.source import device
    from evidencekit.workflows.acquire_disk import run as run_module

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "run_imaging", interrupted)
    src = _source(tmp_path, MiB)
    with loop_device(src, read_only=False) as dev:
        code, out, err = _run(
            "--case", str(case_dir), "acquire", "disk", dev, "--item", "RO3", "--set-readonly"
        )
        assert code != 0, out + err
        fd = os.open(dev, os.O_RDONLY)
        try:
            assert device.get_readonly(fd) is False
        finally:
            os.close(fd)


def test_unpinned_examiner_is_refused_before_reading(
    case_dir: Path, ek_home: Path, tmp_path: Path
) -> None:
    from evidencekit.errors import CustodyError
    from evidencekit.identity import IdentityStore
    from tests.conftest import PASSPHRASE

    other = IdentityStore(ek_home).create("Trương Đình Bủng", PASSPHRASE.encode())
    src = _source(tmp_path, 4096)
    with pytest.raises(CustodyError, match="not pinned"):
        acquire_disk(Case.open(case_dir), other, AcquireDiskRequest(src, "NP", AcquireOptions()))
    assert not (case_dir / "evidence" / "NP").exists()
