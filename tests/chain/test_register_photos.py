"""Issue 14: `custody register --photo` copies the photos under temporary names and publishes
them once the event is committed; a refused append leaves no photo the ledger does not record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def _photo(tmp_path: Path) -> Path:
    photo = tmp_path / "ảnh niêm phong.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 40)
    return photo


def test_photos_are_published_with_their_event(case_dir: Path, invoke: Any, tmp_path: Path) -> None:
    photo = _photo(tmp_path)
    res = invoke(
        "--json", "--case", str(case_dir), "custody", "register", "HDD01",
        "--description", "Ổ cứng", "--photo", str(photo),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    (entry,) = json.loads(res.stdout)["event"]["details"]["photos"]
    copied = case_dir / "photos" / "HDD01" / photo.name
    assert entry["sha256"] == hashlib.sha256(copied.read_bytes()).hexdigest()
    assert sorted(p.name for p in copied.parent.iterdir()) == [photo.name]


def test_a_refused_register_leaves_no_photo(case_dir: Path, invoke: Any, tmp_path: Path) -> None:
    photo = _photo(tmp_path)
    for suffix in ("", "-wal", "-shm"):
        (case_dir / f"custody.sqlite{suffix}").unlink(missing_ok=True)
    res = invoke(
        "--case", str(case_dir), "custody", "register", "HDD01",
        "--description", "Ổ cứng", "--photo", str(photo),
    )  # fmt: skip
    assert res.exit_code == 3
    folder = case_dir / "photos" / "HDD01"
    assert not folder.exists() or not list(folder.iterdir())
