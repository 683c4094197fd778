"""The values one `acquire disk` run hands from phase to phase.

The run has four phases (prepare, image, read back, seal and record); the last one writes what all
the others found into the log, the seal and the custody event, so what each phase found travels
as one named value instead of a dozen loose arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidencekit.acquire.ewf.stored_digests import StoredDigestCheck
from evidencekit.acquire.imaging.imager import ImagingResult
from evidencekit.acquire.imaging.reader import BadExtent
from evidencekit.acquire.source import device
from evidencekit.hash.seal.document import SealStatus
from evidencekit.workflows.acquire_disk.options import AcquireOptions

if TYPE_CHECKING:
    from evidencekit.workflows.acquire_disk.resume import Resumed


@dataclass(frozen=True, slots=True)
class Job:
    """What is being made: the item, its options, and the digests they resolve to."""

    item_id: str
    item_dir: Path
    options: AcquireOptions
    algorithms: tuple[str, ...]  # the seal's digests, as chosen
    hash_algorithms: tuple[str, ...]  # computed while imaging: E01 adds md5 and sha1
    command_line: str
    resumed: Resumed | None = None  # `--resume`: how the earlier attempt is continued
    presence: Mapping[str, Any] = field(default_factory=dict)
    """`details.participants` and `details.session` of the event (`workflows.seizure.presence`)."""


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What was found out about the source before imaging, and what was done to it."""

    reports: list[device.ToolReport]  # hdparm -I, smartctl -i, nvme id-ctrl: verbatim
    hpa: dict[str, str]  # what hdparm -N said, or why it is unknown
    mounts: list[dict[str, str]]  # where the device (or a partition) was mounted
    clock: dict[str, str]  # the host clock when the acquisition began
    ro_before: bool | None  # BLKROGET before anything was done (None: not a block device)
    ro_set: bool  # whether we set BLKROSET for the acquisition


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the imaging pass ended.

    `status` is "complete", "complete-with-errors" (unreadable sectors, zero-filled) or
    "incomplete" (`failure` is then the error to raise once the item is sealed and recorded).
    """

    status: SealStatus
    result: ImagingResult | None  # None when the pass failed
    failure: BaseException | None
    files: tuple[Path, ...]  # the item's image files, as the writer left them
    extents: tuple[BadExtent, ...]
    bytes_read: int
    bad_sectors: int
    recovered_sectors: int
    started: dt.datetime
    finished: dt.datetime
    # an E01 source's stored MD5/SHA-1 compared with what was read (None: it stores none)
    stored: StoredDigestCheck | None = None
