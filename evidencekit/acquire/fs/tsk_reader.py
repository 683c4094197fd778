"""Reading a file's content through Sleuth Kit, with the media damage it met turned into an error.

The pytsk3 file object is handed in by `_tsk.py` (the only module that imports pytsk3); a read
that met an unreadable region of the media (recorded in `media_damage.Damage`), or a file whose
own blocks lie in one met before, raises EIO naming the media range instead of giving zeros.
"""

from __future__ import annotations

import errno
from typing import Any

from evidencekit.acquire.fs.media_damage import Damage, describe

_ATTR_NTFS_DATA = 128
_DATA_ATTRS = {1, _ATTR_NTFS_DATA, 4352}  # default (FAT, ext), NTFS $DATA, HFS+ data fork
_RUN_FILLER, _RUN_SPARSE = 0x01, 0x02


class TskReader:
    """An open file's (or stream's) content through Sleuth Kit, checked against damage."""

    def __init__(
        self,
        file: Any,
        size: int,
        attr: tuple[int, int] | None,
        what: str,
        damage: Damage,
        where: tuple[int, int],
    ) -> None:
        self._file = file
        self._size = size
        self._attr = attr
        self._pos = 0
        self._what = what
        self._damage = damage
        self._where = where  # (file system offset in the media, block size)
        self._checked = 0  # damage.regions already checked against the file's own blocks

    def _runs(self) -> list[tuple[int, int]]:
        """The media byte ranges of the attribute being read (its non-sparse block runs)."""
        offset, block = self._where
        ranges: list[tuple[int, int]] = []
        try:
            for attr in self._file:
                atype, aid = int(attr.info.type), int(attr.info.id)
                if self._attr is not None and (atype, aid) != self._attr:
                    continue
                if self._attr is None and atype not in _DATA_ATTRS:
                    continue
                for run in attr:
                    if int(run.flags) & (_RUN_FILLER | _RUN_SPARSE):
                        continue
                    start = offset + int(run.addr) * block
                    ranges.append((start, start + int(run.len) * block))
        except (OSError, RuntimeError):
            return [(0, 1 << 62)]  # cannot tell where it is: any damage may be in it
        return ranges

    def _check_damage(self, before: int) -> None:
        """Raise when this read met an unreadable region, or the file's blocks lie in one met
        before (Sleuth Kit then serves the zeros from its cache without asking again)."""
        bad = self._damage.since(before)
        if not bad and len(self._damage.regions) > self._checked:
            self._checked = len(self._damage.regions)
            bad = self._damage.overlapping(self._runs())
        if bad:
            raise OSError(errno.EIO, f"{self._what}: its data is in damaged media: {describe(bad)}")

    def readinto(self, buf: memoryview) -> int:
        n = min(len(buf), self._size - self._pos)
        if n <= 0:
            return 0
        before = self._damage.count
        try:
            if self._attr is None:
                data = self._file.read_random(self._pos, n)
            else:
                data = self._file.read_random(self._pos, n, self._attr[0], self._attr[1])
        except OSError as exc:
            raise OSError(
                errno.EIO, f"Sleuth Kit cannot read {self._what} at offset {self._pos}: {exc}"
            ) from exc
        self._check_damage(before)
        if not data:  # nothing more Sleuth Kit will give (the caller records the short read)
            return 0
        buf[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        pass
