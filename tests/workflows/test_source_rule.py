"""One rule for what a SOURCE is, shared by `ls` and `acquire files` (issue 19 item 10): an item id
of the case (its image), then a disk image recognised by content (not by its name), then a folder;
a plain file that is not an image is collected as a file, and the manifest says so.

Oracles: the file system is built by `mkfs.ext4 -d` from known files; Sleuth Kit's `fls` lists it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.faults._acquire_harness import run
from tests.peers import need_peer


def _ext4(tmp_path: Path, name: str) -> Path:
    need_peer("mkfs.ext4", "fls")
    tree = tmp_path / "tree"
    (tree / "docs").mkdir(parents=True)
    (tree / "docs" / "biên bản.txt").write_text("Nguyễn Bá Tùng\n", "utf-8")
    (tree / "a.bin").write_bytes(bytes(range(256)) * 40)
    image = tmp_path / name
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(tree), str(image)], check=True, capture_output=True
    )
    return image


def _members(case_dir: Path, item: str) -> dict[str, object]:
    doc = json.loads((case_dir / "evidence" / item / f"{item}.manifest.json").read_text())
    return doc


def test_an_ext4_image_named_bin_is_collected_as_a_file_system(
    tmp_path: Path, case_dir: Path
) -> None:
    image = _ext4(tmp_path, "x.bin")
    fls = subprocess.run(["fls", "-r", "-p", str(image)], capture_output=True, text=True)
    assert "docs/biên bản.txt" in fls.stdout  # the oracle sees a file system
    ls = run(case_dir, "ls", str(image), "-r")
    assert ls.returncode == 0 and "biên bản.txt" in ls.stdout, ls.stderr
    r = run(case_dir, "acquire", "files", str(image), "--item", "F1")
    assert r.returncode == 0, r.stderr
    tar = case_dir / "evidence" / "F1" / "F1.tar"
    names = subprocess.run(["tar", "-tf", str(tar)], capture_output=True, text=True).stdout
    assert "x.bin/docs/biên bản.txt" in names and "x.bin/a.bin" in names
    assert "x.bin\n" not in names  # not the image file itself
    assert run(case_dir, "verify", "F1").returncode == 0


def test_a_text_file_named_e01_is_collected_as_a_file_and_said_so(
    tmp_path: Path, case_dir: Path
) -> None:
    fake = tmp_path / "x.E01"
    fake.write_text("not an image, just notes\n" * 100)
    r = run(case_dir, "acquire", "files", str(fake), "--item", "F2")
    assert r.returncode == 0, r.stderr
    names = subprocess.run(
        ["tar", "-tf", str(case_dir / "evidence" / "F2" / "F2.tar")],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert names == ["x.E01"]
    text = json.dumps(_members(case_dir, "F2"), ensure_ascii=False)
    assert "not a disk image" in text and "collected as a file" in text
    # ls refuses it, naming that nothing was recognised
    assert run(case_dir, "ls", str(fake)).returncode != 0


def test_an_item_id_names_its_image(tmp_path: Path, case_dir: Path) -> None:
    image = _ext4(tmp_path, "disk.img")
    assert run(case_dir, "acquire", "disk", str(image), "--item", "D1").returncode == 0
    ls = run(case_dir, "ls", "D1", "-r")
    assert ls.returncode == 0 and "biên bản.txt" in ls.stdout, ls.stderr
    r = run(case_dir, "acquire", "files", "D1", "--item", "F3")
    assert r.returncode == 0, r.stderr
    names = subprocess.run(
        ["tar", "-tf", str(case_dir / "evidence" / "F3" / "F3.tar")],
        capture_output=True,
        text=True,
    ).stdout
    assert "docs/biên bản.txt" in names


def test_a_compressed_file_named_img_is_collected_as_a_file(tmp_path: Path, case_dir: Path) -> None:
    need_peer("gzip")
    text = tmp_path / "notes.txt"
    text.write_text("Trương Đình Bủng\n" * 200, "utf-8")
    subprocess.run(["gzip", "-k", str(text)], check=True)
    packed = tmp_path / "x.img"
    (tmp_path / "notes.txt.gz").rename(packed)
    r = run(case_dir, "acquire", "files", str(packed), "--item", "F4")
    assert r.returncode == 0, r.stderr
    tar = case_dir / "evidence" / "F4" / "F4.tar"
    out = subprocess.run(["tar", "-xOf", str(tar), "x.img"], capture_output=True, check=True)
    assert out.stdout == packed.read_bytes()
    # `ls` and `acquire disk` refuse it as what it is
    ls = run(case_dir, "ls", str(packed))
    assert ls.returncode == 1 and "gzip-compressed" in ls.stderr
