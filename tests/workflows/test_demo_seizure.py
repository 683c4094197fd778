"""Issue 16: the demo records a seizure as Vietnamese procedure does — a session with its legal
basis and witnesses, the stick registered with a photo and sealed, a refusal to sign, the seal
opened and sealed again, the analysis on a working copy — and all of it verifies."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.workflows.demo_seizure import sample_photo


@pytest.mark.slow
def test_demo_records_the_seizure(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "not-used"))
    for var in ("EVIDENCEKIT_PASSPHRASE", "EVIDENCEKIT_IDENTITY", "EVIDENCEKIT_CASE"):
        monkeypatch.delenv(var, raising=False)
    folder = tmp_path / "demo"
    res = runner.invoke(cli, ["--json", "demo", str(folder)])
    assert res.exit_code == 0, res.output
    case = str(folder / "case")
    log = json.loads(runner.invoke(cli, ["--json", "--case", case, "custody", "log"]).stdout)
    usb = [e for e in log["events"] if e["item"] == "USB01"]
    kinds = [e["kind"] for e in usb]
    assert kinds[:4] == ["registered", "seal_applied", "seal_opened", "acquired"], kinds
    assert "resealed" in kinds and kinds.index("resealed") < kinds.index("transferred")
    (analysed,) = [e for e in usb if e["kind"] == "analysed"]
    assert analysed["details"]["working_copy"]["item"] == "FILES01"
    session = json.loads(
        runner.invoke(cli, ["--json", "--case", case, "custody", "session", "show", "BB-01"]).stdout
    )
    opened, *_, closed = session["events"]
    assert opened["details"]["legal_basis"][0] == "Điều 107 BLTTHS 2015"
    assert {p["role"] for p in opened["details"]["participants"]} == {
        "investigator", "witness", "owner",
    }  # fmt: skip
    assert closed["details"]["refusals"][0]["participant"]["name"] == "Trần Thị Bình"
    verified = runner.invoke(cli, ["--case", case, "custody", "verify"])
    assert verified.exit_code == 0, verified.output
    (photo,) = (folder / "case" / "photos" / "USB01").iterdir()
    assert photo.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_sample_photo_is_a_png(tmp_path: Path) -> None:
    """Its chunks carry their CRCs (what every PNG reader checks first)."""
    data = sample_photo(tmp_path / "p.png", 8, 4).read_bytes()
    pos = 8
    kinds, bodies = [], []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        body = data[pos + 4 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(body) == crc
        kinds.append(body[:4])
        bodies.append(body[4:])
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">II", bodies[0][:8]) == (8, 4)
    # 4 rows of a filter byte and 8 RGB pixels
    assert len(zlib.decompress(bodies[1])) == 4 * (1 + 8 * 3)
