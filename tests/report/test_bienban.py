"""The Biên bản (`report build --form bien-ban`): the seizure record in the layout Vietnamese
investigators file, signed digitally like the report.

Oracles: `pdftotext` (the text a reader sees, diacritics exact), `pdffonts` (every font
embedded), `pdfsig` (the signature), `qpdf --check`, and `report verify --case` (the record is
recorded as issued and its attachments match the case). The model is also built from events
written by hand in the seizure-record format (session, physical seals, refusals, working copy),
so the layout is checked field by field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party, keyless
from evidencekit.cli.main import cli
from evidencekit.identity import Identity
from evidencekit.report.model.record import SeizureRecord, record_frame, record_item
from evidencekit.report.render.bienban import render_record
from tests.conftest import need_peer
from tests.report.conftest import (
    assert_fonts_embedded,
    assert_pdfsig_valid,
    assert_qpdf_ok,
)

T0 = dt.datetime(2026, 12, 5, 2, 30, tzinfo=dt.UTC)  # 09:30 in Asia/Ho_Chi_Minh
FP = "ab" * 32
ACTOR = Party("Nguyễn Bá Tùng", FP)
INVESTIGATOR = Party("Nguyễn Bá Tùng", FP, "investigator", True, unit="Đội Cảnh sát hình sự")
WITNESS = keyless(
    "Lê Thị Hoa", "witness", "cccd:001203004567", year_of_birth=1990, address="12 Lê Lợi, Huế"
)
OWNER = keyless("Trương Đình Bủng", "owner", "cccd:079088001234", year_of_birth=1988)
SPECIALIST = keyless(
    "Phạm Văn Khoa", "specialist", "cccd:001099007777", unit="Phòng Kỹ thuật hình sự"
)
PHOTO = b"\xff\xd8\xff\xe0 " + "ảnh chụp ổ USB".encode() + b" \xff\xd9"
SHA = "3d6dd6ac5731a732f971c9ebab43560a0e853f23a418220af7881ef97df9f299"


def _ev(seq: int, kind: str, item: str | None, minutes: int, **fields: Any) -> Event:
    return Event(
        origin="evidencekit.case/test",
        seq=seq,
        kind=kind,
        item_id=item,
        time=T0 + dt.timedelta(minutes=minutes),
        actor=ACTOR,
        **fields,
    )


def _p(*people: Party) -> list[dict[str, object]]:
    return [p.to_dict() for p in people]


def seizure_events() -> list[Event]:
    """A session as the seizure-record events carry it (issue 16's format)."""
    return [
        _ev(
            1,
            "session_opened",
            None,
            0,
            details={
                "session": "S1",
                "place": "Nhà số 12 Lê Lợi, phường Phú Hội, thành phố Huế",
                "agency": "Cơ quan Cảnh sát điều tra Công an thành phố Huế",
                "record_number": "15/BB-CSHS",
                "legal_basis": ["Lệnh khám xét số 07/LKX ngày 04/12/2026"],
                "participants": _p(INVESTIGATOR, SPECIALIST, WITNESS, OWNER),
            },
        ),
        _ev(
            2,
            "registered",
            "HDD01",
            5,
            description="Ổ cứng di động Seagate 1TB màu đen",
            condition="Còn nguyên vẹn, vỏ trầy xước",
            details={
                "session": "S1",
                "device": {
                    "make": "Seagate",
                    "model": "Expansion STKM1000400",
                    "serial": "NAA1B2C3",
                },
                "photos": [{"name": "photos/HDD01/ảnh 1.jpg", "size": 10, "sha256": "cd" * 32}],
            },
        ),
        _ev(
            3,
            "seal_applied",
            "HDD01",
            10,
            details={
                "seal_numbers": ["NP-0042"],
                "method": "túi niêm phong, chữ ký của những người chứng kiến",
                "participants": _p(WITNESS, OWNER),
                "session": "S1",
            },
        ),
        _ev(
            4,
            "session_closed",
            None,
            40,
            details={
                "session": "S1",
                "refusals": [
                    {"participant": OWNER.to_dict(), "reason": "không đồng ý việc thu giữ"}
                ],
                "statements": "Ông Bủng đề nghị được nhận lại ổ cứng sau khi giám định.",
            },
        ),
        _ev(
            5,
            "seal_opened",
            "HDD01",
            600,
            details={
                "seal_numbers": ["NP-0042"],
                "seal_state": "intact",
                "state_note": None,
                "reason": "sao chép dữ liệu",
                "participants": _p(WITNESS),
            },
        ),
        _ev(
            6,
            "resealed",
            "HDD01",
            660,
            details={
                "seal_numbers": ["NP-0043"],
                "replaces": ["NP-0042"],
                "method": "túi niêm phong mới",
                "participants": _p(WITNESS),
            },
        ),
        _ev(
            7,
            "analysed",
            "HDD01",
            700,
            purpose="tìm tệp đã xoá",
            details={"working_copy": {"item": "HDD01-WC", "path": None, "sha256": SHA}},
        ),
    ]


def _record(events: list[Event], lang: str = "vi") -> SeizureRecord:
    items = ["HDD01"]
    frame = record_frame(events, items, "S1", agency="Công an", examiner=ACTOR)
    return SeizureRecord(
        report_id="R-20261205T023000Z-00000000",
        lang=lang,
        generated=T0,
        timezone="Asia/Ho_Chi_Minh",
        case_number="VKS-2024-06",
        case_title="Vụ án trộm cắp tài sản",
        agency=frame.agency,
        examiner=ACTOR.name,
        examiner_fingerprint=FP,
        tool_version="0.1.0",
        session_id=frame.session_id,
        record_number=frame.record_number,
        place=frame.place,
        start=frame.start,
        end=frame.end,
        legal_basis=frame.legal_basis,
        participants=frame.participants,
        refusals=frame.refusals,
        statements=frame.statements,
        items=tuple(record_item(i, events, None) for i in items),
        copies=3,
    )


def _text(pdf: Path) -> str:
    """The text as a reader reads it (`pdftotext` in reading order: the two header columns one
    after the other), whitespace collapsed."""
    need_peer("pdftotext")
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def test_the_record_of_a_session_says_everything_the_code_asks(tmp_path: Path) -> None:
    record = _record(seizure_events())
    # the examiner who draws it up is among the participants once (pinned by fingerprint)
    assert [p.name for p in record.participants].count("Nguyễn Bá Tùng") == 1
    pdf = tmp_path / "bb.pdf"
    pdf.write_bytes(render_record(record))
    assert_qpdf_ok(pdf)
    assert_fonts_embedded(pdf)
    text = _text(pdf)
    for needle in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        "CƠ QUAN CẢNH SÁT ĐIỀU TRA CÔNG AN THÀNH PHỐ HUẾ",
        "Số: 15/BB-CSHS",
        "BIÊN BẢN",
        "THU GIỮ PHƯƠNG TIỆN ĐIỆN TỬ, DỮ LIỆU ĐIỆN TỬ",
        # start in words, in the case's zone (02:30 UTC is 09:30 +07:00)
        "Hồi 09 giờ 30 phút, ngày 05 tháng 12 năm 2026, tại Nhà số 12 Lê Lợi",
        "Điều 107 (Thu thập phương tiện điện tử, dữ liệu điện tử)",
        "Điều 196 (Thu giữ phương tiện điện tử, dữ liệu điện tử)",
        "Căn cứ Lệnh khám xét số 07/LKX ngày 04/12/2026;",
        # participants with role, year of birth, document, address, unit
        "Nguyễn Bá Tùng — điều tra viên",
        "đơn vị: Đội Cảnh sát hình sự",
        "Phạm Văn Khoa — người có chuyên môn",
        "Với sự chứng kiến của:",
        "Lê Thị Hoa — người chứng kiến; năm sinh 1990; CCCD số 001203004567",
        "nơi cư trú: 12 Lê Lợi, Huế",
        "Trương Đình Bủng — người có phương tiện / chủ sở hữu; năm sinh 1988",
        # the item: description and characteristics
        "Ổ cứng di động Seagate 1TB màu đen",
        "Seagate",
        "Expansion STKM1000400",
        "NAA1B2C3",
        "Còn nguyên vẹn, vỏ trầy xước",
        "cd" * 32,  # the photo's digest
        # the physical seals, in words
        "niêm phong, số niêm phong: NP-0042",
        "mở niêm phong số NP-0042; tình trạng niêm phong: còn nguyên vẹn; lý do mở: sao chép",
        "niêm phong lại bằng niêm phong số NP-0043 (thay cho số NP-0042)",
        # Art. 107: examination on a working copy
        "trên bản sao làm việc HDD01-WC (SHA-256 " + SHA,
        "Ông Bủng đề nghị được nhận lại ổ cứng sau khi giám định.",
        "Việc thu giữ kết thúc hồi 10 giờ 10 phút, ngày 05 tháng 12 năm 2026",
        "Biên bản được lập thành 03 bản",
        "(Ký, ghi rõ họ tên)",
        "Từ chối ký. Lý do: không đồng ý việc thu giữ",
        "Từ chối ký, lý do: …",
    ):
        assert needle in text, needle
    # a signature block per participant: their title in capitals, then their name
    for title in ("ĐIỀU TRA VIÊN", "NGƯỜI CÓ CHUYÊN MÔN", "NGƯỜI CHỨNG KIẾN"):
        assert title in text, title
    assert text.count("(Ký, ghi rõ họ tên)") == len(record.participants) == 4
    # the refusal is only the owner's: the others have a line to write one
    assert text.count("Từ chối ký, lý do:") == 3
    # nobody is called an expert examiner who is not one
    assert "giám định viên" not in text.lower()


