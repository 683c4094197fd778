"""Issue 16: the demo records a seizure as Vietnamese procedure does — a session with its legal
basis and participants, the stick registered with a photo and sealed, a refusal to sign, the
seal opened and sealed again, the analysis on a working copy — and all of it verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.workflows import demo_seizure


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
    assert analysed["details"]["working_copy"]["item"] == demo_seizure.WORKING_COPY
    shown = runner.invoke(
        cli, ["--json", "--case", case, "custody", "session", "show", demo_seizure.SESSION]
    )
    opened, *_, closed = json.loads(shown.stdout)["events"]
    assert opened["details"]["legal_basis"] == list(demo_seizure.BASIS)
    roles = {p["role"] for p in opened["details"]["participants"]}
    assert {"investigator", "witness", "owner"} <= roles
    assert closed["details"]["refusals"][0]["participant"]["name"] == demo_seizure.OWNER
    verified = runner.invoke(cli, ["--case", case, "custody", "verify"])
    assert verified.exit_code == 0, verified.output
    (photo,) = (folder / "case" / "photos" / "USB01").iterdir()
    recorded = usb[0]["details"]["photos"][0]
    assert recorded["name"] == f"photos/USB01/{photo.name}" and recorded["size"] == len(
        photo.read_bytes()
    )
