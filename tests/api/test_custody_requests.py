"""The custody and case use cases through `evidencekit.api` only (issue 15: one typed request
per use case): a case created with `CaseInitRequest`, a seizure recorded with the custody
requests and `record_custody` — session, registration with the device's details and a photo,
physical seal applied, opened and re-sealed, examination of the original with a reason (a file
the ledger does not know is refused as a working copy), transfer to a party who holds no key, an
attached scan, the session closed with a refusal — then `verify_custody`.

Oracles: the ledger's own verification (signatures, rules, tree) and the recorded events' bytes
as `list_events` reads them; `sha256sum` of the photo; negative requests are refused with the
project's errors and record nothing."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from pathlib import Path

import pytest

from evidencekit import api
from tests.conftest import PASSPHRASE, TEST_KDF, need_peer

WITNESS = "role=witness,name=Lê Thị Hoa,cccd=001203004567"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[api.Case, api.Identity]:
    home = tmp_path / "home"
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(home))
    store = api.IdentityStore(home)
    examiner = store.create("Nguyễn Bá Tùng", PASSPHRASE.encode(), kdf=TEST_KDF)
    request = api.CaseInitRequest(
        tmp_path / "case",
        "VKS-2026-16",
        "Vụ án trộm cắp",
        agency="Công an thành phố Huế",
        language="vi",
        participants=("role=investigator,key=Nguyễn Bá Tùng,unit=Đội Cảnh sát hình sự",),
    )
    return api.create_case(examiner, request), examiner


def test_requests_are_frozen_values() -> None:
    req = api.SealApplyRequest("USB01", ("NP-1",), "túi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.method = "khác"  # type: ignore[misc]
    assert req.presence == api.Presence()
    major, minor, _patch = map(int, api.API_VERSION.split("."))
    assert (major, minor) >= (2, 1)  # the custody/case requests arrived in 2.1.0
    assert major == 2


def test_a_seizure_through_the_api(world: tuple[api.Case, api.Identity], tmp_path: Path) -> None:
    case, me = world
    rec = api.record_custody
    photo = tmp_path / "ảnh.jpg"
    photo.write_bytes(b"\xff\xd8 anh chup o USB")
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 ban quet")
    copy = tmp_path / "copy.img"
    copy.write_bytes(b"\0" * 4096)
    here = api.Presence((WITNESS,), "S1")
    kinds = []
    for request in (
        api.SessionOpenRequest(
            "S1",
            "Số 12 Lê Lợi, Huế",
            "Cơ quan CSĐT",
            "15/BB",
            ("Điều 107 BLTTHS 2015",),
            (WITNESS,),
        ),
        api.RegisterRequest(
            "USB01",
            "Ổ USB Kingston",
            photos=(photo,),
            device=api.DeviceDetails("Kingston", "DT100", "KT-1", "8GB"),
            presence=here,
        ),
        api.SealApplyRequest("USB01", ("NP-1",), "túi niêm phong", here),
        api.SealOpenRequest("USB01", ("NP-1",), "intact", "sao chép", presence=here),
        api.ResealRequest("USB01", ("NP-2",), ("NP-1",), "túi mới", here),
        api.ExamineRequest("USB01", "analysed", "xem nhãn", on_original="chỉ xem bên ngoài"),
        api.NoteRequest("USB01", "ghi chú"),
        api.TransferRequest(
            "USB01",
            api.Recipient("Trần Văn Khoa", "receiver", "cccd:001099007777"),
            "giám định",
            presence=here,
        ),
        api.AttachRequest("USB01", scan, "signed-record", presence=here),
        api.SessionCloseRequest("S1", (("name=Lê Thị Hoa", "không đồng ý"),), "Không có ý kiến."),
    ):
        result = rec(case, me, request)
        kinds.append(result.events[0].event.kind)
    assert kinds == [
        "session_opened", "registered", "seal_applied", "seal_opened", "resealed", "analysed",
        "note", "transferred", "document_attached", "session_closed",
    ]  # fmt: skip
    status = api.verify_custody(case)
    assert status.ok, status.problems
    events = {e["kind"]: e for e in api.list_events(case)}
    opened = events["case_opened"]["details"]["participants"]
    assert opened[0]["role"] == "investigator" and opened[0]["fingerprint"] == me.fingerprint
    reg = events["registered"]["details"]
    assert reg["device"]["capacity"] == 8_000_000_000 and reg["device"]["capacity_text"] == "8GB"
    need_peer("sha256sum")
    out = subprocess.run(["sha256sum", str(photo)], capture_output=True, text=True, check=True)
    assert reg["photos"][0]["sha256"] == out.stdout.split()[0]
    assert reg["session"] == "S1" and reg["participants"][0]["name"] == "Lê Thị Hoa"
    cp = events["transferred"]["counterpart"]
    assert (cp["name"], cp["role"], cp["holds_key"]) == ("Trần Văn Khoa", "receiver", False)
    assert events["analysed"]["details"]["on_original"] == "chỉ xem bên ngoài"
    # a file that the ledger does not show to be a copy of the item is no working copy
    with pytest.raises(api.UsageError, match="not shown to be a copy"):
        rec(case, me, api.ExamineRequest("USB01", "analysed", "p", working_copy=str(copy)))
    assert hashlib.sha256(copy.read_bytes()).hexdigest()[:16] not in str(api.list_events(case))
    refusal = events["session_closed"]["details"]["refusals"][0]
    assert refusal["participant"]["name"] == "Lê Thị Hoa"
    # the transfer to someone who holds no key: a release needs the current custodian's override
    end = api.EndRequest("USB01", "returned", "trả lại", to=api.Recipient("Trần Văn Khoa"))
    with pytest.raises(api.UsageError, match="no examiner pinned"):
        rec(case, me, end)


@pytest.mark.parametrize(
    ("request_", "error", "message"),
    [
        (api.SealApplyRequest("NONE1", ("NP-1",), "túi", api.Presence((), "S9")),
         api.CustodyError, "is not open"),
        (api.NoteRequest("X1", "n", api.Presence(("role=witness,name=A",))),
         api.UsageError, "holds no key"),
        (api.TransferRequest("X1", api.Recipient("A", None, "cccd:001203004567"), "p"),
         api.UsageError, "needs --to-role"),
        (api.RegisterRequest("bad id!", "d"), api.UsageError, "item id"),
        (api.RegisterRequest("X2", "d", device=api.DeviceDetails(capacity="8 XB")),
         api.UsageError, "capacity"),
        (api.SealOpenRequest("X1", ("NP-1",), "intact", "r"), api.CustodyError, "seal"),
    ],
)  # fmt: skip
def test_bad_requests_record_nothing(
    world: tuple[api.Case, api.Identity],
    request_: api.CustodyRequest,
    error: type[Exception],
    message: str,
) -> None:
    case, me = world
    before = len(api.list_events(case))
    with pytest.raises(error, match=message):
        api.record_custody(case, me, request_)
    assert len(api.list_events(case)) == before


def test_case_init_request_refuses_a_key_it_does_not_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVIDENCEKIT_HOME", str(tmp_path / "home"))
    me = api.IdentityStore(tmp_path / "home").create("A B", PASSPHRASE.encode(), kdf=TEST_KDF)
    request = api.CaseInitRequest(
        tmp_path / "c", "N", "T", participants=("role=investigator,key=Người Khác",)
    )
    with pytest.raises(api.UsageError, match="match key="):
        api.create_case(me, request)
    assert not (tmp_path / "c" / "case.toml").exists()