def test_an_examination_without_a_working_copy_is_flagged(tmp_path: Path) -> None:
    events = seizure_events()
    events[-1] = _ev(7, "analysed", "HDD01", 700, purpose="xem nhanh", details={})
    events.append(
        _ev(
            8,
            "accessed",
            "HDD01",
            710,
            purpose="chụp màn hình",
            details={"on_original": "máy đang bật"},
        )
    )
    pdf = tmp_path / "bb.pdf"
    pdf.write_bytes(render_record(_record(events)))
    text = _text(pdf)
    assert "mà không ghi bản sao làm việc (cần xem xét)" in text
    assert "truy cập trực tiếp trên bản gốc; lý do: máy đang bật" in text


def test_the_english_record_has_the_same_structure(tmp_path: Path) -> None:
    pdf = tmp_path / "bb.pdf"
    pdf.write_bytes(render_record(_record(seizure_events(), "en")))
    text = _text(pdf)
    for needle in ("SOCIALIST REPUBLIC OF VIETNAM", "Article 107", "Refused to sign. Reason:",
                   "Lê Thị Hoa — witness; born 1990; citizen ID no. 001203004567"):  # fmt: skip
        assert needle in text, needle


# --- the record built from a real case, through the command line -------------------------------


def _ek(runner: CliRunner, case_dir: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, ["--case", str(case_dir), *args])
    assert res.exit_code == code, (args, res.output)
    return res.stdout


