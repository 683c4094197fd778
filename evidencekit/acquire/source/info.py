"""What a source is (`SourceInfo`) and what an opened image's media must offer (`Media`).

Kept apart from the reading and the opening so that the acquisition log, the device report and
the workflows can name a source's description without pulling in how it is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

Kind = Literal["file", "block-device", "image"]
FORMATS = ("raw", "split-raw", "ewf", "qcow2", "vmdk", "vhd")


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is.

    `size` is the media size (for images: of the emulated disk, not of the container files).
    `read_only_flag` is the kernel's BLKROGET flag for block devices (None for others).
    `identity` holds the facts that identify it (sysfs/udev for devices, stored header values
    for E01, inode and times for files); `segments` the container files read.
    """

    path: str
    kind: Kind
    format: str
    size: int
    logical_sector_size: int = 512
    physical_sector_size: int = 512
    segments: tuple[str, ...] = ()
    read_only_flag: bool | None = None
    identity: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "size": self.size,
            "logical_sector_size": self.logical_sector_size,
            "physical_sector_size": self.physical_sector_size,
            "segments": list(self.segments),
            "read_only_flag": self.read_only_flag,
            "identity": dict(self.identity),
        }


class Media(Protocol):
    """The media of an opened image: our E01 reader (`source_ewf.EwfMedia`) or a libyal
    binding (`_libyal.LibyalMedia`).

    `size` and `sector_size` are the emulated disk's, `segments` the container files opened
    and `facts` the identity values stored in the container (E01 case number, stored MD5, …).
    """

    size: int
    sector_size: int
    segments: tuple[Path, ...]
    facts: dict[str, str]

    def read_at(self, offset: int, length: int) -> bytes:
        """Media bytes at `offset`, fewer only at the end of the media.

        Raises:
            OSError: EIO when the image cannot deliver them (a bad or missing chunk).
        """
        ...

    def close(self) -> None:
        """Release the container's files."""
        ...
