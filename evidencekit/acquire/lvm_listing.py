"""LVM2 logical volumes as rows of a disk image's partition listing (`ls`, `--partition N`).

Each physical volume keeps its place among the partitions (`LVM physical volume (VG)`); its
logical volumes follow every partition, numbered on, each opened as media of its own
(`lvm.VolumeMedia`) by the caller's file-system back-end. Pure Python: `_tsk.py` hands in how
to recognise a file system (`probe`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evidencekit.acquire import lvm
from evidencekit.acquire.filesystems import Partition
from evidencekit.errors import SourceError


def reader(media: Any, base: int, length: int) -> lvm.ReadAt:
    """`read_at` within [base, base+length) of the media."""

    def read_at(offset: int, size: int) -> bytes:
        size = max(0, min(size, length - offset))
        return bytes(media.read_at(base + offset, size)) if size else b""

    return read_at


def volume_group(media: Any, pv: Partition, label: str) -> lvm.VolumeGroup | SourceError:
    try:
        return lvm.read_volume_group(reader(media, pv.start, pv.length), pv.length, label)
    except SourceError as exc:  # listed with the physical volume; raised when it is opened
        return exc


def add_logical_volumes(
    partitions: list[Partition],
    pvs: dict[int, tuple[Partition, lvm.VolumeGroup | SourceError]],
    media: Any,
    probe: Callable[[lvm.VolumeMedia], str | None],
) -> dict[int, tuple[int, lvm.VolumeMedia | str]]:
    """List each physical volume (in its place) and then its logical volumes, numbered after
    every partition; return, by number, each logical volume's physical volume (slot) and what
    it opens (or why it cannot be read)."""
    volumes: dict[int, tuple[int, lvm.VolumeMedia | str]] = {}
    for slot, (row, vg) in pvs.items():
        what = f"LVM physical volume ({vg.name})" if isinstance(vg, lvm.VolumeGroup) else None
        pv_row = Partition(row.number, slot, row.start, row.length, row.description, what)
        at = next((i for i, p in enumerate(partitions) if p.start > row.start), len(partitions))
        partitions.insert(at, pv_row)
    number = max((p.number or 0 for p in partitions), default=0)
    for _slot, (row, vg) in sorted(pvs.items(), key=lambda kv: kv[1][0].start):
        if not isinstance(vg, lvm.VolumeGroup):
            continue
        where = f" in partition {row.number}" if row.number else ""
        for lv in vg.volumes:
            number += 1
            desc = f"LVM logical volume {vg.name}/{lv.name}{where}"
            if lv.unsupported:
                volumes[number] = (row.slot, lv.unsupported)
                desc += f" (not read: {lv.unsupported})"
                partitions.append(Partition(number, row.slot, row.start, lv.size, desc))
                continue
            view = lvm.VolumeMedia(reader(media, row.start, row.length), lv)
            volumes[number] = (row.slot, view)
            fs_name = probe(view)
            first = row.start + min(lv.segments, key=lambda s: s.lv_offset).pv_offset
            partitions.append(Partition(number, row.slot, first, lv.size, desc, fs_name))
    return volumes


def pv_refusal(
    label: str,
    vg: lvm.VolumeGroup | SourceError,
    volumes: dict[int, tuple[int, lvm.VolumeMedia | str]],
    slot: int,
) -> SourceError:
    if isinstance(vg, SourceError):
        return SourceError(f"{label} is an LVM physical volume we cannot read: {vg.message}")
    mine = [str(n) for n, (owner, _v) in volumes.items() if owner == slot]
    if not mine:
        return SourceError(
            f"{label} is an LVM physical volume (volume group {vg.name!r}) with no logical "
            "volume on it"
        )
    return SourceError(
        f"{label} is an LVM physical volume (volume group {vg.name!r}): collect from its "
        f"logical volumes, partition(s) {', '.join(mine)}",
        hint="see `evidencekit ls IMAGE`, then pass --partition N",
    )
