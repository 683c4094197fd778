"""Photos registered with an item are shown in the report and the Biên bản: each with its
digest, and a thumbnail when the file in the case still has that digest and is an image.

Oracles: `pdfimages -list` (the thumbnail is an image in the PDF, small), `pdftotext` (the
photo's name and SHA-256, computed here with hashlib from the bytes written).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.report.model import Photo
from evidencekit.report.render.photos import thumbnail
from tests.conftest import need_peer


def _jpeg(size: tuple[int, int] = (1600, 1200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "JPEG", quality=90)
    return out.getvalue()


def _images(pdf: Path) -> list[list[str]]:
    need_peer("pdfimages")
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def _text(pdf: Path) -> str:
    need_peer("pdftotext")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def _ek(runner: CliRunner, case_dir: Path, *args: str) -> None:
    res = runner.invoke(cli, ["--case", str(case_dir), *args])
    assert res.exit_code == 0, (args, res.output)


def test_a_registered_photo_is_shown_with_its_digest_and_a_small_thumbnail(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    photo = tmp_path / "ảnh ổ USB.jpg"
    data = _jpeg()
    photo.write_bytes(data)
    img = tmp_path / "usb.img"
    img.write_bytes(bytes(range(256)) * 1024)
    _ek(runner, case_dir, "custody", "register", "USB01", "--description", "Ổ USB",
        "--photo", str(photo))  # fmt: skip
    _ek(runner, case_dir, "acquire", "disk", str(img), "--item", "USB01", "--format", "raw")
    for form, name in (("report", "r.pdf"), ("bien-ban", "bb.pdf")):
        out = tmp_path / name
        args = ["--form", form] + (["--item", "USB01"] if form == "bien-ban" else [])
        _ek(runner, case_dir, "report", "build", *args, "--out", str(out))
        text = _text(out)
        assert hashlib.sha256(data).hexdigest() in text, form
        assert "ảnh ổ USB.jpg" in text, form
        images = _images(out)
        assert len(images) == 1, (form, images)
        width, height = int(images[0][3]), int(images[0][4])
        assert max(width, height) <= 360  # a thumbnail, not the 1600 px photo
        assert out.stat().st_size < len(data) + 200_000


def test_a_photo_that_is_not_an_image_is_listed_without_a_thumbnail() -> None:
    assert thumbnail(b"not an image at all") is None
    assert thumbnail(None) is None
    assert thumbnail(_jpeg()[:200]) is None  # truncated
    assert thumbnail(_jpeg((40, 30))) is not None


def test_a_photo_whose_file_changed_gets_no_thumbnail(tmp_path: Path, case_dir: Path) -> None:
    from evidencekit.case import Case
    from evidencekit.workflows.report.photos import with_data

    case = Case.open(case_dir)
    folder = case_dir / "photos" / "X"
    folder.mkdir(parents=True)
    data = _jpeg((40, 30))
    (folder / "a.jpg").write_bytes(data + b"\x00")  # an appended byte
    (folder / "b.jpg").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    got = with_data(
        case,
        [
            Photo("photos/X/a.jpg", len(data), sha),
            Photo("photos/X/b.jpg", len(data), sha),
            Photo("../outside.jpg", len(data), sha),  # never read outside the case
            Photo("photos/X/missing.jpg", 1, sha),
        ],
    )
    assert [p.data is not None for p in got] == [False, True, False, False]
