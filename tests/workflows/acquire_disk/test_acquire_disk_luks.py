"""`acquire disk --decrypt`: the decrypted payload of a LUKS volume imaged, sealed and recorded.

Oracles nobody here wrote: QEMU writes the LUKS1 volume and decrypts it again (`qemu-img convert
--image-opts driver=luks`), and the image we write must be byte for byte what QEMU reads;
cryptsetup writes a LUKS2 header with 4 KiB sectors (payload encrypted with the volume key it
dumps) and names the volume's UUID (`cryptsetup luksUUID`), which the seal must carry;
`sha256sum -c` and `ewfverify` check what we wrote.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.errors import UsageError
from evidencekit.hash.seal.read import load_seal
from evidencekit.identity import Identity
from evidencekit.workflows.acquire_disk import AcquireDiskRequest, AcquireOptions, acquire_disk
from evidencekit.workflows.progress import Tick
from tests.acquire.fs.test_luks import cryptsetup_luks
from tests.acquire.fs.test_luks_cipher import PASSWORD, qemu_decrypt, qemu_luks
from tests.acquire.fs.test_lvm import fat_and
from tests.peers import need_peer, need_root

MiB = 1 << 20


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), env=env)
    return r.exit_code, r.stdout, r.stderr


def _uuid(volume: Path) -> str:
    need_peer("cryptsetup")
    return subprocess.run(
        ["cryptsetup", "luksUUID", str(volume)], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def luks_disk(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, str]:
    """disk.img: partition 1 FAT, partition 2 a LUKS1 volume QEMU wrote (AES-256-XTS, 512-byte
    sectors) around 5 MiB + 3 sectors of random data; returns it, what QEMU decrypts of the
    volume, and the volume's UUID (made once: the tests only read it)."""
    tmp_path = tmp_path_factory.mktemp("luks_disk")
    plain = tmp_path / "plain.raw"
    plain.write_bytes(random.Random(19).randbytes(5 * MiB + 3 * 512))
    volume = qemu_luks(plain, tmp_path / "p2.luks", "cipher-alg=aes-256,cipher-mode=xts")
    theirs = qemu_decrypt(volume, tmp_path / "qemu.raw")
    assert theirs == plain.read_bytes()
    return fat_and(tmp_path, volume.read_bytes(), "83"), theirs, _uuid(volume)


@pytest.mark.peer
def test_luks_partition_imaged_decrypted_equals_qemus_decryption(
    case_dir: Path, luks_disk: tuple[Path, bytes, str]
) -> None:
    disk, theirs, uuid = luks_disk
    code, out, err = _run(
        *("--case", str(case_dir), "--json", "acquire", "disk", str(disk), "--item", "DEC"),
        *("--decrypt", "--partition", "2", "--password-env", "LUKS_PW"),
        env={"LUKS_PW": PASSWORD},
    )
    assert code == 0, out + err
    doc = json.loads(out)
    item = case_dir / "evidence" / "DEC"
    assert (item / "DEC.raw").read_bytes() == theirs
    sha = hashlib.sha256(theirs).hexdigest()
    assert doc["digests"]["sha256"] == sha  # --json: {algorithm: hex}
    assert doc["status"] == "complete" and doc["verification"]["image"] == "match"
    subprocess.run(["sha256sum", "--quiet", "-c", "DEC.sha256"], cwd=item, check=True)
    seal = load_seal(item / "DEC.seal.json").document
    source = seal["facts"]["source"]
    assert source["format"] == "luks1" and source["size"] == len(theirs)
    facts = source["identity"]
    assert facts["luks_uuid"] == uuid
    assert facts["luks_cipher"] == "aes-xts-plain64" and facts["luks_key_bits"] == "512"
    assert facts["luks_volume_offset"] == str(10240 * 512)
    assert (
        facts["decrypted"] == "the decrypted payload of the LUKS1 volume partition 2 of 'disk.img'"
    )
    assert seal["facts"]["options"]["decrypt"] is True
    assert seal["facts"]["options"]["partition"] == 2
    sealed = (item / "DEC.seal.json").read_bytes() + (item / "DEC.log").read_bytes()
    assert PASSWORD.encode() not in sealed  # the password never reaches the output
    log = (item / "DEC.log").read_text(encoding="utf-8")
    assert "luks1" in log


