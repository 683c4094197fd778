"""The demo speaks the interface language: its progress lines and the steps it lists.

Oracle: two real runs of `evidencekit demo` (English and Vietnamese); the workflow writes its
steps in English (and in JSON), the CLI shows them translated. A demo step whose wording drifts
from the CLI's pattern is shown in English and fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "evidencekit"]


def _demo(folder: Path, lang: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCEKIT_")}
    env["EVIDENCEKIT_HOME"] = str(folder.parent / f"home-{lang}")
    env["EVIDENCEKIT_LANG"] = lang
    return subprocess.run(
        [*CLI, *args, "demo", str(folder)], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_the_demo_in_vietnamese(tmp_path: Path) -> None:
    en = _demo(tmp_path / "en", "en", "--json")
    vi = _demo(tmp_path / "vi", "vi")
    assert en.returncode == vi.returncode == 0, vi.stderr
    steps = json.loads(en.stdout)["steps"]
    en_progress = en.stderr.splitlines()
    vi_progress = vi.stderr.splitlines()
    assert len(en_progress) == len(vi_progress) >= 10
    # every progress line is translated (none is left as the workflow wrote it)
    assert set(en_progress).isdisjoint(vi_progress), set(en_progress) & set(vi_progress)
    assert "đang lập biên bản của phiên thu giữ S1" in vi_progress
    lines = vi.stdout.splitlines()
    assert lines[0].startswith("Đã tạo vụ án mẫu tại ")
    listed = [line[4:] for line in lines if line.startswith("  - ")]
    assert len(listed) == len(steps)
    # every step is translated: no English step survives, though paths and digests differ
    english_starts = {s.split(" ")[0] for s in steps} - {"USB01's"}
    assert not any(line.split(" ")[0] in english_starts for line in listed), listed
    assert any("từ chối ký biên bản" in line for line in listed)
    assert "Báo cáo:" in lines and "Tự kiểm tra:" in lines
