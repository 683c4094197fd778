"""Acquire, verify, seal, record: the `acquire disk` use case.

Images a device, file or disk image into `evidence/ITEM/` (`ITEM.raw`, `ITEM.001`…, or
`ITEM.E01`…), writes `ITEM.log`, `ITEM.device.txt` and, when sectors were unreadable, `ITEM.map`,
re-reads the image to check its digests, seals everything and records an `acquired` custody event.

Nothing is called complete unless it is: a write error, too many bad sectors or Ctrl-C leave the
output sealed as `incomplete` (log and ledger say so too) and the error is raised afterwards.
Unreadable sectors give a `complete-with-errors` seal and PartialReadError (exit 4).
"""

from evidencekit.workflows.acquire_disk.options import (
    DEFAULT_WINDOW,
    FORMATS,
    KINDS,
    AcquireOptions,
    ImageFormat,
)
from evidencekit.workflows.acquire_disk.request import AcquireDiskRequest
from evidencekit.workflows.acquire_disk.result import AcquireResult
from evidencekit.workflows.acquire_disk.run import acquire_disk

__all__ = [
    "DEFAULT_WINDOW",
    "FORMATS",
    "KINDS",
    "AcquireDiskRequest",
    "AcquireOptions",
    "AcquireResult",
    "ImageFormat",
    "acquire_disk",
]
