"""Report labels in Vietnamese and English.

Every label the renderer prints comes from here, so a report never mixes languages. A test checks
that both languages define the same keys.
"""

from __future__ import annotations

import re

from evidencekit.chain.details import DeviceDifference
from evidencekit.report.labels_custody import CUSTODY_LABELS
from evidencekit.report.labels_record import RECORD_LABELS

LANGUAGES = ("vi", "en")

LABELS: dict[str, dict[str, str]] = {
    "title": {
        "vi": "Báo cáo thu thập chứng cứ điện tử",
        "en": "Digital evidence collection report",
    },
    "subtitle": {
        "vi": "Thu thập, chốt giá trị băm và chuỗi hành trình chứng cứ",
        "en": "Collection, sealing and chain of custody",
    },
    "seizure_record": {"vi": "Biên bản thu giữ", "en": "Seizure record"},
    "agency": {"vi": "Cơ quan", "en": "Agency"},
    "case_number": {"vi": "Số vụ án", "en": "Case number"},
    "case_title": {"vi": "Tên vụ án", "en": "Case title"},
    "examiner": {"vi": "Cán bộ thực hiện", "en": "Examiner"},
    "examiner_cert": {"vi": "Chứng thư số của cán bộ thực hiện", "en": "Examiner's certificate"},
    "report_date": {"vi": "Ngày lập báo cáo", "en": "Report date"},
    "report_id": {"vi": "Mã báo cáo", "en": "Report id"},
    "time_zone": {"vi": "Múi giờ hiển thị", "en": "Times shown in"},
    "tool": {"vi": "Công cụ", "en": "Tool"},
    "page_of": {"vi": "Trang {page} / {total}", "en": "Page {page} of {total}"},
    "summary": {"vi": "Tóm tắt các vật chứng", "en": "Summary of evidence items"},
    "no_items": {"vi": "Không có vật chứng nào.", "en": "No evidence items."},
    "item": {"vi": "Vật chứng", "en": "Item"},
    "item_id": {"vi": "Mã vật chứng", "en": "Item id"},
    "kind": {"vi": "Loại", "en": "Kind"},
    "kind_disk": {"vi": "Ảnh đĩa", "en": "Disk image"},
    "kind_logical": {"vi": "Thu thập tệp", "en": "Logical collection"},
    "kind_other": {"vi": "Tệp đã chốt giá trị băm", "en": "Sealed files"},
    "description": {"vi": "Mô tả", "en": "Description"},
    "evidence_number": {"vi": "Số hiệu chứng cứ", "en": "Evidence number"},
    "status": {"vi": "Trạng thái", "en": "Status"},
    "status_complete": {"vi": "hoàn tất", "en": "complete"},
    "status_complete-with-errors": {"vi": "hoàn tất, có lỗi đọc", "en": "complete with errors"},
    "status_incomplete": {"vi": "chưa hoàn tất", "en": "incomplete"},
    "status_unknown": {"vi": "không rõ", "en": "unknown"},
    "size": {"vi": "Kích thước", "en": "Size"},
    "bytes": {"vi": "byte", "en": "bytes"},
    "source": {"vi": "Nguồn", "en": "Source"},
    "source_identity": {"vi": "Nhận dạng nguồn", "en": "Source identity"},
    "acquisition": {"vi": "Tham số thu thập", "en": "Acquisition parameters"},
    "started": {"vi": "Bắt đầu", "en": "Started"},
    "finished": {"vi": "Kết thúc", "en": "Finished"},
    "sealed_at": {"vi": "Chốt giá trị băm và ký số lúc", "en": "Sealed at"},
    "sealed_by": {"vi": "Người chốt và ký số", "en": "Sealed by"},
    "seal_sha256": {"vi": "SHA-256 của bản chốt (seal.json)", "en": "SHA-256 (seal.json)"},
    "file_kind_symlink": {"vi": "liên kết tượng trưng", "en": "symlink"},
    "file_kind_fifo": {"vi": "ống dẫn có tên", "en": "fifo"},
    "file_kind_socket": {"vi": "ổ cắm", "en": "socket"},
    "file_kind_block device": {"vi": "thiết bị khối", "en": "block device"},
    "file_kind_char device": {"vi": "thiết bị ký tự", "en": "char device"},
    "file_kind_data stream": {"vi": "luồng dữ liệu phụ", "en": "data stream"},
    "file_kind_virtual": {"vi": "mục ảo", "en": "virtual"},
    "host": {"vi": "Máy thực hiện", "en": "Host"},
    "digests": {"vi": "Giá trị băm", "en": "Digests"},
    "media_digests": {"vi": "Giá trị băm nội dung", "en": "Content digests"},
    "artifacts": {"vi": "Tệp sản phẩm", "en": "Artifact files"},
    "file": {"vi": "Tệp", "en": "File"},
    "algorithm": {"vi": "Thuật toán", "en": "Algorithm"},
    "value": {"vi": "Giá trị", "en": "Value"},
    "windows": {"vi": "Băm theo cửa sổ", "en": "Window digests"},
    "windows_text": {
        "vi": "{count} cửa sổ {size} ({algs}); cho phép chỉ ra vùng byte bị thay đổi.",
        "en": "{count} windows of {size} ({algs}); they locate any changed byte range.",
    },
    "read_errors": {"vi": "Vùng không đọc được", "en": "Unreadable extents"},
    "no_read_errors": {
        "vi": "Không có sector nào không đọc được.",
        "en": "Every sector was read.",
    },
    "offset": {"vi": "Vị trí (byte)", "en": "Offset (bytes)"},
    "length": {"vi": "Độ dài (byte)", "en": "Length (bytes)"},
    "errno": {"vi": "Mã lỗi", "en": "Error"},
    "media_map": {"vi": "Sơ đồ vùng nhớ", "en": "Media map"},
    "media_map_legend": {
        "vi": "Toàn bộ dung lượng đĩa từ byte 0 đến {size}; vạch đỏ: vùng không đọc được.",
        "en": "The whole disk from byte 0 to {size}; red marks: unreadable extents.",
    },
    "verification": {"vi": "Kết quả kiểm tra", "en": "Verification results"},
    "no_verification": {
        "vi": "Chưa có lần kiểm tra nào được ghi nhận.",
        "en": "No verification recorded.",
    },
    "verified_ok": {"vi": "khớp", "en": "matches"},
    "verified_bad": {"vi": "KHÔNG khớp", "en": "DOES NOT match"},
    "files": {"vi": "Danh sách tệp đã thu thập", "en": "Collected files"},
    "files_count": {
        "vi": "{count} tệp, tổng {size}.",
        "en": "{count} files, {size} in total.",
    },
    "path": {"vi": "Đường dẫn gốc", "en": "Original path"},
    "modified": {"vi": "Sửa đổi", "en": "Modified"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "deleted": {"vi": "đã xoá", "en": "deleted"},
    "error": {"vi": "lỗi", "en": "error"},
    "custody": {"vi": "Chuỗi hành trình chứng cứ", "en": "Chain of custody"},
    "custody_lanes": {"vi": "Người quản lý theo thời gian", "en": "Custodians over time"},
    "no_custody": {
        "vi": "Sổ hành trình chưa có sự kiện nào.",
        "en": "The custody ledger holds no events.",
    },
    "seq": {"vi": "STT", "en": "No."},
    "when": {"vi": "Thời gian", "en": "When"},
    "who": {"vi": "Người thực hiện", "en": "Who"},
    "what": {"vi": "Sự kiện", "en": "What"},
    "where": {"vi": "Địa điểm", "en": "Where"},
    "purpose": {"vi": "Mục đích", "en": "Purpose"},
    "counterpart": {"vi": "Bên liên quan", "en": "Counterpart"},
    "checkpoint": {"vi": "Điểm kiểm tra của sổ hành trình", "en": "Ledger checkpoint"},
    "checkpoint_text": {
        "vi": "Điểm kiểm tra đã ký (định dạng C2SP). Mã QR chứa đúng văn bản này.",
        "en": "Signed checkpoint (C2SP signed note). The QR code holds exactly this text.",
    },
    "tree_size": {"vi": "Số sự kiện", "en": "Tree size"},
    "root_hash": {"vi": "Gốc cây Merkle", "en": "Merkle root"},
    "no_checkpoint": {
        "vi": "Chưa có điểm kiểm tra nào.",
        "en": "No checkpoint yet.",
    },
    "attachments": {"vi": "Tệp đính kèm", "en": "Attachments"},
    "attachments_text": {
        "vi": "Các tệp sau được đính kèm trong tệp PDF này (mở bằng trình đọc PDF, "
        "mục Tệp đính kèm, hoặc lưu ra thư mục bằng "
        "`evidencekit report extract BÁO_CÁO.pdf --out THƯ_MỤC`):",
        "en": "These files are attached inside this PDF (open them in a PDF reader's "
        "attachments panel, or save them to a folder with "
        "`evidencekit report extract REPORT.pdf --out DIR`):",
    },
    "signature_page": {"vi": "Chữ ký", "en": "Signature"},
    "signature_text": {
        "vi": "Báo cáo này được ký số (PAdES) bằng khoá của cán bộ thực hiện có chứng thư với "
        "dấu vân tay SHA-256 dưới đây. Bất kỳ ai cũng có thể kiểm tra chữ ký bằng trình đọc "
        "PDF, bằng `pdfsig`, hoặc bằng lệnh dưới đây.",
        "en": "This report is digitally signed (PAdES) with the key of the examiner whose "
        "certificate has the SHA-256 fingerprint below. Anyone can check the signature with a "
        "PDF reader, with `pdfsig`, or with the command below.",
    },
    "fingerprint": {"vi": "Dấu vân tay SHA-256", "en": "SHA-256 fingerprint"},
    "case_identity": {"vi": "Mã định danh vụ án (sổ giám sát)", "en": "Case identity (ledger)"},
    "verify_with": {"vi": "Lệnh kiểm tra", "en": "Verify with"},
    "verify_commands": {
        "vi": "pdfsig BÁO_CÁO.pdf\nevidencekit report verify BÁO_CÁO.pdf --trust CHỨNG_THƯ.pem",
        "en": "pdfsig REPORT.pdf\nevidencekit report verify REPORT.pdf --trust EXAMINER.pem",
    },
    "unsigned": {
        "vi": "BẢN KHÔNG KÝ — chỉ để xem trước.",
        "en": "UNSIGNED COPY — for preview only.",
    },
    "yes": {"vi": "có", "en": "yes"},
    "no": {"vi": "không", "en": "no"},
    "unknown": {"vi": "không rõ", "en": "unknown"},
    "ev_case_opened": {"vi": "mở vụ án", "en": "case opened"},
    "ev_registered": {"vi": "đăng ký vật chứng", "en": "registered"},
    "ev_acquired": {"vi": "thu thập ảnh đĩa", "en": "acquired"},
    "ev_collected": {"vi": "thu thập tệp", "en": "collected"},
    "ev_sealed": {"vi": "chốt giá trị băm và ký số", "en": "sealed"},
    "ev_converted": {"vi": "chuyển đổi định dạng", "en": "converted"},
    "ev_verified": {"vi": "kiểm tra", "en": "verified"},
    "ev_transferred": {"vi": "bàn giao", "en": "transferred"},
    "ev_received": {"vi": "tiếp nhận", "en": "received"},
    "ev_accessed": {"vi": "truy cập", "en": "accessed"},
    "ev_analysed": {"vi": "phân tích", "en": "analysed"},
    "ev_exported": {"vi": "xuất dữ liệu", "en": "exported"},
    "ev_note": {"vi": "ghi chú", "en": "note"},
    "ev_released": {"vi": "giải phóng", "en": "released"},
    "ev_returned": {"vi": "trả lại", "en": "returned"},
    "ev_destroyed": {"vi": "tiêu huỷ", "en": "destroyed"},
    "ev_report_issued": {"vi": "phát hành báo cáo", "en": "report issued"},
    "ev_report_cosigned": {"vi": "đồng ký báo cáo", "en": "report co-signed"},
    "ev_report_extended": {"vi": "gia hạn chữ ký báo cáo", "en": "report signatures extended"},
    "ev_checkpoint_timestamped": {
        "vi": "đóng dấu thời gian điểm kiểm tra sổ",
        "en": "checkpoint timestamped",
    },
    "ev_examiner_added": {"vi": "thêm người được phép ký", "en": "examiner added"},
    "ev_examiner_revoked": {"vi": "thu hồi quyền ký", "en": "examiner revoked"},
    "ev_trust_anchor_added": {"vi": "thêm chứng thư gốc tin cậy", "en": "trust anchor added"},
    "ev_trust_anchor_removed": {"vi": "bỏ chứng thư gốc tin cậy", "en": "trust anchor removed"},
    "ev_certificate_chain_added": {
        "vi": "ghi chuỗi chứng thư của người ký",
        "en": "signer's certificate chain recorded",
    },
    "ev_revocation_data_added": {
        "vi": "lưu dữ liệu thu hồi chứng thư",
        "en": "revocation data stored",
    },
    "ev_attempt_discarded": {
        "vi": "gác lại lần thu thập dở dang",
        "en": "unfinished attempt set aside",
    },
    "ev_session_opened": {"vi": "mở phiên thu giữ", "en": "seizure session opened"},
    "ev_session_closed": {"vi": "kết thúc phiên thu giữ", "en": "seizure session closed"},
    "ev_seal_applied": {"vi": "niêm phong", "en": "physical seal applied"},
    "ev_seal_opened": {"vi": "mở niêm phong", "en": "physical seal opened"},
    "ev_resealed": {"vi": "niêm phong lại", "en": "re-sealed"},
    "ev_document_attached": {"vi": "đính kèm tài liệu", "en": "document attached"},
    "photos": {"vi": "Ảnh chụp khi đăng ký", "en": "Photos taken at registration"},
    "photo": {"vi": "Ảnh", "en": "Photo"},
    "more_values": {
        "vi": "… (còn {more}; tổng cộng {total}, đủ cả trong bản chốt đính kèm)",
        "en": "… (+{more}; {total} in all)",
    },
    "more_text": {
        "vi": "… (tổng cộng {total} ký tự, đủ cả trong bản chốt đính kèm)",
        "en": "… ({total} characters in all)",
    },
    "checkpoint_note": {
        "vi": "Văn bản điểm kiểm tra đã ký (C2SP)",
        "en": "C2SP signed note",
    },
    "appendix": {
        "vi": "Phụ lục: thông tin thiết bị nguyên bản",
        "en": "Appendix: raw device facts",
    },
    "appendix_text": {
        "vi": "Các thông tin dưới đây được giữ nguyên như công cụ đã ghi (tên trường nội bộ, "
        "thông báo của công cụ bằng tiếng Anh), dành cho chuyên gia đối chiếu; các phần trên "
        "đã trình bày chúng bằng lời.",
        "en": "These facts are kept exactly as the tools recorded them (internal field names, "
        "tool messages), for experts to check; the sections above say them in words.",
    },
    "appendix_key": {"vi": "Trường", "en": "Field"},
    "appendix_file_errors": {
        "vi": "Lỗi khi đọc các tệp, nguyên văn thông báo của công cụ:",
        "en": "Errors reading the files, as the tools worded them:",
    },
    "appendix_message": {"vi": "Thông báo", "en": "Message"},
    "file_error": {
        "vi": "lỗi khi đọc tệp (thông báo nguyên văn ở phụ lục)",
        "en": "error",
    },
    "att_seal": {
        "vi": "bản chốt giá trị băm đã ký số của vật chứng {item}",
        "en": "signed seal of item {item}",
    },
    "att_checkpoint": {"vi": "điểm kiểm tra đã ký của sổ", "en": "signed ledger checkpoint"},
    "att_jsonl": {"vi": "sổ hành trình (JSONL)", "en": "custody ledger (JSON Lines)"},
    "att_jsonld": {"vi": "sổ hành trình (CASE/UCO JSON-LD)", "en": "custody ledger (CASE/UCO)"},
    "att_report": {"vi": "thông tin của báo cáo", "en": "report metadata"},
    "att_other": {"vi": "tệp đính kèm", "en": "attachment"},
    "item_default_disk": {"vi": "Ảnh đĩa", "en": "Disk image"},
    "item_default_logical": {"vi": "Các tệp đã thu thập", "en": "Collected files"},
    "item_default_other": {"vi": "Các tệp đã chốt giá trị băm", "en": "Sealed files"},
    "readback_image": {"vi": "đọc lại ảnh sau khi ghi", "en": "image read back after writing"},
    "readback_source": {"vi": "đọc lại nguồn", "en": "source read again"},
    "readback_match": {"vi": "khớp", "en": "matches"},
    "readback_mismatch": {"vi": "KHÔNG khớp", "en": "DOES NOT match"},
    "readback_problems": {
        "vi": "{count} vấn đề, chi tiết trong sổ hành trình đính kèm",
        "en": "{count} problems, listed in the attached custody ledger",
    },
    "ev_ledger_migrated": {"vi": "chuyển sổ giám sát sang nơi lưu khác", "en": "ledger moved"},
    # shared by the custody sentences and the Biên bản
    "present": {"vi": "Có mặt: {names}.", "en": "Present: {names}."},
    "seal_intact": {"vi": "còn nguyên vẹn", "en": "intact"},
    "seal_damaged": {"vi": "không còn nguyên vẹn", "en": "damaged"},
    # the default descriptions the workflows give the events they record, in the case's
    # language (workflows/wording.py); the report recognises them (sentences._DEFAULTS)
    "desc_disk_image": {
        "vi": "Ảnh đĩa của {path} ({size}), {status}",
        "en": "Disk image of {path} ({size}), {status}",
    },
    "desc_decrypted_image": {
        "vi": "Ảnh của {inner} trong {path} ({size}), {status}",
        "en": "Image of {inner} in {path} ({size}), {status}",
    },
    "desc_collection": {
        "vi": "Thu thập tệp từ {sources} nguồn: {files} tệp, {errors} lỗi",
        "en": "Logical collection of {sources} source(s): {files} files, {errors} errors",
    },
    "desc_sealed_files": {
        "vi": "Chốt giá trị băm và ký số {count} tệp",
        "en": "sealed {count} file(s)",
    },
    "desc_derived": {
        "vi": "Tạo từ vật chứng {item} ({format})",
        "en": "derived from item {item} ({format})",
    },
    "desc_converted": {
        "vi": "Vật chứng {item} được chuyển sang định dạng {format}",
        "en": "item {item} converted to {format}",
    },
    "desc_timestamp": {
        "vi": "Dấu thời gian RFC 3161 do {tsa} cấp",
        "en": "RFC 3161 timestamp by {tsa}",
    },
    "desc_certificate_chain": {
        "vi": "Chuỗi chứng thư số của {name}",
        "en": "certificate chain of {name}",
    },
    "desc_examiner_added": {
        "vi": "Thêm cán bộ {name} vào danh sách tin cậy",
        "en": "examiner {name} added",
    },
    "desc_examiner_revoked": {
        "vi": "Thu hồi tin cậy đối với cán bộ {name}",
        "en": "examiner {name} revoked",
    },
    "desc_ledger_moved": {
        "vi": "Chuyển sổ giám sát từ {source} sang {target}",
        "en": "custody ledger moved from {source} to {target}",
    },
    "desc_anchor_added_tsa": {
        "vi": "Thêm mốc tin cậy cho tổ chức cấp dấu thời gian: {subject}",
        "en": "trust anchor for timestamp authorities: {subject}",
    },
    "desc_anchor_added_examiners": {
        "vi": "Thêm mốc tin cậy cho cán bộ ký số: {subject}",
        "en": "trust anchor for examiners: {subject}",
    },
    "desc_anchor_removed": {
        "vi": "Gỡ mốc tin cậy: {name}",
        "en": "trust anchor removed: {name}",
    },
    "desc_report_issued": {
        "vi": "Báo cáo {report_id} ({language})",
        "en": "report {report_id} ({language})",
    },
    "desc_report_cosigned": {
        "vi": "Báo cáo được ký thêm với vai trò {role}",
        "en": "report co-signed as {role}",
    },
    "desc_report_extended": {
        "vi": "Thêm dấu thời gian lưu trữ vào báo cáo",
        "en": "archive timestamp added",
    },
    "desc_attempt_set_aside": {
        "vi": "Lần thực hiện dở dang của vật chứng {item} đã được để riêng",
        "en": "unfinished attempt at item {item} set aside",
    },
    "device_registered": {"vi": "Đặc điểm khi đăng ký", "en": "Characteristics when registered"},
    "device_differs_capacity": {
        "vi": "Lưu ý: khi đăng ký, dung lượng ghi là {text} ({registered} byte), nhưng khi thu "
        "thập đo được {measured} byte.",
        "en": "Note: registered with capacity {text} ({registered} bytes), but the acquisition "
        "measured {measured} bytes.",
    },
    "device_differs_serial": {
        "vi": "Lưu ý: khi đăng ký, số sê-ri ghi là {registered}, nhưng khi thu thập đọc được "
        "{measured}.",
        "en": "Note: registered with serial number {registered}, but the acquisition read "
        "{measured}.",
    },
}


def device_difference(lang: str, diff: DeviceDifference) -> str:
    """A registered device's characteristic that its acquisition measured otherwise, as a
    sentence in `lang` (both values shown: the report picks neither)."""
    if diff.what == "capacity":
        return label(
            lang,
            "device_differs_capacity",
            text=diff.registered_text,
            registered=f"{diff.registered:,}".replace(",", " "),
            measured=f"{diff.measured:,}".replace(",", " "),
        )
    return label(lang, "device_differs_serial", registered=diff.registered, measured=diff.measured)


def attachment_label(lang: str, name: str) -> str:
    """What an attached file is, in `lang` (from its name: `ITEM.seal.json`, `checkpoint.txt`,
    `custody.jsonl`, `custody.case.jsonld`, `report.json`)."""
    fixed = {
        "checkpoint.txt": "att_checkpoint",
        "custody.jsonl": "att_jsonl",
        "custody.case.jsonld": "att_jsonld",
        "report.json": "att_report",
    }
    if name in fixed:
        return label(lang, fixed[name])
    if name.endswith(".seal.json"):
        return label(lang, "att_seal", item=name[: -len(".seal.json")])
    return label(lang, "att_other")


# Names of the acquisition facts the report shows most often (keys of the seal's `facts`, dots
# as underscores). Any other fact is shown under its key as recorded.
FACT_LABELS: dict[str, dict[str, str]] = {
    "source_path": {"vi": "Đường dẫn nguồn", "en": "Source path"},
    "source_kind": {"vi": "Loại nguồn", "en": "Source kind"},
    "source_format": {"vi": "Định dạng nguồn", "en": "Source format"},
    "source_size": {"vi": "Dung lượng nguồn", "en": "Source size"},
    "source_logical_sector_size": {"vi": "Sector logic", "en": "Logical sector"},
    "source_physical_sector_size": {
        "vi": "Sector vật lý",
        "en": "Physical sector",
    },
    "source_model": {"vi": "Model thiết bị", "en": "Device model"},
    "source_serial": {"vi": "Số sê-ri", "en": "Serial number"},
    "source_identity_vendor": {"vi": "Nhà sản xuất", "en": "Vendor"},
    "source_identity_model": {"vi": "Model thiết bị", "en": "Device model"},
    "source_identity_serial": {"vi": "Số sê-ri", "en": "Serial number"},
    "source_identity_wwn": {"vi": "WWN", "en": "WWN"},
    "source_identity_transport": {"vi": "Giao tiếp", "en": "Transport"},
    "source_identity_removable": {"vi": "Tháo rời được", "en": "Removable"},
    "source_identity_rotational": {"vi": "Đĩa quay", "en": "Rotational"},
    "source_read_only_flag": {"vi": "Cờ chỉ đọc (BLKROGET)", "en": "Read-only flag (BLKROGET)"},
    "device_hpa_status": {"vi": "HPA/DCO", "en": "HPA/DCO"},
    "size": {"vi": "Dung lượng", "en": "Size"},
    "format": {"vi": "Định dạng ảnh", "en": "Image format"},
    "bytes_read": {"vi": "Số byte đã đọc", "en": "Bytes read"},
    "bad_sectors": {"vi": "Sector không đọc được", "en": "Unreadable sectors"},
    "recovered_sectors": {"vi": "Sector đọc lại được", "en": "Recovered sectors"},
    "options_algorithms": {"vi": "Thuật toán băm", "en": "Hash algorithms"},
    "options_retries": {"vi": "Số lần đọc lại", "en": "Retries"},
    "options_compression": {"vi": "Nén", "en": "Compression"},
    "options_segment_size": {"vi": "Kích thước phân đoạn", "en": "Segment size"},
    "options_window": {"vi": "Cửa sổ băm", "en": "Hash window"},
    "options_include_deleted": {"vi": "Gồm tệp đã xoá", "en": "Deleted files included"},
    "options_source_timezone": {"vi": "Múi giờ của nguồn", "en": "Source time zone"},
    "host_clock_Timezone": {"vi": "Múi giờ máy", "en": "Host time zone"},
    "host_clock_NTPSynchronized": {"vi": "Đồng bộ NTP", "en": "NTP synchronised"},
    "host_clock_offset": {"vi": "Độ lệch đồng hồ", "en": "Clock offset"},
    "summary_files": {"vi": "Số tệp", "en": "Files"},
    "summary_errors": {"vi": "Số lỗi", "en": "Errors"},
    "summary_deleted": {"vi": "Tệp đã xoá", "en": "Deleted files"},
    "summary_bytes": {"vi": "Tổng số byte đã thu", "en": "Bytes collected"},
    "summary_entries": {"vi": "Số mục", "en": "Entries"},
    "summary_interrupted": {"vi": "Bị ngắt giữa chừng", "en": "Interrupted"},
    "summary_renamed": {"vi": "Tên tệp phải đổi khi lưu", "en": "Names stored under a safe name"},
    "device_hpa_reason": {"vi": "HPA/DCO: lý do", "en": "HPA/DCO: reason"},
    "device_read_only_flag_set": {
        "vi": "Đã đặt cờ chỉ đọc (BLKROSET)",
        "en": "Read-only flag set (BLKROSET)",
    },
    "host_clock_timedatectl": {"vi": "Đồng hồ máy (timedatectl)", "en": "Host clock (timedatectl)"},
    "options_allow_mounted": {"vi": "Cho phép nguồn đang gắn", "en": "Mounted source allowed"},
    "options_evidence_number": {"vi": "Số hiệu chứng cứ", "en": "Evidence number"},
    "options_follow_symlinks": {"vi": "Theo liên kết tượng trưng", "en": "Symlinks followed"},
    "options_force": {"vi": "Bỏ qua kiểm tra dung lượng", "en": "Free-space check overridden"},
    "options_format": {"vi": "Định dạng đầu ra", "en": "Output format"},
    "options_ignore_case": {"vi": "Không phân biệt hoa thường", "en": "Case-insensitive patterns"},
    "options_notes": {"vi": "Ghi chú", "en": "Notes"},
    "options_set_readonly": {"vi": "Đặt nguồn chỉ đọc", "en": "Source set read-only"},
    "options_verify": {"vi": "Kiểm tra lại ảnh", "en": "Image verified after writing"},
    "options_verify_source": {"vi": "Đọc lại nguồn để kiểm tra", "en": "Source re-read to verify"},
    "options_window_algorithm": {"vi": "Thuật toán băm cửa sổ", "en": "Window hash algorithm"},
    "options_include": {"vi": "Mẫu bao gồm", "en": "Include patterns"},
    "options_exclude": {"vi": "Mẫu loại trừ", "en": "Exclude patterns"},
    "options_max_size": {"vi": "Kích thước tệp tối đa", "en": "Maximum file size"},
    "options_partition": {"vi": "Phân vùng", "en": "Partition"},
    "options_path": {"vi": "Đường dẫn trong ảnh", "en": "Path inside the image"},
    "source_identity_ctime": {"vi": "Nguồn: thời điểm đổi (ctime)", "en": "Source ctime"},
    "source_identity_mtime": {"vi": "Nguồn: thời điểm sửa (mtime)", "en": "Source mtime"},
    "source_identity_file_size": {"vi": "Nguồn: kích thước tệp", "en": "Source file size"},
    "source_identity_inode": {"vi": "Nguồn: inode", "en": "Source inode"},
    "source_segments": {"vi": "Các tệp của nguồn", "en": "Source files"},
    "sources_description": {"vi": "Nguồn: bảng phân vùng", "en": "Source: partitioning"},
    "sources_filesystems": {"vi": "Nguồn: hệ thống tệp", "en": "Source: file systems"},
    "sources_index": {"vi": "Nguồn: số thứ tự", "en": "Source: index"},
    "sources_kind": {"vi": "Nguồn: loại", "en": "Source: kind"},
    "sources_path": {"vi": "Nguồn: đường dẫn", "en": "Source: path"},
    "sources_root": {"vi": "Nguồn: gốc trong tệp tar", "en": "Source: root in the tar"},
    "sources_skipped": {
        "vi": "Nguồn: phân vùng không thu thập (lý do)",
        "en": "Source: partitions not collected (why)",
    },
    "sources_partitions_number": {"vi": "Phân vùng: số", "en": "Partition: number"},
    "sources_partitions_slot": {"vi": "Phân vùng: vị trí trong bảng", "en": "Partition: slot"},
    "sources_partitions_start": {
        "vi": "Phân vùng: bắt đầu",
        "en": "Partition: start",
    },
    "sources_partitions_length": {
        "vi": "Phân vùng: độ dài",
        "en": "Partition: length",
    },
    "sources_partitions_description": {"vi": "Phân vùng: mô tả", "en": "Partition: description"},
    "sources_partitions_filesystem": {
        "vi": "Phân vùng: hệ thống tệp",
        "en": "Partition: file system",
    },
    "sources_partitions_encryption": {"vi": "Phân vùng: mã hóa", "en": "Partition: encryption"},
    "device_tools_summary_model": {
        "vi": "Model thiết bị (công cụ của hãng)",
        "en": "Device model (vendor tool)",
    },
    "device_tools_summary_serial": {
        "vi": "Số sê-ri (công cụ của hãng)",
        "en": "Serial number (vendor tool)",
    },
    "device_tools_summary_firmware": {"vi": "Phiên bản phần sụn", "en": "Firmware"},
    "device_tools_summary_capacity": {
        "vi": "Dung lượng (công cụ của hãng)",
        "en": "Capacity (vendor tool)",
    },
    "device_tools_summary_wwn": {"vi": "WWN (công cụ của hãng)", "en": "WWN (vendor tool)"},
    "device_read_only_flag_before": {
        "vi": "Cờ chỉ đọc trước khi thu",
        "en": "Read-only flag before",
    },
    "options_decrypt": {"vi": "Giải mã nguồn", "en": "Source decrypted"},
    "options_check_stored_digests": {
        "vi": "Kiểm tra giá trị băm lưu trong ảnh nguồn",
        "en": "Stored digests of the source checked",
    },
    "sources_stored_digests_outcome": {
        "vi": "Nguồn: giá trị băm lưu trong ảnh so với giá trị tính lại",
        "en": "Source: stored digests against those computed",
    },
}


def fact_label(lang: str, key: str) -> str:
    """A translated name for the fact `key` (dotted), else the key as recorded. List indices
    (`sources.partitions[4].encryption`) follow the name: "Partition: encryption [4]"."""
    indices = "".join(re.findall(r"\[\d+\]", key))
    entry = FACT_LABELS.get(re.sub(r"\[\d+\]", "", key).replace(".", "_"))
    if entry is None:
        return key
    text = entry.get(lang, entry["en"])
    return f"{text} {indices}" if indices else text


def label(lang: str, key: str, **values: object) -> str:
    """The label `key` in `lang`, with `{name}` fields filled from `values`.

    An unknown key falls back to the key itself so a missing label is visible, not fatal.
    """
    entry = LABELS.get(key)
    text = entry.get(lang, entry["en"]) if entry else key
    return text.format(**values) if values else text


def event_label(lang: str, event_type: str) -> str:
    """The name of a custody event type in `lang` (the raw type when it is not known)."""
    key = f"ev_{event_type}"
    return label(lang, key) if key in LABELS else event_type


def seal_state_label(lang: str, state: object, note: str | None = None) -> str:
    """An opened physical seal's state in `lang` (`intact`, anything else: damaged), with the
    examiner's note after it in brackets."""
    text = label(lang, "seal_intact" if state == "intact" else "seal_damaged")
    return f"{text} ({note})" if note else text


def status_label(lang: str, status: str | None) -> str:
    """A seal status (`complete`, `complete-with-errors`, `incomplete`) in `lang`."""
    key = f"status_{status or 'unknown'}"
    return label(lang, key) if key in LABELS else str(status)


def _merge(*tables: dict[str, dict[str, str]]) -> None:
    """Add the Biên bản's labels and the custody sentences' (kept in modules of their own) to
    the one table `label` reads; a key defined twice would let one silently replace the other."""
    for table in tables:
        twice = sorted(LABELS.keys() & table.keys())
        if twice:
            raise ValueError(f"report labels defined twice: {', '.join(twice)}")
        LABELS.update(table)


_merge(RECORD_LABELS, CUSTODY_LABELS)


def document_label(lang: str, what: str) -> str:
    """What an attached document is (`document_attached`'s `what`), in `lang`."""
    key = f"doc_{what}"
    return label(lang, key) if key in LABELS else what
