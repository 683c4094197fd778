"""exFAT's per-entry UTC offsets: which instant a local wall-clock time stands for.

exFAT stores local wall-clock times, and (since its first version, as Windows and exfat-fuse
write them) a UTC offset beside each: bytes 22, 23 and 24 of the File directory entry (0x85) for
the create, modify and access times; bit 7 says the offset is valid, bits 0–6 are a signed count
of 15-minute steps. Sleuth Kit ignores them, so without this every time of a volume written at
UTC+7 came out seven hours off unless the examiner guessed `--source-timezone`.

Sleuth Kit numbers an exFAT entry by where it is stored: inode = 3 + (sector − cluster heap
sector) × entries per sector + index in the sector. The entry found there is checked to be a
File entry before its offsets are believed. No pytsk3 here: `_tsk.py` reads the bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

_FIRST_INODE = 3
_ENTRY = 32
_FILE = 0x85
_FILE_DELETED = 0x05
_STREAM = (0xC0, 0x40)
# time name as `FileEntry` has it -> offset of its UTC-offset byte in the File entry
TZ_BYTES = {"crtime": 22, "mtime": 23, "atime": 24}


class ExfatGeometry:
    """Where an exFAT volume keeps its directory entries (from its boot sector)."""

    def __init__(self, read_at: Callable[[int, int], bytes], fs_offset: int) -> None:
        boot = read_at(fs_offset, 512)
        if len(boot) < 512 or boot[3:11] != b"EXFAT   ":
            raise ValueError("not an exFAT boot sector")
        self._read_at = read_at
        self._fs_offset = fs_offset
        self.sector = 1 << boot[108]
        self.heap = struct.unpack_from("<I", boot, 88)[0]  # cluster heap offset, in sectors
        if not 512 <= self.sector <= 4096:
            raise ValueError(f"exFAT sector size {self.sector}")

    def entry(self, inode: int) -> bytes | None:
        """The File entry and its stream extension (64 bytes) Sleuth Kit numbered `inode`, or
        None when what is stored there is not one."""
        if inode < _FIRST_INODE:
            return None
        per_sector = self.sector // _ENTRY
        sector, index = divmod(inode - _FIRST_INODE, per_sector)
        at = self._fs_offset + (self.heap + sector) * self.sector + index * _ENTRY
        raw = self._read_at(at, 2 * _ENTRY)
        if len(raw) < 2 * _ENTRY or raw[0] not in (_FILE, _FILE_DELETED):
            return None
        if raw[1] < 2 or raw[_ENTRY] not in _STREAM:  # secondary count, stream extension
            return None
        return raw


def offsets(entry: bytes) -> dict[str, int | None]:
    """Minutes east of UTC for each time of a File entry (None: no valid offset recorded)."""
    found: dict[str, int | None] = {}
    for name, at in TZ_BYTES.items():
        value = entry[at]
        if not value & 0x80:
            found[name] = None
            continue
        steps = value & 0x7F
        if steps & 0x40:
            steps -= 0x80
        found[name] = steps * 15
    return found


def offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"
