"""One rule for what `ls SOURCE` and `acquire files SOURCE` read (workflows/sources.py,
`resolve`, called by both): an item id of the case (its disk image) first, then a disk image
recognised by its content (whatever its name), then a folder; `./NAME` is always a path. An
ambiguous name (a folder called like an item) reads the item and says so; a name that is
nothing is a one-line usage error (exit 2).

Oracles: a real case made with the CLI, disk images built by `mkfs.ext4 -d` (and `qemu-img
convert` for QCOW2), Sleuth Kit's `fls` for what is inside an image, GNU `tar -t` for what a
collection holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

INSIDE = {"báo cáo.txt": "Biên bản khám xét\n", "ghi chú.txt": "Trương Đình Bủng\n"}


def _run(*args: str, cwd: Path | None = None) -> Any:
    if cwd is not None:
        old = Path.cwd()
        os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        if cwd is not None:
            os.chdir(old)


def _ext4(tmp_path: Path, name: str) -> Path:
    need_peer("mkfs.ext4")
    src = tmp_path / "fs-content"
    src.mkdir(exist_ok=True)
    for fname, text in INSIDE.items():
        (src / fname).write_text(text, "utf-8")
    image = tmp_path / name
    with image.open("wb") as fh:
        fh.truncate(4 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-d", str(src), str(image)], check=True)
    return image


def _fls(image: Path) -> set[str]:
    need_peer("fls")
    out = subprocess.run(["fls", str(image)], capture_output=True, text=True, check=True)
    names = {line.split("\t", 1)[1] for line in out.stdout.splitlines() if "\t" in line}
    return names - {"$OrphanFiles"}  # Sleuth Kit's virtual folder, not in the file system


def _listed(stdout: str) -> set[str]:
    return {line.split("\t")[1] for line in stdout.splitlines() if "\t" in line}


def _tar_names(tar: Path) -> set[str]:
    need_peer("tar")
    out = subprocess.run(["tar", "-tf", str(tar)], capture_output=True, text=True, check=True)
    return set(out.stdout.splitlines())


@pytest.fixture
def case_with_image(case_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The case with item D1, an ext4 disk image acquired raw, and the work folder beside it
    holding a folder named D1 (what an investigator may well have)."""
    image = _ext4(tmp_path, "usb.img")
    result = _run("--case", str(case_dir), "acquire", "disk", str(image), "--item", "D1",
                  "--format", "raw")  # fmt: skip
    assert result.exit_code == 0, result.output
    work = tmp_path / "work"
    (work / "D1").mkdir(parents=True)
    (work / "D1" / "của tôi.txt").write_text("không phải vật chứng\n", "utf-8")
    return case_dir, work


def test_an_item_id_comes_first_and_the_ambiguity_is_said(
    case_with_image: tuple[Path, Path],
) -> None:
    case_dir, work = case_with_image
    raw = case_dir / "evidence" / "D1" / "D1.raw"
    oracle = _fls(raw)
    assert {"báo cáo.txt", "ghi chú.txt"} <= oracle
    # ls D1: the item's image, although ./D1 is a folder here
    result = _run("--case", str(case_dir), "ls", "D1", cwd=work)
    assert result.exit_code == 0, result.output
    assert _listed(result.stdout) == oracle
    assert f"D1: item D1 of the case, its disk image {raw}" in result.stderr
    assert (
        "warning: 'D1' is both item D1 of the case and the folder here: the item was read "
        "(an item id comes first); give ./D1 to read the folder"
    ) in result.stderr
    doc = json.loads(_run("--case", str(case_dir), "--json", "ls", "D1", cwd=work).stdout)
    assert doc["source"] == {
        "arg": "D1", "kind": "item", "path": str(raw), "item": "D1", "shadowed": "D1",
    }  # fmt: skip
    # ./D1: the folder
    result = _run("--case", str(case_dir), "ls", "./D1", cwd=work)
    assert result.exit_code == 0, result.output
    assert _listed(result.stdout) == {"của tôi.txt"}
    assert "warning" not in result.stderr
    doc = json.loads(_run("--case", str(case_dir), "--json", "ls", "./D1", cwd=work).stdout)
    assert doc["source"]["kind"] == "folder" and doc["source"]["shadowed"] is None
    # acquire files D1 collects the item's image; ./D1 the folder
    result = _run("--case", str(case_dir), "acquire", "files", "D1", "--item", "C1", cwd=work)
    assert result.exit_code == 0, result.output
    assert "  source D1: item D1 of the case, its disk image" in result.stdout
    assert "give ./D1 to read the folder" in result.stderr
    names = _tar_names(case_dir / "evidence" / "C1" / "C1.tar")
    assert {f"D1.raw/{n}" for n in INSIDE} <= names and "D1/của tôi.txt" not in names
    result = _run(
        "--case", str(case_dir), "--json", "acquire", "files", "./D1", "--item", "C2", cwd=work
    )
    assert result.exit_code == 0, result.output
    (given,) = json.loads(result.stdout)["sources"]
    assert given == {"arg": "./D1", "kind": "folder", "path": "D1", "item": None,
                     "shadowed": None}  # fmt: skip
    names = _tar_names(case_dir / "evidence" / "C2" / "C2.tar")
    assert "D1/của tôi.txt" in names and not any(n.startswith("D1.raw") for n in names)


