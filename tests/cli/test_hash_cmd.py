"""`evidencekit hash`: known answers, directories, FIFOs, block devices, errors, JSON windows."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer, need_root
from tests.images import image, media, segments

# Built images and the two only ../shared/testdata holds; md5sum/sha256sum are the oracle.
RAW_IMAGES = ["iso9660.raw", "ímynd.dd", "hfsplus.raw", "apfs.raw"]


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["hash", "--format", "json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", RAW_IMAGES)
def test_raw_image_known_answers(name: str) -> None:
    doc = _json("-a", "md5,sha256", str(image(name)))
    want = media(name)
    (entry,) = doc["files"]
    assert entry["size"] == want.size
    assert entry["digests"] == {"md5": want.md5, "sha256": want.sha256}


def test_split_raw_media_known_answer_through_a_fifo(tmp_path: Path) -> None:
    """The media of ext2.splitraw.000 + .001 is the concatenation; hash it through a FIFO."""
    fifo = tmp_path / "media.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as out:
            for part in segments("ext2.splitraw.000"):
                out.write(part.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        doc = _json("-a", "md5,sha256", str(fifo))
    finally:
        writer.join()
    want = media("ext2.splitraw.000")
    assert doc["files"][0]["size"] == want.size == 4194304
    assert doc["files"][0]["digests"] == {"md5": want.md5, "sha256": want.sha256}


def test_block_device_hashes_until_eof(tmp_path: Path) -> None:
    need_root()
    need_peer("losetup")
    copy = tmp_path / "ext2.raw"
    copy.write_bytes(image("ext2.raw").read_bytes())
    dev = subprocess.run(
        ["losetup", "--find", "--show", "-r", str(copy)], capture_output=True, text=True
    )
    if dev.returncode != 0:
        pytest.skip(f"no loop device: {dev.stderr.strip()}")
    device = dev.stdout.strip()
    try:
        result = CliRunner().invoke(cli, ["hash", "-a", "md5", device])
    finally:
        subprocess.run(["losetup", "-d", device], check=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{media('ext2.raw').md5}  {device}\n"


def test_empty_and_abc_every_algorithm(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "abc").write_bytes(b"abc")
    doc = _json(
        "-a", "md5,sha1,sha256,sha512,blake3", str(tmp_path / "empty"), str(tmp_path / "abc")
    )
    empty, abc = (f["digests"] for f in doc["files"])
    assert empty["blake3"] == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    assert empty["sha1"] == "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    assert abc["sha512"] == (
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
    )
    assert abc["blake3"] == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
    assert abc["md5"] == "900150983cd24fb0d6963f7d28e17f72"


def test_windows_in_json(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"a" * 2500)
    doc = _json("--window", "1KiB", str(tmp_path / "f"))
    f = doc["files"][0]
    assert f["window_size"] == 1024
    assert [(w["offset"], w["length"]) for w in f["windows"]] == [
        (0, 1024),
        (1024, 1024),
        (2048, 452),
    ]


def test_window_needs_json(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"a")
    result = CliRunner().invoke(cli, ["hash", "--window", "1KiB", str(tmp_path / "f")])
    assert result.exit_code == 2


def test_directories_need_r_and_errors_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("dir/sub").mkdir(parents=True)
    Path("dir/x").write_bytes(b"abc")
    Path("dir/sub/y").write_bytes(b"")
    Path("f").write_bytes(b"abc")
    runner = CliRunner()
    result = runner.invoke(cli, ["hash", "-a", "md5", "dir", "gone", "f"])
    assert result.exit_code == 1
    assert result.stdout == "900150983cd24fb0d6963f7d28e17f72  f\n"
    assert "dir: Is a directory (use -r to recurse)" in result.stderr
    assert "gone: No such file or directory" in result.stderr
    result = runner.invoke(cli, ["hash", "-a", "md5", "-r", "dir"])
    assert result.exit_code == 0
    assert result.stdout == (
        "d41d8cd98f00b204e9800998ecf8427e  dir/sub/y\n900150983cd24fb0d6963f7d28e17f72  dir/x\n"
    )


def test_unreadable_file_gets_one_error_line(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root reads mode-000 files; use a FIFO-free stand-in: a dangling symlink
        (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
        target = tmp_path / "dangling"
    else:
        target = tmp_path / "secret"
        target.write_bytes(b"x")
        target.chmod(0)
    (tmp_path / "ok").write_bytes(b"abc")
    result = CliRunner().invoke(cli, ["hash", "-a", "md5", str(target), str(tmp_path / "ok")])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stdout.endswith("  " + str(tmp_path / "ok") + "\n")


def test_recursion_skips_fifos_and_linked_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("t/real").mkdir(parents=True)
    Path("t/real/f").write_bytes(b"abc")
    os.mkfifo("t/fifo")
    Path("t/link-to-dir").symlink_to(tmp_path / "t" / "real")
    Path("t/link-to-file").symlink_to(tmp_path / "t" / "real" / "f")
    result = CliRunner().invoke(cli, ["hash", "-a", "md5", "-r", "t"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "900150983cd24fb0d6963f7d28e17f72  t/link-to-file\n"
        "900150983cd24fb0d6963f7d28e17f72  t/real/f\n"
    )
    assert "t/fifo: skipped (not a regular file)" in result.stderr


def test_json_with_non_utf8_name(tmp_path: Path) -> None:
    name = os.fsencode(tmp_path) + b"/caf\xe9"
    with open(name, "wb") as fh:
        fh.write(b"abc")
    result = CliRunner().invoke(cli, ["hash", "--format", "json", os.fsdecode(name)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["files"][0]["name"].endswith("caf\\xe9")
    assert doc["files"][0]["digests"]["sha256"].startswith("ba7816bf")