@pytest.fixture
def seized(tmp_path: Path, runner: CliRunner, case_dir: Path, identity: Identity) -> Path:
    """A USB stick registered with a photo and its seal number, imaged to E01 and read back,
    handed over to a receiver who holds no key: all with the real commands."""
    need_peer("mkfs.vfat")
    need_peer("mcopy")
    img = tmp_path / "usb.img"
    subprocess.run(
        ["mkfs.vfat", "-C", "-n", "USB", str(img), "2048"], check=True, capture_output=True
    )
    note = tmp_path / "ghi chú.txt"
    note.write_text("Trương Đình Bủng\n", "utf-8")
    subprocess.run(["mcopy", "-i", str(img), str(note), "::/note.txt"], check=True)
    photo = tmp_path / "ảnh USB.jpg"
    photo.write_bytes(PHOTO)
    _ek(runner, case_dir, "custody", "register", "USB01",
        "--description", "Ổ USB Kingston 8 GB màu xanh", "--seal-number", "NP-0007",
        "--condition", "Còn nguyên vẹn", "--location", "Nhà số 12 Lê Lợi, Huế",
        "--photo", str(photo))  # fmt: skip
    _ek(runner, case_dir, "acquire", "disk", str(img), "--item", "USB01", "--format", "e01",
        "--verify", "--evidence-number", "VC-07/2026")  # fmt: skip
    _ek(runner, case_dir, "custody", "transfer", "USB01", "--to", "Lê Văn Cường",
        "--to-role", "receiver", "--to-id", "cccd:001203009999", "--purpose", "lưu kho vật chứng",
        "--location", "Kho vật chứng")  # fmt: skip
    return case_dir