def test_an_image_is_recognised_by_content_not_by_name(case_dir: Path, tmp_path: Path) -> None:
    disguised = _ext4(tmp_path, "ghi chép.txt")  # an ext4 image with a text file's name
    oracle = _fls(disguised)
    result = _run("--case", str(case_dir), "--json", "ls", str(disguised))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"]["kind"] == "image"
    assert {e["path"] for e in doc["entries"] if "/" not in e["path"]} >= set(INSIDE)
    assert _listed(_run("--case", str(case_dir), "ls", str(disguised)).stdout) == oracle
    # a file named like an image, that is none: ls says what it tried (exit 1, as for an
    # unrecognised image), acquire files collects it as a file
    fake = tmp_path / "máy chủ.E01"
    fake.write_text("không phải ảnh đĩa\n" * 50, "utf-8")
    result = _run("--case", str(case_dir), "ls", str(fake))
    assert result.exit_code == 1
    assert "no file system recognised" in result.stderr
    result = _run("--case", str(case_dir), "--json", "acquire", "files", str(disguised),
                  str(fake), "--item", "K1")  # fmt: skip
    assert result.exit_code == 0, result.output
    kinds = [s["kind"] for s in json.loads(result.stdout)["sources"]]
    assert kinds == ["image", "file"]
    names = _tar_names(case_dir / "evidence" / "K1" / "K1.tar")
    assert "máy chủ.E01" in names and f"ghi chép.txt/{next(iter(INSIDE))}" in names


def test_a_qcow2_image_under_any_name(case_dir: Path, tmp_path: Path) -> None:
    need_peer("qemu-img")
    raw = _ext4(tmp_path, "src.img")
    qcow = tmp_path / "bản sao"  # no extension at all
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(raw), str(qcow)], check=True)
    doc = json.loads(_run("--case", str(case_dir), "--json", "ls", str(qcow)).stdout)
    assert doc["source"]["kind"] == "image"
    assert _listed(_run("--case", str(case_dir), "ls", str(qcow)).stdout) == _fls(raw)