@pytest.mark.peer
def test_decrypted_e01_verifies_with_libewf(
    case_dir: Path, luks_disk: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    need_peer("ewfverify", "ewfexport")
    disk, theirs, _volume_id = luks_disk
    code, out, err = _run(
        *("--case", str(case_dir), "acquire", "disk", str(disk), "--item", "DECE01"),
        *("--format", "e01", "--decrypt", "--partition", "2", "--password-env", "LUKS_PW"),
        env={"LUKS_PW": PASSWORD},
    )
    assert code == 0, out + err
    e01 = case_dir / "evidence" / "DECE01" / "DECE01.E01"
    subprocess.run(["ewfverify", "-q", str(e01)], check=True, capture_output=True)
    target = tmp_path / "export"
    subprocess.run(
        ["ewfexport", "-q", "-u", "-t", str(target), "-f", "raw", str(e01)],
        check=True,
        capture_output=True,
    )
    assert Path(str(target) + ".raw").read_bytes() == theirs


@pytest.mark.peer
def test_bare_luks2_volume_with_4k_sectors(case_dir: Path, tmp_path: Path) -> None:
    """The source is the volume itself (as a LUKS partition dumped to a file): LUKS2 written by
    cryptsetup, 4 KiB encryption sectors, Argon2id."""
    payload = random.Random(4096).randbytes(3 * MiB)
    volume = cryptsetup_luks(tmp_path, payload, sector=4096)
    code, out, err = _run(
        *("--case", str(case_dir), "--json", "acquire", "disk", str(volume), "--item", "L2"),
        *("--decrypt", "--password-env", "LUKS_PW"),
        env={"LUKS_PW": PASSWORD},
    )
    assert code == 0, out + err
    image = (case_dir / "evidence" / "L2" / "L2.raw").read_bytes()
    # the volume is larger than the payload written into it: the rest decrypts to noise
    assert image[: len(payload)] == payload
    seal = load_seal(case_dir / "evidence" / "L2" / "L2.seal.json").document
    facts = seal["facts"]["source"]["identity"]
    assert facts["luks_uuid"] == _uuid(volume)
    assert facts["luks_version"] == "LUKS2" and facts["luks_sector_size"] == "4096"
    assert seal["facts"]["source"]["logical_sector_size"] == 4096


@pytest.mark.peer
@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (
            ("--decrypt", "--partition", "2", "--password-env", "PW"),
            {"PW": "Mật khẩu Việt 2025"},
            1,
            "cannot unlock partition 2 of 'disk.img' (LUKS1): no key slot opens",
        ),
        (
            ("--decrypt", "--partition", "1", "--password-env", "PW"),
            {"PW": PASSWORD},
            1,
            "partition 1 of 'disk.img' holds no LUKS volume",
        ),
        (
            ("--decrypt", "--partition", "5", "--password-env", "PW"),
            {"PW": PASSWORD},
            2,
            "'disk.img' has no partition 5 (partitions: 1, 2)",
        ),
        (("--decrypt", "--partition", "2"), {}, 2, "--decrypt needs the volume's password"),
        (("--partition", "2"), {}, 2, "--partition chooses the LUKS volume to decrypt"),
        (
            ("--decrypt", "--password-env", "PW"),
            {"PW": PASSWORD},
            1,
            "'disk.img' holds no LUKS volume",
        ),
        (("--decrypt", "--password-env", "NOT_SET"), {}, 2, "'NOT_SET' (for the password)"),
    ],
)
def test_what_cannot_be_decrypted_is_refused_and_leaves_no_item(
    case_dir: Path,
    luks_disk: tuple[Path, bytes, str],
    args: tuple[str, ...],
    env: dict[str, str],
    code: int,
    message: str,
) -> None:
    disk, _theirs, _volume_id = luks_disk
    got, out, err = _run(
        *("--case", str(case_dir), "acquire", "disk", str(disk), "--item", "BAD", *args),
        env=env,
    )
    assert got == code, out + err
    assert message in err
    item = case_dir / "evidence" / "BAD"
    assert not item.exists() or not any(item.iterdir())


