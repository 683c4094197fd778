"""Files inside deleted directories, nested ones too, are listed by `ls -r -d` and collected by
`acquire files --include-deleted` (issue #19, item 5), on FAT and NTFS.

The volumes are made and the trees deleted by real tools: mkfs.vfat + mtools (mmd, mcopy,
mdeltree) for FAT, mkntfs + ntfs-3g (mounted through FUSE, as root) for NTFS. The oracle is Sleuth
Kit's own command line: `fls -r -d -p` names every deleted entry, `icat` recovers its content.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer, need_root
from tests.images import ntfs_volume

FILES = {
    "TANG/A.TXT": "Biên bản thu giữ số 12\n".encode() * 40,
    "TANG/SUB/B.TXT": "Trương Đình Bủng\n".encode() * 300,
    "TANG/SUB/DEEP/C.TXT": b"nested three levels\n" * 9,
}
KEEP = b"still here\n"


def _run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


def _fat(tmp_path: Path) -> Path:
    need_peer("mkfs.vfat", "mmd", "mcopy", "mdeltree")
    img = tmp_path / "usb.img"
    subprocess.run(["mkfs.vfat", "-C", str(img), "2048"], check=True, capture_output=True)
    for folder in ("TANG", "TANG/SUB", "TANG/SUB/DEEP"):
        subprocess.run(["mmd", "-i", str(img), f"::/{folder}"], check=True)
    for name, data in {**FILES, "KEEP.TXT": KEEP}.items():
        local = tmp_path / name.replace("/", "_")
        local.write_bytes(data)
        subprocess.run(["mcopy", "-i", str(img), str(local), f"::/{name}"], check=True)
    subprocess.run(["mdeltree", "-i", str(img), "::/TANG"], check=True)
    return img


def _ntfs(tmp_path: Path) -> Path:
    need_root()

    def delete(mnt: Path) -> None:
        subprocess.run(["sync"], check=True)
        subprocess.run(["rm", "-r", str(mnt / "TANG")], check=True)

    return ntfs_volume(tmp_path / "ntfs.img", {**FILES, "KEEP.TXT": KEEP}, then=delete)


def _fls_deleted(img: Path) -> dict[str, tuple[str, int]]:
    """Sleuth Kit's deleted entries: path -> (type letter, inode), $OrphanFiles left out."""
    need_peer("fls", "icat")
    out = subprocess.run(
        ["fls", "-r", "-d", "-p", str(img)], capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        head, path = line.split("\t", 1)
        kinds, _star, inode = head.split()
        if path.startswith("$OrphanFiles"):
            continue
        found[path] = (kinds[-1], int(inode.rstrip(":").split("-")[0]))
    return found


@pytest.mark.parametrize("make", [_fat, _ntfs], ids=["fat", "ntfs"])
def test_deleted_trees_are_listed_and_collected(make, case_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    img = make(tmp_path)
    oracle = _fls_deleted(img)
    files = {p: i for p, (k, i) in oracle.items() if k == "r"}
    assert len(files) == 3 and len(oracle) == 6  # three files in three nested folders

    code, out, err = _run(None, "--json", "ls", "-r", "-d", str(img))
    assert code == 0, out + err
    ours = {
        e["path"]: (e["kind"], e["inode"])
        for e in json.loads(out)["entries"]
        if e["deleted"] and not e["path"].startswith("$OrphanFiles")
    }
    assert ours == {p: (k if k != "-" else "d", i) for p, (k, i) in oracle.items()}

    code, out, err = _run(None, "--json", "ls", "-r", str(img))  # without -d: none of them
    assert code == 0 and not [e for e in json.loads(out)["entries"] if e["deleted"]]

    code, out, err = _run(
        case_dir, "acquire", "files", str(img), "--item", "DEL", "--include-deleted"
    )
    assert code == 0, out + err
    manifest = json.loads((case_dir / "evidence" / "DEL" / "DEL.manifest.json").read_text())
    collected = {f["path"]: f for f in manifest["files"] if f["deleted"]}
    for path, inode in files.items():
        icat = subprocess.run(
            ["icat", str(img), str(inode)], capture_output=True, check=True
        ).stdout
        assert collected[path]["digests"]["sha256"] == f"sha256:{hashlib.sha256(icat).hexdigest()}"
        assert icat in FILES.values()  # and what icat recovers is what was written
