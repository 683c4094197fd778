"""A report model built by hand, value by value, for the rendering and signing tests.

The renderer reads nothing but these values, so they are written here directly (no seal, no
ledger, no document read back). How the model is built from a case's real seals and custody
events is tested with the real writers in test_report_model_typed.py.
"""

from __future__ import annotations

import datetime as dt

from evidencekit.report.model import (
    Artifact,
    Attachment,
    Checkpoint,
    CustodyEntry,
    Extent,
    FileRow,
    ItemSection,
    ReportModel,
    Verification,
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


def custody(n_transfers: int = 1) -> tuple[CustodyEntry, ...]:
    """A case's custody: opened, a disk acquired and sealed, files collected, the disk handed
    over `n_transfers` times, and verified by the receiver."""
    entries: list[CustodyEntry] = []

    def add(kind: str, item: str | None, actor: str, minutes: int, **kw: object) -> None:
        fields: dict[str, object] = {
            "counterpart": None,
            "purpose": None,
            "location": None,
            "detail": "",
            **kw,
        }
        entries.append(
            CustodyEntry(
                seq=len(entries),
                time=T0 + dt.timedelta(minutes=minutes),
                event_type=kind,
                item_id=item,
                actor=actor,
                **fields,  # type: ignore[arg-type]
            )
        )

    add("case_opened", None, EXAMINER, 0)
    add("acquired", "USB01", EXAMINER, 5, location="Phòng giám định", detail="result: ok")
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
    add("verified", "USB01", RECEIVER, 40, detail="result: ok")
    return tuple(entries)


def disk_item(entries: tuple[CustodyEntry, ...] = (), errors: bool = True) -> ItemSection:
    """An E01 disk image with two unreadable extents."""
    return ItemSection(
        item_id="USB01",
        kind="disk",
        description="Ổ USB Kingston 8 GB thu tại hiện trường",
        status="complete-with-errors" if errors else "complete",
        content_size=4194304,
        content_digests=(("md5", "196066add11fb71c4c49cf1bb50d6d24"), ("sha256", DISK_SHA256)),
        source=(
            ("source.path", "/dev/sdb"),
            ("source.model", "Kingston DataTraveler"),
            ("source.serial", "ABC123"),
            ("source.logical_sector_size", "512"),
            ("source.physical_sector_size", "512"),
        ),
        acquisition=(("format", "e01"), ("retries", "2")),
        started=T0 + dt.timedelta(minutes=1),
        finished=T0 + dt.timedelta(minutes=5),
        host="field-laptop",
        tool="evidencekit 0.1.0",
        artifacts=(
            Artifact(
                "USB01.E01", 1234567, (("md5", "0" * 32), ("sha1", "1" * 40), ("sha256", "2" * 64))
            ),
        ),
        window_count=4,
        window_size=1048576,
        window_algorithms=("sha256",),
        read_errors=(Extent(1048576, 4096, "EIO"), Extent(3145728, 512, "EIO")) if errors else (),
        media_size=4194304,
        verifications=tuple(
            Verification(time=e.time, ok=e.result, actor=e.actor, detail=e.detail)
            for e in entries
            if e.event_type == "verified"
        ),
        custody=entries,
    )


def files(n: int = 40) -> tuple[FileRow, ...]:
    """A logical collection's files: a long name, Vietnamese, a hostile one, then `n` more."""
    rows = [
        FileRow(LONG_NAME, 2048, "3" * 64, "2024-06-01T08:00:00Z", ""),
        FileRow(
            "Ảnh/chân dung Trương Đình Bủng.jpg",
            0,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            None,
            "",
        ),
        FileRow("bad\nname<b>&amp;.txt", 5, "4" * 64, None, "deleted"),
    ]
    rows += [
        FileRow(f"Thư mục/tệp số {i:05d}.txt", i * 100, f"{i:064x}", None, "") for i in range(n)
    ]
    return tuple(rows)


def logical_item(entries: tuple[CustodyEntry, ...] = (), n_files: int = 40) -> ItemSection:
    rows = files(n_files)
    return ItemSection(
        item_id="FILES01",
        kind="logical",
        status="complete",
        artifacts=(Artifact("FILES01.tar", 99, (("sha256", TAR_SHA256),)),),
        files=rows,
        files_total=sum(f.size or 0 for f in rows),
        custody=entries,
    )


def model(lang: str = "vi", n_files: int = 40, signed: bool = True) -> ReportModel:
    entries = custody()
    per_item = {it: tuple(e for e in entries if e.item_id == it) for it in ("USB01", "FILES01")}
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
        items=(disk_item(per_item["USB01"]), logical_item(per_item["FILES01"], n_files)),
        custody=entries,
        checkpoint=Checkpoint(text=cp, tree_size=7, root="ab" * 32),
        attachments=(Attachment("USB01.seal.json", b"{}", "seal"),),
        signed=signed,
    )


__all__ = ["CustodyEntry", "model"]
