"""The document's own metadata after the first signature: `/Author`, `/Title`, `/Subject` (the
report id) and the XMP `dc:creator` are what PDF readers show as the document's author and title.
pyhanko's default policy accepts any change to them; `report verify` accepts only the dates and
producer that signing tools refresh. Attacks are pyhanko incremental updates on a report built
by `report build`, signed by a pinned colleague made with `keys init`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.report.attacks import (
    COLLEAGUE,
    XMP_CREATOR,
    change_info,
    make_colleague,
    modification_levels,
    record_cosign,
    set_xmp,
)
from tests.report.conftest import make_disk_item


@pytest.fixture
def report(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> tuple[Path, bytes, Identity]:
    make_disk_item(case_dir, identity)
    res = runner.invoke(cli, ["--json", "--case", str(case_dir), "report", "build"])
    assert res.exit_code == 0, res.output
    data = Path(json.loads(res.stdout)["path"]).read_bytes()
    return case_dir, data, make_colleague(runner, tmp_path, case_dir)


def _verify(runner: CliRunner, data: bytes, case_dir: Path, tmp_path: Path) -> tuple[int, str]:
    pdf = tmp_path / "attacked.pdf"
    pdf.write_bytes(data)
    res = runner.invoke(cli, ["report", "verify", str(pdf), "--case", str(case_dir)])
    return res.exit_code, res.output


@pytest.mark.parametrize(
    ("key", "value"),
    [("/Author", COLLEAGUE), ("/Subject", "R-20990101T000000Z-00000000"), ("/Title", "Khác")],
)
def test_document_information_change_exits_3(
    runner: CliRunner,
    report: tuple[Path, bytes, Identity],
    tmp_path: Path,
    key: str,
    value: str,
) -> None:
    case_dir, data, colleague = report
    attacked = change_info(data, key, value, colleague)
    # pyhanko's default policy lets this pass (a signature plus metadata)
    assert modification_levels(attacked)[0][1] == "FORM_FILLING"
    info = PdfFileReader(io.BytesIO(attacked), strict=False).trailer_view["/Info"]
    assert str(info[key]) == value
    code, out = _verify(runner, attacked, case_dir, tmp_path)
    assert code == 3, out
    assert (
        f"revision 3 of 3 (signed by 'Trần Văn Đồng') changes the document information {key}" in out
    ), out


def test_xmp_creator_added_exits_3(
    runner: CliRunner, report: tuple[Path, bytes, Identity], tmp_path: Path
) -> None:
    case_dir, data, colleague = report
    attacked = set_xmp(data, XMP_CREATOR.format(name=COLLEAGUE), colleague)
    # pyhanko's default policy accepts it; the final XMP names the colleague
    assert modification_levels(attacked)[0][1] == "FORM_FILLING"
    xmp = PdfFileReader(io.BytesIO(attacked), strict=False).root["/Metadata"].data
    assert f"<rdf:li>{COLLEAGUE}</rdf:li>".encode() in xmp
    code, out = _verify(runner, attacked, case_dir, tmp_path)
    assert code == 3, out
    assert (
        "revision 3 of 3 (signed by 'Trần Văn Đồng') changes the XMP metadata (dc:creator)" in out
    ), out


def test_xmp_dates_refreshed_by_a_signing_tool_are_accepted(
    runner: CliRunner, report: tuple[Path, bytes, Identity], tmp_path: Path
) -> None:
    """A co-signing tool that rewrites the XMP with a new modification date and producer (what
    pyhanko writes at signing, and Acrobat refreshes) stays acceptable."""
    case_dir, data, colleague = report
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    xmp = reader.root["/Metadata"].data.decode("utf-8")
    assert "xmp:ModifyDate=" in xmp and "pdf:Producer=" in xmp, xmp
    refreshed = xmp.replace('pdf:Producer="pyHanko', 'pdf:Producer="Adobe Acrobat; pyHanko')
    refreshed = refreshed.replace('xmp:ModifyDate="20', 'xmp:ModifyDate="21', 1)
    assert refreshed != xmp
    cosigned = set_xmp(data, refreshed, colleague)
    final = PdfFileReader(io.BytesIO(cosigned), strict=False).root["/Metadata"].data
    assert final == refreshed.encode("utf-8")
    record_cosign(case_dir, colleague, cosigned, "Colleague")  # as `report cosign` would
    code, out = _verify(runner, cosigned, case_dir, tmp_path)
    assert code == 0, out
