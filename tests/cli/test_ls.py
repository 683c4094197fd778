"""`evidencekit ls`: partitions numbered as --partition takes them, files listed like fls."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import need_peer
from tests.images import image


def test_ls_files_like_fls(invoke) -> None:  # type: ignore[no-untyped-def]
    need_peer("fls")
    img = image("ímynd.dd")
    r = invoke("ls", str(img), "-r", "-d")
    assert r.exit_code == 0, r.output
    ours = {
        line.split("\t")[0].split()[-1].rstrip(":") + "\t" + line.split("\t")[1]
        for line in r.stdout.splitlines()
    }
    fls = subprocess.run(["fls", "-r", "-p", str(img)], capture_output=True, check=True)
    for line in fls.stdout.decode().splitlines():
        kind_inode, name = line.split("\t")
        if "$OrphanFiles" in name:
            continue
        inode = kind_inode.split()[-1].rstrip(":")
        assert f"{inode}\t{name}" in ours, line
    deleted = subprocess.run(["fls", "-r", "-p", "-d", str(img)], capture_output=True, check=True)
    lines = deleted.stdout.decode().splitlines()
    assert len(lines) == 2  # the two files tests/images.py deletes
    for line in lines:
        kind_inode, name = line.split("\t")
        inode = kind_inode.split()[-1].rstrip(":")
        assert f"* {inode}:\t{name}" in r.stdout, line


def test_ls_path_json_and_apfs(invoke) -> None:  # type: ignore[no-untyped-def]
    r = invoke("--json", "ls", str(image("apfs.raw")), "/a_directory")
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["filesystem"].startswith("APFS")
    names = sorted({e["path"] for e in doc["entries"]})
    assert names == ["a_directory/a_file", "a_directory/a_resourcefork", "a_directory/another_file"]


def test_ls_partitions(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    need_peer("sfdisk", "mkfs.vfat", "mcopy")
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(
        ["sfdisk", "-q", str(disk)],
        input=b"label: gpt\nstart=2048, size=12288, type=L\n",
        check=True,
    )
    part = tmp_path / "p.img"
    with open(part, "wb") as fh:
        fh.truncate(12288 * 512)
    subprocess.run(["mkfs.vfat", str(part)], check=True, capture_output=True)
    (tmp_path / "Báo cáo.txt").write_bytes(b"x")
    subprocess.run(
        ["mcopy", "-i", str(part), str(tmp_path / "Báo cáo.txt"), "::/"],
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    with open(disk, "r+b") as fh:
        fh.seek(2048 * 512)
        fh.write(part.read_bytes())
    r = invoke("--json", "ls", str(disk))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    numbered = [p for p in doc["partitions"] if p["number"] is not None]
    assert len(numbered) == 1 and numbered[0]["start"] == 2048 * 512
    assert numbered[0]["filesystem"].startswith("FAT")
    text = invoke("ls", str(disk))
    assert "GPT" in text.stdout and "--partition N" in text.stdout
    # a path without --partition on a partitioned disk is a usage error naming the choice
    r = invoke("ls", str(disk), "/")
    assert r.exit_code == 2 and "--partition" in r.output
    r = invoke("ls", str(disk), "--partition", "1")
    assert r.exit_code == 0 and "Báo cáo.txt" in r.stdout
    r = invoke("ls", str(disk), "--partition", "7")
    assert r.exit_code == 2 and "no partition 7" in r.output


def test_ls_unrecognised_image_exit_1(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.raw"
    junk.write_bytes(b"\x42" * 70000)
    r = invoke("ls", str(junk))
    assert r.exit_code == 1
    assert "no file system recognised" in r.output and "Sleuth Kit" in r.output
    assert "Traceback" not in r.output
