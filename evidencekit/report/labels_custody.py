"""Labels of the custody section as sentences (`report.sentences`), merged into `i18n.LABELS`:
`{actor}` did what, to which item, with whom. Only what the examiner typed is quoted; texts the
tool wrote itself are never shown."""

from __future__ import annotations

CUSTODY_LABELS: dict[str, dict[str, str]] = {
    "cs_case_opened": {
        "vi": "{actor} mở hồ sơ vụ án «{title}».",
        "en": "{actor} opened the case «{title}».",
    },
    "cs_examiner_added": {
        "vi": "{actor} cho phép {name} (chứng thư SHA-256 {fp}…) ký các ghi nhận của vụ án.",
        "en": "{actor} allowed {name} (certificate SHA-256 {fp}…) to sign the case's records.",
    },
    "cs_examiner_revoked": {
        "vi": "{actor} thu hồi quyền ký của {name} (chứng thư SHA-256 {fp}…).",
        "en": "{actor} revoked the right of {name} (certificate SHA-256 {fp}…) to sign.",
    },
    "cs_registered": {
        "vi": "{actor} đăng ký vật chứng {item}: {description}.",
        "en": "{actor} registered item {item}: {description}.",
    },
    "cs_acquired": {
        "vi": "{actor} tạo ảnh đĩa (bản sao toàn bộ) của vật chứng {item}.",
        "en": "{actor} made a disk image (a complete copy) of item {item}.",
    },
    "cs_acquired_bad": {
        "vi": "{actor} tạo ảnh đĩa (bản sao toàn bộ) của vật chứng {item}; {count} sector "
        "không đọc được.",
        "en": "{actor} made a disk image (a complete copy) of item {item}; {count} sectors "
        "could not be read.",
    },
    "cs_collected": {
        "vi": "{actor} sao chép các tệp dữ liệu vào vật chứng {item}.",
        "en": "{actor} copied data files into item {item}.",
    },
    "cs_sealed": {
        "vi": "{actor} chốt giá trị băm và ký số các tệp của vật chứng {item}.",
        "en": "{actor} hashed and digitally signed the files of item {item}.",
    },
    "cs_sealed_derived": {
        "vi": "{actor} chốt giá trị băm và ký số vật chứng {item}, chuyển đổi từ vật chứng "
        "{source}.",
        "en": "{actor} hashed and digitally signed item {item}, converted from item {source}.",
    },
    "cs_converted": {
        "vi": "{actor} chuyển đổi định dạng, tạo vật chứng {item}.",
        "en": "{actor} converted the format, making item {item}.",
    },
    "cs_verified_ok": {
        "vi": "{actor} kiểm tra vật chứng {item}: giá trị băm và chữ ký số khớp.",
        "en": "{actor} verified item {item}: its digests and digital signature hold.",
    },
    "cs_verified_bad": {
        "vi": "{actor} kiểm tra vật chứng {item}: KHÔNG khớp ({count} vấn đề, chi tiết "
        "trong sổ hành trình đính kèm).",
        "en": "{actor} verified item {item}: it DOES NOT verify ({count} problems, listed "
        "in the attached custody ledger).",
    },
    "cs_verified": {
        "vi": "{actor} kiểm tra vật chứng {item}.",
        "en": "{actor} verified item {item}.",
    },
    "cs_transferred": {
        "vi": "{actor} bàn giao vật chứng {item} cho {counterpart}.",
        "en": "{actor} handed item {item} over to {counterpart}.",
    },
    "cs_transferred_nobody": {
        "vi": "{actor} bàn giao vật chứng {item}.",
        "en": "{actor} handed item {item} over.",
    },
    "cs_received": {
        "vi": "{actor} nhận vật chứng {item} từ {counterpart}.",
        "en": "{actor} received item {item} from {counterpart}.",
    },
    "cs_received_nobody": {
        "vi": "{actor} tiếp nhận vật chứng {item}.",
        "en": "{actor} received item {item}.",
    },
    "cs_accessed": {
        "vi": "{actor} truy cập vật chứng {item}.",
        "en": "{actor} accessed item {item}.",
    },
    "cs_analysed": {
        "vi": "{actor} phân tích vật chứng {item}.",
        "en": "{actor} analysed item {item}.",
    },
    "cs_working_copy": {
        "vi": "Thực hiện trên bản sao làm việc {copy} (SHA-256 {sha}).",
        "en": "Done on the working copy {copy} (SHA-256 {sha}).",
    },
    "cs_on_original": {
        "vi": "Thực hiện trực tiếp trên bản gốc; lý do: {reason}.",
        "en": "Done on the original itself; why: {reason}.",
    },
    "cs_exported": {"vi": "{actor} xuất dữ liệu.", "en": "{actor} exported data."},
    "cs_exported_item": {
        "vi": "{actor} xuất dữ liệu của vật chứng {item}.",
        "en": "{actor} exported data of item {item}.",
    },
    "cs_note": {"vi": "{actor} ghi chú.", "en": "{actor} added a note."},
    "cs_note_item": {
        "vi": "{actor} ghi chú về vật chứng {item}.",
        "en": "{actor} added a note about item {item}.",
    },
    "cs_released": {
        "vi": "{actor} giải phóng vật chứng {item}.",
        "en": "{actor} released item {item}.",
    },
    "cs_released_to": {
        "vi": "{actor} giải phóng vật chứng {item}, giao cho {counterpart}.",
        "en": "{actor} released item {item} to {counterpart}.",
    },
    "cs_returned": {
        "vi": "{actor} trả lại vật chứng {item}.",
        "en": "{actor} returned item {item}.",
    },
    "cs_returned_to": {
        "vi": "{actor} trả lại vật chứng {item} cho {counterpart}.",
        "en": "{actor} returned item {item} to {counterpart}.",
    },
    "cs_destroyed": {
        "vi": "{actor} tiêu huỷ vật chứng {item}.",
        "en": "{actor} destroyed item {item}.",
    },
    "cs_report_issued": {
        "vi": "{actor} phát hành báo cáo {report}.",
        "en": "{actor} issued report {report}.",
    },
    "cs_record_issued": {
        "vi": "{actor} lập và ký số biên bản {report}.",
        "en": "{actor} drew up and digitally signed the record {report}.",
    },
    "cs_checkpoint_timestamped": {
        "vi": "{actor} đóng dấu thời gian (RFC 3161) cho điểm kiểm tra của sổ hành trình.",
        "en": "{actor} had the ledger's checkpoint timestamped (RFC 3161).",
    },
    "cs_attempt_discarded": {
        "vi": "{actor} gác lại lần thu thập dở dang của vật chứng {item}.",
        "en": "{actor} set aside an unfinished attempt at item {item}.",
    },
    "cs_session_opened": {
        "vi": "{actor} mở phiên thu giữ {session} tại {place}.",
        "en": "{actor} opened seizure session {session} at {place}.",
    },
    "cs_session_closed": {
        "vi": "{actor} kết thúc phiên thu giữ {session}.",
        "en": "{actor} closed seizure session {session}.",
    },
    "cs_refusals": {
        "vi": "Từ chối ký biên bản: {names}.",
        "en": "Refused to sign the record: {names}.",
    },
    "cs_seal_applied": {
        "vi": "{actor} niêm phong vật chứng {item}, số niêm phong {numbers}; cách niêm "
        "phong: {method}.",
        "en": "{actor} sealed item {item}, seal number(s) {numbers}; how: {method}.",
    },
    "cs_seal_opened": {
        "vi": "{actor} mở niêm phong số {numbers} của vật chứng {item}; niêm phong {state}; "
        "lý do mở: {reason}.",
        "en": "{actor} opened seal(s) {numbers} of item {item}; the seal was {state}; why: "
        "{reason}.",
    },
    "cs_resealed": {
        "vi": "{actor} niêm phong lại vật chứng {item} bằng niêm phong số {numbers} (thay "
        "cho số {replaces}); cách niêm phong: {method}.",
        "en": "{actor} re-sealed item {item} with seal(s) {numbers} (replacing {replaces}); "
        "how: {method}.",
    },
    "cs_document_attached": {
        "vi": "{actor} đính kèm {what} vào vật chứng {item}: tệp {name}, SHA-256 {sha}.",
        "en": "{actor} attached {what} to item {item}: file {name}, SHA-256 {sha}.",
    },
    "cs_ledger_migrated": {
        "vi": "{actor} chuyển sổ hành trình sang nơi lưu khác ({size} sự kiện được chép "
        "nguyên vẹn).",
        "en": "{actor} moved the custody ledger to another store ({size} events copied as "
        "they were).",
    },
    "cs_report_cosigned": {
        "vi": "{actor} ký số thêm vào báo cáo đã phát hành (sự kiện số {event}) với tư cách "
        "{role}.",
        "en": "{actor} co-signed the report issued at event {event}, as {role}.",
    },
    "cs_report_extended": {
        "vi": "{actor} bổ sung dữ liệu xác thực và dấu thời gian lưu trữ cho báo cáo đã phát hành "
        "(sự kiện số {event}).",
        "en": "{actor} added validation data and an archive timestamp to the report issued at "
        "event {event}.",
    },
    "cs_trust_anchor_added": {
        "vi": "{actor} thêm chứng thư gốc tin cậy cho {what}: {name} (dấu vân tay {fp}).",
        "en": "{actor} trusted the root certificate {name} (fingerprint {fp}) for {what}.",
    },
    "cs_trust_anchor_removed": {
        "vi": "{actor} thôi tin cậy chứng thư gốc {name} (dấu vân tay {fp}).",
        "en": "{actor} stopped trusting the root certificate {name} (fingerprint {fp}).",
    },
    "cs_certificate_chain_added": {
        "vi": "{actor} ghi vào vụ án chuỗi chứng thư số của mình (dấu vân tay {fp}), do tổ "
        "chức chứng thực được vụ án tin cậy cấp.",
        "en": "{actor} recorded their certificate chain (fingerprint {fp}), issued by a "
        "certification authority the case trusts.",
    },
    "cs_revocation_data_added": {
        "vi": "{actor} lưu dữ liệu thu hồi chứng thư số ({what}, SHA-256 {sha}) để kiểm tra "
        "ngoại tuyến về sau.",
        "en": "{actor} stored certificate revocation data ({what}, SHA-256 {sha}) for later "
        "offline checks.",
    },
    "cs_anchor_examiners": {"vi": "người ký số trong vụ án", "en": "examiners"},
    "cs_anchor_tsa": {"vi": "đơn vị cấp dấu thời gian", "en": "timestamp authorities"},
    "cosign_receiver": {"vi": "người nhận", "en": "receiver"},
    "cosign_supervisor": {"vi": "người phụ trách", "en": "supervisor"},
    "cosign_witness": {"vi": "người chứng kiến", "en": "witness"},
    "cs_unknown": {"vi": "{actor}: {kind}.", "en": "{actor}: {kind}."},
    "cs_description": {"vi": "Mô tả: {text}.", "en": "Description: {text}."},
    "cs_location": {"vi": "Địa điểm: {text}.", "en": "Where: {text}."},
    "cs_purpose": {"vi": "Mục đích: {text}.", "en": "Purpose: {text}."},
    "cs_condition": {"vi": "Tình trạng: {text}.", "en": "Condition: {text}."},
    "cs_seal_number": {"vi": "Số niêm phong: {text}.", "en": "Seal number: {text}."},
    "cs_note_text": {"vi": "Ghi chú: {text}.", "en": "Note: {text}."},
    "cs_reason": {"vi": "Lý do: {text}.", "en": "Reason: {text}."},
    "cs_override": {
        "vi": "Ghi nhận khi không phải người đang quản lý vật chứng; lý do: {text}.",
        "en": "Recorded by someone other than the custodian; why: {text}.",
    },
    "cs_photos": {
        "vi": "Kèm {count} ảnh chụp (giá trị băm ghi trong sổ).",
        "en": "With {count} photo(s) (their digests are in the ledger).",
    },
    "cs_event": {"vi": "Diễn biến", "en": "What happened"},
    "cs_statements": {"vi": "Ý kiến: {text}", "en": "Statements: {text}"},
    "cs_record_number": {"vi": "Số biên bản: {text}.", "en": "Record number: {text}."},
    "cs_basis": {"vi": "Căn cứ: {text}.", "en": "Legal basis: {text}."},
    "doc_signed-record": {
        "vi": "bản quét biên bản đã ký",
        "en": "the scanned signed record",
    },
    "doc_other": {"vi": "tài liệu", "en": "a document"},
}
