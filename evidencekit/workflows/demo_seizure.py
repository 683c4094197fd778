"""The demo's seizure record (issue 16): a seizure session with its legal basis and witnesses,
the USB stick registered with a photo and physically sealed in it, the seal opened in front of a
witness to image the stick and sealed again, and the analysis recorded on a working copy.

Called by `workflows.demo` around its acquisition; sample data only (names, ID numbers and the
photo are made up).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from evidencekit.case import Case
from evidencekit.identity import Identity
from evidencekit.workflows.registration import register_item
from evidencekit.workflows.seizure import (
    apply_seal,
    close_session,
    event_details,
    examine,
    open_seal,
    open_session,
    reseal,
)

SESSION = "BB-01"
PLACE = "Số 12 Lê Lợi, phường Bến Nghé, Quận 1, TP. Hồ Chí Minh (demo)"
WITNESS = (
    "role=witness,name=Nguyễn Văn An,cccd=001203004567,yob=1980,"
    'address="Số 5, phố Hàng Bài, Hoàn Kiếm, Hà Nội"'
)
OWNER = "role=owner,name=Trần Thị Bình,cccd=001185009876,yob=1985"
SEAL, NEW_SEAL = "NP-0001", "NP-0002"


def sample_photo(path: Path, width: int = 96, height: int = 64) -> Path:
    """Write a small PNG (a colour gradient standing in for the photo of the seized stick)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path


def seize(
    case: Case,
    examiner: Identity,
    item: str,
    description: str,
    photo_dir: Path,
    steps: list[str],
    say: Callable[[str], None],
) -> None:
    """The seizure session: opened, the item registered with a photo and sealed, closed (the
    owner refuses to sign); then the seal opened in front of the witness for imaging."""
    me = f"role=investigator,key={examiner.fingerprint}"
    say(f"opening seizure session {SESSION}")
    open_session(
        case,
        examiner,
        SESSION,
        place=PLACE,
        agency=case.info.agency or "Cơ quan Cảnh sát điều tra (demo)",
        record_number="01/BB-TG (mẫu)",
        legal_basis=["Điều 107 BLTTHS 2015", "Điều 196 BLTTHS 2015", "Lệnh khám xét số 12/LKX"],
        participants=[me, WITNESS, OWNER],
    )
    photo = sample_photo(photo_dir / "ảnh thu giữ USB01.png")
    say(f"registering {item} with its photo")
    register_item(
        case,
        examiner,
        item,
        description=description,
        photos=[photo],
        condition="Còn nguyên vẹn, không trầy xước",
        location=PLACE,
        details=event_details(case, [WITNESS], SESSION),
    )
    apply_seal(
        case,
        examiner,
        item,
        seal_numbers=[SEAL],
        method="Cho vào túi niêm phong, dán tem, chữ ký của người chứng kiến và chủ sở hữu",
        participants=[WITNESS],
        session=SESSION,
    )
    close_session(
        case,
        examiner,
        SESSION,
        refusals=[("name=Trần Thị Bình", "không đồng ý với việc thu giữ")],
        statements="Người chứng kiến không có ý kiến. Chủ sở hữu không ký biên bản.",
    )
    say(f"opening seal {SEAL} of {item} to image it")
    open_seal(
        case,
        examiner,
        item,
        seal_numbers=[SEAL],
        seal_state="intact",
        state_note="Tem niêm phong còn nguyên, chữ ký đúng",
        reason="Sao chép dữ liệu để giám định (Điều 107 BLTTHS 2015)",
        participants=[WITNESS],
    )
    steps.append(
        f"seizure session {SESSION} at {PLACE}: {item} registered with a photo and sealed "
        f"({SEAL}) in front of a witness, the owner's refusal to sign recorded; the seal opened "
        "(intact) to image it"
    )


def after_imaging(
    case: Case,
    examiner: Identity,
    item: str,
    working_copy: str,
    steps: list[str],
    say: Callable[[str], None],
) -> None:
    """The item sealed again after imaging, and its analysis recorded on the working copy."""
    say(f"sealing {item} again ({NEW_SEAL})")
    reseal(
        case,
        examiner,
        item,
        seal_numbers=[NEW_SEAL],
        replaces=[SEAL],
        method="Túi niêm phong mới, chữ ký của người chứng kiến",
        participants=[WITNESS],
    )
    examine(
        case,
        examiner,
        "analysed",
        item,
        purpose="Tìm tệp đã xoá, trích xuất tài liệu",
        working=working_copy,
    )
    steps.append(
        f"{item} sealed again ({NEW_SEAL} replaces {SEAL}); analysed on the working copy "
        f"{working_copy} (Art. 107 BLTTHS: examination on copies)"
    )


__all__ = ["after_imaging", "sample_photo", "seize"]
