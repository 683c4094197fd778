"""The custody section as sentences (`report.sentences`): who did what to which item, with whom,
a receipt never reversed, the physical seal apart from the cryptographic one, and nothing the
tool wrote in English quoted.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.chain.events import Event
from evidencekit.chain.parties import Party, keyless
from evidencekit.identity import Identity
from evidencekit.report.model import custody_from_events
from evidencekit.report.sentences import sentence
from evidencekit.workflows.custody import open_ledger, record_event
from tests.chain.helpers import SECOND, second_examiner

T0 = dt.datetime(2026, 12, 5, 2, 30, tzinfo=dt.UTC)
TUNG = Party("Nguyễn Bá Tùng", "ab" * 32)
WITNESS = keyless("Lê Thị Hoa", "witness", "cccd:001203004567")


def _one(
    kind: str, item: str | None = "HDD01", typed: dict[str, str] | None = None, **f: Any
) -> str:
    ev = Event(origin="o", seq=3, kind=kind, item_id=item, time=T0, actor=TUNG, **f)
    (entry,) = custody_from_events([ev], typed)
    return sentence(entry, "vi")


def test_a_receipt_reads_receiver_from_giver(
    case_dir: Path, identity: Identity, ek_home: Path
) -> None:
    case = Case.open(case_dir)
    other = second_examiner(ek_home, case)
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng Seagate 1TB")
    record_event(case, identity, "transferred", "HDD01", counterpart=SECOND, purpose="giám định")
    record_event(case, other, "received", "HDD01", counterpart=identity.fingerprint)
    with open_ledger(case) as ledger:
        entries = custody_from_events(se.event for se in ledger.events())
    texts = [sentence(e, "vi") for e in entries if e.item_id == "HDD01"]
    assert texts[0] == "Nguyễn Bá Tùng đăng ký vật chứng HDD01: Ổ cứng Seagate 1TB."
    assert texts[1] == f"Nguyễn Bá Tùng bàn giao vật chứng HDD01 cho {SECOND}. Mục đích: giám định."
    assert texts[2] == f"{SECOND} nhận vật chứng HDD01 từ Nguyễn Bá Tùng."
    en = [sentence(e, "en") for e in entries if e.item_id == "HDD01"]
    assert en[2] == f"{SECOND} received item HDD01 from Nguyễn Bá Tùng."


def test_physical_seals_and_the_crypto_seal_are_worded_apart() -> None:
    crypto = _one("sealed", details={"seal_sha256": "cd" * 32})
    assert crypto == "Nguyễn Bá Tùng chốt giá trị băm và ký số các tệp của vật chứng HDD01."
    assert "niêm phong" not in crypto
    applied = _one(
        "seal_applied",
        details={"seal_numbers": ["NP-1", "NP-2"], "method": "túi niêm phong",
                 "participants": [WITNESS.to_dict()], "session": None},
    )  # fmt: skip
    assert applied.startswith("Nguyễn Bá Tùng niêm phong vật chứng HDD01, số niêm phong NP-1, NP-2")
    assert "Có mặt: Lê Thị Hoa (người chứng kiến)." in applied
    opened = _one(
        "seal_opened",
        details={"seal_numbers": ["NP-1"], "seal_state": "damaged", "state_note": "rách góc",
                 "reason": "giám định", "participants": []},
    )  # fmt: skip
    assert (
        "mở niêm phong số NP-1 của vật chứng HDD01; niêm phong không còn nguyên vẹn (rách góc)"
        in opened
    )
    resealed = _one(
        "resealed",
        details={"seal_numbers": ["NP-3"], "replaces": ["NP-1"], "method": "túi mới",
                 "participants": []},
    )  # fmt: skip
    assert "niêm phong lại vật chứng HDD01 bằng niêm phong số NP-3 (thay cho số NP-1)" in resealed


def test_the_tools_english_is_never_quoted_what_the_examiner_typed_is() -> None:
    verified = _one("verified", description="verification passed", details={"ok": True})
    assert verified == "Nguyễn Bá Tùng kiểm tra vật chứng HDD01: giá trị băm và chữ ký số khớp."
    failed = _one(
        "verified", description="verification FAILED: 2 problem(s)",
        details={"ok": False, "problems": ["a", "b"]},
    )  # fmt: skip
    assert "KHÔNG khớp (2 vấn đề" in failed and "FAILED" not in failed
    default = _one("acquired", description="Disk image of /dev/sdb (8.0 GiB), complete",
                   details={"bad_sectors": 0})  # fmt: skip
    assert default == "Nguyễn Bá Tùng tạo ảnh đĩa (bản sao toàn bộ) của vật chứng HDD01."
    bad = _one("acquired", details={"bad_sectors": 3})
    assert "3 sector không đọc được" in bad
    typed = _one(
        "acquired", description="Ổ USB của anh Bủng", typed={"HDD01": "Ổ USB của anh Bủng"}
    )
    assert typed.endswith("Mô tả: Ổ USB của anh Bủng.")
    # the working copy an examination names (Art. 107), or why the original was used
    wc = _one(
        "analysed",
        purpose="tìm tệp",
        details={"working_copy": {"item": "WC1", "path": None, "sha256": "ef" * 32}},
    )
    assert f"Thực hiện trên bản sao làm việc WC1 (SHA-256 {'ef' * 32})." in wc
    orig = _one("accessed", purpose="xem", details={"on_original": "máy đang bật"})
    assert "Thực hiện trực tiếp trên bản gốc; lý do: máy đang bật." in orig
    cert = {"name": "Trần Văn Đồng", "fingerprint": "12" * 32, "certificate": "-----BEGIN"}
    opened = _one("examiner_added", item=None, description="examiner X added", details=cert)
    assert "BEGIN" not in opened and "added" not in opened and "Trần Văn Đồng" in opened


def test_every_kind_has_a_sentence_of_its_own() -> None:
    """A kind without one would fall back to its internal name ("report_cosigned")."""
    from evidencekit.chain.kinds import KINDS
    from evidencekit.report.i18n import LABELS

    plain = {"verified": "cs_verified_ok", "acquired": "cs_acquired"}
    missing = [k for k in KINDS if plain.get(k, f"cs_{k}") not in LABELS]
    assert missing == []
    cosigned = _one(
        "report_cosigned", item=None,
        details={"issued_event": 12, "role": "supervisor", "field": "Sig2", "level": "B-B"},
    )  # fmt: skip
    assert cosigned == (
        "Nguyễn Bá Tùng ký số thêm vào báo cáo đã phát hành (sự kiện số 12) với tư cách "
        "người phụ trách."
    )
