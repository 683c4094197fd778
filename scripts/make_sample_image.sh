#!/usr/bin/env bash
# Rebuild evidencekit/data/sample/usb-sample.img.gz: the small FAT16 "USB stick" the demo images.
# Real tools only (dosfstools, mtools): a folder of Vietnamese-named files, nested folders, an
# empty file, a 256 KiB binary, and one deleted file. Reproducible: fixed volume id, --invariant,
# fixed mtimes, gzip -n.
set -euo pipefail
export LC_ALL=C.UTF-8 TZ=UTC
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/evidencekit/data/sample/usb-sample.img.gz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$work/src"
mkdir -p "$src/Tài liệu/Hồ sơ vụ án" "$src/Ảnh hiện trường" "$src/Ghi chú"
cat >"$src/Tài liệu/Biên bản thu giữ.txt" <<'TXT'
BIÊN BẢN THU GIỮ VẬT CHỨNG (mẫu — dữ liệu minh hoạ)
Vụ án: trộm cắp tài sản, số VKS-2024-06
Người lập biên bản: Nguyễn Bá Tùng
Người chứng kiến: Trương Đình Bủng
Vật chứng: 01 ổ USB, niêm phong số NP-0001.
TXT
printf 'Họ tên,Điện thoại\nNguyễn Bá Tùng,0900000001\nTrương Đình Bủng,0900000002\n' \
  >"$src/Tài liệu/Danh bạ liên lạc.csv"
printf 'Lời khai bổ sung của Trương Đình Bủng, ngày 01/06/2024.\n' \
  >"$src/Ghi chú/Lời khai – Trương Đình Bủng.txt"
: >"$src/Ghi chú/tệp rỗng.txt"
# 256 KiB of deterministic bytes standing in for a photo
python3 - "$src/Ảnh hiện trường/ảnh 01 – cửa sau.jpg" <<'PY'
import hashlib, sys
out = bytearray()
block = b"evidencekit sample"
while len(out) < 256 * 1024:
    block = hashlib.sha256(block).digest()
    out += block
open(sys.argv[1], "wb").write(bytes(out[: 256 * 1024]))
PY
printf 'Tài liệu dài tên để kiểm tra ngắt dòng trong báo cáo.\n' \
  >"$src/Tài liệu/Hồ sơ vụ án/Biên bản khám nghiệm hiện trường và thu giữ vật chứng tại số 12 đường Lê Lợi, phường Bến Thành.txt"
printf 'tệp này sẽ bị xoá\n' >"$src/Ghi chú/bản nháp đã xoá.txt"
find "$src" -exec touch -h -d '2024-06-01 08:30:00' {} +

img="$work/usb-sample.img"
truncate -s 16M "$img"
mkfs.vfat -F 16 -n "USB MAU" -i 20240601 --invariant "$img" >/dev/null
export MTOOLS_SKIP_CHECK=1
mcopy -s -m -i "$img" "$src"/* ::/
mdel -i "$img" "::/Ghi chú/bản nháp đã xoá.txt"   # leaves a deleted entry for --include-deleted
gzip -n -9 -c "$img" >"$out"
echo "wrote $out ($(stat -c %s "$out") bytes; image sha256 $(sha256sum "$img" | cut -d' ' -f1))"
