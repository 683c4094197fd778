"""Every E01 we write is checked by tools we did not write: ewfverify, ewfinfo, pyewf, md5sum,
and Sleuth Kit / dfvfs on the file systems inside."""

from __future__ import annotations

import hashlib
import io
import random
import subprocess
import sys
from pathlib import Path

import pytest

from evidencekit.acquire.ewf import writer as ewf_writer
from evidencekit.acquire.ewf.format import segment_extension
from evidencekit.acquire.ewf.metadata import EwfMetadata
from evidencekit.acquire.ewf.reader import EwfImage
from evidencekit.acquire.ewf.writer import EwfWriter
from evidencekit.errors import UsageError
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.pipeline import pump
from tests.acquire.ewf.helpers import META, ewfverify, mixed_source, pyewf_read, write_e01
from tests.conftest import need_peer
from tests.images import image
from tests.images import media as media_of

EXT2_FILES = {
    "a_directory/a_file": "4a49638d0e1055fd9e4c17fef7fdf4d6ccf892b6d9c2f64164203c4bfb0ec92d",
    "a_directory/another_file": "c7fbc0e821c0871805a99584c6a384533909f68a6bbe9a2a687d28d9f3b10c16",
    "passwords.txt": "02a2a6af2f1ecf4720d7d49d640f0d0a269a7ec733e41973bdd34f09dad0e252",
}


def _sections(path: Path) -> list[str]:
    import struct

    data = path.read_bytes()
    offset, kinds = 13, []
    while True:
        kind = data[offset : offset + 16].rstrip(b"\0").decode()
        kinds.append(kind)
        nxt = struct.unpack_from("<Q", data, offset + 16)[0]
        if kind in ("next", "done"):
            return kinds
        offset = nxt


@pytest.mark.parametrize("mode", ["none", "empty", "fast", "best"])
def test_every_mode_verifies_with_ewfverify_and_reads_back(tmp_path: Path, mode: str) -> None:
    need_peer("ewfverify", "md5sum")
    src = tmp_path / "src.raw"
    data = mixed_source(src)
    paths = write_e01(data, tmp_path / "img", compression=mode, step=7777)
    assert [p.name for p in paths] == ["img.E01"]
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    md5sum = subprocess.run(["md5sum", str(src)], capture_output=True, text=True, check=True)
    with EwfImage(paths[0]) as image:
        assert image.info.md5 == md5sum.stdout.split()[0]
        assert image.info.sha1 == hashlib.sha1(data).hexdigest()
        assert image.verify().ok
    assert pyewf_read(paths[0]) == data
    size = paths[0].stat().st_size
    if mode == "none":
        assert size > len(data)
    else:
        assert size < len(data) * 0.8  # a quarter zeros, a quarter program bytes


@pytest.mark.parametrize("chunk_size", [1 << 20, 32768, 3 * 32768 + 512, 7 * 512])
def test_pump_lends_its_buffers_without_changing_the_image(tmp_path: Path, chunk_size: int) -> None:
    """Through the pump the writer encodes the pump's buffers in place when they are whole
    chunks, and copies otherwise (a short read leaves part of a chunk pending)."""
    need_peer("ewfverify")
    data = mixed_source(tmp_path / "src.raw")
    writer = EwfWriter(
        tmp_path / "img", compression="fast", metadata=META, media_size=len(data), workers=2
    )
    assert writer.max_held > 0
    hasher = MultiHasher(("md5", "sha1"))
    pump(io.BytesIO(data).readinto, [*hasher.consumers(), writer], chunk_size=chunk_size)
    digests = hasher.result().digests
    paths = writer.finish(digests["md5"], digests["sha1"])
    assert "ewfverify: SUCCESS" in ewfverify(paths[0]).stdout
    with EwfImage(paths[0]) as image:
        assert image.verify().ok
    assert pyewf_read(paths[0]) == data


