"""The supported Python API (docs/api.md): the documented example runs as written, through
`evidencekit.api` only; the API is free of click and the CLI; every exported name exists."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import evidencekit
from evidencekit import api

DOC = Path(__file__).parent.parent / "docs" / "api.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "docs/api.md holds one runnable example"
    return blocks[0]


def test_the_documented_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_HOME", "/nonexistent")  # restored after: the example sets it
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE", raising=False)
    source = _example()
    assert "evidencekit.cli" not in source and "subprocess" not in source
    exec(compile(source, str(DOC), "exec"), {"__name__": "docs_api_example"})
    out = capsys.readouterr().out.splitlines()
    # what the example prints: the sealed item, the custody event, a missing item's status,
    # the refusal of a bad item id
    assert out[0] == "D1 complete"
    assert out[1] == "note"
    assert out[2] == "NOSUCH: False 3"
    assert out[3].startswith("refused: ") and "../D2" in out[3]


def test_every_exported_name_exists_and_is_documented() -> None:
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing
    text = DOC.read_text(encoding="utf-8")
    for name in (
        "open_case",
        "seal_files",
        "verify_evidence",
        "record_event",
        "build_report",
        "verify_report",
        "acquire_disk",
        "collect_item",
    ):
        assert f"`{name}(" in text, name


def test_versions_are_semantic() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", api.API_VERSION)
    assert re.fullmatch(r"\d+\.\d+\.\d+", evidencekit.__version__)
    assert api.__version__ == evidencekit.__version__


def test_the_api_imports_neither_click_nor_the_cli() -> None:
    # a fresh interpreter: this test process has click loaded already
    code = (
        "import sys, evidencekit.api\n"
        "bad = sorted(m for m in sys.modules if m == 'click' or m.startswith(('click.', "
        "'evidencekit.cli')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_errors_are_the_projects() -> None:
    with pytest.raises(api.CaseError, match="nosuch"):
        api.open_case(Path("/nonexistent/nosuch"))