@pytest.mark.peer
def test_decrypted_source_reads_qemus_bytes_at_any_offset(
    luks_disk: tuple[Path, bytes, str],
) -> None:
    """The source `--decrypt` images, read as the resilient reader and Sleuth Kit would: whole
    chunks, single sectors, unaligned pieces, across the end."""
    from evidencekit.acquire.fs._tsk import partition_rows
    from evidencekit.acquire.fs.luks_media import open_decrypted
    from evidencekit.acquire.fs.open import open_image
    from evidencekit.acquire.source.adapter import open_source

    disk, theirs, _volume_id = luks_disk
    with open_image(disk) as listing, open_source(disk) as outer:  # numbered as `ls` shows
        shown = [(p.number, p.start, p.length) for p in listing.numbered()]
        assert [(p.number, p.start, p.length) for p in partition_rows(outer, "x")] == shown
    with open_source(disk) as outer, open_decrypted(outer, PASSWORD, 2) as src:
        assert src.size == len(theirs)
        for offset, size in ((0, MiB), (MiB, MiB), (513, 1000), (5 * MiB, 4096), (7, 3 * MiB)):
            assert src.read_at(offset, size) == theirs[offset : offset + size], (offset, size)
        assert src.read_at(len(theirs) - 100, MiB) == theirs[-100:]
        buf = bytearray(MiB)
        assert src.readinto_at(memoryview(buf), 2 * MiB) == MiB
        assert bytes(buf) == theirs[2 * MiB : 3 * MiB]


@pytest.mark.peer
def test_workflow_api_decrypts_and_reports_the_payload_size_first(
    case_dir: Path, identity: Identity, luks_disk: tuple[Path, bytes, str]
) -> None:
    """Through the Python API (what the CLI wraps): the progress learns the decrypted size
    before imaging starts, and the result is QEMU's bytes."""
    disk, theirs, _volume_id = luks_disk
    ticks: list[Tick] = []
    options = AcquireOptions(decrypt=True, partition=2, verify=False)
    request = AcquireDiskRequest(disk, "API", options, password=PASSWORD, progress=ticks.append)
    res = acquire_disk(Case.open(case_dir), identity, request)
    # the first pass the progress hears of is the decrypted payload, with its size
    decrypted = [t for t in ticks if t.label == "imaging API (decrypted)"]
    assert decrypted[0] == Tick("imaging API (decrypted)", 0, len(theirs))
    assert decrypted[-1].done == len(theirs)
    assert all(t.total == len(theirs) for t in decrypted)
    assert res.size == len(theirs) and res.status == "complete"
    assert (res.item_dir / "API.raw").read_bytes() == theirs
    assert res.source["identity"]["luks_version"] == "LUKS1"
    with pytest.raises(UsageError, match="needs the volume's password"):
        acquire_disk(Case.open(case_dir), identity, AcquireDiskRequest(disk, "API2", options))


