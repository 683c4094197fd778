"""A disk with unreadable sectors, imaged for real, and the report of it: the extents are listed
where they lie and drawn on the media map; the report signs and verifies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.conftest import need_peer, need_root
from tests.fixtures.faulty import faulty_loop
from tests.report.conftest import assert_fonts_embedded, assert_pdfsig_valid, pdftotext

SIZE = 2 << 20
BAD = [100, 101, 3000]


@pytest.mark.root
@pytest.mark.slow
def test_report_of_a_faulty_disk(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    backing.write_bytes(bytes((i * 7 + 3) % 251 for i in range(SIZE)))
    with faulty_loop(backing, BAD) as dev:
        res = runner.invoke(
            cli,
            ["--case", str(case_dir), "acquire", "disk", dev.device, "--item", "HDD01",
             "--format", "e01", "--retries", "1", "--description", "Ổ cứng hỏng"],
        )  # fmt: skip
    assert res.exit_code == 4, res.output
    out = tmp_path / "faulty.pdf"
    res = runner.invoke(
        cli, ["--json", "--case", str(case_dir), "report", "build", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["items"] == ["HDD01"]
    assert_pdfsig_valid(out)
    assert_fonts_embedded(out)
    text = pdftotext(out)
    assert "hoàn tất, có lỗi đọc" in text
    # the extents, as byte offsets and lengths (grouped by thousands)
    assert "51 200" in text and "1 024" in text  # sectors 100-101
    assert "1 536 000" in text and "512" in text  # sector 3000
    assert "EIO (5)" in text
    assert "Sơ đồ vùng nhớ" in text
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "verify", str(out)])
    assert res.exit_code == 0, res.output
