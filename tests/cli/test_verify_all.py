"""`verify --all`: every item of the case in one run — a line each, the worst exit code (3 over
4 over 1 over 0, docs/design.md), and one `--json` document listing each item with its own
exit code.

Oracles: a real case made with the CLI (`case init`, `seal`, `acquire files` of a folder,
`acquire disk` of an ext4 image built by `mkfs.ext4 -d`, `custody register` with a photo), the
real examiner key, and `sha256sum` for the bytes the test changes; negative cases flip a byte, a
photo byte, delete a sealed folder, plant a folder the ledger never recorded, and misuse the
option."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer

PHOTO = "niêm phong.jpg"


def _run(case_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--case", str(case_dir), *args])


def _ok(case_dir: Path, *args: str) -> Any:
    result = _run(case_dir, *args)
    assert result.exit_code == 0, result.output
    return result


def _flip(path: Path, at: int = 100) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def items(case_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """Four items of different kinds: sealed files, a folder collection, a disk image, and a
    registered phone not imaged yet (with its photo)."""
    need_peer("mkfs.ext4")
    src = tmp_path / "tài liệu"
    src.mkdir()
    (src / "báo cáo.txt").write_bytes("Biên bản khám xét\n".encode() * 500)
    (src / "data.bin").write_bytes(bytes(range(256)) * 64)
    _ok(case_dir, "seal", str(src / "data.bin"), "--item", "S1")
    _ok(case_dir, "acquire", "files", str(src), "--item", "F1")
    image = tmp_path / "usb.img"
    with image.open("wb") as fh:
        fh.truncate(4 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-d", str(src), str(image)], check=True)
    _ok(case_dir, "acquire", "disk", str(image), "--item", "D1", "--format", "raw")
    photo = tmp_path / PHOTO
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 16)
    _ok(case_dir, "custody", "register", "R1", "--description", "Điện thoại", "--photo", str(photo))
    return {
        "S1": case_dir / "evidence" / "S1" / "data.bin",
        "F1": case_dir / "evidence" / "F1" / "F1.tar",
        "D1": case_dir / "evidence" / "D1" / "D1.raw",
        "R1": case_dir / "photos" / "R1" / PHOTO,
    }


def _doc(case_dir: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = _run(case_dir, "--json", "verify", "--all", "--no-record", *args)
    return result.exit_code, json.loads(result.stdout)


def test_every_item_holds(case_dir: Path, items: dict[str, Path]) -> None:
    result = _run(case_dir, "verify", "--all", "--no-record")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for item in ("D1", "F1", "S1"):
        assert any(line.startswith(f"{item}: OK: ") for line in lines), result.stdout
    assert "R1: NOT IMAGED YET: registered, no seal to verify" in lines
    assert "4 item(s): 3 verified, 0 failed, 1 registered and not imaged yet; exit code 0" in lines
    code, doc = _doc(case_dir)
    assert code == 0 and doc["exit_code"] == 0 and doc["ok"] is True and doc["all"] is True
    assert [i["item"] for i in doc["items"]] == ["D1", "F1", "R1", "S1"]
    assert {i["item"]: i["exit_code"] for i in doc["items"]} == dict.fromkeys(
        ["D1", "F1", "R1", "S1"], 0
    )
    assert {i["item"]: i["status"] for i in doc["items"]}["R1"] == "not-imaged"
    # the bytes every seal names were re-read: the sums of the disk image agree with sha256sum
    disk = next(i for i in doc["items"] if i["item"] == "D1")
    assert disk["bytes_hashed"] >= items["D1"].stat().st_size
    # and each item's line is the same as `verify ITEM` gives on its own
    alone = _run(case_dir, "verify", "--no-record", "F1")
    assert alone.stdout.splitlines()[0] in lines


@pytest.mark.parametrize("target", ["S1", "F1", "D1"])
def test_a_flipped_byte_in_one_item_fails_the_run(
    case_dir: Path, items: dict[str, Path], target: str
) -> None:
    need_peer("sha256sum")
    before = subprocess.run(["sha256sum", str(items[target])], capture_output=True, text=True)
    _flip(items[target], at=2000)
    after = subprocess.run(["sha256sum", str(items[target])], capture_output=True, text=True)
    assert before.stdout.split()[0] != after.stdout.split()[0]  # the oracle sees the change
    result = _run(case_dir, "verify", "--all", "--no-record")
    assert result.exit_code == 3, result.output
    assert f"{target}: FAILED: " in result.stdout
    for other in {"S1", "F1", "D1"} - {target}:
        assert f"{other}: OK: " in result.stdout
    code, doc = _doc(case_dir)
    assert code == 3 and doc["exit_code"] == 3 and doc["ok"] is False
    by_item = {i["item"]: i for i in doc["items"]}
    assert by_item[target]["exit_code"] == 3 and by_item[target]["problems"]
    assert all(by_item[i]["exit_code"] == 0 for i in by_item if i != target)


def test_a_registered_photo_changed_fails(case_dir: Path, items: dict[str, Path]) -> None:
    _flip(items["R1"])
    result = _run(case_dir, "verify", "--all", "--no-record")
    assert result.exit_code == 3, result.output
    assert f"digest-mismatch: photos/R1/{PHOTO}" in result.stdout


def test_a_sealed_item_whose_folder_is_gone_fails(
    case_dir: Path, items: dict[str, Path], tmp_path: Path
) -> None:
    (case_dir / "evidence" / "F1").rename(tmp_path / "F1-moved")
    result = _run(case_dir, "verify", "--all", "--no-record")
    assert result.exit_code == 3, result.output
    assert "F1: FAILED: 1 problem(s)" in result.stdout
    assert "missing-file: F1.seal.json" in result.stdout
    code, doc = _doc(case_dir)
    assert code == 3
    assert {i["item"]: i["exit_code"] for i in doc["items"]}["F1"] == 3


def test_worst_exit_code_wins(case_dir: Path, items: dict[str, Path]) -> None:
    # a folder under evidence/ that holds no seal (nothing sealed there): exit 1 on its own
    (case_dir / "evidence" / "EMPTY").mkdir()
    code, doc = _doc(case_dir)
    assert code == 1 and doc["exit_code"] == 1
    assert {i["item"]: i["exit_code"] for i in doc["items"]}["EMPTY"] == 1
    # and 3 wins over 1
    _flip(items["S1"])
    code, doc = _doc(case_dir)
    assert code == 3 and doc["exit_code"] == 3
    by_item = {i["item"]: i["exit_code"] for i in doc["items"]}
    assert by_item["EMPTY"] == 1 and by_item["S1"] == 3 and by_item["D1"] == 0


def test_a_copied_in_item_the_ledger_never_recorded_fails(
    case_dir: Path, items: dict[str, Path], tmp_path: Path
) -> None:
    # an item sealed elsewhere (a second case, same examiner) copied into this case
    other = tmp_path / "other"
    _ok(other.parent, "case", "init", str(other), "--case-number", "X-1", "--title", "Khác")
    _ok(other, "seal", str(items["S1"].parent / "data.bin"), "--item", "COPY1")
    import shutil

    shutil.copytree(other / "evidence" / "COPY1", case_dir / "evidence" / "COPY1")
    code, doc = _doc(case_dir)
    assert code == 3
    copy = next(i for i in doc["items"] if i["item"] == "COPY1")
    assert copy["exit_code"] == 3 and copy["problems"]


def test_an_empty_case(case_dir: Path) -> None:
    result = _run(case_dir, "verify", "--all")
    assert result.exit_code == 0, result.output
    assert "The case has no items to verify." in result.stdout
    assert "Recorded" not in result.stdout
    code, doc = _doc(case_dir)
    assert code == 0 and doc["items"] == [] and doc["recorded"] is False


def test_all_with_a_target_or_nothing_at_all_is_a_usage_error(
    case_dir: Path, items: dict[str, Path]
) -> None:
    result = _run(case_dir, "verify", "--all", "S1")
    assert result.exit_code == 2
    assert "--all verifies every item of the case: give no ITEM with it (S1)" in result.stderr
    result = _run(case_dir, "--json", "verify", "--all", "S1")
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == 2 and doc["error"]["code"] == "usage"
    result = _run(case_dir, "verify")
    assert result.exit_code == 2
    assert "say what to verify" in result.stderr
    # nothing was recorded by a refused command
    log = json.loads(_run(case_dir, "--json", "custody", "log", "S1").stdout)
    assert [e["kind"] for e in log["events"]] == ["sealed"]


def test_all_outside_a_case(tmp_path: Path, ek_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["verify", "--all"])
    assert result.exit_code == 1
    assert "no case given and the current folder is not a case" in result.stderr


def test_sizes_only_with_all(case_dir: Path, items: dict[str, Path]) -> None:
    code, doc = _doc(case_dir, "--sizes-only")
    assert code == 0 and all(i["bytes_hashed"] == 0 for i in doc["items"])
    # a changed size is still found without re-hashing
    with items["D1"].open("ab") as fh:
        fh.write(b"\x00")
    code, doc = _doc(case_dir, "--sizes-only")
    assert code == 3


def test_a_folder_named_like_an_item_here_is_not_what_is_verified(
    case_dir: Path, items: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the investigator's own folders beside the case, called like its items
    work = tmp_path / "work"
    for name in ("S1", "D1"):
        (work / name).mkdir(parents=True)
        (work / name / "ghi chú.txt").write_text("của tôi\n", "utf-8")
    monkeypatch.chdir(work)
    code, doc = _doc(case_dir)
    assert code == 0, doc
    by_item = {i["item"]: i for i in doc["items"]}
    assert by_item["S1"]["seal"] == str(case_dir / "evidence" / "S1" / "S1.seal.json")
    assert by_item["D1"]["checked_files"] and by_item["D1"]["exit_code"] == 0
    # an item id named alone comes first too; ./S1 is the folder here (no seal: exit 1)
    assert _run(case_dir, "verify", "--no-record", "S1", "D1").exit_code == 0
    result = _run(case_dir, "verify", "--no-record", "./S1")
    assert result.exit_code == 1 and "NOT SEALED" in result.stdout
