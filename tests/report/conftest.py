"""Fixtures for report tests: a signed sample report, a second identity, a local TSA."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from evidencekit.identity import Identity, IdentityStore
from tests.conftest import TEST_KDF, need_peer


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check)


def pdftotext(path: Path) -> str:
    need_peer("pdftotext")
    return run("pdftotext", "-layout", str(path), "-").stdout


def assert_fonts_embedded(path: Path) -> None:
    need_peer("pdffonts")
    lines = run("pdffonts", str(path)).stdout.splitlines()[2:]
    assert lines, "no fonts at all?"
    for line in lines:
        # name type encoding emb sub uni object ID: emb is the 4th column from the right end-5
        cols = line.split()
        assert cols[-5] == "yes", f"font not embedded: {line}"


def assert_pdfsig_valid(path: Path) -> str:
    need_peer("pdfsig")
    out = run("pdfsig", str(path), check=False).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    assert "Total document signed" in out, out
    return out


def assert_qpdf_ok(path: Path) -> None:
    need_peer("qpdf")
    res = run("qpdf", "--check", str(path), check=False)
    assert res.returncode == 0, res.stdout + res.stderr


def add_annotation(data: bytes) -> bytes:
    """An incremental update that adds a text annotation to page 1 (a classic shadow edit)."""
    w = IncrementalPdfFileWriter(io.BytesIO(data))
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/Text"),
            generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.NumberObject(x) for x in (50, 50, 80, 80)]
            ),
            generic.NameObject("/Contents"): generic.pdf_string("sửa đổi sau khi ký"),
        }
    )
    ref = w.add_object(annot)
    page_ref, _res = w.find_page_for_modification(0)
    page = page_ref.get_object()
    page[generic.NameObject("/Annots")] = generic.ArrayObject([ref])
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.fixture
def other_identity(tmp_path: Path) -> Identity:
    """Someone not pinned anywhere."""
    return IdentityStore(tmp_path / "other-home").create(
        "Kẻ Giả Mạo",
        "mật khẩu của người khác".encode(),
        kdf=TEST_KDF,  # fixture: docs/keys.md
    )


def make_disk_item(
    case_dir: Path, identity: Identity, item: str = "USB01", event: str = "niêm phong ổ USB"
) -> str:
    """A sealed 'raw image' item with two unreadable extents, recorded in the ledger as the
    seal workflow records one (a `sealed` event naming the seal's sha256, described `event`);
    returns its media sha256."""
    from evidencekit.case import Case
    from evidencekit.hash.seal.write import artifact_from_file, seal_item
    from evidencekit.workflows.custody import record_event
    from evidencekit.workflows.trust import identity_of

    folder = case_dir / "evidence" / item
    folder.mkdir(parents=True)
    data = bytes(range(256)) * 4096  # 1 MiB
    (folder / f"{item}.raw").write_bytes(data)
    art, result = artifact_from_file(
        folder, f"{item}.raw", ("md5", "sha1", "sha256"), window=1 << 18
    )
    sealed = seal_item(
        folder,
        item,
        identity,
        kind="raw",
        artifacts=[art],
        status="complete-with-errors",
        combined=result,
        facts={
            "source": {"path": "/dev/sdz", "model": "Kingston DataTraveler", "serial": "ABC123"},
            "read_errors": [
                {"offset": 4096, "length": 512, "errno": 5},
                {"offset": 700000, "length": 1024, "errno": 5},
            ],
        },
        description="Ổ USB thu giữ của Trương Đình Bủng",
        case_identity=identity_of(Case.open(case_dir)),  # seal/2 names its case
    )
    details = {"seal_sha256": sealed.seal_sha256, "status": sealed.status}
    record_event(Case.open(case_dir), identity, "sealed", item, description=event, details=details)
    return result.digests["sha256"]
