"""The demo's seizure record (issue 16): a seizure session at the owner's home with its legal
basis, an investigator, a specialist, two witnesses and the owner; the USB stick registered in it
with a photo and physically sealed before the witnesses; the session closed with the owner's
refusal to sign; later the seal opened (intact) to image the stick, a working copy made from the
image, the stick re-sealed, the analysis done on the working copy. Real workflows only.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from evidencekit.case import Case
from evidencekit.identity import Identity

SESSION = "S1"
PLACE = "Nhà số 12 Lê Lợi, phường Phú Hội, thành phố Huế (demo)"
SEIZING_AGENCY = "Cơ quan Cảnh sát điều tra Công an thành phố Huế (demo)"
RECORD_NUMBER = "15/BB-CSĐT"
BASIS = ("Lệnh khám xét số 07/LKX ngày 04/6/2024 (demo)",)
OWNER = "Phạm Thị Lan"
WITNESSES = (
    'role=witness,name=Lê Thị Hoa,cccd=046190004567,yob=1990,address="15 Lê Lợi, Huế"',
    'role=witness,name=Hoàng Văn Nam,cccd=046185001122,yob=1985,address="20 Lê Lợi, Huế"',
)
SEALS = ("NP-2024-001", "NP-2024-002")
WORKING_COPY = "USB01-WC"


def sample_photo(path: Path) -> Path:
    """A small photo of "the USB stick" (drawn here: the demo ships no picture)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (480, 320), (236, 239, 241))
    draw = ImageDraw.Draw(im)
    draw.rounded_rectangle((90, 120, 330, 200), radius=18, fill=(30, 90, 160))
    draw.rectangle((330, 138, 390, 182), fill=(170, 170, 170))
    draw.rectangle((40, 250, 440, 290), outline=(120, 120, 120))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


def seize(
    case: Case,
    examiner: Identity,
    item: str,
    photo: Path,
    steps: list[str],
    say: Callable[[str], None],
) -> None:
    """The session: opened, the item registered in it with `photo`, sealed before the
    witnesses, the session closed (the owner refuses to sign)."""
    from evidencekit.workflows.registration import DeviceDetails, register_item
    from evidencekit.workflows.seizure import (
        apply_seal,
        close_session,
        event_details,
        open_session,
    )

    say(f"opening seizure session {SESSION} at {PLACE}")
    open_session(
        case,
        examiner,
        SESSION,
        place=PLACE,
        agency=SEIZING_AGENCY,
        record_number=RECORD_NUMBER,
        legal_basis=BASIS,
        participants=(
            f"role=investigator,key={examiner.fingerprint},unit=Đội Cảnh sát hình sự (demo)",
            "role=specialist,name=Đặng Quốc Bảo,cccd=046088007777,unit=Phòng Kỹ thuật hình sự",
            *WITNESSES,
            f'role=owner,name={OWNER},cccd=046192003344,yob=1992,address="12 Lê Lợi, Huế"',
        ),
    )
    register_item(
        case,
        examiner,
        item,
        description=f"Ổ USB Kingston 16 GB màu xanh của {OWNER} (mẫu)",
        photos=(photo,),
        condition="Còn nguyên vẹn, vỏ nhựa trầy xước nhẹ",
        location="Ngăn kéo bàn làm việc, phòng khách",
        details=event_details(case, session=SESSION),
        # what the investigator reads off the stick (the sample image stands for its data)
        device=DeviceDetails("Kingston", "DataTraveler DTX/16GB", "DEMO-0042-KT"),
    )
    apply_seal(
        case,
        examiner,
        item,
        seal_numbers=(SEALS[0],),
        method="cho vào túi niêm phong, dán tem có chữ ký của những người chứng kiến",
        participants=WITNESSES,
        session=SESSION,
    )
    close_session(
        case,
        examiner,
        SESSION,
        refusals=((f"name={OWNER}", "không đồng ý với việc thu giữ"),),
        statements=f"Bà {OWNER} đề nghị được nhận lại ổ USB sau khi giám định xong.",
    )
    steps.append(
        f"seizure session {SESSION} at {PLACE}: {item} registered with a photo and sealed "
        f"({SEALS[0]}) before two witnesses; {OWNER} refused to sign the record"
    )


def open_for_imaging(case: Case, examiner: Identity, item: str) -> None:
    """The seal opened (intact) before a witness, to image the item."""
    from evidencekit.workflows.seizure import open_seal

    open_seal(
        case,
        examiner,
        item,
        seal_numbers=(SEALS[0],),
        seal_state="intact",
        reason="sao chép dữ liệu (tạo ảnh đĩa)",
        participants=WITNESSES[:1],
    )


def after_imaging(
    case: Case, examiner: Identity, item: str, steps: list[str], say: Callable[[str], None]
) -> None:
    """A working copy made from the image, the item re-sealed, the analysis on the copy."""
    from evidencekit.workflows.convert import ConvertRequest, convert_item
    from evidencekit.workflows.seizure import examine, reseal

    say(f"making the working copy {WORKING_COPY} and re-sealing {item}")
    convert_item(case, examiner, ConvertRequest(item, WORKING_COPY, "raw"))
    reseal(
        case,
        examiner,
        item,
        seal_numbers=(SEALS[1],),
        replaces=(SEALS[0],),
        method="cho vào túi niêm phong mới, dán tem có chữ ký của người chứng kiến",
        participants=WITNESSES[:1],
    )
    examine(
        case,
        examiner,
        "analysed",
        item,
        purpose="tìm các tệp đã xoá",
        working=WORKING_COPY,
    )
    steps.append(
        f"{item}'s seal {SEALS[0]} opened (intact) to image it, re-sealed as {SEALS[1]}; "
        f"analysed on the working copy {WORKING_COPY} (raw), never on the original"
    )
