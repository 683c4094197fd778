"""Labels of the Biên bản (seizure record, `report build --form bien-ban`), merged into
`i18n.LABELS`. The legal basis names the Code's articles by number and title only (no law text is
quoted)."""

from __future__ import annotations

RECORD_LABELS: dict[str, dict[str, str]] = {
    "bb_nation": {
        "vi": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "en": "SOCIALIST REPUBLIC OF VIETNAM",
    },
    "bb_motto": {
        "vi": "Độc lập – Tự do – Hạnh phúc",
        "en": "Independence – Freedom – Happiness",
    },
    "bb_number": {"vi": "Số: {number}", "en": "No.: {number}"},
    "bb_number_blank": {"vi": "Số: ……/BB", "en": "No.: ……"},
    "bb_dated": {
        "vi": "ngày {d} tháng {m} năm {y}",
        "en": "{y}-{m}-{d}",
    },
    "bb_title": {"vi": "BIÊN BẢN", "en": "RECORD"},
    "bb_title_seizure": {
        "vi": "THU GIỮ PHƯƠNG TIỆN ĐIỆN TỬ, DỮ LIỆU ĐIỆN TỬ",
        "en": "OF THE SEIZURE OF ELECTRONIC DEVICES AND ELECTRONIC DATA",
    },
    "bb_title_collection": {
        "vi": "THU THẬP DỮ LIỆU ĐIỆN TỬ",
        "en": "OF THE COLLECTION OF ELECTRONIC DATA",
    },
    "bb_at_time": {
        "vi": "Hồi {H} giờ {M} phút, ngày {d} tháng {m} năm {y}",
        "en": "At {H}:{M} on {y}-{m}-{d}",
    },
    "bb_opening": {"vi": "{when}, tại {place}.", "en": "{when}, at {place}."},
    "bb_opening_noplace": {"vi": "{when}.", "en": "{when}."},
    "bb_session": {
        "vi": "Phiên thu giữ: {session}.",
        "en": "Seizure session: {session}.",
    },
    "bb_case": {
        "vi": "Vụ án: {title} (số {number}).",
        "en": "Case: {title} (no. {number}).",
    },
    "bb_basis_code": {
        "vi": "Căn cứ Điều 107 (Thu thập phương tiện điện tử, dữ liệu điện tử) và Điều 196 "
        "(Thu giữ phương tiện điện tử, dữ liệu điện tử) của Bộ luật Tố tụng hình sự năm 2015 "
        "(sửa đổi, bổ sung năm 2021);",
        "en": "Under Article 107 (Collection of electronic devices and electronic data) and "
        "Article 196 (Seizure of electronic devices and electronic data) of the 2015 "
        "Criminal Procedure Code (amended 2021);",
    },
    "bb_basis": {"vi": "Căn cứ {text};", "en": "Under {text};"},
    "bb_we": {"vi": "Chúng tôi gồm:", "en": "We, the undersigned:"},
    "bb_witnessed": {"vi": "Với sự chứng kiến của:", "en": "In the presence of:"},
    "bb_owner": {
        "vi": "Người có phương tiện, dữ liệu điện tử bị thu giữ:",
        "en": "The person from whom the devices and data were seized:",
    },
    "bb_others": {"vi": "Những người khác có mặt:", "en": "Others present:"},
    "bb_drafter": {"vi": "người lập biên bản", "en": "drafter of the record"},
    "bb_yob": {"vi": "năm sinh {year}", "en": "born {year}"},
    "bb_address": {"vi": "nơi cư trú: {text}", "en": "address: {text}"},
    "bb_unit": {"vi": "đơn vị: {text}", "en": "unit: {text}"},
    "bb_document": {"vi": "{kind} số {number}", "en": "{kind} no. {number}"},
    "bb_key": {
        "vi": "chứng thư số SHA-256 {fp}…",
        "en": "certificate SHA-256 {fp}…",
    },
    "bb_proceed_seizure": {
        "vi": "Tiến hành thu giữ phương tiện điện tử, dữ liệu điện tử sau đây:",
        "en": "Seized the following electronic devices and electronic data:",
    },
    "bb_proceed_collection": {
        "vi": "Tiến hành thu thập dữ liệu điện tử sau đây:",
        "en": "Collected the following electronic data:",
    },
    "bb_item": {"vi": "Vật chứng {id}", "en": "Item {id}"},
    "bb_evidence_number": {"vi": "số hiệu {number}", "en": "evidence no. {number}"},
    "bb_characteristics": {"vi": "Đặc điểm", "en": "Characteristics"},
    "bb_make": {"vi": "Nhà sản xuất", "en": "Make"},
    "bb_model": {"vi": "Kiểu (model)", "en": "Model"},
    "bb_serial": {"vi": "Số sê-ri", "en": "Serial number"},
    "bb_capacity": {"vi": "Dung lượng", "en": "Capacity"},
    "bb_transport": {"vi": "Giao tiếp", "en": "Interface"},
    "bb_firmware": {"vi": "Phiên bản phần sụn", "en": "Firmware"},
    "bb_condition": {"vi": "Tình trạng khi thu giữ", "en": "Condition when seized"},
    "bb_location": {"vi": "Nơi thu giữ", "en": "Where seized"},
    "bb_photo": {"vi": "Ảnh chụp", "en": "Photo"},
    "bb_no_characteristics": {
        "vi": "Không ghi nhận đặc điểm thiết bị.",
        "en": "No device characteristics recorded.",
    },
    "bb_seals": {"vi": "Niêm phong", "en": "Physical seals"},
    "bb_seal_applied": {
        "vi": "{when}, {who} niêm phong, số niêm phong: {numbers}; cách niêm phong: {method}.",
        "en": "{when}, {who} sealed it, seal number(s): {numbers}; how: {method}.",
    },
    "bb_seal_opened": {
        "vi": "{when}, {who} mở niêm phong số {numbers}; tình trạng niêm phong: {state}; "
        "lý do mở: {reason}.",
        "en": "{when}, {who} opened seal(s) {numbers}; seal state: {state}; why: {reason}.",
    },
    "bb_resealed": {
        "vi": "{when}, {who} niêm phong lại bằng niêm phong số {numbers} (thay cho số "
        "{replaces}); cách niêm phong: {method}.",
        "en": "{when}, {who} re-sealed it with seal(s) {numbers} (replacing {replaces}); "
        "how: {method}.",
    },
    "bb_seal_registered": {
        "vi": "Số niêm phong ghi khi đăng ký: {number}.",
        "en": "Seal number given at registration: {number}.",
    },
    "bb_no_seal": {
        "vi": "Chưa ghi nhận việc niêm phong vật chứng này.",
        "en": "No physical seal recorded for this item.",
    },
    "bb_copied": {"vi": "Dữ liệu đã sao chép", "en": "Data copied"},
    "bb_copied_disk": {
        "vi": "{when}, {who} sao chép toàn bộ dữ liệu của phương tiện thành ảnh đĩa "
        "định dạng {format}.",
        "en": "{when}, {who} copied the whole of the device's data into a {format} disk image.",
    },
    "bb_format_e01": {"vi": "E01", "en": "E01"},
    "bb_format_raw": {"vi": "thô", "en": "raw"},
    "bb_format_split-raw": {"vi": "thô, chia nhiều tệp", "en": "split raw"},
    "bb_copied_files": {
        "vi": "{when}, {who} sao chép các tệp dữ liệu vào tệp lưu trữ (TAR).",
        "en": "{when}, {who} copied the data files into an archive (TAR).",
    },
    "bb_copied_other": {
        "vi": "{when}, {who} chốt giá trị băm và ký số các tệp dữ liệu.",
        "en": "{when}, {who} hashed and digitally signed the data files.",
    },
    "bb_not_copied": {
        "vi": "Chưa sao chép dữ liệu của vật chứng này.",
        "en": "No data of this item copied yet.",
    },
    "bb_data_digests": {
        "vi": "Giá trị băm của dữ liệu đã sao chép:",
        "en": "Digests of the copied data:",
    },
    "bb_files_digests": {
        "vi": "Các tệp của bản sao và giá trị băm:",
        "en": "The copy's files and their digests:",
    },
    "bb_readback": {"vi": "Kiểm tra đọc lại", "en": "Read-back verification"},
    "bb_readback_ok": {
        "vi": "{when}, {who} đọc lại bản sao và so sánh giá trị băm: khớp với dữ liệu đã thu.",
        "en": "{when}, {who} read the copy back and compared its digests: they match the "
        "data collected.",
    },
    "bb_readback_bad": {
        "vi": "{when}, {who} đọc lại bản sao và so sánh giá trị băm: KHÔNG khớp.",
        "en": "{when}, {who} read the copy back and compared its digests: they DO NOT match.",
    },
    "bb_readback_unknown": {
        "vi": "{when}, {who} đọc lại bản sao; kết quả không được ghi nhận.",
        "en": "{when}, {who} read the copy back; no result recorded.",
    },
    "bb_no_readback": {
        "vi": "Chưa ghi nhận lần đọc lại nào.",
        "en": "No read-back recorded.",
    },
    "bb_copies_count": {
        "vi": "Số bản sao dữ liệu đã lập: {count} ({what}).",
        "en": "Copies of the data made: {count} ({what}).",
    },
    "bb_copy_image": {"vi": "bản sao chính {id}", "en": "master copy {id}"},
    "bb_copy_working": {"vi": "bản sao làm việc {id}", "en": "working copy {id}"},
    "bb_exams": {"vi": "Khai thác, phân tích", "en": "Examination"},
    "bb_exam_copy": {
        "vi": "{when}, {who} {action} trên bản sao làm việc {copy} (SHA-256 {sha}); "
        "mục đích: {purpose}.",
        "en": "{when}, {who} {action} on the working copy {copy} (SHA-256 {sha}); "
        "purpose: {purpose}.",
    },
    "bb_exam_original": {
        "vi": "{when}, {who} {action} trực tiếp trên bản gốc; lý do: {reason}; "
        "mục đích: {purpose}.",
        "en": "{when}, {who} {action} on the original itself; why: {reason}; purpose: {purpose}.",
    },
    "bb_exam_unnamed": {
        "vi": "{when}, {who} {action} mà không ghi bản sao làm việc (cần xem xét).",
        "en": "{when}, {who} {action} without naming a working copy (to be reviewed).",
    },
    "bb_action_analysed": {"vi": "phân tích", "en": "analysed it"},
    "bb_action_accessed": {"vi": "truy cập", "en": "accessed it"},
    "bb_handovers": {"vi": "Bàn giao", "en": "Hand-overs"},
    "bb_handover": {
        "vi": "{when}, {giver} bàn giao cho {receiver}; mục đích: {purpose}.",
        "en": "{when}, {giver} handed it over to {receiver}; purpose: {purpose}.",
    },
    "bb_documents": {"vi": "Tài liệu đính kèm", "en": "Attached documents"},
    "bb_document_line": {
        "vi": "{what}: tệp {name} ({size} byte), SHA-256 {sha}.",
        "en": "{what}: file {name} ({size} bytes), SHA-256 {sha}.",
    },
    "bb_statements": {
        "vi": "Ý kiến, khiếu nại của những người tham gia: {text}",
        "en": "Statements and complaints of those present: {text}",
    },
    "bb_no_statements": {"vi": "không có.", "en": "none."},
    "bb_end": {
        "vi": "Việc thu giữ kết thúc {when}.",
        "en": "The seizure ended {when}.",
    },
    "bb_end_lower": {
        "vi": "hồi {H} giờ {M} phút, ngày {d} tháng {m} năm {y}",
        "en": "at {H}:{M} on {y}-{m}-{d}",
    },
    "bb_copies": {
        "vi": "Biên bản được lập thành {count} bản, đã đọc lại cho những người có mặt cùng "
        "nghe, công nhận đúng và cùng ký tên dưới đây.",
        "en": "This record is made in {count} copies, was read out to everyone present, "
        "who agreed it is correct and sign it below.",
    },
    "bb_sign_hint": {"vi": "(Ký, ghi rõ họ tên)", "en": "(Signature and full name)"},
    "bb_refused": {
        "vi": "Từ chối ký. Lý do: {reason}",
        "en": "Refused to sign. Reason: {reason}",
    },
    "bb_refusal_line": {
        "vi": "Từ chối ký, lý do: ……………………………",
        "en": "Refused to sign, reason: ……………………………",
    },
    "bb_digital": {
        "vi": "Bản điện tử của biên bản này được ký số (PAdES) bởi {name}, chứng thư có dấu "
        "vân tay SHA-256 {fp}. Những người tham gia ký tay trên bản giấy; bản giấy đã ký có "
        "thể được quét và đính kèm vào vật chứng. Mã biên bản: {id}.",
        "en": "The electronic copy of this record is digitally signed (PAdES) by {name}, "
        "whose certificate has the SHA-256 fingerprint {fp}. Those present sign the printed "
        "copy by hand; the signed copy can be scanned and attached to the item. Record id: "
        "{id}.",
    },
    "bb_pdf_title": {"vi": "Biên bản", "en": "Seizure record"},
}
