"""The Biên bản of a whole seizure, recorded with the real commands: a session opened with its
legal basis and participants, an item registered in it with a photo and physically sealed before
witnesses, the session closed with a refusal to sign, the seal opened to image the item, a
working copy made, the item re-sealed, analysed on the working copy and handed over before a
witness.

Oracles: `pdftotext` (the national header, the legal basis, every participant with their role,
the seal numbers, the digests of the seal, the signature blocks), `pdfsig` and `report verify`
(signed and recorded), `pdffonts` (every font embedded, so the diacritics are the document's
own), and the pages rendered with `pdftoppm` (looked at by eye for issue 16).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from tests.conftest import need_peer
from tests.report.conftest import assert_fonts_embedded, assert_pdfsig_valid, assert_qpdf_ok

WITNESS = 'role=witness,name=Lê Thị Hoa,cccd=001203004567,yob=1990,address="12 Lê Lợi, Huế"'
PHOTO = "ảnh ổ USB trước khi niêm phong".encode()


def _ek(runner: CliRunner, case_dir: Path, *args: str) -> str:
    res = runner.invoke(cli, ["--case", str(case_dir), *args])
    assert res.exit_code == 0, (args, res.output)
    return res.stdout


def _text(pdf: Path) -> str:
    need_peer("pdftotext")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


@pytest.fixture
def seizure(tmp_path: Path, runner: CliRunner, case_dir: Path, identity: Identity) -> Path:
    need_peer("mkfs.vfat")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-C", "-n", "USB", str(img), "2048"], check=True, capture_output=True
    )
    photo = tmp_path / "ảnh USB.jpg"
    photo.write_bytes(PHOTO)
    ek = lambda *a: _ek(runner, case_dir, *a)  # noqa: E731
    ek("custody", "session", "open", "S1",
       "--place", "Nhà số 12 Lê Lợi, phường Phú Hội, thành phố Huế",
       "--agency", "Cơ quan Cảnh sát điều tra Công an thành phố Huế",
       "--record-number", "15/BB-CSHS",
       "--basis", "Lệnh khám xét số 07/LKX ngày 04/12/2026",
       "--participant", "role=investigator,key=Nguyễn Bá Tùng,unit=Đội Cảnh sát hình sự",
       "--participant", "role=specialist,name=Phạm Văn Khoa,cccd=001099007777,unit=Phòng Kỹ thuật",
       "--participant", WITNESS,
       "--participant", "role=owner,name=Trương Đình Bủng,cccd=079088001234,yob=1988")  # fmt: skip
    ek("custody", "register", "USB01", "--description", "Ổ USB Kingston 8 GB màu xanh",
       "--condition", "Còn nguyên vẹn", "--location", "Phòng khách", "--photo", str(photo),
       "--session", "S1")  # fmt: skip
    ek("custody", "seal-apply", "USB01", "--seal-number", "NP-0042",
       "--method", "túi niêm phong, chữ ký người chứng kiến", "--session", "S1",
       "--participant", WITNESS)  # fmt: skip
    ek("custody", "session", "close", "S1", "--refused", "name=Trương Đình Bủng",
       "--reason", "không đồng ý việc thu giữ",
       "--statement", "Ông Bủng đề nghị được nhận lại ổ USB sau khi giám định.")  # fmt: skip
    ek("custody", "seal-open", "USB01", "--seal-number", "NP-0042", "--state", "intact",
       "--reason", "sao chép dữ liệu", "--participant", WITNESS)  # fmt: skip
    ek("acquire", "disk", str(img), "--item", "USB01", "--format", "e01",
       "--evidence-number", "VC-07/2026")  # fmt: skip
    ek("convert", "USB01", "--to", "raw", "--item", "USB01-WC")
    ek("custody", "reseal", "USB01", "--seal-number", "NP-0043", "--replaces", "NP-0042",
       "--method", "túi niêm phong mới", "--participant", WITNESS)  # fmt: skip
    ek("custody", "analyse", "USB01", "--purpose", "tìm tệp đã xoá", "--working-copy", "USB01-WC")
    ek("custody", "transfer", "USB01", "--to", "Lê Văn Cường", "--to-role", "receiver",
       "--to-id", "cccd:001203009999", "--purpose", "lưu kho vật chứng",
       "--participant", WITNESS)  # fmt: skip
    return case_dir


def test_the_record_of_a_seizure_session(runner: CliRunner, seizure: Path, tmp_path: Path) -> None:
    out = tmp_path / "bien-ban.pdf"
    _ek(runner, seizure, "report", "build", "--form", "bien-ban", "--session", "S1",
        "--out", str(out))  # fmt: skip
    assert_pdfsig_valid(out)
    assert_qpdf_ok(out)
    assert_fonts_embedded(out)
    res = runner.invoke(cli, ["--case", str(seizure), "report", "verify", str(out)])
    assert res.exit_code == 0, res.output
    text = _text(out)
    seal = json.loads((seizure / "evidence" / "USB01" / "USB01.seal.json").read_text("utf-8"))
    digests = dict(d.split(":", 1) for d in seal["combined"]["digests"])
    wc = json.loads((seizure / "evidence" / "USB01-WC" / "USB01-WC.seal.json").read_text("utf-8"))
    wc_sha = dict(d.split(":", 1) for d in wc["combined"]["digests"])["sha256"]
    for needle in (
        # the national header, the agency and the record's number, the title
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        "CƠ QUAN CẢNH SÁT ĐIỀU TRA CÔNG AN THÀNH PHỐ HUẾ",
        "Số: 15/BB-CSHS",
        "BIÊN BẢN THU GIỮ PHƯƠNG TIỆN ĐIỆN TỬ, DỮ LIỆU ĐIỆN TỬ",
        "tại Nhà số 12 Lê Lợi, phường Phú Hội, thành phố Huế",
        # the legal basis
        "Điều 107 (Thu thập phương tiện điện tử, dữ liệu điện tử)",
        "Điều 196 (Thu giữ phương tiện điện tử, dữ liệu điện tử)",
        "Căn cứ Lệnh khám xét số 07/LKX ngày 04/12/2026;",
        # every participant with role
        "Nguyễn Bá Tùng — điều tra viên",
        "Phạm Văn Khoa — người có chuyên môn; CCCD số 001099007777; đơn vị: Phòng Kỹ thuật",
        "Lê Thị Hoa — người chứng kiến; năm sinh 1990; CCCD số 001203004567; nơi cư trú: 12 Lê "
        "Lợi, Huế",
        "Trương Đình Bủng — người có phương tiện / chủ sở hữu; năm sinh 1988; CCCD số 079088001234",
        # the item, its photo, its seals
        "Ổ USB Kingston 8 GB màu xanh (Vật chứng USB01; số hiệu VC-07/2026)",
        hashlib.sha256(PHOTO).hexdigest(),
        "Nguyễn Bá Tùng niêm phong, số niêm phong: NP-0042; cách niêm phong: túi niêm phong, chữ "
        "ký người chứng kiến. Có mặt: Lê Thị Hoa (người chứng kiến).",
        "mở niêm phong số NP-0042; tình trạng niêm phong: còn nguyên vẹn; lý do mở: sao chép "
        "dữ liệu",
        "niêm phong lại bằng niêm phong số NP-0043 (thay cho số NP-0042)",
        # what was copied, its digests, the read-back, the copies
        "thành ảnh đĩa định dạng E01",
        digests["md5"],
        digests["sha1"],
        digests["sha256"],
        "khớp với dữ liệu đã thu",
        "Số bản sao dữ liệu đã lập: 2 (bản sao chính USB01; bản sao làm việc USB01-WC).",
        f"phân tích trên bản sao làm việc USB01-WC (SHA-256 {wc_sha})",
        "bàn giao cho Lê Văn Cường; mục đích: lưu kho vật chứng. Có mặt: Lê Thị Hoa",
        # statements, the number of copies, the signature blocks and the refusal
        "Ông Bủng đề nghị được nhận lại ổ USB sau khi giám định.",
        "Biên bản được lập thành 02 bản",
        "Từ chối ký. Lý do: không đồng ý việc thu giữ",
    ):
        assert needle in text, needle
    for title in ("ĐIỀU TRA VIÊN", "NGƯỜI CÓ CHUYÊN MÔN", "NGƯỜI CHỨNG KIẾN",
                  "NGƯỜI CÓ PHƯƠNG TIỆN / CHỦ SỞ HỮU"):  # fmt: skip
        assert title in text, title
    # one block per participant of the session (the receiver came later: not among them)
    assert text.count("(Ký, ghi rõ họ tên)") == 4
    assert text.count("Từ chối ký, lý do:") == 3
    assert "Lê Văn Cường — người nhận" not in text
    assert "giám định viên" not in text.lower()
    # start and end are the session's opening and closing
    log = json.loads(_ek(runner, seizure, "--json", "custody", "log"))
    assert any(e["kind"] == "report_issued" for e in log["events"])
    need_peer("pdftoppm")
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(out), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 2


def test_the_full_report_words_the_seizure(
    runner: CliRunner, seizure: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    _ek(runner, seizure, "report", "build", "--out", str(out))
    # a table cell may wrap after a hyphen ("NP-" / "0043"): joined again here
    text = re.sub(r"(?<=[A-Z])- (?=\d)", "-", _text(out))
    for needle in (
        "Nguyễn Bá Tùng mở phiên thu giữ S1 tại Nhà số 12 Lê Lợi",
        "Nguyễn Bá Tùng niêm phong vật chứng USB01, số niêm phong NP-0042",
        "Nguyễn Bá Tùng kết thúc phiên thu giữ S1. Từ chối ký biên bản: Trương Đình Bủng",
        "mở niêm phong số NP-0042 của vật chứng USB01; niêm phong còn nguyên vẹn",
        "niêm phong lại vật chứng USB01 bằng niêm phong số NP-0043 (thay cho số NP-0042)",
        "Thực hiện trên bản sao làm việc USB01-WC",
        "bàn giao vật chứng USB01 cho Lê Văn Cường (người nhận, không giữ khoá, CCCD 001203009999)",
        "chốt giá trị băm và ký số vật chứng USB01-WC, chuyển đổi từ vật chứng USB01",
    ):
        assert needle in text, needle


def test_the_scanned_signed_record_attached_back_is_named_in_the_next_one(
    runner: CliRunner, seizure: Path, tmp_path: Path
) -> None:
    """The printed record, signed by hand, scanned and attached to the item (hashed): the
    item's next record names it with its digest."""
    first = tmp_path / "bb1.pdf"
    _ek(runner, seizure, "report", "build", "--form", "bien-ban", "--item", "USB01",
        "--out", str(first))  # fmt: skip
    scan = tmp_path / "biên bản đã ký.pdf"
    scan.write_bytes(first.read_bytes() + b"%% scanned with signatures\n")
    _ek(runner, seizure, "custody", "attach", "USB01", str(scan), "--what", "signed-record")
    second = tmp_path / "bb2.pdf"
    _ek(runner, seizure, "report", "build", "--form", "bien-ban", "--item", "USB01",
        "--out", str(second))  # fmt: skip
    text = _text(second)
    assert "Bản quét biên bản đã ký: tệp" in text, text
    assert hashlib.sha256(scan.read_bytes()).hexdigest() in text
    # one item's record takes its frame from the session it was registered in
    assert "Số: 15/BB-CSHS" in text and "Phiên thu giữ: S1." in text


def test_the_ledger_says_a_record_was_issued(
    runner: CliRunner, seizure: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bb.pdf"
    _ek(runner, seizure, "report", "build", "--form", "bien-ban", "--session", "S1",
        "--out", str(out))  # fmt: skip
    log = json.loads(_ek(runner, seizure, "--json", "custody", "log"))
    issued = log["events"][-1]
    assert issued["kind"] == "report_issued"
    assert issued["details"]["form"] == "bien-ban" and issued["details"]["items"] == ["USB01"]
    report = tmp_path / "r.pdf"
    _ek(runner, seizure, "report", "build", "--out", str(report))
    text = _text(report)
    assert f"Nguyễn Bá Tùng lập và ký số biên bản {issued['details']['report_id']}." in text
