"""Issue 16: the demo records a seizure as Vietnamese procedure does — a session with its legal
basis and participants, the stick registered with a photo and sealed, a refusal to sign, the
seal opened and sealed again, the analysis on a working copy — and all of it verifies."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.workflows.demo_seizure import SEALS, SESSION, WORKING_COPY, sample_photo


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
    # the working copy is an image converted from the original (bienban16's demo)
    assert analysed["details"]["working_copy"]["item"] == WORKING_COPY
    resealed = next(e for e in usb if e["kind"] == "resealed")
    assert resealed["details"]["replaces"] == [SEALS[0]]
    assert resealed["details"]["seal_numbers"] == [SEALS[1]]
    session = json.loads(
        runner.invoke(cli, ["--json", "--case", case, "custody", "session", "show", SESSION]).stdout
    )
    opened, *_, closed = session["events"]
    assert opened["details"]["legal_basis"][0].startswith("Lệnh khám xét số 07/LKX")
    assert {p["role"] for p in opened["details"]["participants"]} == {
        "investigator", "specialist", "witness", "owner",
    }  # fmt: skip
    assert closed["details"]["refusals"][0]["participant"]["name"] == "Phạm Thị Lan"
    verified = runner.invoke(cli, ["--case", case, "custody", "verify"])
    assert verified.exit_code == 0, verified.output
    (photo,) = (folder / "case" / "photos" / "USB01").iterdir()
    assert photo.read_bytes().startswith(b"\xff\xd8\xff")  # a JPEG


def test_sample_photo_is_a_jpeg_pillow_decodes(tmp_path: Path) -> None:
    from PIL import Image

    data = sample_photo(tmp_path / "p.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (480, 320)
        im.load()  # every byte of it decodes