def test_a_name_that_is_nothing_is_a_one_line_usage_error(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for cmd in (["ls", "KHONG-CO"], ["acquire", "files", "KHONG-CO", "--item", "N1"]):
        result = _run("--case", str(case_dir), *cmd, cwd=tmp_path)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines == [
            "evidencekit: error: 'KHONG-CO' is not an item of case VKS-2024-06 (evidencekit "
            "case show lists them) nor a disk image, folder or file"
        ]
        doc = json.loads(_run("--case", str(case_dir), "--json", *cmd, cwd=tmp_path).stdout)
        assert doc["exit_code"] == 2 and doc["error"]["code"] == "usage"
    assert not (case_dir / "evidence" / "N1").exists()
    # outside a case
    monkeypatch.delenv("EVIDENCEKIT_CASE", raising=False)
    result = _run("ls", "KHONG-CO", cwd=tmp_path)
    assert result.exit_code == 2
    assert [line for line in result.stderr.splitlines() if line.strip()] == [
        "evidencekit: error: 'KHONG-CO' is not a disk image, folder or file (no such path; "
        "an item id needs a case: --case DIR)"
    ]
    result = _run("ls", str(tmp_path / "không có"), cwd=tmp_path)
    assert result.exit_code == 2


def test_an_item_without_a_disk_image(case_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "tài liệu"
    src.mkdir()
    (src / "a.txt").write_text("a\n", "utf-8")
    assert (
        _run("--case", str(case_dir), "acquire", "files", str(src), "--item", "F1").exit_code == 0
    )
    for cmd in (["ls", "F1"], ["acquire", "files", "F1", "--item", "F2"]):
        result = _run("--case", str(case_dir), *cmd, cwd=tmp_path)
        assert result.exit_code == 2, result.output
        assert "'F1' is item F1 of the case, which holds no disk image" in result.stderr
    # a file called F1 beside it: the item still comes first, and the hint names ./F1
    (tmp_path / "F1").write_text("x\n", "utf-8")
    result = _run("--case", str(case_dir), "ls", "F1", cwd=tmp_path)
    assert result.exit_code == 2
    assert "hint: to read the file 'F1' here, give ./F1" in result.stderr


def test_a_folder_has_no_partitions(case_dir: Path, tmp_path: Path) -> None:
    result = _run("--case", str(case_dir), "ls", str(tmp_path), "--partition", "1")
    assert result.exit_code == 2
    assert "is a folder: it has no partitions" in result.stderr


def test_both_commands_state_the_rule_in_help() -> None:
    for cmd in (["ls", "--help"], ["acquire", "files", "--help"]):
        text = " ".join(CliRunner().invoke(cli, cmd).stdout.split())
        assert "one rule, first match wins" in text, cmd
        assert (
            "an item id of the case (its disk image), then a disk image recognised by its "
            "content (E01, VMDK, QCOW2, VHD, raw or split raw with a partition table or file "
            "system), then a folder"
        ) in text, cmd
        assert "Write ./NAME for a folder or image named like an item." in text


def test_both_commands_call_the_one_resolver(
    case_with_image: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencekit.workflows import sources

    calls: list[str] = []
    real = sources.resolve

    def counted(case: Any, spec: Any, **kw: Any) -> Any:
        calls.append(str(spec))
        return real(case, spec, **kw)

    monkeypatch.setattr(sources, "resolve", counted)
    case_dir, work = case_with_image
    assert _run("--case", str(case_dir), "ls", "D1", cwd=work).exit_code == 0
    result = _run("--case", str(case_dir), "acquire", "files", "D1", "./D1", "--item", "R2",
                  cwd=work)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == ["D1", "D1", "./D1"]


def test_the_error_in_vietnamese(case_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "EVIDENCEKIT_LANG": "vi"}
    proc = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), "ls", "KHONG-CO"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("evidencekit: lỗi: 'KHONG-CO' không phải vật chứng của vụ án")


def test_a_source_name_that_is_not_utf8(case_dir: Path, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/th\xf0 m\xfcc"  # Latin-1 bytes, not UTF-8
    os.mkdir(raw)
    with open(raw + b"/a.txt", "wb") as fh:
        fh.write(b"x\n")
    src = os.fsdecode(raw)  # surrogate escapes, as Python hands argv to the CLI
    result = _run("--case", str(case_dir), "--json", "acquire", "files", src, "--item", "NU")
    assert result.exit_code == 0, result.output
    (given,) = json.loads(result.stdout)["sources"]
    assert given["kind"] == "folder" and given["arg"].endswith("/th\\xf0 m\\xfcc")
    result = _run("--case", str(case_dir), "acquire", "files", src, "--item", "NU2")
    assert result.exit_code == 0, result.output
    assert "th\\xf0 m\\xfcc: a folder" in result.stdout
