"""A report model built by hand (independent of the seal/ledger helpers), for rendering tests."""

from __future__ import annotations

import datetime as dt

from evidencekit.report.model import (
    Attachment,
    Checkpoint,
    CustodyEntry,
    ReportModel,
    custody_from_events,
    item_from_documents,
)

T0 = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC)
EXAMINER = "Nguyễn Bá Tùng"
RECEIVER = "Trương Đình Bủng"
DISK_SHA256 = "a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80"
TAR_SHA256 = "4a49638d0e1055fd9e4c17fef7fdf4d6ccf892b6d9c2f64164203c4bfb0ec92d"
LONG_NAME = (
    "Tài liệu/Hồ sơ vụ án/"
    + "Biên bản khám nghiệm hiện trường và thu giữ vật chứng số 0123456789 " * 3
    + "phần cuối.docx"
)


def events(n_transfers: int = 1) -> list[dict[str, object]]:
    evs: list[dict[str, object]] = []

    def add(kind: str, item: str | None, actor: str, minutes: int, **kw: object) -> None:
        evs.append(
            {
                "seq": len(evs),
                "type": kind,
                "item_id": item,
                "actor": {"name": actor},
                "time": (T0 + dt.timedelta(minutes=minutes)).isoformat(),
                **kw,
            }
        )

    add("case_opened", None, EXAMINER, 0)
    add("acquired", "USB01", EXAMINER, 5, location="Phòng giám định", details={"result": "ok"})
    add("sealed", "USB01", EXAMINER, 6)
    add("collected", "FILES01", EXAMINER, 9)
    for i in range(n_transfers):
        add(
            "transferred",
            "USB01",
            EXAMINER,
            20 + i,
            counterpart=RECEIVER,
            purpose="Phân tích",
            location="Kho vật chứng",
        )
        add("received", "USB01", RECEIVER, 30 + i)
    add("verified", "USB01", RECEIVER, 40, details={"result": "ok"})
    return evs


def seal_disk(item: str = "USB01", errors: bool = True) -> dict[str, object]:
    return {
        "schema": "evidencekit/seal/1",
        "item_id": item,
        "status": "complete-with-errors" if errors else "complete",
        "description": "Ổ USB Kingston 8 GB thu tại hiện trường",
        "artifacts": [
            {
                "name": f"{item}.E01",
                "size": 1234567,
                "digests": {"md5": "0" * 32, "sha1": "1" * 40, "sha256": "2" * 64},
            },
        ],
        "content": {
            "size": 4194304,
            "digests": {"md5": "196066add11fb71c4c49cf1bb50d6d24", "sha256": DISK_SHA256},
        },
        "windows": {
            "size": 1048576,
            "algorithms": ["sha256"],
            "digests": [{"index": i} for i in range(4)],
        },
        "facts": {
            "source": {
                "path": "/dev/sdb",
                "model": "Kingston DataTraveler",
                "serial": "ABC123",
                "logical_sector_size": 512,
                "physical_sector_size": 512,
            },
            "format": "e01",
            "retries": 2,
            "read_errors": [
                {"offset": 1048576, "length": 4096, "errno": "EIO"},
                {"offset": 3145728, "length": 512, "errno": "EIO"},
            ]
            if errors
            else [],
        },
        "tool": {"name": "evidencekit", "version": "0.1.0"},
        "host": {"hostname": "field-laptop"},
        "started": (T0 + dt.timedelta(minutes=1)).isoformat(),
        "finished": (T0 + dt.timedelta(minutes=5)).isoformat(),
    }


def manifest(n: int = 40) -> dict[str, object]:
    files = [
        {
            "path": LONG_NAME,
            "size": 2048,
            "digests": {"sha256": "3" * 64},
            "mtime": "2024-06-01T08:00:00Z",
        }
    ]
    files.append(
        {
            "path": "Ảnh/chân dung Trương Đình Bủng.jpg",
            "size": 0,
            "digests": {
                "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            },
        }
    )
    files.append(
        {
            "path": "bad\nname<b>&amp;.txt",
            "size": 5,
            "deleted": True,
            "digests": {"sha256": "4" * 64},
        }
    )
    for i in range(n):
        files.append(
            {
                "path": f"Thư mục/tệp số {i:05d}.txt",
                "size": i * 100,
                "digests": {"sha256": f"{i:064x}"},
            }
        )
    return {"files": files}


def model(lang: str = "vi", n_files: int = 40, signed: bool = True) -> ReportModel:
    custody = custody_from_events(events())
    per_item = {it: tuple(e for e in custody if e.item_id == it) for it in ("USB01", "FILES01")}
    disk = item_from_documents("USB01", seal_disk(), custody=per_item["USB01"])
    logical = item_from_documents(
        "FILES01",
        {
            "item_id": "FILES01",
            "status": "complete",
            "artifacts": [{"name": "FILES01.tar", "size": 99, "digests": {"sha256": TAR_SHA256}}],
        },
        manifest(n_files),
        custody=per_item["FILES01"],
    )
    cp = (
        "evidencekit/VKS-2024-06\n7\nq83kUUh1j7b0Pnpt3m4y7XW2Q0uY3b3Z7x9h2m1cK0E=\n\n"
        "— evidencekit/abcd AAAA\n"
    )
    return ReportModel(
        report_id="R-20261129T030000Z-deadbeef",
        lang=lang,
        generated=T0 + dt.timedelta(hours=1),
        timezone="Asia/Ho_Chi_Minh",
        case_number="VKS-2024-06",
        case_title="Vụ án trộm cắp tài sản",
        agency="Cơ quan Cảnh sát điều tra Công an tỉnh",
        examiner=EXAMINER,
        examiner_fingerprint="ab" * 32,
        tool_version="0.1.0",
        items=(disk, logical),
        custody=custody,
        checkpoint=Checkpoint(text=cp, tree_size=7, root="ab" * 32),
        attachments=(Attachment("USB01.seal.json", b"{}", "seal"),),
        signed=signed,
    )


__all__ = ["CustodyEntry", "model"]