def test_the_record_of_a_real_item_is_signed_recorded_and_verifies(
    runner: CliRunner, seized: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bien-ban.pdf"
    _ek(runner, seized, "report", "build", "--form", "bien-ban", "--item", "USB01",
        "--copies", "2", "--out", str(out))  # fmt: skip
    assert_pdfsig_valid(out)
    assert_qpdf_ok(out)
    assert_fonts_embedded(out)
    res = runner.invoke(cli, ["--case", str(seized), "report", "verify", str(out)])
    assert res.exit_code == 0, res.output
    text = _text(out)
    seal = json.loads((seized / "evidence" / "USB01" / "USB01.seal.json").read_text("utf-8"))
    sha = next(d for d in seal["combined"]["digests"] if d.startswith("sha256:")).split(":")[1]
    md5 = next(d for d in seal["combined"]["digests"] if d.startswith("md5:")).split(":")[1]
    e01 = next(a for a in seal["artifacts"] if a["name"] == "USB01.E01")
    e01_sha = next(d for d in e01["digests"] if d.startswith("sha256:")).split(":")[1]
    photo_sha = hashlib.sha256(PHOTO)
    for needle in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        "CÔNG AN TỈNH",
        "BIÊN BẢN",
        "Điều 107",
        "Điều 196",
        "Ổ USB Kingston 8 GB màu xanh",
        "số hiệu VC-07/2026",
        "Còn nguyên vẹn",
        "Số niêm phong ghi khi đăng ký: NP-0007.",
        photo_sha.hexdigest(),
        "sao chép toàn bộ dữ liệu của phương tiện thành ảnh đĩa định dạng E01",
        sha,
        md5,
        e01_sha,
        "khớp với dữ liệu đã thu",  # the read-back
        "bàn giao cho Lê Văn Cường",
        "Nguyễn Bá Tùng — người lập biên bản",
        "Lê Văn Cường — người nhận; CCCD số 001203009999",
        "Biên bản được lập thành 02 bản",
        "(Ký, ghi rõ họ tên)",
        "NGƯỜI LẬP BIÊN BẢN",
        "NGƯỜI NHẬN",
        "Từ chối ký, lý do:",
    ):
        assert needle in text, needle
    # Vietnamese exact: every name survives with its diacritics, in NFC
    assert "Nguyễn Bá Tùng" in text and "Lê Văn Cường" in text
    # the ledger records it as issued, like the report
    log = json.loads(_ek(runner, seized, "--json", "custody", "log"))
    issued = [e for e in log["events"] if e["kind"] == "report_issued"]
    assert (
        issued and issued[-1]["digests"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    )
    pages = _png_pages(out, tmp_path)
    assert pages >= 1


def _png_pages(pdf: Path, folder: Path) -> int:
    """Render every page at 60 dpi (`pdftoppm`), as the pages were looked at for issue 16."""
    need_peer("pdftoppm")
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / "page")], check=True)
    return len(list(folder.glob("page-*.png")))


def test_the_default_name_says_it_is_a_record(runner: CliRunner, seized: Path) -> None:
    out = _ek(runner, seized, "report", "build", "--form", "bien-ban", "--item", "USB01")
    path = Path(out.splitlines()[0])
    assert re.fullmatch(r"VKS-2024-06-\d{8}T\d{6}Z-bien-ban-vi\.pdf", path.name), path.name
    assert path.parent == seized / "reports"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--form", "bien-ban"], "--item ID or a --session ID"),
        (["--form", "bien-ban", "--item", "USB01", "--item", "USB01"], "one --item"),
        (["--form", "bien-ban", "--session", "S9"], "session 'S9' is not in case"),
        (["--form", "bien-ban", "--session", "S9", "--item", "USB01"], "not both"),
        (["--session", "S9"], "--session goes with --form bien-ban"),
        (["--form", "bien-ban", "--item", "NOPE"], "NOPE"),
        (["--form", "bien-ban", "--item", "USB01", "--copies", "0"], "--copies"),
    ],
)
def test_usage_errors_build_nothing(
    runner: CliRunner, seized: Path, args: list[str], says: str
) -> None:
    res = runner.invoke(cli, ["--case", str(seized), "report", "build", *args])
    assert res.exit_code == 2, res.output
    assert says in res.output, res.output
    assert not (seized / "reports").exists() or not list((seized / "reports").iterdir())


