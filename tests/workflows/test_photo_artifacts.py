"""Issue 16: photos are evidence too. `custody register --photo` writes them through the commit
protocol (reserve, stage, record, publish), and `custody verify` and `verify` re-hash each one
against its event: a flipped, appended or removed byte, a missing photo or one replaced by a
link is exit 3 naming the photo. Oracle: `sha256sum` for the recorded digest."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.workflows import casefiles, commit
from evidencekit.workflows.custody import list_events, record
from evidencekit.workflows.photos import stage_photos
from tests.conftest import need_peer

PHOTO = "ảnh niêm phong 1.jpg"


def _photo(tmp_path: Path) -> Path:
    photo = tmp_path / PHOTO
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 64)
    return photo


def _register(invoke: Any, case_dir: Path, photo: Path, item: str = "HDD01") -> dict[str, Any]:
    res = invoke(
        "--json", "--case", str(case_dir), "custody", "register", item,
        "--description", "Ổ cứng", "--photo", str(photo),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out: dict[str, Any] = json.loads(res.stdout)["event"]
    return out


def _published(case_dir: Path, item: str = "HDD01") -> Path:
    return case_dir / "photos" / item / PHOTO


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))


def test_registered_photo_is_recorded_with_its_sha256(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    need_peer("sha256sum")
    ev = _register(invoke, case_dir, _photo(tmp_path))
    (entry,) = ev["details"]["photos"]
    published = _published(case_dir)
    oracle = subprocess.run(
        ["sha256sum", str(published)], capture_output=True, check=True, text=True
    ).stdout.split()[0]
    assert entry == {
        "name": f"photos/HDD01/{PHOTO}",
        "size": published.stat().st_size,
        "sha256": oracle,
    }
    # nothing left in staging: the reservation was published and its record removed
    assert not (case_dir / "evidence" / ".staging").exists()
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("damage", ["flip", "append", "truncate", "missing", "link"])
def test_damaged_photo_fails_custody_verify_and_verify(
    case_dir: Path, invoke: Any, tmp_path: Path, damage: str
) -> None:
    ev = _register(invoke, case_dir, _photo(tmp_path))
    published = _published(case_dir)
    if damage == "flip":
        _flip(published)
    elif damage == "append":
        with published.open("ab") as fh:
            fh.write(b"\x00")
    elif damage == "truncate":
        published.write_bytes(published.read_bytes()[:-1])
    elif damage == "missing":
        published.unlink()
    else:  # replaced by a link to a copy holding the same bytes: never followed
        copy = tmp_path / "copy.jpg"
        copy.write_bytes(published.read_bytes())
        published.unlink()
        published.symlink_to(copy)
    res = invoke("--case", str(case_dir), "custody", "verify")
    assert res.exit_code == 3, res.output
    assert f"photos/HDD01/{PHOTO}" in res.stdout and f"event {ev['seq']}" in res.stdout
    doc = json.loads(invoke("--json", "--case", str(case_dir), "custody", "verify").stdout)
    kinds = {
        "flip": "digest-mismatch", "append": "size-mismatch", "truncate": "size-mismatch",
        "missing": "missing-file", "link": "unsafe-file",
    }  # fmt: skip
    assert [(p["kind"], p["seq"]) for p in doc["problems"]] == [(kinds[damage], ev["seq"])]
    # `verify ITEM` of an item registered (not yet imaged) checks its photos too
    res = invoke("--case", str(case_dir), "verify", "HDD01")
    assert res.exit_code == 3, res.output
    assert f"photos/HDD01/{PHOTO}" in res.stdout


def test_photo_of_an_acquired_item_is_checked_by_verify(
    case_dir: Path, invoke: Any, tmp_path: Path
) -> None:
    _register(invoke, case_dir, _photo(tmp_path))
    disk = tmp_path / "disk.raw"
    disk.write_bytes(bytes(range(256)) * 2048)
    res = invoke("--case", str(case_dir), "acquire", "disk", str(disk), "--item", "HDD01",
                 "--format", "raw")  # fmt: skip
    assert res.exit_code == 0, res.output
    res = invoke("--case", str(case_dir), "verify", "HDD01")
    assert res.exit_code == 0, res.output
    assert "1 photo(s) and attached document(s) re-hashed" in res.stdout
    _flip(_published(case_dir))
    res = invoke("--case", str(case_dir), "verify", "HDD01")
    assert res.exit_code == 3, res.output
    assert f"digest-mismatch: photos/HDD01/{PHOTO}" in res.stdout


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _as_killed(case: Case, item: str) -> None:
    """The attempt record of `item` made to name a process that is gone (what a kill leaves)."""
    path = commit.staging_root(case) / f"{item}{commit.ATTEMPT_SUFFIX}"
    doc = json.loads(path.read_text("utf-8"))
    doc["pid"] = _dead_pid()
    path.write_text(json.dumps(doc), "utf-8")


def test_recorded_but_unpublished_photos_are_noted_then_recovered(
    case_dir: Path, invoke: Any, identity: Any, tmp_path: Path
) -> None:
    """Stopped between the event and the rename: `custody verify` notes the staged photo
    (its bytes are the recorded ones), `case show` lists the attempt, `case recover` publishes."""
    case = Case.open(case_dir)
    res, recorded = stage_photos(case, "HDD01", [_photo(tmp_path)], examiner=identity.name)
    record(case, identity, "registered", "HDD01", description="Ổ", details={"photos": recorded})
    _as_killed(case, "HDD01")
    out = invoke("--case", str(case_dir), "custody", "verify")
    assert out.exit_code == 0, out.output
    assert "is not published yet" in out.stdout and "case recover HDD01" in out.stdout
    shown = json.loads(invoke("--json", "--case", str(case_dir), "case", "show").stdout)
    assert [a["item"] for a in shown["unfinished"]] == ["HDD01"]
    # a staged copy that is not the recorded one is no excuse
    _flip(res.folder / PHOTO)
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 3
    assert invoke("--case", str(case_dir), "case", "recover", "HDD01").exit_code == 3
    _flip(res.folder / PHOTO)
    out = invoke("--case", str(case_dir), "case", "recover", "HDD01")
    assert out.exit_code == 0, out.output
    assert hashlib.sha256(_published(case_dir).read_bytes()).hexdigest() == recorded[0]["sha256"]
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0
    assert not (case_dir / "evidence" / ".staging").exists()


def test_register_again_finishes_an_interrupted_one(
    case_dir: Path, invoke: Any, identity: Any, tmp_path: Path
) -> None:
    """Killed before its event: the next register of the id sets the staged copies aside with a
    signed event and registers; killed after: it publishes them and is refused (registered)."""
    case = Case.open(case_dir)
    photo = _photo(tmp_path)
    stage_photos(case, "A1", [photo], examiner=identity.name)  # no event: killed before
    _as_killed(case, "A1")
    ev = _register(invoke, case_dir, photo, "A1")
    assert ev["kind"] == "registered"
    discards = [e for e in list_events(case) if e["kind"] == "attempt_discarded"]
    assert [d["details"]["item"] for d in discards] == ["A1"]
    assert (case_dir / discards[0]["details"]["moved_to"] / PHOTO).is_file()
    assert _published(case_dir, "A1").read_bytes() == photo.read_bytes()

    _, recorded = stage_photos(case, "B2", [photo], examiner=identity.name)
    record(case, identity, "registered", "B2", description="Ổ", details={"photos": recorded})
    _as_killed(case, "B2")
    out = invoke("--case", str(case_dir), "custody", "register", "B2", "--description", "Ổ",
                 "--photo", str(photo))  # fmt: skip
    assert out.exit_code == 1 and "already in the ledger" in out.stderr
    assert _published(case_dir, "B2").read_bytes() == photo.read_bytes()
    assert invoke("--case", str(case_dir), "custody", "verify").exit_code == 0


def test_a_register_in_progress_holds_the_id(
    case_dir: Path, invoke: Any, identity: Any, tmp_path: Path
) -> None:
    """The id is reserved while photos are copied: another item-writing command is refused."""
    case = Case.open(case_dir)
    res, _ = stage_photos(case, "C3", [_photo(tmp_path)], examiner=identity.name)
    src = tmp_path / "f.txt"
    src.write_text("x")
    out = invoke("--case", str(case_dir), "seal", str(src), "--item", "C3")
    assert out.exit_code == 1 and "reserved by another attempt" in out.stderr
    res.abandon()
    assert not os.path.exists(res.folder)


def test_staging_folder_is_the_commit_protocols() -> None:
    assert casefiles.STAGING == commit.STAGING
