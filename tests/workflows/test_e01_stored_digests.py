"""An E01's own stored MD5/SHA-1 are compared with what `acquire disk`, `convert`, `ls` and
`acquire files` read (issue #19, item 1), and an E01 whose media size is not a multiple of the
sector size (ewfacquirestream from a pipe) reads whole (item 2).

The E01s are made by libewf (`ewfacquire`, `ewfacquirestream`) and changed by hand the two ways
no checksum catches: one chunk changed with its Adler-32 recomputed, and only the stored MD5
changed (its section checksum recomputed). The oracles: `ewfverify` (FAILURE on both), the
image's own stored values, `ewfexport`, and the digests of the bytes that went in.
"""

from __future__ import annotations

import hashlib
import json
import random
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.hash.seal.read import load_seal
from evidencekit.identity import Identity
from tests.conftest import need_peer
from tests.workflows.test_convert import _seal_image

CHUNK = 64 * 512  # ewfacquire's default: 64 sectors per chunk
REASON = "bản sao nhận từ đơn vị bạn đã hỏng, xem biên bản số 12"


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


def _ewfacquire(src: Path, base: Path) -> Path:
    """An uncompressed EnCase 6 E01 of `src`, written by libewf, with MD5 and SHA-1 stored."""
    need_peer("ewfacquire", "ewfverify")
    subprocess.run(
        [
            *("ewfacquire", "-u", "-q", "-t", str(base)),
            *("-c", "none", "-f", "encase6", "-d", "sha1", str(src)),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    first = Path(f"{base}.E01")
    assert _ewfverify_ok(first)
    return first


def _ewfverify_ok(first: Path) -> bool:
    res = subprocess.run(["ewfverify", "-q", str(first)], capture_output=True, text=True)
    return res.returncode == 0 and "ewfverify: SUCCESS" in res.stdout


def _tamper_chunk(first: Path, data: bytes, index: int) -> bytes:
    """Change one byte of chunk `index` in the E01 and recompute that chunk's Adler-32, as a
    forger would; return the media as it now reads."""
    raw = bytearray(first.read_bytes())
    start = index * CHUNK
    at = raw.find(data[start : start + 64])
    assert at > 0 and raw.find(data[start : start + 64], at + 1) < 0
    raw[at + 100] ^= 0x5A
    chunk = bytes(raw[at : at + CHUNK])
    raw[at + CHUNK : at + CHUNK + 4] = struct.pack("<I", zlib.adler32(chunk))
    first.write_bytes(raw)
    changed = bytearray(data)
    changed[start + 100] ^= 0x5A
    return bytes(changed)


def _tamper_stored_md5(first: Path, md5: bytes) -> str:
    """Replace the stored MD5 in the digest and hash sections (each section's Adler-32
    recomputed); return the new stored value."""
    raw = bytearray(first.read_bytes())
    fake = bytes(b ^ 0xFF for b in md5)
    found = 0
    at = raw.find(md5)
    while at >= 0:
        kind = bytes(raw[at - 76 : at - 60]).rstrip(b"\0")  # the section descriptor's type
        covered = {b"digest": 76, b"hash": 32}[kind]
        raw[at : at + 16] = fake
        raw[at + covered : at + covered + 4] = struct.pack(
            "<I", zlib.adler32(bytes(raw[at : at + covered]))
        )
        found += 1
        at = raw.find(md5, at + 16)
    assert found == 2  # libewf's EnCase 6 format stores it in both sections
    first.write_bytes(raw)
    return fake.hex()


@pytest.fixture
def media(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(19).randbytes(8 * CHUNK)
    path = tmp_path / "disk.bin"
    path.write_bytes(data)
    return path, data


def _stored_facts(case_dir: Path, item: str) -> tuple[str, dict[str, object]]:
    seal = load_seal(case_dir / "evidence" / item / f"{item}.seal.json")
    return seal.status, seal.facts["stored_digests"]


def _verifies_not_complete(case_dir: Path, item: str) -> None:
    """The seal verifies and says it is not complete (docs/design.md: `verify` exits 4 for that; the
    exit code itself is the verify command's, rewritten under issue #14)."""
    code, out, err = _run(case_dir, "verify", item)
    assert code in (0, 4), out + err
    assert "status complete-with-errors" in out, out + err


def test_acquire_disk_refuses_a_chunk_changed_with_its_checksum(
    case_dir: Path, tmp_path: Path, media: tuple[Path, bytes]
) -> None:
    src, data = media
    first = _ewfacquire(src, tmp_path / "ev")
    changed = _tamper_chunk(first, data, 3)
    assert not _ewfverify_ok(first)  # the oracle: libewf says the image is damaged
    stored_md5 = hashlib.md5(data).hexdigest()
    read_md5 = hashlib.md5(changed).hexdigest()
    code, out, err = _run(case_dir, "acquire", "disk", str(first), "--item", "EV1")
    assert code == 3, out + err
    assert stored_md5 in err and read_md5 in err  # both values named
    assert "--accept-stored-digest-mismatch" in err
    status, facts = _stored_facts(case_dir, "EV1")
    assert status == "complete-with-errors"
    assert facts["outcome"] == "MISMATCH" and facts["accepted_reason"] is None
    assert {m["where"] for m in facts["mismatches"]} == {"digest section", "hash section"}  # type: ignore[attr-defined, index]
    raw = (case_dir / "evidence" / "EV1" / "EV1.raw").read_bytes()
    assert raw == changed  # the image holds what the E01 holds now
    _verifies_not_complete(case_dir, "EV1")


def test_acquire_disk_accepts_a_mismatch_only_with_a_recorded_reason(
    case_dir: Path, tmp_path: Path, media: tuple[Path, bytes]
) -> None:
    src, data = media
    first = _ewfacquire(src, tmp_path / "ev")
    _tamper_chunk(first, data, 5)
    code, out, err = _run(
        case_dir, "acquire", "disk", str(first), "--item", "EV2", "--format", "e01"
    )
    assert code == 3, out + err
    code, out, err = _run(
        case_dir,
        "--json",
        "acquire",
        "disk",
        str(first),
        "--item",
        "EV3",
        "--format",
        "e01",
        "--accept-stored-digest-mismatch",
        REASON,
    )
    assert code == 4, out + err
    doc = json.loads(out)
    assert doc["status"] == "complete-with-errors"
    assert doc["stored_digests"]["accepted_reason"] == REASON
    status, facts = _stored_facts(case_dir, "EV3")
    assert status == "complete-with-errors" and facts["accepted_reason"] == REASON
    assert REASON in (case_dir / "evidence" / "EV3" / "EV3.log").read_text("utf-8")
    # our E01 stores the digests of what it holds, and says so through libewf
    assert _ewfverify_ok(case_dir / "evidence" / "EV3" / "EV3.E01")
    _verifies_not_complete(case_dir, "EV3")
    code, out, err = _run(
        case_dir,
        "acquire",
        "disk",
        str(first),
        "--item",
        "EV4",
        "--accept-stored-digest-mismatch",
        " ",
    )
    assert code == 2, out + err


def test_acquire_disk_refuses_a_changed_stored_md5(
    case_dir: Path, tmp_path: Path, media: tuple[Path, bytes]
) -> None:
    src, data = media
    first = _ewfacquire(src, tmp_path / "ev")
    fake = _tamper_stored_md5(first, hashlib.md5(data).digest())
    assert not _ewfverify_ok(first)
    code, out, err = _run(case_dir, "acquire", "disk", str(first), "--item", "EV5")
    assert code == 3, out + err
    assert fake in err and hashlib.md5(data).hexdigest() in err
    status, facts = _stored_facts(case_dir, "EV5")
    assert status == "complete-with-errors"
    assert [m["algorithm"] for m in facts["mismatches"]] == ["md5", "md5"]  # type: ignore[attr-defined, index]


def test_acquire_disk_of_an_intact_e01_checks_and_matches(
    case_dir: Path, tmp_path: Path, media: tuple[Path, bytes]
) -> None:
    src, data = media
    first = _ewfacquire(src, tmp_path / "ev")
    code, out, err = _run(case_dir, "acquire", "disk", str(first), "--item", "EV6", "-a", "sha256")
    assert code == 0, out + err
    status, facts = _stored_facts(case_dir, "EV6")
    assert status == "complete" and facts["outcome"] == "match"
    # md5 and sha1 were computed for the comparison although the seal asked for sha256 only
    assert facts["computed"] == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
    }


def test_convert_never_launders_a_changed_e01(
    case_dir: Path, identity: Identity, tmp_path: Path, media: tuple[Path, bytes]
) -> None:
    src, data = media
    first = _ewfacquire(src, tmp_path / "ev")
    changed = _tamper_chunk(first, data, 2)
    _seal_image(case_dir, identity, "ORIG", [first], "e01")
    code, out, err = _run(case_dir, "convert", "ORIG", "--to", "e01", "--item", "ORIG-E01")
    assert code == 3, out + err
    assert hashlib.md5(data).hexdigest() in err and hashlib.md5(changed).hexdigest() in err
    assert not (case_dir / "evidence" / "ORIG-E01").exists()
    code, out, err = _run(case_dir, "convert", "ORIG", "--to", "raw", "--item", "ORIG-RAW")
    assert code == 3, out + err
    code, out, err = _run(
        case_dir,
        "convert",
        "ORIG",
        "--to",
        "e01",
        "--item",
        "ORIG-E01",
        "--accept-stored-digest-mismatch",
        REASON,
    )
    assert code == 4, out + err
    derived = load_seal(case_dir / "evidence" / "ORIG-E01" / "ORIG-E01.seal.json")
    assert derived.status == "complete-with-errors"
    check = derived.facts["original_e01_stored_digests"]
    assert check["outcome"] == "MISMATCH accepted" and check["accepted_reason"] == REASON
    out_e01 = case_dir / "evidence" / "ORIG-E01" / "ORIG-E01.E01"
    info = subprocess.run(["ewfinfo", str(out_e01)], capture_output=True, text=True, check=True)
    assert hashlib.md5(data).hexdigest() not in info.stdout  # not the stored, tampered-over value
    assert hashlib.md5(changed).hexdigest() in info.stdout
    _verifies_not_complete(case_dir, "ORIG-E01")


def _fat_e01(tmp_path: Path) -> tuple[Path, bytes]:
    need_peer("mkfs.vfat", "mcopy")
    img = tmp_path / "fat.img"
    subprocess.run(["mkfs.vfat", "-C", str(img), "2048"], check=True, capture_output=True)
    note = tmp_path / "GHICHU.TXT"
    note.write_bytes("Biên bản thu giữ số 12\n".encode() * 50)
    subprocess.run(["mcopy", "-i", str(img), str(note), "::GHICHU.TXT"], check=True)
    return _ewfacquire(img, tmp_path / "fat"), img.read_bytes()


def test_ls_and_acquire_files_warn_about_a_changed_stored_md5(
    case_dir: Path, tmp_path: Path
) -> None:
    first, data = _fat_e01(tmp_path)
    code, out, err = _run(None, "--json", "ls", str(first))
    assert code == 0, out + err
    assert json.loads(out)["stored_digests"]["outcome"] == "match"
    assert "warning" not in err

    fake = _tamper_stored_md5(first, hashlib.md5(data).digest())
    code, out, err = _run(None, "--json", "ls", str(first))
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["stored_digests"]["outcome"] == "MISMATCH"
    assert "GHICHU.TXT" in [e["path"] for e in doc["entries"]]
    assert fake in err and hashlib.md5(data).hexdigest() in err

    code, out, err = _run(None, "--json", "ls", "--no-stored-digest-check", str(first))
    assert code == 0 and json.loads(out)["stored_digests"]["outcome"] == "not compared"

    code, out, err = _run(case_dir, "--json", "acquire", "files", str(first), "--item", "F1")
    assert code == 0, out + err
    assert fake in err
    doc = json.loads(out)
    assert doc["stored_digests"][str(first)]["outcome"] == "MISMATCH"
    manifest = json.loads((case_dir / "evidence" / "F1" / "F1.manifest.json").read_text("utf-8"))
    sources = manifest["sources"]
    assert sources[0]["stored_digests"]["mismatches"][0]["stored"] == fake


def test_stream_e01_with_a_partial_last_sector_reads_whole(case_dir: Path, tmp_path: Path) -> None:
    """ewfacquirestream of 1000003 bytes: libewf counts 1953 sectors (999936 bytes) and keeps
    the other 67 in the last chunk and in its MD5."""
    need_peer("ewfacquirestream", "ewfexport")
    data = random.Random(2).randbytes(1_000_003)
    subprocess.run(
        ["ewfacquirestream", "-q", "-t", str(tmp_path / "st"), "-d", "sha1"],
        input=data,
        check=True,
        capture_output=True,
        timeout=120,
    )
    first = tmp_path / "st.E01"
    subprocess.run(
        ["ewfexport", "-u", "-q", "-f", "raw", "-t", str(tmp_path / "exported"), str(first)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    exported = (tmp_path / "exported.raw").read_bytes()
    assert exported == data[: len(exported)] and len(exported) == 1953 * 512  # libewf's media

    code, out, err = _run(case_dir, "--json", "acquire", "disk", str(first), "--item", "ST")
    assert code == 0, out + err  # not "chunk 30 is corrupt", not a stored-digest mismatch
    doc = json.loads(out)
    assert doc["status"] == "complete" and not doc["read_errors"]
    assert (case_dir / "evidence" / "ST" / "ST.raw").read_bytes() == exported
    check = doc["stored_digests"]
    assert check["outcome"] == "match"
    assert check["covered_bytes"] == len(data) and check["tail_bytes"] == len(data) - len(exported)
    assert check["computed"]["md5"] == hashlib.md5(data).hexdigest()  # md5sum of the input

    from evidencekit.acquire.ewf.reader import EwfImage

    with EwfImage(first) as image:
        result = image.verify()
    assert result.ok, result.problems
    assert result.digests["md5"] == hashlib.md5(exported).hexdigest()