def test_a_broken_seal_builds_no_record(runner: CliRunner, seized: Path) -> None:
    seal = seized / "evidence" / "USB01" / "USB01.seal.json"
    seal.write_bytes(seal.read_bytes().replace(b"VC-07/2026", b"VC-08/2026"))
    res = runner.invoke(
        cli, ["--case", str(seized), "report", "build", "--form", "bien-ban", "--item", "USB01"]
    )
    assert res.exit_code == 3, res.output
    assert "no report was built" in res.output


def test_an_item_only_registered_has_a_record_too(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """Seized at the scene, not imaged yet: the record is drawn up there and then."""
    _ek(runner, case_dir, "custody", "register", "HDD02", "--description", "Ổ cứng Toshiba 500 GB",
        "--seal-number", "NP-0009", "--location", "Số 3 Trần Phú, Hà Nội")  # fmt: skip
    out = tmp_path / "bb.pdf"
    _ek(runner, case_dir, "report", "build", "--form", "bien-ban", "--item", "HDD02",
        "--out", str(out))  # fmt: skip
    assert_pdfsig_valid(out)
    text = _text(out)
    for needle in (
        "THU GIỮ PHƯƠNG TIỆN ĐIỆN TỬ",
        "tại Số 3 Trần Phú, Hà Nội",
        "Ổ cứng Toshiba 500 GB",
        "Số niêm phong ghi khi đăng ký: NP-0009.",
        "Chưa sao chép dữ liệu của vật chứng này.",
    ):
        assert needle in text, needle
    # the full report still lists only items with evidence
    res = runner.invoke(cli, ["--case", str(case_dir), "report", "build", "--item", "HDD02"])
    assert res.exit_code == 2 and "HDD02" in res.output, res.output


def test_typed_text_is_shown_as_typed_never_as_markup(tmp_path: Path) -> None:
    odd = keyless("Lê <b>Hoa</b> & Co", "witness", "cccd:001203004568", address="<br/>số 5")
    events = seizure_events()
    opened = events[0]
    details = dict(opened.details)
    details["participants"] = [*details["participants"], odd.to_dict()]
    details["place"] = "Phòng <i>12</i> & sân"
    events[0] = Event(
        origin=opened.origin, seq=opened.seq, kind=opened.kind, item_id=None, time=opened.time,
        actor=opened.actor, details=details,
    )  # fmt: skip
    pdf = tmp_path / "bb.pdf"
    pdf.write_bytes(render_record(_record(events)))
    text = _text(pdf)
    assert "Lê <b>Hoa</b> & Co — người chứng kiến" in text
    assert "nơi cư trú: <br/>số 5" in text
    assert "tại Phòng <i>12</i> & sân" in text


@pytest.mark.parametrize(
    ("fmt", "words"),
    [
        (["--format", "raw"], "thành ảnh đĩa định dạng thô."),
        (["--format", "split", "--segment-size", "64KiB"], "định dạng thô, chia nhiều tệp."),
    ],
)
def test_what_was_copied_is_said_for_each_format(
    runner: CliRunner,
    case_dir: Path,
    identity: Identity,
    tmp_path: Path,
    fmt: list[str],
    words: str,
) -> None:
    img = tmp_path / "disk.img"
    img.write_bytes(bytes(range(256)) * 1024)
    _ek(runner, case_dir, "acquire", "disk", str(img), "--item", "D1", *fmt)
    out = tmp_path / "bb.pdf"
    _ek(
        runner, case_dir, "report", "build", "--form", "bien-ban", "--item", "D1", "--out", str(out)
    )
    text = _text(out)
    assert words in text, text
    assert "THU THẬP DỮ LIỆU ĐIỆN TỬ" in text  # nothing physical was registered or sealed


def test_sealed_files_are_said_to_be_hashed_and_signed(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    folder = tmp_path / "tài liệu"
    folder.mkdir()
    (folder / "a.txt").write_text("Trương Đình Bủng\n", "utf-8")
    _ek(runner, case_dir, "seal", "--item", "F1", str(folder))
    out = tmp_path / "bb.pdf"
    _ek(
        runner, case_dir, "report", "build", "--form", "bien-ban", "--item", "F1", "--out", str(out)
    )
    assert "chốt giá trị băm và ký số các tệp dữ liệu" in _text(out)
