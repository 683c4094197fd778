"""LVM2 logical volumes as rows of a disk image's partition listing (`ls`, `--partition N`).

Each physical volume keeps its place among the partitions (`LVM physical volume (VG)`); its
logical volumes follow every partition, numbered on, each opened as media of its own
(`lvm.VolumeMedia`) by the caller's file-system back-end. A physical volume may sit in a
partition, be the whole image, or be the inside of an unlocked LUKS volume. Pure Python:
`_tsk.py` hands in how to recognise a file system (`probe`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from evidencekit.acquire.fs import lvm
from evidencekit.acquire.fs.model import Partition
from evidencekit.errors import SourceError


def reader(media: Any, base: int, length: int) -> lvm.ReadAt:
    """`read_at` within [base, base+length) of the media (anything with `read_at`)."""

    def read_at(offset: int, size: int) -> bytes:
        size = max(0, min(size, length - offset))
        return bytes(media.read_at(base + offset, size)) if size else b""

    return read_at


@dataclass(frozen=True, slots=True)
class PhysicalVolume:
    row: Partition  # where it is listed (its partition, or the whole image)
    read_at: lvm.ReadAt  # reads the physical volume from its first byte
    size: int
    group: lvm.VolumeGroup | SourceError  # the error is raised when it is opened
    mapped: bool  # whether its bytes are the media's own (False: decrypted from LUKS)


def physical_volume(
    row: Partition, read_at: lvm.ReadAt, size: int, label: str, *, mapped: bool = True
) -> PhysicalVolume:
    try:
        group: lvm.VolumeGroup | SourceError = lvm.read_volume_group(read_at, size, label)
    except SourceError as exc:
        group = exc
    return PhysicalVolume(row, read_at, size, group, mapped)


def add_logical_volumes(
    partitions: list[Partition],
    pvs: dict[int, PhysicalVolume],
    probe: Callable[[lvm.VolumeMedia], str | None],
) -> dict[int, tuple[int, lvm.VolumeMedia | str]]:
    """Add each logical volume of `pvs` (by slot) after every partition, numbered on; return,
    by number, its physical volume's slot and what it opens (or why it cannot be read)."""
    volumes: dict[int, tuple[int, lvm.VolumeMedia | str]] = {}
    number = max((p.number or 0 for p in partitions), default=0)
    for slot, pv in sorted(pvs.items(), key=lambda kv: kv[1].row.start):
        if not isinstance(pv.group, lvm.VolumeGroup):
            continue
        where = f" in partition {pv.row.number}" if pv.row.number else ""
        for lv in pv.group.volumes:
            number += 1
            desc = f"LVM logical volume {pv.group.name}/{lv.name}{where}"
            if lv.unsupported:
                volumes[number] = (slot, lv.unsupported)
                desc += f" (not read: {lv.unsupported})"
                partitions.append(Partition(number, slot, pv.row.start, lv.size, desc))
                continue
            view = lvm.VolumeMedia(pv.read_at, lv)
            volumes[number] = (slot, view)
            first = min(lv.segments, key=lambda s: s.lv_offset).pv_offset if pv.mapped else 0
            partitions.append(
                Partition(number, slot, pv.row.start + first, lv.size, desc, probe(view))
            )
    return volumes


def describe(pv: PhysicalVolume) -> str | None:
    """What the physical volume's row shows as its contents."""
    if isinstance(pv.group, lvm.VolumeGroup):
        return f"LVM physical volume ({pv.group.name})"
    return None


def pv_refusal(
    label: str, pv: PhysicalVolume, volumes: dict[int, tuple[int, lvm.VolumeMedia | str]]
) -> SourceError:
    vg = pv.group
    if isinstance(vg, SourceError):
        return SourceError(f"{label} is an LVM physical volume we cannot read: {vg.message}")
    mine = [str(n) for n, (owner, _v) in volumes.items() if owner == pv.row.slot]
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
