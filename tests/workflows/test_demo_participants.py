"""The demo shows issue 16's participants and device details too: the case's standing
participants in its first event, the stick registered with its make, model and serial, and
both in the demo's Biên bản (`pdftotext`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import need_peer


@pytest.mark.slow
def test_demo_names_standing_participants_and_the_device(
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
    opened = log["events"][0]
    assert opened["kind"] == "case_opened"
    people = {(p["name"], p["role"]) for p in opened["details"]["participants"]}
    assert ("Võ Thị Thu", "clerk") in people
    assert any(role == "investigator" for _name, role in people)
    (reg,) = [e for e in log["events"] if e["kind"] == "registered"]
    assert reg["details"]["device"]["serial"] == "DEMO-0042-KT"
    need_peer("pdftotext")
    (record,) = [p for p in (folder / "case" / "reports").glob("*.pdf") if "bien" in p.name.lower()]
    text = " ".join(
        subprocess.run(
            ["pdftotext", str(record), "-"], capture_output=True, text=True
        ).stdout.split()
    )
    for needle in ("Võ Thị Thu", "thư ký", "Kingston", "DataTraveler DTX/16GB", "DEMO-0042-KT"):
        assert needle in text, needle