@pytest.mark.peer
def test_luks_partition_inside_an_e01_made_by_libewf(
    case_dir: Path, luks_disk: tuple[Path, bytes, str], tmp_path: Path
) -> None:
    """The disk as libewf's ewfacquirestream stored it: the partition is found and decrypted
    through our E01 reader, and the image is still QEMU's bytes."""
    need_peer("ewfacquirestream")
    disk, theirs, uuid = luks_disk
    with disk.open("rb") as stdin:
        subprocess.run(
            ["ewfacquirestream", "-q", "-t", str(tmp_path / "disk"), "-c", "none"],
            stdin=stdin,
            check=True,
            capture_output=True,
        )
    code, out, err = _run(
        *("--case", str(case_dir), "--json", "acquire", "disk", str(tmp_path / "disk.E01")),
        *("--item", "FROM-E01", "--decrypt", "--partition", "2", "--password-env", "LUKS_PW"),
        env={"LUKS_PW": PASSWORD},
    )
    assert code == 0, out + err
    assert (case_dir / "evidence" / "FROM-E01" / "FROM-E01.raw").read_bytes() == theirs
    facts = json.loads(out)["source"]["identity"]
    assert facts["luks_uuid"] == uuid and facts["outer_format"] == "ewf"


@pytest.mark.root
@pytest.mark.peer
def test_unreadable_encrypted_sectors_are_zero_filled_in_the_decrypted_image(
    case_dir: Path, luks_disk: tuple[Path, bytes, str]
) -> None:
    """The disk on a real faulty block device (FUSE + a direct-I/O loop device): the sectors
    of the LUKS partition that fail are zeros in the decrypted image, exactly there, the rest
    is QEMU's bytes, and the item is complete-with-errors (exit 4)."""
    need_root()
    need_peer("losetup", "fusermount")
    from tests.fixtures.faulty import faulty_loop

    disk, theirs, _volume_id = luks_disk
    raw = disk.read_bytes()
    payload = 10240 + int.from_bytes(raw[10240 * 512 + 104 : 10240 * 512 + 108], "big")
    bad = [100, 101, 3000]  # sectors of the payload
    with faulty_loop(disk, [payload + s for s in bad]) as dev:
        code, out, err = _run(
            *(
                "--debug",
                "--case",
                str(case_dir),
                "--json",
                "acquire",
                "disk",
                dev.device,
                "--item",
                "FL",
            ),
            *("--decrypt", "--partition", "2", "--password-env", "LUKS_PW", "--retries", "1"),
            env={"LUKS_PW": PASSWORD},
        )
    assert code == 4, out + err
    doc = json.loads(out)
    assert doc["status"] == "complete-with-errors" and doc["bad_sectors"] == 3
    assert doc["source"]["kind"] == "block-device" and doc["source"]["format"] == "luks1"
    expected = bytearray(theirs)
    for s in bad:
        expected[s * 512 : (s + 1) * 512] = bytes(512)
    assert (case_dir / "evidence" / "FL" / "FL.raw").read_bytes() == bytes(expected)
    assert [(e["offset"], e["length"]) for e in doc["read_errors"]] == [
        (100 * 512, 1024),
        (3000 * 512, 512),
    ]


@pytest.mark.root
@pytest.mark.peer
def test_an_unreadable_key_slot_is_named_and_nothing_is_written(
    case_dir: Path, luks_disk: tuple[Path, bytes, str]
) -> None:
    need_root()
    need_peer("losetup", "fusermount")
    from tests.fixtures.faulty import faulty_loop

    disk, _theirs, _volume_id = luks_disk
    head = disk.read_bytes()[10240 * 512 : 10240 * 512 + 592]
    key_material = int.from_bytes(head[248:252], "big")  # key slot 0, in sectors
    with faulty_loop(disk, [10240 + key_material + 1]) as dev:
        code, out, err = _run(
            *("--case", str(case_dir), "acquire", "disk", dev.device, "--item", "KS"),
            *("--decrypt", "--partition", "2", "--password-env", "LUKS_PW"),
            env={"LUKS_PW": PASSWORD},
        )
    assert code == 1, out + err
    assert "cannot read the LUKS header or key slots of partition 2 of" in err
    assert "internal error" not in err
    item = case_dir / "evidence" / "KS"
    assert not item.exists() or not any(item.iterdir())
