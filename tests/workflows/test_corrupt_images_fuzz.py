"""No command says "internal error" on a corrupted image (issue #19, done-when): a hundred seeded
corruptions of an E01 (chunk data, table entries, anywhere) and of a FAT volume's metadata (boot
sector, FATs, directories) are listed with `ls -r -d`, and some collected with `acquire files`.

Each must end with one of the contract's exit codes and, for a damaged E01 chunk that holds a
file, name the damage instead of handing out zeros as content. The images are made by mkfs.vfat,
mcopy and ewfacquire; the mutations are seeded, so a failure names the seed that reproduces it.
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

CASES = 100
CONTRACT_CODES = {0, 1, 2, 3, 4}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    need_peer("mkfs.vfat", "mmd", "mcopy", "ewfacquire")
    folder = tmp_path_factory.mktemp("fuzz")
    img = folder / "fat.img"
    subprocess.run(["mkfs.vfat", "-C", str(img), "1024"], check=True, capture_output=True)
    subprocess.run(["mmd", "-i", str(img), "::/THU_MUC"], check=True)
    rnd = random.Random(7)
    for i in range(6):
        name = folder / f"F{i}.BIN"
        name.write_bytes(rnd.randbytes(rnd.randrange(100, 60_000)))
        target = f"::/THU_MUC/F{i}.BIN" if i % 2 else f"::/F{i}.BIN"
        subprocess.run(["mcopy", "-i", str(img), str(name), target], check=True)
    images = {"fat": img.read_bytes()}
    for compression in ("none", "fast"):
        base = folder / f"e01-{compression}"
        subprocess.run(
            [
                *("ewfacquire", "-u", "-q", "-t", str(base)),
                *("-c", compression, "-f", "encase6", str(img)),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        images[f"e01-{compression}"] = Path(f"{base}.E01").read_bytes()
    return images


def _mutate(data: bytes, kind: str, rnd: random.Random) -> bytes:
    raw = bytearray(data)
    if kind == "fat":  # boot sector, FATs and root directory: the first 16 KiB
        region = (0, 16 << 10)
    else:
        sectors = raw.find(b"sectors")
        table = raw.find(b"table\x00")
        region = rnd.choice(
            [
                (sectors + 76, table),  # chunk data
                (table + 76, table + 76 + 24 + 4 * 40),  # table header and entries
                (0, len(raw)),  # anywhere
            ]
        )
    for _ in range(rnd.randrange(1, 6)):
        at = rnd.randrange(*region)
        if rnd.random() < 0.5:
            raw[at] ^= 1 << rnd.randrange(8)
        else:
            length = rnd.randrange(1, 64)
            raw[at : at + length] = rnd.randbytes(length)[: len(raw) - at]
    return bytes(raw)


@pytest.mark.parametrize("seed", range(CASES))
def test_corrupt_image_never_crashes(
    seed: int, originals: dict[str, bytes], tmp_path: Path, case_dir: Path
) -> None:
    rnd = random.Random(seed)
    kind = rnd.choice(sorted(originals))
    path = tmp_path / ("disk.img" if kind == "fat" else "disk.E01")
    path.write_bytes(_mutate(originals[kind], kind, rnd))
    runner = CliRunner()
    result = runner.invoke(cli, ["ls", "-r", "-d", str(path)])
    assert result.exit_code in CONTRACT_CODES, (seed, kind, result.output)
    assert "internal error" not in result.stderr, (seed, kind, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), seed
    if seed % 5 == 0:
        result = runner.invoke(
            cli,
            [
                *("--case", str(case_dir), "acquire", "files", str(path)),
                *("--item", f"FZ{seed}", "--include-deleted"),
            ],
        )
        assert result.exit_code in CONTRACT_CODES, (seed, kind, result.output)
        assert "internal error" not in result.stderr, (seed, kind, result.stderr)
