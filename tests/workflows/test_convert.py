"""`evidencekit convert`: raw -> E01 -> raw bit-identical, sealed, recorded, checked by peers;
`verify` on an E01 item finds a flipped byte in a chunk and names its media byte range."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.seal.document import Artifact
from evidencekit.hash.seal.read import load_seal
from evidencekit.hash.seal.write import seal_item
from evidencekit.identity import Identity
from evidencekit.workflows.trust import identity_of
from tests.acquire.ewf.helpers import ewfverify, mixed_source
from tests.conftest import need_peer
from tests.images import image, media


def _run(case_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--case", str(case_dir), *args])
    return result.exit_code, result.stdout, result.stderr


def _seal_image(case_dir: Path, identity: Identity, item: str, files: list[Path], fmt: str) -> None:
    """An image item as the acquisition would seal it (raw parts or an E01 set)."""
    folder = case_dir / "evidence" / item
    folder.mkdir(parents=True)
    artifacts = []
    for f in files:
        shutil.copyfile(f, folder / f.name)
        h = MultiHasher(("md5", "sha1", "sha256"))
        h.update((folder / f.name).read_bytes())
        artifacts.append(Artifact(f.name, f.stat().st_size, dict(h.result().digests)))
    media = MultiHasher(("md5", "sha1", "sha256"), window=1 << 20)
    if fmt == "raw":
        for f in files:
            media.update(f.read_bytes())
    else:
        from evidencekit.acquire.ewf.reader import EwfImage

        with EwfImage(folder / files[0].name) as img:
            buf = bytearray(img.size)
            img.readinto(memoryview(buf))
            media.update(buf)
    sealed = seal_item(
        folder,
        item,
        identity,
        kind="raw" if fmt == "raw" else "e01",
        artifacts=artifacts,
        combined=media.result(),
        combined_format=fmt,
        combined_parts=[f.name for f in files],
        facts={"read_errors": [{"offset": 4096, "length": 512, "errno": 5}]}
        if fmt == "raw"
        else {},
        description="Ổ cứng của Trương Đình Bủng",
        case_identity=identity_of(Case.open(case_dir)),  # seal/2 names its case
    )
    # recorded as the acquisition records it: `verify` checks the seal against this event
    from evidencekit.workflows.custody import record_event

    details = {"seal_sha256": sealed.seal_sha256}
    record_event(Case.open(case_dir), identity, "acquired", item, details=details)


@pytest.fixture
def raw_item(case_dir: Path, identity: Identity, tmp_path: Path) -> bytes:
    src = tmp_path / "DISK1.raw"
    data = bytearray(mixed_source(src))
    data[4096:4608] = bytes(512)  # the zero-filled unreadable sector in the seal's facts
    src.write_bytes(data)
    _seal_image(case_dir, identity, "DISK1", [src], "raw")
    return bytes(data)


def test_raw_to_e01_to_raw_is_bit_identical(case_dir: Path, raw_item: bytes) -> None:
    need_peer("ewfverify", "ewfinfo", "cmp")
    code, out, err = _run(
        case_dir, "convert", "DISK1", "--to", "e01", "--item", "DISK1-E01", "--segment-size", "1MiB"
    )
    assert code == 0, err + out
    e01_dir = case_dir / "evidence" / "DISK1-E01"
    first = e01_dir / "DISK1-E01.E01"
    assert (e01_dir / "DISK1-E01.E02").exists()
    res = ewfverify(first)
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    info = subprocess.run(["ewfinfo", str(first)], capture_output=True, text=True, check=True)
    assert "Examiner name:\t\tNguyễn Bá Tùng" in info.stdout
    assert "Case number:\t\tVKS-2024-06" in info.stdout
    assert "Description:\t\tỔ cứng của Trương Đình Bủng" in info.stdout
    assert "at sector(s): 8 - 8 number: 1" in info.stdout  # the read error went into error2

    original = load_seal(case_dir / "evidence" / "DISK1" / "DISK1.seal.json")
    derived = load_seal(e01_dir / "DISK1-E01.seal.json")
    assert derived.kind == "e01" and derived.combined is not None
    assert original.combined is not None
    assert derived.combined.digests == original.combined.digests
    assert derived.combined.windows == original.combined.windows
    assert derived.facts["converted_from"]["item"] == "DISK1"
    assert derived.facts["read_errors"] == original.facts["read_errors"]

    code, out, err = _run(case_dir, "verify", "--no-record", "DISK1-E01")
    assert code == 0, out + err

    code, out, err = _run(case_dir, "convert", "DISK1-E01", "--to", "raw", "--item", "DISK1-RAW")
    assert code == 0, err + out
    back = case_dir / "evidence" / "DISK1-RAW" / "DISK1-RAW.raw"
    cmp = subprocess.run(["cmp", str(back), str(case_dir / "evidence" / "DISK1" / "DISK1.raw")])
    assert cmp.returncode == 0
    code, out, err = _run(case_dir, "verify", "DISK1-RAW")
    assert code == 0, out + err

    from evidencekit.workflows.custody import list_events

    events = list_events(Case.open(case_dir), "DISK1-E01")
    assert [e["kind"] for e in events] == ["sealed", "converted"]
    assert events[1]["details"]["from_item"] == "DISK1"
    assert events[1]["digests"]["sha256"] == original.combined.digests["sha256"]


@pytest.mark.parametrize("mode", ["none", "best"])
def test_verify_names_the_byte_range_of_a_flipped_chunk(
    case_dir: Path, raw_item: bytes, mode: str
) -> None:
    code, out, err = _run(
        case_dir, "convert", "DISK1", "--to", "e01", "--item", "X", "--compression", mode
    )
    assert code == 0, err + out
    first = case_dir / "evidence" / "X" / "X.E01"
    from evidencekit.acquire.ewf.reader import EwfImage

    with EwfImage(first) as img:
        chunk = img.chunks[40]
    first.chmod(0o644)
    with open(first, "r+b") as fh:
        fh.seek(chunk.offset + 100)
        byte = fh.read(1)
        fh.seek(chunk.offset + 100)
        fh.write(bytes([byte[0] ^ 0xFF]))
    code, out, err = _run(case_dir, "--json", "verify", "X")
    assert code == 3, out + err
    doc = json.loads(out)
    problems = doc["items"][0]["problems"]
    chunk_problems = [p for p in problems if p["kind"] == "chunk-mismatch"]
    assert len(chunk_problems) == 1
    assert chunk_problems[0]["byte_range"] == [40 * 32768, 41 * 32768]
    assert "chunk 40 (media bytes 1310720-1343487" in chunk_problems[0]["message"]
    code, out, err = _run(case_dir, "verify", "X")
    assert code == 3 and "chunk 40 (media bytes 1310720-1343487" in out


def test_libewf_e01_item_to_raw(case_dir: Path, identity: Identity) -> None:
    _seal_image(case_dir, identity, "EXT2", [image("ext2.E01")], "e01")
    code, out, err = _run(case_dir, "verify", "EXT2")
    assert code == 0, out + err
    code, out, err = _run(case_dir, "convert", "EXT2", "--to", "raw", "--item", "EXT2-RAW")
    assert code == 0, err + out
    raw = (case_dir / "evidence" / "EXT2-RAW" / "EXT2-RAW.raw").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == media("ext2.E01").sha256


def test_tampered_or_truncated_original_is_refused(case_dir: Path, raw_item: bytes) -> None:
    code, out, err = _run(case_dir, "convert", "DISK1", "--to", "e01", "--item", "E")
    assert code == 0, err
    first = case_dir / "evidence" / "E" / "E.E01"
    first.chmod(0o644)
    with open(first, "r+b") as fh:
        fh.truncate(first.stat().st_size - 1000)
    code, out, err = _run(case_dir, "convert", "E", "--to", "raw", "--item", "E-RAW")
    assert code == 3, out + err
    assert "does not verify" in err
    assert not (case_dir / "evidence" / "E-RAW").exists()

    raw = case_dir / "evidence" / "DISK1" / "DISK1.raw"
    raw.chmod(0o644)
    with open(raw, "r+b") as fh:
        fh.seek(2 << 20)
        fh.write(b"\x01")
    code, out, err = _run(case_dir, "convert", "DISK1", "--to", "e01", "--item", "F")
    assert code == 3, out + err
    assert "other digests" in err
    assert not (case_dir / "evidence" / "F").exists()


def test_usage_errors(case_dir: Path, raw_item: bytes) -> None:
    code, _out, err = _run(case_dir, "convert", "DISK1", "--to", "e01", "--item", "DISK1")
    assert code == 2 and "new id" in err
    code, _out, err = _run(case_dir, "convert", "NOPE", "--to", "e01", "--item", "N2")
    assert code == 2 and "no seal" in err
    code, _out, err = _run(
        case_dir, "convert", "DISK1", "--to", "e01", "--item", "N3", "--segment-size", "10"
    )
    assert code == 2 and "too small" in err
    assert not (case_dir / "evidence" / "N3").exists()


def test_split_raw_item_to_e01_and_e01_to_e01(
    case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    need_peer("ewfverify")
    data = mixed_source(tmp_path / "whole.raw", size=(2 << 20) + 512)
    parts = [tmp_path / "SPLIT.001", tmp_path / "SPLIT.002"]
    parts[0].write_bytes(data[: 1 << 20])
    parts[1].write_bytes(data[1 << 20 :])
    _seal_image(case_dir, identity, "SPLIT", parts, "raw")
    code, out, err = _run(case_dir, "convert", "SPLIT", "--to", "e01", "--item", "S-E01")
    assert code == 0, err + out
    code, out, err = _run(
        case_dir, "convert", "S-E01", "--to", "e01", "--item", "S-BEST", "--compression", "best"
    )
    assert code == 0, err + out
    first = case_dir / "evidence" / "S-BEST" / "S-BEST.E01"
    res = ewfverify(first)
    assert "ewfverify: SUCCESS" in res.stdout, res.stdout + res.stderr
    assert hashlib.md5(data).hexdigest() in res.stdout
    seal = load_seal(case_dir / "evidence" / "S-BEST" / "S-BEST.seal.json")
    assert seal.combined is not None
    assert seal.combined.digests["sha256"] == hashlib.sha256(data).hexdigest()