def test_multi_segment_each_within_the_segment_size(tmp_path: Path) -> None:
    need_peer("ewfverify")
    data = mixed_source(tmp_path / "src.raw")
    paths = write_e01(data, tmp_path / "img", compression="none", segment_size=1 << 20)
    assert [p.suffix for p in paths] == [".E01", ".E02", ".E03", ".E04"]
    assert all(p.stat().st_size <= 1 << 20 for p in paths)
    assert _sections(paths[0])[:4] == ["header2", "header2", "header", "volume"]
    assert _sections(paths[1]) == ["data", "sectors", "table", "table2", "next"]
    assert _sections(paths[-1])[-3:] == ["digest", "hash", "done"]
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    assert pyewf_read(paths[0]) == data


def test_table_limits_start_new_sectors_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table holds at most 16375 entries, a section SECTION_SPAN bytes: exercised small."""
    need_peer("ewfverify")
    monkeypatch.setattr(ewf_writer, "MAX_TABLE_ENTRIES", 10)
    monkeypatch.setattr(ewf_writer, "SECTION_SPAN", 200_000)
    data = mixed_source(tmp_path / "src.raw")
    paths = write_e01(data, tmp_path / "img", compression="fast", segment_size=2 << 20)
    kinds = _sections(paths[0])
    assert kinds.count("sectors") > 2 and kinds.count("table") == kinds.count("sectors")
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    assert pyewf_read(paths[0]) == data


def test_error2_extents_are_listed_and_verify(tmp_path: Path) -> None:
    need_peer("ewfverify", "ewfinfo")
    data = bytearray(mixed_source(tmp_path / "src.raw"))
    data[4096:5120] = bytes(1024)  # the reader zero-fills unreadable sectors
    data[1 << 20 : (1 << 20) + 512] = bytes(512)
    bad = ((4096, 1024), (1 << 20, 512))
    paths = write_e01(bytes(data), tmp_path / "img", segment_size=1 << 20, bad=bad)
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    info = subprocess.run(["ewfinfo", str(paths[0])], capture_output=True, text=True, check=True)
    assert "at sector(s): 8 - 9 number: 2" in info.stdout
    assert "at sector(s): 2048 - 2048 number: 1" in info.stdout
    with EwfImage(paths[0]) as image:
        assert image.info.errors == [(8, 2), (2048, 1)]


def test_ewfinfo_shows_our_metadata_in_vietnamese(tmp_path: Path) -> None:
    need_peer("ewfinfo")
    data = bytes(1 << 20)
    meta = EwfMetadata(
        case_number=META.case_number,
        evidence_number=META.evidence_number,
        description=META.description,
        examiner=META.examiner,
        notes=META.notes + "\tdòng 2\ndòng 3",
        media_type="removable",
        is_physical=False,
    )
    paths = write_e01(data, tmp_path / "img", meta=meta)
    out = subprocess.run(
        ["ewfinfo", str(paths[0])], capture_output=True, text=True, check=True
    ).stdout
    assert "Case number:\t\tVKS-2024-06\n" in out
    assert "Evidence number:\tBiên bản thu giữ số 12\n" in out
    assert "Description:\t\tỔ cứng của Trương Đình Bủng\n" in out
    assert "Examiner name:\t\tNguyễn Bá Tùng\n" in out
    assert "Notes:\t\t\tBiên bản thu giữ dòng 2 dòng 3\n" in out
    assert "Media type:\t\tremovable disk" in out
    assert "Is physical:\t\tno" in out
    assert "File format:\t\tEnCase 6" in out


def _tsk_checks(first: Path, media: bytes, files: dict[str, str]) -> None:
    stat = subprocess.run(["img_stat", str(first)], capture_output=True, text=True, check=True)
    assert "Image Type:\t\tewf\n" in stat.stdout
    assert f"Size of data in bytes:\t{len(media)}\n" in stat.stdout
    assert f"MD5 hash of data:\t{hashlib.md5(media).hexdigest()}\n" in stat.stdout
    listing = subprocess.run(
        ["fls", "-r", "-p", str(first)], capture_output=True, text=True, check=True
    ).stdout
    inodes = {}
    for line in listing.splitlines():
        meta, _, name = line.partition("\t")
        inodes[name] = meta.split()[-1].rstrip(":").split("-")[0]
    for name, sha in files.items():
        assert name in inodes, listing
        blob = subprocess.run(
            ["icat", str(first), inodes[name]], capture_output=True, check=True
        ).stdout
        assert hashlib.sha256(blob).hexdigest() == sha


def test_sleuthkit_and_dfvfs_read_ext2_from_our_e01(tmp_path: Path) -> None:
    need_peer("img_stat", "fls", "icat")
    media = pyewf_read(image("ext2.E01"))
    assert hashlib.md5(media).hexdigest() == media_of("ext2.E01").md5
    paths = write_e01(media, tmp_path / "ext2", compression="none", segment_size=1 << 20)
    assert len(paths) > 1
    _tsk_checks(paths[0], media, EXT2_FILES)

    from dfvfs.lib import definitions
    from dfvfs.path import factory
    from dfvfs.resolver import resolver

    os_spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=str(paths[0]))
    ewf_spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_EWF, parent=os_spec)
    tsk_spec = factory.Factory.NewPathSpec(
        definitions.TYPE_INDICATOR_TSK, location="/passwords.txt", parent=ewf_spec
    )
    fobj = resolver.Resolver.OpenFileObject(tsk_spec)
    assert hashlib.sha256(fobj.read()).hexdigest() == EXT2_FILES["passwords.txt"]


def test_sleuthkit_reads_iso9660_from_our_e01(tmp_path: Path) -> None:
    need_peer("img_stat", "fls", "icat")
    media = (image("iso9660.raw")).read_bytes()
    meta = EwfMetadata(media_type="optical", is_physical=False)
    paths = write_e01(media, tmp_path / "iso", compression="best", meta=meta)
    names = {"A_DIRECTORY/A_FILE", "A_DIRECTORY/ANOTHER_FILE", "PASSWORDS.TXT"}
    listing = subprocess.run(
        ["fls", "-r", "-p", str(paths[0])], capture_output=True, text=True, check=True
    ).stdout
    found = {line.partition("\t")[2].split(";")[0].upper() for line in listing.splitlines()}
    assert names <= found, listing
    _tsk_checks(paths[0], media, {})
    assert hashlib.sha256(pyewf_read(paths[0])).hexdigest() == media_of("iso9660.raw").sha256


def test_segment_extensions() -> None:
    assert [segment_extension(n) for n in (1, 9, 99, 100, 101, 125, 126, 776)] == [
        "E01",
        "E09",
        "E99",
        "EAA",
        "EAB",
        "EAZ",
        "EBA",
        "FAA",
    ]


def test_refuses_what_e01_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="whole number"):
        EwfWriter(tmp_path / "a", media_size=1000)
    with pytest.raises(UsageError, match="compression"):
        EwfWriter(tmp_path / "b", media_size=512, compression="zstd")
    with pytest.raises(UsageError, match="too small"):
        EwfWriter(tmp_path / "c", media_size=512, segment_size=4096)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("segment_size", [2 << 30, 1 << 20])
def test_output_digests_are_those_of_the_files_written(tmp_path: Path, segment_size: int) -> None:
    """Hashed as written, in file order: each equals hashlib over the finished file."""
    data = mixed_source(tmp_path / "src.raw")
    writer = EwfWriter(
        tmp_path / "img",
        segment_size=segment_size,
        media_size=len(data),
        output_digests=("md5", "sha256"),
    )
    paths = write_e01(data, tmp_path / "img", writer=writer)
    assert (len(paths) == 1) == (segment_size > len(data))
    got = writer.output_digests
    assert got is not None and len(got) == len(paths)
    for path, digests in zip(paths, got, strict=True):
        blob = path.read_bytes()
        assert digests == {
            "md5": hashlib.md5(blob).hexdigest(),
            "sha256": hashlib.sha256(blob).hexdigest(),
        }


def test_output_digests_none_when_a_file_was_patched_or_not_asked(tmp_path: Path) -> None:
    data = mixed_source(tmp_path / "src.raw", size=1 << 20)
    writer = EwfWriter(tmp_path / "img", media_size=4 << 20, output_digests=("md5",))
    writer.write(data)
    writer.finish(hashlib.md5(data).hexdigest())
    assert writer.output_digests is None  # the volume section was rewritten after hashing
    plain = EwfWriter(tmp_path / "plain", media_size=len(data))
    plain.write(data)
    plain.finish(hashlib.md5(data).hexdigest())
    assert plain.output_digests is None


def test_media_shorter_than_announced_is_patched(tmp_path: Path) -> None:
    need_peer("ewfverify")
    data = mixed_source(tmp_path / "src.raw", size=1 << 20)
    writer = EwfWriter(tmp_path / "img", media_size=4 << 20, segment_size=1 << 20)
    writer.write(data)
    paths = writer.finish(hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest())
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    assert pyewf_read(paths[0]) == data


def test_abort_leaves_an_unfinished_set(tmp_path: Path) -> None:
    writer = EwfWriter(tmp_path / "img", media_size=2 << 20)
    writer.write(bytes(1 << 20))
    paths = writer.abort()
    assert paths == [tmp_path / "img.E01"]
    from evidencekit.acquire.ewf.info import EwfFormatError

    with pytest.raises(EwfFormatError):
        EwfImage(paths[0])


def test_destination_full_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import need_root

    need_root()
    from evidencekit.errors import AcquisitionError

    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=True)
    try:
        data = mixed_source(tmp_path / "src.raw")
        writer = EwfWriter(mnt / "img", media_size=len(data), compression="none")
        with pytest.raises(AcquisitionError, match="destination full"):
            view = memoryview(data)
            for i in range(0, len(data), 1 << 20):
                writer.write(view[i : i + (1 << 20)])
            writer.finish(hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest())
        paths = writer.abort()
        assert paths == [mnt / "img.E01"]
        from evidencekit.acquire.ewf.info import EwfFormatError

        with pytest.raises(EwfFormatError):
            EwfImage(paths[0])
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


@pytest.mark.parametrize("bps,spc", [(512, 4096), (4096, 64), (2048, 16)])
def test_other_geometries(tmp_path: Path, bps: int, spc: int) -> None:
    need_peer("ewfverify")
    data = mixed_source(tmp_path / "src.raw", size=(5 << 20) + 3 * 4096)
    meta = EwfMetadata(bytes_per_sector=bps, sectors_per_chunk=spc)
    seg = max(4 << 20, 8 * bps * spc)
    paths = write_e01(data, tmp_path / "img", meta=meta, segment_size=seg, step=300_000)
    res = ewfverify(paths[0])
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    assert pyewf_read(paths[0]) == data
    with EwfImage(paths[0]) as image:
        assert image.info.chunk_size == bps * spc
        assert image.verify().ok


def test_encoder_skips_deflate_only_for_random_chunks() -> None:
    """Random chunks are stored raw without deflating them; text, program bytes and a chunk
    random only in its middle are deflated (the samples come from both ends)."""
    from evidencekit.acquire.ewf.encode import ChunkEncoder

    size = 32768
    encoder = ChunkEncoder("fast", size)
    rnd = random.Random(7)
    program = Path(sys.executable).resolve().read_bytes()[1 << 16 : (1 << 16) + size]
    text = ("Biên bản thu giữ — Nguyễn Bá Tùng. " * 2000).encode()[:size]
    middle = text[:4096] + rnd.randbytes(size - 8192) + text[-4096:]
    assert all(encoder._incompressible(memoryview(rnd.randbytes(size))) for _ in range(50))
    for data in (program, text, middle):
        assert not encoder._incompressible(memoryview(data))
    blob = bytearray(rnd.randbytes(size) + text)
    stored = encoder.encode(blob, len(blob))
    assert [compressed for _pieces, compressed in stored] == [False, True]
    assert bytes(stored[0][0][0]) == blob[:size]
